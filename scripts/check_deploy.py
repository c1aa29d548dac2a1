"""Consistency checks for deploy/ and the configuration docs (no Docker or cluster needed).

    python -m scripts.check_deploy            # exit 1 and list the problems, if any
    python -m scripts.check_deploy --sync     # first rewrite the k8s ConfigMap's gongdan.yaml

Checks: every YAML file under deploy/ parses; the ConfigMap in deploy/k8s/01-config.yaml holds
a verbatim copy of config/gongdan.yaml; every environment variable config/gongdan.yaml reads
is documented in docs/configuration.md; every service has a compose service, a Kubernetes
Deployment and an entry point case; kustomization.yaml lists every manifest.
"""
import argparse
import glob
import os
import re
import sys
import textwrap

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "config", "gongdan.yaml")
K8S = os.path.join(ROOT, "deploy", "k8s")
CONFIGMAP = os.path.join(K8S, "01-config.yaml")
SERVICES = ["intake", "dispatch", "worklog", "sla", "notify", "kb", "gateway"]
ENV_RE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")


def _load_all(path):
    with open(path) as fh:
        return [d for d in yaml.safe_load_all(fh) if d is not None]


def sync_configmap():
    """Rewrite the gongdan.yaml block of the ConfigMap from config/gongdan.yaml."""
    with open(CONFIGMAP) as fh:
        text = fh.read()
    start = text.index("  gongdan.yaml: |\n") + len("  gongdan.yaml: |\n")
    end = text.index("\n---\n", start) + 1  # a document separator, not a "# ----" comment
    with open(CONFIG) as fh:
        block = textwrap.indent(fh.read(), "    ")
    with open(CONFIGMAP, "w") as fh:
        fh.write(text[:start] + block + text[end:])


def check():
    problems = []
    yaml_files = sorted(glob.glob(os.path.join(ROOT, "deploy", "**", "*.y*ml"), recursive=True))
    docs = {}
    for path in yaml_files:
        try:
            docs[path] = _load_all(path)
        except yaml.YAMLError as exc:
            problems.append(f"{os.path.relpath(path, ROOT)}: does not parse: {exc}")

    with open(CONFIG) as fh:
        config_text = fh.read()
    configmaps = [d for d in docs.get(CONFIGMAP, []) if d.get("kind") == "ConfigMap"
                  and d["metadata"]["name"] == "gongdan-config"]
    if not configmaps or configmaps[0]["data"].get("gongdan.yaml") != config_text:
        problems.append("deploy/k8s/01-config.yaml: ConfigMap gongdan-config differs from "
                        "config/gongdan.yaml (run `python -m scripts.check_deploy --sync`)")

    doc_path = os.path.join(ROOT, "docs", "configuration.md")
    doc = open(doc_path).read() if os.path.exists(doc_path) else ""
    settings = "\n".join(l for l in config_text.splitlines() if not l.lstrip().startswith("#"))
    for var in sorted(set(ENV_RE.findall(settings))):
        if f"`{var}`" not in doc:
            problems.append(f"docs/configuration.md: {var} (read by config/gongdan.yaml) "
                            "is not documented")

    compose = (docs.get(os.path.join(ROOT, "deploy", "docker-compose.yml")) or [{}])[0]
    deployments = {d["metadata"]["name"] for ds in docs.values() for d in ds
                   if isinstance(d, dict) and d.get("kind") == "Deployment"}
    with open(os.path.join(ROOT, "deploy", "entrypoint.sh")) as fh:
        entrypoint = fh.read()
    for service in SERVICES:
        if service not in (compose.get("services") or {}):
            problems.append(f"deploy/docker-compose.yml: no service {service}")
        if service not in deployments:
            problems.append(f"deploy/k8s: no Deployment {service}")
        if f"\n  {service}) target=" not in entrypoint:
            problems.append(f"deploy/entrypoint.sh: no case for {service}")

    kustomization = (docs.get(os.path.join(K8S, "kustomization.yaml")) or [{}])[0]
    listed = set(kustomization.get("resources") or [])
    present = {os.path.basename(p) for p in glob.glob(os.path.join(K8S, "*.yaml"))}
    present.discard("kustomization.yaml")
    for missing in sorted(present - listed):
        problems.append(f"deploy/k8s/kustomization.yaml: {missing} is not in resources")
    for extra in sorted(listed - present):
        problems.append(f"deploy/k8s/kustomization.yaml: {extra} does not exist")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m scripts.check_deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sync", action="store_true",
                        help="copy config/gongdan.yaml into the Kubernetes ConfigMap first")
    args = parser.parse_args(argv)
    if args.sync:
        sync_configmap()
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print("deploy/ and docs/configuration.md are consistent")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
