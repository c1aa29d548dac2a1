"""Consistency checks for deploy/ and the configuration docs (no Docker or cluster needed).

    python -m scripts.check_deploy            # exit 1 and list the problems, if any
    python -m scripts.check_deploy --sync     # first rewrite the k8s ConfigMap's gongdan.yaml
                                              # and add missing variables to .env.example

Checks, all offline:
- every YAML file under deploy/ parses; kustomization.yaml lists every manifest;
- the ConfigMap in deploy/k8s/01-config.yaml holds a verbatim copy of config/gongdan.yaml;
- every environment variable config/gongdan.yaml reads is documented in
  docs/configuration.md and listed in deploy/.env.example; every variable deploy/ sets for a
  Gongdan container is read by the config or the code (a misspelt name would be ignored
  silently); every Secret key the manifests reference is in docs/operations.md;
- every service has a compose service, a Deployment and an entry point case; each Deployment
  migrates in an initContainer, probes its own /livez and /readyz, has a PodDisruptionBudget
  and a scaler (KEDA for the Nameko services, an HPA for the gateway) that alone sets its
  `replicas`; images are pinned;
- the manifests validate against the Kubernetes JSON schemas (kubernetes-validate, strict),
  the custom resources against deploy/schemas/, the compose file against the compose spec.
The Prometheus rules are checked by tests/test_deploy.py with promtool.
"""
import argparse
import glob
import importlib.resources
import json
import os
import re
import sys
import textwrap

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "config", "gongdan.yaml")
DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "k8s")
CONFIGMAP = os.path.join(K8S, "01-config.yaml")
COMPOSE = os.path.join(DEPLOY, "docker-compose.yml")
ENV_EXAMPLE = os.path.join(DEPLOY, ".env.example")
SCHEMAS = os.path.join(DEPLOY, "schemas")
NAMEKO_SERVICES = ["intake", "dispatch", "worklog", "sla", "notify", "kb", "channels", "exports"]
SERVICES = NAMEKO_SERVICES + ["gateway"]
OPS_PORT = 9100
# Kubernetes versions the manifests must be valid for: the oldest we claim and the newest the
# bundled schemas know
K8S_VERSIONS = ["1.29", "1.37"]
ENV_RE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")
CODE_ENV_RE = re.compile(r"""(?:environ\.get|getenv|environ)\s*[\[(]\s*["']([A-Z][A-Z0-9_]*)["']""")
SHELL_ENV_RE = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")
# Variables deploy/ may set before any code reads them (none today; every variable set is read)
AGREED_VARS = set()
# Gongdan containers run the Gongdan image (kustomize rewrites `gongdan` to your registry)
GONGDAN_IMAGE = "gongdan"


def rel(path):
    return os.path.relpath(path, ROOT)


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


def sync_env_example():
    """Append `# VAR=default` to deploy/.env.example for each variable config/gongdan.yaml
    reads that it does not list yet (documenting it stays a person's job)."""
    with open(ENV_EXAMPLE) as fh:
        text = fh.read()
    settings = "\n".join(l for l in config_text().splitlines() if not l.lstrip().startswith("#"))
    missing = []
    for var, default in re.findall(r"\$\{([A-Z][A-Z0-9_]*):?([^}]*)\}", settings):
        if not re.search(rf"(?m)^#?[^\n]*\b{var}=", text) and var not in [m[0] for m in missing]:
            missing.append((var, default))
    if missing:
        with open(ENV_EXAMPLE, "a") as fh:
            fh.writelines(f"# {var}={default}\n" for var, default in missing)
    return [var for var, _ in missing]


def load_deploy():
    """({path: [documents]}, problems) for every YAML file under deploy/."""
    docs, problems = {}, []
    for path in sorted(glob.glob(os.path.join(DEPLOY, "**", "*.y*ml"), recursive=True)):
        try:
            docs[path] = _load_all(path)
        except yaml.YAMLError as exc:
            problems.append(f"{rel(path)}: does not parse: {exc}")
    return docs, problems


def manifests(docs):
    """(path, document) for every Kubernetes object under deploy/k8s."""
    return [(path, d) for path, ds in docs.items() if path.startswith(K8S + os.sep)
            and os.path.basename(path) != "kustomization.yaml"
            for d in ds if isinstance(d, dict) and "kind" in d]


def config_text():
    with open(CONFIG) as fh:
        return fh.read()


def config_vars(text=None):
    """Environment variables config/gongdan.yaml reads (comments aside)."""
    text = config_text() if text is None else text
    settings = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    return set(ENV_RE.findall(settings))


def code_vars():
    """Environment variables the code reads directly (os.environ / os.getenv) and the
    container entry point uses."""
    found = set()
    for pattern in ("gongdan_common/**/*.py", "services/**/*.py", "gateway/**/*.py",
                    "scripts/**/*.py"):
        for path in glob.glob(os.path.join(ROOT, pattern), recursive=True):
            if "/tests/" in path or path.endswith("conftest.py"):
                continue
            with open(path, encoding="utf-8") as fh:
                found |= set(CODE_ENV_RE.findall(fh.read()))
    with open(os.path.join(DEPLOY, "entrypoint.sh")) as fh:
        found |= set(SHELL_ENV_RE.findall(fh.read()))
    return found


def gongdan_containers(doc):
    """(kind, container) of the Gongdan image in a workload manifest."""
    spec = (((doc.get("spec") or {}).get("template") or {}).get("spec")) or {}
    out = []
    for kind in ("initContainers", "containers"):
        for c in spec.get(kind) or []:
            if str(c.get("image", "")).split(":")[0] == GONGDAN_IMAGE:
                out.append((kind, c))
    return out


def check_config_and_env(docs):
    problems = []
    text = config_text()
    configmaps = {d["metadata"]["name"]: d for _, d in manifests(docs) if d["kind"] == "ConfigMap"}
    if (configmaps.get("gongdan-config") or {}).get("data", {}).get("gongdan.yaml") != text:
        problems.append("deploy/k8s/01-config.yaml: ConfigMap gongdan-config differs from "
                        "config/gongdan.yaml (run `python -m scripts.check_deploy --sync`)")

    read_by_config = config_vars(text)
    doc_path = os.path.join(ROOT, "docs", "configuration.md")
    doc = open(doc_path).read() if os.path.exists(doc_path) else ""
    with open(ENV_EXAMPLE) as fh:
        env_example = fh.read()
    for var in sorted(read_by_config):
        if f"`{var}`" not in doc:
            problems.append(f"docs/configuration.md: {var} (read by config/gongdan.yaml) "
                            "is not documented")
        if not re.search(rf"(?m)^#?[^\n]*\b{var}=", env_example):
            problems.append(f"deploy/.env.example: {var} (read by config/gongdan.yaml) is not "
                            "listed")

    # what deploy/ sets must be read by something, or a typo goes unnoticed
    read = read_by_config | code_vars() | AGREED_VARS
    wired = {}
    for path, d in manifests(docs):
        for _, c in gongdan_containers(d):
            for e in c.get("env") or []:
                wired.setdefault(e["name"], f"{rel(path)} ({d['metadata']['name']})")
            for src in c.get("envFrom") or []:
                name = (src.get("configMapRef") or {}).get("name")
                for key in (configmaps.get(name) or {}).get("data") or {}:
                    wired.setdefault(key, f"deploy/k8s ConfigMap {name}")
    compose = (docs.get(COMPOSE) or [{}])[0] or {}
    for name, svc in (compose.get("services") or {}).items():
        if str(svc.get("image", "")).startswith("${GONGDAN_IMAGE"):
            for key in svc.get("environment") or {}:
                wired.setdefault(key, f"deploy/docker-compose.yml ({name})")
    for var, where in sorted(wired.items()):
        if var not in read:
            problems.append(f"{where}: sets {var}, which neither config/gongdan.yaml nor the "
                            "code reads")

    # every Secret key a manifest needs must be in the documented `kubectl create secret`s
    with open(os.path.join(ROOT, "docs", "operations.md")) as fh:
        operations = fh.read()
    for path, d in manifests(docs):
        spec = ((d.get("spec") or {}).get("template") or {}).get("spec") or {}
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            for e in c.get("env") or []:
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref and f"{ref['key']}=" not in operations:
                    problems.append(f"{rel(path)}: Secret {ref['name']} key {ref['key']} is "
                                    "not in docs/operations.md's secret commands")
    return problems


def _pinned(image):
    if "@sha256:" in image:
        return True
    name = image.rsplit("/", 1)[-1]
    tag = name.split(":", 1)[1] if ":" in name else ""
    return bool(re.search(r"\d+\.\d+|RELEASE\.", tag))


def _probe(container, name):
    get = ((container.get(name) or {}).get("httpGet")) or {}
    return get.get("path"), get.get("port")


def check_workloads(docs):
    problems = []
    objs = manifests(docs)
    by_kind = {}
    for path, d in objs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = (path, d)
    deployments = by_kind.get("Deployment", {})

    compose = (docs.get(COMPOSE) or [{}])[0] or {}
    with open(os.path.join(DEPLOY, "entrypoint.sh")) as fh:
        entrypoint = fh.read()
    for service in SERVICES:
        if service not in (compose.get("services") or {}):
            problems.append(f"deploy/docker-compose.yml: no service {service}")
        if f"\n  {service}) target=" not in entrypoint:
            problems.append(f"deploy/entrypoint.sh: no case for {service}")
        if service not in deployments:
            problems.append(f"deploy/k8s: no Deployment {service}")
            continue
        path, dep = deployments[service]
        where = f"{rel(path)} ({service})"
        containers = gongdan_containers(dep)
        inits = [c for kind, c in containers if kind == "initContainers"]
        mains = [c for kind, c in containers if kind == "containers"]
        if not any(c.get("args") == ["migrate", service] for c in inits):
            problems.append(f"{where}: no initContainer running `migrate {service}`")
        if len(mains) != 1:
            problems.append(f"{where}: expected one Gongdan container, found {len(mains)}")
            continue
        main = mains[0]
        port = "http" if service == "gateway" else "ops"
        if service != "gateway" and not any(
                p.get("name") == "ops" and p.get("containerPort") == OPS_PORT
                for p in main.get("ports") or []):
            problems.append(f"{where}: no container port `ops` {OPS_PORT}")
        for probe, path_ in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
            if _probe(main, probe) != (path_, port):
                problems.append(f"{where}: {probe} must GET {path_} on port {port}")
        annotations = (dep["spec"]["template"].get("metadata") or {}).get("annotations") or {}
        if annotations.get("prometheus.io/scrape") != "true":
            problems.append(f"{where}: pod template lacks prometheus.io/scrape annotations")
        selector = dep["spec"]["selector"]["matchLabels"]
        if not any(p["spec"].get("selector", {}).get("matchLabels") == selector
                   for _, p in by_kind.get("PodDisruptionBudget", {}).values()):
            problems.append(f"{where}: no PodDisruptionBudget selects it")
        scalers = [o for kind in ("ScaledObject", "HorizontalPodAutoscaler")
                   for _, o in by_kind.get(kind, {}).values()
                   if o["spec"]["scaleTargetRef"]["name"] == service]
        want = "HorizontalPodAutoscaler" if service == "gateway" else "ScaledObject"
        if [o["kind"] for o in scalers] != [want]:
            problems.append(f"{where}: expected exactly one {want} (found "
                            f"{[o['kind'] for o in scalers] or 'none'})")
        if "replicas" in dep["spec"]:
            problems.append(f"{where}: sets `replicas`, which its {want} owns (each apply "
                            "would reset it)")

    # images pinned to a release (3.13.7, 15.10, RELEASE.2024-...; not `latest` nor a floating
    # `3-management`); the Gongdan image is tagged by kustomization.yaml's `images:`
    images = [(rel(path), str(c.get("image", ""))) for path, d in objs
              for c in ((((d.get("spec") or {}).get("template") or {}).get("spec") or {})
                        .get("initContainers") or []) +
              ((((d.get("spec") or {}).get("template") or {}).get("spec") or {})
               .get("containers") or [])]
    images += [(rel(path), str(d["spec"].get("imageName", ""))) for path, d in objs
               if d["kind"] == "Cluster"]
    images += [(f"deploy/docker-compose.yml ({name})", str(svc.get("image", "")))
               for name, svc in (compose.get("services") or {}).items()]
    for where, image in images:
        if image.split(":")[0] == GONGDAN_IMAGE or image.startswith("${GONGDAN_IMAGE"):
            continue
        if not _pinned(image):
            problems.append(f"{where}: image {image!r} is not pinned to a release")
    kustomization = (docs.get(os.path.join(K8S, "kustomization.yaml")) or [{}])[0] or {}
    if not any(i.get("name") == GONGDAN_IMAGE and i.get("newTag")
               for i in kustomization.get("images") or []):
        problems.append("deploy/k8s/kustomization.yaml: no `images:` tag for gongdan")

    listed = set(kustomization.get("resources") or [])
    present = {os.path.basename(p) for p in glob.glob(os.path.join(K8S, "*.yaml"))}
    present.discard("kustomization.yaml")
    for missing in sorted(present - listed):
        problems.append(f"deploy/k8s/kustomization.yaml: {missing} is not in resources")
    for extra in sorted(listed - present):
        problems.append(f"deploy/k8s/kustomization.yaml: {extra} does not exist")
    return problems


def _schema_errors(validator, doc):
    return sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))


def _where(error):
    return "/".join(str(p) for p in error.absolute_path) or "(top)"


def check_schemas(docs):
    """Kubernetes objects against the Kubernetes schemas (built-in kinds) or deploy/schemas/
    (custom resources); the compose file against the compose spec."""
    try:
        import jsonschema
        import kubernetes_validate
    except ImportError as exc:  # a dev dependency: requirements-dev.txt
        return [f"schema checks need the dev requirements ({exc})"]
    problems = []
    custom = {}
    for path in glob.glob(os.path.join(SCHEMAS, "*.json")):
        with open(path) as fh:
            schema = json.load(fh)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        custom[os.path.basename(path)[:-len(".json")]] = cls(schema)
    for path, d in manifests(docs):
        what = f"{rel(path)}: {d['kind']} {d.get('metadata', {}).get('name')}"
        key = f"{d.get('apiVersion', '').replace('/', '-')}-{d['kind'].lower()}"
        if key in custom:
            for error in _schema_errors(custom[key], d)[:5]:
                problems.append(f"{what}: {_where(error)}: {error.message}")
            continue
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(d, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                problems.append(f"{what}: Kubernetes {version} schema: {_where(error)}: "
                                f"{error.message}")
            except kubernetes_validate.SchemaNotFoundError as error:
                # a custom resource needs its schema in deploy/schemas/
                problems.append(f"{what}: {error.message} (nor deploy/schemas/{key}.json)")
                break

    compose_schema = json.loads(
        (importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
         / "compose-spec.json").read_text())
    validator = jsonschema.validators.validator_for(compose_schema)(compose_schema)
    for error in _schema_errors(validator, (docs.get(COMPOSE) or [{}])[0])[:10]:
        problems.append(f"deploy/docker-compose.yml: compose spec: {_where(error)}: "
                        f"{error.message}")
    return problems


def check():
    docs, problems = load_deploy()
    problems += check_config_and_env(docs)
    problems += check_workloads(docs)
    problems += check_schemas(docs)
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m scripts.check_deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sync", action="store_true",
                        help="copy config/gongdan.yaml into the Kubernetes ConfigMap and list "
                        "its new variables in deploy/.env.example first")
    args = parser.parse_args(argv)
    if args.sync:
        sync_configmap()
        for var in sync_env_example():
            print(f"deploy/.env.example: added {var}")
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print("deploy/ and docs/configuration.md are consistent; the manifests and the compose "
              "file match their schemas")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
