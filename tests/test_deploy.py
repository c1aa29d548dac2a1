"""deploy/ checked offline: manifests against the Kubernetes schemas and deploy/schemas/, the
compose file against the compose spec, config and env wiring, KEDA's queue regexes against the
queues the services really consume, the alert rules with promtool, the locked migrations."""
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import pytest
import yaml

from scripts import check_deploy
from tests.support.system import ROOT

PROMETHEUS = os.path.join(ROOT, "deploy", "prometheus")
RULES = os.path.join(PROMETHEUS, "gongdan-alerts.yml")
RULE_TESTS = os.path.join(PROMETHEUS, "tests", "gongdan-alerts.test.yml")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "gongdan.json")
# the metric names agreed for issue 11 (BRIEF); histograms also as _bucket/_sum/_count
GONGDAN_METRICS = {
    "gongdan_http_requests_total", "gongdan_http_request_duration_seconds",
    "gongdan_rpc_calls_total", "gongdan_rpc_duration_seconds", "gongdan_events_handled_total",
    "gongdan_event_handle_duration_seconds", "gongdan_event_batch_size",
    "gongdan_outbox_unpublished", "gongdan_outbox_oldest_age_seconds",
    "gongdan_outbox_published_total", "gongdan_sla_timers_due",
    "gongdan_sla_timer_lateness_seconds", "gongdan_notify_deliveries_pending",
    "gongdan_notify_deliveries_failed_total", "gongdan_db_pool_in_use", "gongdan_db_reachable",
    "gongdan_hub_lag_seconds",
}


def _rule_count():
    with open(RULES) as fh:
        return sum(len(g["rules"]) for g in yaml.safe_load(fh)["groups"])


def promtool():
    path = shutil.which("promtool")
    assert path, "promtool is missing: `./gongdan test` installs Debian's prometheus package"
    return path


@pytest.fixture(scope="module")
def deploy_docs():
    docs, problems = check_deploy.load_deploy()
    assert problems == []
    return docs


def _find(docs, kind, name):
    for _, d in check_deploy.manifests(docs):
        if d["kind"] == kind and d["metadata"]["name"] == name:
            return d
    raise AssertionError(f"no {kind} {name}")


# ---- the whole check, as `./gongdan check-deploy` runs it ------------------------------------

def test_deploy_files_and_config_docs_are_consistent():
    out = subprocess.run([sys.executable, "-m", "scripts.check_deploy"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


# ---- each check catches what it is for ------------------------------------------------------

def test_kubernetes_schema_catches_a_misspelt_field(deploy_docs):
    docs = copy.deepcopy(deploy_docs)
    probe = _find(docs, "Deployment", "intake")["spec"]["template"]["spec"]["containers"][0][
        "readinessProbe"]
    probe["periodSecond"] = probe.pop("periodSeconds")
    problems = check_deploy.check_schemas(docs)
    assert any("Deployment intake" in p and "'periodSecond' was unexpected" in p
               for p in problems), problems


def test_custom_resource_schemas_catch_wrong_keda_and_cnpg_settings(deploy_docs):
    docs = copy.deepcopy(deploy_docs)
    trigger = _find(docs, "ScaledObject", "notify")["spec"]["triggers"][0]
    trigger["metadata"]["queueLength"] = "100"       # the deprecated spelling
    trigger["metadata"]["protocol"] = "amqp"         # cannot evaluate a regex
    _find(docs, "Cluster", "gongdan-pg")["spec"]["instance"] = 3
    problems = check_deploy.check_schemas(docs)
    assert any("ScaledObject notify" in p and "'queueLength' was unexpected" in p
               for p in problems), problems
    assert any("ScaledObject notify" in p and "'http' was expected" in p for p in problems)
    assert any("Cluster gongdan-pg" in p and "'instance' was unexpected" in p for p in problems)


def test_compose_schema_catches_a_wrong_condition(deploy_docs):
    docs = copy.deepcopy(deploy_docs)
    compose = docs[check_deploy.COMPOSE][0]
    compose["services"]["migrate"]["depends_on"]["postgres"]["condition"] = "healthy"
    problems = check_deploy.check_schemas(docs)
    assert any(p.startswith("deploy/docker-compose.yml: compose spec: services/migrate")
               for p in problems), problems


def test_workload_checks_catch_missing_migration_probe_pdb_and_unpinned_image(deploy_docs):
    docs = copy.deepcopy(deploy_docs)
    spec = _find(docs, "Deployment", "sla")["spec"]["template"]["spec"]
    spec["initContainers"] = []
    spec["containers"][0]["livenessProbe"]["httpGet"]["path"] = "/healthz"
    _find(docs, "Deployment", "gateway")["spec"]["replicas"] = 2
    pdbs = [d for d in docs[os.path.join(check_deploy.K8S, "32-pdb.yaml")]
            if d["metadata"]["name"] != "kb"]
    docs[os.path.join(check_deploy.K8S, "32-pdb.yaml")] = pdbs
    docs[check_deploy.COMPOSE][0]["services"]["minio"]["image"] = "minio/minio"
    _find(docs, "StatefulSet", "rabbitmq")["spec"]["template"]["spec"]["containers"][0][
        "image"] = "rabbitmq:3-management"
    problems = check_deploy.check_workloads(docs)
    assert any("(sla): no initContainer running `migrate sla`" in p for p in problems), problems
    assert any("(sla): livenessProbe must GET /livez on port ops" in p for p in problems)
    assert any("(kb): no PodDisruptionBudget" in p for p in problems)
    assert any("(gateway): sets `replicas`, which its HorizontalPodAutoscaler owns" in p
               for p in problems)
    assert any("(minio): image 'minio/minio' is not pinned" in p for p in problems)
    assert any("40-rabbitmq.yaml: image 'rabbitmq:3-management' is not pinned" in p
               for p in problems)


def test_env_checks_catch_an_unread_variable_and_an_undocumented_secret(deploy_docs):
    docs = copy.deepcopy(deploy_docs)
    _find(docs, "ConfigMap", "gongdan-notify-config")["data"]["NOTIFY_SMTP_HOSTNAME"] = "x"
    env = _find(docs, "Deployment", "kb")["spec"]["template"]["spec"]["containers"][0]["env"]
    env.append({"name": "KB_API_TOKEN", "valueFrom": {"secretKeyRef": {
        "name": "gongdan-secrets", "key": "KB_API_TOKEN"}}})
    problems = check_deploy.check_config_and_env(docs)
    assert any("sets NOTIFY_SMTP_HOSTNAME, which neither" in p for p in problems), problems
    assert any("sets KB_API_TOKEN, which neither" in p for p in problems)
    assert any("key KB_API_TOKEN is not in docs/operations.md" in p for p in problems)


def test_every_config_variable_is_in_env_example():
    with open(check_deploy.ENV_EXAMPLE) as fh:
        listed = set(re.findall(r"\b([A-Z][A-Z0-9_]*)=", fh.read()))
    assert check_deploy.config_vars() - listed == set()


def test_sync_copies_config_into_configmap_and_lists_new_variables(tmp_path, monkeypatch):
    for name, src in (("CONFIG", check_deploy.CONFIG), ("CONFIGMAP", check_deploy.CONFIGMAP),
                      ("ENV_EXAMPLE", check_deploy.ENV_EXAMPLE)):
        dst = tmp_path / os.path.basename(src)
        shutil.copy(src, dst)
        monkeypatch.setattr(check_deploy, name, str(dst))
    config = tmp_path / "gongdan.yaml"
    # a "# ----" comment line must not be taken for the document separator
    config.write_text(config.read_text() + "\n# ---- new section ----\nNEW_THING:\n"
                      "  size: ${GONGDAN_NEW_SIZE:7}\n")
    check_deploy.sync_configmap()
    assert check_deploy.sync_env_example() == ["GONGDAN_NEW_SIZE"]
    assert check_deploy.sync_env_example() == []  # once
    with open(check_deploy.CONFIGMAP) as fh:
        maps = {d["metadata"]["name"]: d for d in yaml.safe_load_all(fh)}
    assert maps["gongdan-config"]["data"]["gongdan.yaml"] == config.read_text()
    assert set(maps) == {"gongdan-config", "gongdan-env", "gongdan-notify-config"}
    assert (tmp_path / ".env.example").read_text().endswith("# GONGDAN_NEW_SIZE=7\n")


# ---- what the manifests say -----------------------------------------------------------------

def _consumed_queues(service_cls):
    """The queues a service consumes, named by nameko itself (setup() builds them; nothing
    connects)."""
    from nameko.containers import ServiceContainer
    from nameko.events import EventHandler
    from nameko.rpc import RpcConsumer

    container = ServiceContainer(service_cls, {"AMQP_URI": "memory://"})
    names = set()
    for ext in container.extensions:
        if isinstance(ext, (EventHandler, RpcConsumer)):
            ext.setup()
            names.add(ext.queue.name)
    return names


def test_keda_regexes_cover_exactly_each_services_queues(deploy_docs):
    from gateway.service import GatewayService
    from services.channels.service import ChannelsService
    from services.dispatch.service import DispatchService
    from services.exports.service import ExportsService
    from services.intake.service import IntakeService
    from services.kb.service import KbService
    from services.notify.service import NotifyService
    from services.sla.service import SlaService
    from services.worklog.service import WorklogService

    classes = {"intake": IntakeService, "dispatch": DispatchService, "worklog": WorklogService,
               "sla": SlaService, "notify": NotifyService, "kb": KbService,
               "channels": ChannelsService, "exports": ExportsService,
               "gateway": GatewayService}
    regexes = {}
    for name in check_deploy.NAMEKO_SERVICES:
        trigger, = _find(deploy_docs, "ScaledObject", name)["spec"]["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["mode"] == "QueueLength"
        assert trigger["metadata"]["operation"] == "sum"
        regexes[name] = re.compile(trigger["metadata"]["queueName"])
    checked = 0
    for owner, cls in classes.items():
        queues = _consumed_queues(cls)
        assert f"rpc-{owner}" in queues
        for queue in queues:
            matching = {name for name, rx in regexes.items() if rx.search(queue)}
            # the gateway scales on CPU: its RPC queue belongs to no ScaledObject
            assert matching == ({owner} if owner != "gateway" else set()), (queue, matching)
            checked += 1
    assert checked > 30
    for rx in regexes.values():
        assert not rx.search("rpc.reply-gateway-3f2a")  # reply queues are not a backlog


def test_every_deployment_migrates_before_it_serves(deploy_docs):
    for service in check_deploy.SERVICES:
        spec = _find(deploy_docs, "Deployment", service)["spec"]["template"]["spec"]
        init, = spec["initContainers"]
        assert init["args"] == ["migrate", service]
        # only its own database: the initContainer needs no broker and no other secret
        assert [e["name"] for e in init["env"]] == [f"{service.upper()}_DB_URL"]
    assert not os.path.exists(os.path.join(check_deploy.K8S, "02-migrate-job.yaml"))
    with open(os.path.join(ROOT, "deploy", "entrypoint.sh")) as fh:
        assert "migrate) exec python -m scripts.migrate_locked" in fh.read()


def test_notify_gets_its_delivery_settings_and_secrets(deploy_docs):
    container = _find(deploy_docs, "Deployment", "notify")["spec"]["template"]["spec"][
        "containers"][0]
    assert {"configMapRef": {"name": "gongdan-notify-config"}} in container["envFrom"]
    settings = _find(deploy_docs, "ConfigMap", "gongdan-notify-config")["data"]
    assert settings["NOTIFY_SMTP_HOST"] not in ("127.0.0.1", "localhost")
    secret_keys = {e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"]
                   if e["valueFrom"]["secretKeyRef"]["name"] == "gongdan-notify"}
    assert secret_keys == {"NOTIFY_SMTP_USERNAME", "NOTIFY_SMTP_PASSWORD", "NOTIFY_SMS_API_KEY"}
    env = _find(deploy_docs, "ConfigMap", "gongdan-env")["data"]
    assert env["AMQP_QUEUE_TYPE"] == "quorum" and env["OPS_ADDRESS"] == "0.0.0.0:9100"
    assert _find(deploy_docs, "StatefulSet", "rabbitmq")["spec"]["replicas"] == 3


def test_download_links_are_signed_for_the_public_endpoint(deploy_docs):
    import datetime as dt

    from gongdan_common.storage import make_client, presign_client

    env = _find(deploy_docs, "ConfigMap", "gongdan-env")["data"]
    cfg = {"endpoint": env["S3_ENDPOINT"], "access_key": "gongdan", "secret_key": "s" * 16,
           "secure": False, "region": "us-east-1", "public_endpoint": env["S3_PUBLIC_ENDPOINT"]}
    internal = make_client(cfg["endpoint"], cfg)
    assert presign_client({**cfg, "public_endpoint": None}, internal) is internal
    url = presign_client(cfg, internal).presigned_get_object(
        env["S3_BUCKET"], "tickets/1/a.txt", expires=dt.timedelta(seconds=60))
    assert url.startswith(f"https://gongdan.example.com/{env['S3_BUCKET']}/tickets/1/a.txt?")
    # no scheme: S3_SECURE decides (compose: http://localhost:9000 has one)
    local = presign_client({**cfg, "public_endpoint": "localhost:9000"}, internal)
    url = local.presigned_get_object("bucket1", "k", expires=dt.timedelta(seconds=60))
    assert url.startswith("http://localhost:9000/bucket1/k?")
    for client in (internal, local):
        client._http.clear()  # no pooled sockets left for the interpreter's exit
    # the Ingress of that host sends the bucket's path to MinIO, the rest to the gateway
    rule, = _find(deploy_docs, "Ingress", "gateway")["spec"]["rules"]
    assert rule["host"] == "gongdan.example.com"
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert routes == {f"/{env['S3_BUCKET']}/": "minio", "/": "gateway"}


# ---- Prometheus rules and the dashboard -----------------------------------------------------

def test_alert_rules_pass_promtool_check():
    out = subprocess.run([promtool(), "check", "rules", RULES], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {_rule_count()} rules found" in out.stdout


def test_alert_rules_pass_their_unit_tests():
    out = subprocess.run([promtool(), "test", "rules", RULE_TESTS], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


def test_every_alert_has_a_firing_unit_test():
    with open(RULES) as fh:
        alerts = {r["alert"] for g in yaml.safe_load(fh)["groups"] for r in g["rules"]}
    with open(RULE_TESTS) as fh:
        tests = yaml.safe_load(fh)["tests"]
    fired = {t["alertname"] for case in tests for t in case["alert_rule_test"]
             if t.get("exp_alerts")}
    assert alerts - fired == set()


def test_alert_unit_tests_fail_when_a_threshold_drifts(tmp_path):
    with open(RULES) as fh:
        rules = fh.read()
    drifted = rules.replace('/ sum(rate(gongdan_http_requests_total[5m])) > 0.05',
                            '/ sum(rate(gongdan_http_requests_total[5m])) > 0.5')
    assert drifted != rules
    (tmp_path / "tests").mkdir()
    (tmp_path / "gongdan-alerts.yml").write_text(drifted)
    shutil.copy(RULE_TESTS, tmp_path / "tests")
    out = subprocess.run([promtool(), "test", "rules",
                          str(tmp_path / "tests" / "gongdan-alerts.test.yml")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "GongdanHttp5xxRate" in out.stdout + out.stderr


def _metric_names(expr):
    return {m for m in re.findall(r"\b(gongdan_[a-z_]+)", expr)}


def _agreed(name):
    return re.sub(r"_(bucket|sum|count)$", "", name) in GONGDAN_METRICS


def test_dashboard_queries_are_valid_promql_over_agreed_metrics(tmp_path):
    with open(DASHBOARD) as fh:
        dashboard = json.load(fh)
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 20
    # promtool parses each query as a recording rule (Grafana's variables filled in)
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{i}",
         "expr": e.replace("$__rate_interval", "5m").replace("$service", ".*")}
        for i, e in enumerate(exprs)]}]}
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules))
    out = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    used = set().union(*(_metric_names(e) for e in exprs))
    with open(RULES) as fh:
        used_by_alerts = _metric_names(fh.read())
    assert {m for m in used | used_by_alerts if not _agreed(m)} == set()
    # every agreed metric is on the dashboard
    assert {re.sub(r"_(bucket|sum|count)$", "", m) for m in used} == GONGDAN_METRICS


# ---- migrations under a lock ----------------------------------------------------------------

def _write_config(tmp_path, db_url=None):
    config = tmp_path / "gongdan.yaml"
    config.write_text(yaml.safe_dump({"DATA_DIR": str(tmp_path / "data"),
                                      "DATABASES": {"kb": db_url} if db_url else {}}))
    return str(config)


def _migrate(config, *args, **kw):
    return subprocess.Popen([sys.executable, "-m", "scripts.migrate_locked", "--config", config,
                             *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)


def test_migrate_locked_on_sqlite_migrates_and_reapplies(tmp_path):
    import sqlite3

    config = _write_config(tmp_path)
    for _ in range(2):  # re-applying is a no-op
        proc = _migrate(config, "kb")
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
        assert "migrated kb (schema at head)" in out
    conn = sqlite3.connect(tmp_path / "data" / "kb.db")
    try:
        version, = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        conn.close()
    assert version


def test_migrate_locked_refuses_an_unknown_service(tmp_path):
    proc = _migrate(_write_config(tmp_path), "kbb")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "unknown service(s): kbb" in out


@pytest.mark.postgres
def test_migrate_locked_waits_for_the_lock_holder_on_postgresql(tmp_path):
    import secrets

    import psycopg2

    from scripts.migrate_locked import lock_key

    db = f"gdt_deploy_{secrets.token_hex(3)}"
    admin = psycopg2.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{db}"')
    holder = None
    try:
        url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{db}"
        config = _write_config(tmp_path, url)
        # another migrator (this connection) holds kb's lock
        holder = psycopg2.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={db}")
        holder.autocommit = True
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (lock_key("kb"),))

        timed_out = _migrate(config, "--wait", "1", "kb")
        out, _ = timed_out.communicate(timeout=60)
        assert timed_out.returncode == 1, out
        assert "another migrator held the lock" in out

        waiting = _migrate(config, "--wait", "60", "kb")
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(waiting.stdout), daemon=True)
        reader.start()
        deadline = time.monotonic() + 30
        while not any("waiting for it" in line for line in lines):
            assert waiting.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        with holder.cursor() as cur:  # nothing migrated while the lock was held
            cur.execute("SELECT to_regclass('alembic_version')")
            assert cur.fetchone() == (None,)
            cur.execute("SELECT pg_advisory_unlock(%s)", (lock_key("kb"),))
        assert waiting.wait(timeout=60) == 0, "".join(lines)
        reader.join(timeout=10)
        assert any("migrated kb (schema at head)" in line for line in lines)
        with holder.cursor() as cur:
            cur.execute("SELECT version_num FROM alembic_version")
            assert cur.fetchone()[0]
            # the migrator let go of the lock when it finished
            cur.execute("SELECT pg_try_advisory_lock(%s)", (lock_key("kb"),))
            assert cur.fetchone() == (True,)
    finally:
        if holder is not None:
            holder.close()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()


# ---- kustomize ------------------------------------------------------------------------------

def test_kustomize_builds_every_manifest_into_the_namespace(deploy_docs):
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is missing: `./gongdan test` installs Debian's kubernetes-client"
    out = subprocess.run([kubectl, "kustomize", os.path.join(ROOT, "deploy", "k8s")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    built = [d for d in yaml.safe_load_all(out.stdout) if d]
    assert len(built) == len(check_deploy.manifests(deploy_docs))
    assert {d["metadata"].get("namespace", "gongdan") for d in built} == {"gongdan"}
    images = {c["image"] for d in built
              for c in (d.get("spec", {}).get("template", {}).get("spec", {})
                        .get("initContainers", []) +
                        d.get("spec", {}).get("template", {}).get("spec", {})
                        .get("containers", []))}
    # the Gongdan image takes the registry and tag of kustomization.yaml's `images:`
    assert not any(i.split(":")[0] == "gongdan" for i in images), images
    assert "registry.example.com/gongdan:0.1.0" in images


@pytest.mark.postgres
def test_replicas_starting_together_migrate_once_on_postgresql(tmp_path):
    """Three initContainers at once on a fresh database: all succeed, the schema is at head."""
    import secrets

    import psycopg2

    db = f"gdt_deploy_{secrets.token_hex(3)}"
    admin = psycopg2.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{db}"')
    try:
        config = _write_config(tmp_path, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{db}")
        procs = [_migrate(config, "kb") for _ in range(3)]
        outs = [p.communicate(timeout=120)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], outs
        conn = psycopg2.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={db}")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM alembic_version")
                assert cur.fetchone() == (1,)
        finally:
            conn.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()


def test_prometheus_scrape_config_passes_promtool(tmp_path):
    """deploy/prometheus/prometheus.yml: Debian's promtool is built without the Kubernetes
    service discovery, so the check runs on a copy whose discovery is one static pod target;
    the relabelling, the rule file and the rest are checked as they are."""
    with open(os.path.join(PROMETHEUS, "prometheus.yml")) as fh:
        config = yaml.safe_load(fh)
    job, = config["scrape_configs"]
    assert job["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["gongdan"]}}]
    del job["kubernetes_sd_configs"]
    job["static_configs"] = [{"targets": ["10.0.0.7:8000"]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    shutil.copy(RULES, tmp_path)
    out = subprocess.run([promtool(), "check", "config", str(tmp_path / "prometheus.yml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {_rule_count()} rules found" in out.stdout
