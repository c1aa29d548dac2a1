"""The Python half of `./gongdan` (the bash half installs packages, the venv and RabbitMQ).

    python -m scripts.cli up [--scale SERVICE=N ...] [--postgres] [--no-s3] [--skip-migrate]
    python -m scripts.cli run SERVICE [--instances N] [--postgres]
    python -m scripts.cli migrate [--postgres] [SERVICE ...]
    python -m scripts.cli create-admin [--postgres] --email E --phone P --name N --password PW
    python -m scripts.cli demo [ARGS ...]
    python -m scripts.cli status [--timeout S] [--gateway HOST:PORT ...]

`--postgres` (or GONGDAN_POSTGRES=1) creates the databases gongdan_<service> on the local
PostgreSQL (GONGDAN_PG_URL, default postgresql+psycopg2://postgres@127.0.0.1:5432) and sets
<SERVICE>_DB_URL for every service that has none set already.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import threading
import time

from gongdan_common.migrate import SERVICES as MIGRATED_SERVICES
from scripts import healthcheck, s3local
from scripts._proc import is_local_host, port_open, split_address
from scripts.supervise import Supervisor, instances

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)

# start order = output order; the gateway last so the services are there when it asks
SERVICES = {
    "intake": "services.intake.service:IntakeService",
    "dispatch": "services.dispatch.service:DispatchService",
    "worklog": "services.worklog.service:WorklogService",
    "sla": "services.sla.service:SlaService",
    "notify": "services.notify.service:NotifyService",
    "kb": "services.kb.service:KbService",
    "channels": "services.channels.service:ChannelsService",
    "exports": "services.exports.service:ExportsService",
    "gateway": "gateway.service:GatewayService",
}
DATABASES = list(MIGRATED_SERVICES)  # one list, owned by the migration tool
DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432"


def say(message):
    print(f"gongdan: {message}", file=sys.stderr, flush=True)


def fail(message, code=1):
    say(f"error: {message}")
    sys.exit(code)


def config_file():
    return healthcheck.config_path()


def load_config():
    return healthcheck.load(config_file())


def module_file(target):
    module = target.split(":", 1)[0]
    return os.path.join(ROOT, *module.split(".")) + ".py"


def service_present(service):
    return os.path.isfile(module_file(SERVICES[service]))


def migrations_present(service):
    folder = "gateway" if service == "gateway" else os.path.join("services", service)
    return os.path.isfile(os.path.join(ROOT, folder, "migrations", "env.py"))


# -- PostgreSQL mode -------------------------------------------------------------------------
def _postgres_requested(args):
    return getattr(args, "postgres", False) or \
        os.environ.get("GONGDAN_POSTGRES", "").lower() in ("1", "true", "yes")


def use_postgres():
    """Create gongdan_<service> databases and export <SERVICE>_DB_URL (keeps ones already set)."""
    import psycopg2
    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("GONGDAN_PG_URL") or DEFAULT_PG_URL)
    try:
        conn = psycopg2.connect(host=base.host or "127.0.0.1", port=base.port or 5432,
                                user=base.username or "postgres", password=base.password,
                                dbname="postgres", connect_timeout=10)
    except psycopg2.OperationalError as exc:
        fail(f"cannot connect to PostgreSQL at {base.render_as_string(hide_password=True)}: "
             f"{str(exc).strip()}\n  set GONGDAN_PG_URL=postgresql+psycopg2://USER:PASSWORD@HOST:PORT "
             "(the user must be allowed to create databases)")
    conn.autocommit = True
    created = []
    with conn.cursor() as cur:
        for service in DATABASES:
            name = f"gongdan_{service}"
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
                created.append(name)
            var = f"{service.upper()}_DB_URL"
            if not os.environ.get(var):
                os.environ[var] = base.set(database=name).render_as_string(hide_password=False)
    conn.close()
    if created:
        say(f"created PostgreSQL databases: {', '.join(created)}")
    say(f"PostgreSQL mode: databases gongdan_<service> on "
        f"{base.render_as_string(hide_password=True)}")


# -- processes -------------------------------------------------------------------------------
def gateway_ports(config, count):
    host, port = split_address(str(config.get("WEB_SERVER_ADDRESS") or "127.0.0.1:8000"), 8000)
    return host, [port + i for i in range(count)]


def service_specs(service, count, config):
    """Supervisor specs for `count` instances of one service (gateways on consecutive ports)."""
    argv = [os.path.join(BIN, "nameko"), "run", SERVICES[service], "--config", config_file()]
    env_for = None
    if service == "gateway":
        host, ports = gateway_ports(config, count)

        def env_for(i):
            return {"GATEWAY_ADDRESS": f"{host}:{ports[i - 1]}"}
    return instances(service, argv, {}, count, env_for)


# `./gongdan up` gives each process a fixed ops port (/metrics /livez /readyz) from here up,
# in start order, and writes them to OPS_PORTS_FILE for `./gongdan status`
OPS_PORT_BASE = 9101
OPS_PORTS_FILE = os.path.join(ROOT, "var", "ops-ports.json")


def assign_ops_ports(specs, config):
    """Set OPS_ADDRESS for every spec (host of OPS.address; ports 9101, 9102, ... or from
    GONGDAN_OPS_PORT_BASE); refuse busy ports; record them. Returns {process: address}."""
    host, _ = split_address(str((config.get("OPS") or {}).get("address") or "127.0.0.1:0"), 0)
    base = int(os.environ.get("GONGDAN_OPS_PORT_BASE", OPS_PORT_BASE))
    reach = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    ports = {}
    for i, spec in enumerate(specs):
        spec.env["OPS_ADDRESS"] = f"{host}:{base + i}"
        ports[spec.name] = f"{reach}:{base + i}"
    busy = [a for a in ports.values() if port_open(*split_address(a, 0), timeout=0.3)]
    if busy:
        fail(f"ops port(s) {', '.join(busy)} already in use (another `./gongdan up`?); "
             "stop it or set GONGDAN_OPS_PORT_BASE")
    os.makedirs(os.path.dirname(OPS_PORTS_FILE), exist_ok=True)
    with open(OPS_PORTS_FILE, "w") as fh:
        json.dump(ports, fh, indent=1)
    say("ops ports (/metrics /livez /readyz): "
        + ", ".join(f"{n} {a.rsplit(':', 1)[1]}" for n, a in ports.items()))
    return ports


def gateway_urls(config, count):
    host, ports = gateway_ports(config, count)
    reach = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return [f"http://{reach}:{p}" for p in ports]


def check_gateway_ports(config, count):
    """Refuse to start when a gateway port already has a listener.

    eventlet binds with SO_REUSEPORT, so a second gateway would silently *share* the port
    with whatever holds it (often a forgotten gateway running old code).
    """
    host, ports = gateway_ports(config, count)
    reach = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    busy = [p for p in ports if port_open(reach, p, timeout=0.5)]
    if busy:
        fail(f"gateway port(s) {', '.join(map(str, busy))} on {reach} already in use "
             "(another `./gongdan up`? `./gongdan status` tells); stop it or set "
             "GATEWAY_ADDRESS=HOST:PORT (instances use PORT, PORT+1, ...)")


def parse_scale(items):
    scale = {}
    for item in items:
        for part in item.split(","):
            name, sep, count = part.partition("=")
            name = name.strip()
            if not sep or name not in SERVICES:
                fail(f"--scale expects SERVICE=N with SERVICE one of {', '.join(SERVICES)}; "
                     f"got {part!r}")
            try:
                scale[name] = int(count)
            except ValueError:
                fail(f"--scale {part!r}: N must be a whole number")
            if scale[name] < 0:
                fail(f"--scale {part!r}: N must be 0 or more")
    return scale


def _announce_when_ready(sup, config, count, stop_event):
    urls = gateway_urls(config, count)
    address = urls[0].split("://", 1)[1]
    deadline = time.monotonic() + 120
    while not stop_event.is_set() and time.monotonic() < deadline:
        ok, _ = healthcheck.http_check(address, "/healthz", timeout=2)
        if ok:
            break
        stop_event.wait(1)
    else:
        if not stop_event.is_set():
            sup.log(f"the gateway did not answer on {urls[0]}/healthz within 2 minutes; "
                    "see its lines above (`./gongdan status` checks every service)")
        return
    first = urls[0]
    lines = [
        "",
        f"Gongdan is up: {first}   (API docs: {first}/api/docs)",
    ]
    if len(urls) > 1:
        lines.append(f"  gateway instances: {' '.join(urls)}  (put a load balancer in front)")
    lines += [
        "  first administrator (once):",
        "    ./gongdan create-admin --email admin@example.com --phone 13800000000 "
        "--name Admin --password 'change-me-now'",
        "  log in:",
        f"    curl -s -X POST {first}/api/v1/auth/login -H 'Content-Type: application/json' "
        "-d '{\"login\": \"admin@example.com\", \"password\": \"change-me-now\"}'",
        "    (send the access_token it returns as 'Authorization: Bearer TOKEN')",
        "  demo data: ./gongdan demo     health: ./gongdan status     stop: Ctrl-C",
        "",
    ]
    sup.log("\n".join(lines))


def supervise(specs, config, gateway_count, on_shutdown=(), grace=10.0, restart=True):
    if not specs:
        fail("nothing to run")
    sup = Supervisor(specs, grace=grace, cwd=ROOT, restart=restart)
    sup.on_shutdown.extend(on_shutdown)
    stop_event = threading.Event()
    sup.on_shutdown.insert(0, stop_event.set)
    if gateway_count:
        threading.Thread(target=_announce_when_ready, args=(sup, config, gateway_count, stop_event),
                         daemon=True).start()
    return sup.run()


# -- commands --------------------------------------------------------------------------------
def start_s3(config):
    """Reuse a healthy S3 server on the configured endpoint or start one under var/s3.

    Returns the Popen we started (to stop at the end), or None.
    """
    store = config.get("OBJECT_STORE") or {}
    endpoint = str(store.get("endpoint") or s3local.DEFAULT_ADDRESS)
    access, secret = str(store.get("access_key")), str(store.get("secret_key"))
    bucket = str(store.get("bucket") or s3local.DEFAULT_BUCKET)
    secure = str(store.get("secure")).lower() in ("true", "1", "yes")
    host, _ = split_address(endpoint, 9000)
    proc = None
    if s3local.is_healthy(endpoint, secure=secure):
        say(f"S3: reusing the server already answering on {endpoint}")
    elif not is_local_host(host):
        fail(f"S3 endpoint {endpoint} is not answering (S3_ENDPOINT); start it or unset it")
    else:
        base = os.path.join(ROOT, "var", "s3")
        try:
            proc = s3local.start(base, address=endpoint, user=access, password=secret)
        except s3local.S3LocalError as exc:
            fail(str(exc))
        say(f"S3: started a local server on {proc.url} (pid {proc.pid}, data {base}, "
            f"log {proc.log_path})")
    try:
        if s3local.ensure_bucket(endpoint, access, secret, bucket, secure=secure,
                                 region=store.get("region") or None):
            say(f"S3: created bucket {bucket}")
    except Exception as exc:
        s3local.stop(proc)
        fail(f"S3: cannot create or check bucket {bucket} on {endpoint}: {exc}\n"
             "  (another S3 server with other credentials on that port? set S3_ENDPOINT)")
    return proc


def migrate(services):
    present = [s for s in services if migrations_present(s)]
    for missing in sorted(set(services) - set(present)):
        say(f"migrate: {missing} has no migrations/env.py yet, skipped")
    if not present:
        return 0
    argv = [sys.executable, "-m", "gongdan_common.migrate", "--config", config_file()] + present
    say("migrating: " + " ".join(present))
    return subprocess.call(argv, cwd=ROOT)


def cmd_up(args):
    scale = {name: 1 for name in SERVICES}
    scale.update(parse_scale(args.scale))
    if _postgres_requested(args):
        use_postgres()
    config = load_config()
    specs = []
    for service, count in scale.items():
        if count == 0:
            continue
        if not service_present(service):
            say(f"{service}: {os.path.relpath(module_file(SERVICES[service]), ROOT)} "
                "does not exist yet, not started")
            continue
        specs += service_specs(service, count, config)
    gateways = scale["gateway"] if service_present("gateway") else 0
    if gateways:
        check_gateway_ports(config, gateways)
    assign_ops_ports(specs, config)
    s3_proc = None if args.no_s3 else start_s3(config)
    on_shutdown = []
    if s3_proc is not None:
        def stop_s3():
            say("stopping the S3 server we started")
            s3local.stop(s3_proc)
        on_shutdown.append(stop_s3)
    try:
        if not args.skip_migrate:
            rc = migrate(DATABASES)
            if rc != 0:
                fail(f"migrations failed (exit {rc}); fix them or pass --skip-migrate")
    except BaseException:
        for hook in on_shutdown:
            hook()
        raise
    say(f"starting {len(specs)} process(es); logs below, Ctrl-C stops everything")
    return supervise(specs, config, gateways, on_shutdown, grace=args.grace,
                     restart=not args.no_restart)


def cmd_run(args):
    if args.service not in SERVICES:
        fail(f"unknown service {args.service!r}; one of {', '.join(SERVICES)}")
    if not service_present(args.service):
        fail(f"{module_file(SERVICES[args.service])} does not exist")
    if _postgres_requested(args):
        use_postgres()
    config = load_config()
    specs = service_specs(args.service, args.instances, config)
    gateways = args.instances if args.service == "gateway" else 0
    if gateways:
        check_gateway_ports(config, gateways)
    return supervise(specs, config, gateways, grace=args.grace, restart=not args.no_restart)


def _strip_postgres(argv):
    rest = [a for a in argv if a != "--postgres"]
    if len(rest) != len(argv):
        os.environ["GONGDAN_POSTGRES"] = "1"
    return rest


def _exec(argv):
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(ROOT)
    os.execv(argv[0], argv)


def cmd_migrate(argv):
    argv = _strip_postgres(argv)
    if _postgres_requested(None):
        use_postgres()
    _exec([sys.executable, "-m", "gongdan_common.migrate", "--config", config_file()] + argv)


def cmd_create_admin(argv):
    argv = _strip_postgres(argv)
    if _postgres_requested(None):
        use_postgres()
    _exec([sys.executable, "-m", "gateway.cli", "--config", config_file(), "create-admin"] + argv)


def cmd_demo(argv):
    if not os.path.isfile(os.path.join(ROOT, "scripts", "demo_data.py")):
        fail("scripts/demo_data.py does not exist yet")
    _exec([sys.executable, "-m", "scripts.demo_data"] + argv)


def cmd_status(args):
    config = load_config()
    services = [s for s in SERVICES if s != "gateway"]
    amqp = str(config.get("AMQP_URI", ""))
    host, port = split_address(amqp.split("@")[-1], 5672)
    rows = []
    if not port_open(host, port, timeout=2):
        broker = f"not reachable on {host}:{port}"
        results = {s: (False, "broker unreachable") for s in services}
        counts = {s: None for s in services}
    else:
        broker = f"{host}:{port}"
        counts = healthcheck.consumer_counts(config, services)
        results = healthcheck.rpc_health(config, services, timeout=args.timeout)
    for service in services:
        ok, detail = results[service]
        n = counts.get(service)
        rows.append((service, "ok" if ok else "FAIL", "?" if n is None else str(n), "rpc health",
                     detail))
    addresses = args.gateway or [u.split("://", 1)[1] for u in gateway_urls(config, 1)]
    for address in addresses:
        ok, detail = healthcheck.http_check(address, "/readyz", timeout=args.timeout)
        rows.append(("gateway", "ok" if ok else "FAIL", "", f"GET {address}/readyz", detail))
    rows += ops_rows(args.timeout)
    headers = ("SERVICE", "STATUS", "INSTANCES", "CHECK", "DETAIL")
    widths = [max(len(r[i]) for r in rows + [headers]) for i in range(4)]
    print(f"broker: {broker}")
    for row in [headers] + rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    return 0 if all(r[1] == "ok" for r in rows) else 1


def ops_rows(timeout):
    """One row per process `./gongdan up` started: its /livez and /readyz on its ops port."""
    try:
        with open(OPS_PORTS_FILE) as fh:
            ports = json.load(fh)
    except (OSError, ValueError):
        return []
    rows = []
    for name, address in ports.items():
        live, detail = healthcheck.http_check(address, "/livez", timeout=timeout)
        ready, rdetail = healthcheck.http_check(address, "/readyz", timeout=timeout)
        rows.append((name, "ok" if live and ready else "FAIL", "",
                     f"ops {address} /livez /readyz",
                     "live, ready" if live and ready else f"{detail} | {rdetail}"))
    return rows


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough = {"migrate": cmd_migrate, "create-admin": cmd_create_admin, "demo": cmd_demo}
    if argv and argv[0] in passthrough:
        return passthrough[argv[0]](argv[1:])

    parser = argparse.ArgumentParser(prog="gongdan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start the whole system in the foreground")
    up.add_argument("--scale", action="append", default=[], metavar="SERVICE=N",
                    help="run N instances of SERVICE (repeatable; gateways get consecutive ports)")
    up.add_argument("--postgres", action="store_true", help="use the local PostgreSQL")
    up.add_argument("--no-s3", action="store_true", help="do not start or check an S3 server")
    up.add_argument("--skip-migrate", action="store_true")
    up.add_argument("--grace", type=float, default=10.0,
                    help="seconds between SIGTERM and SIGKILL when stopping")
    up.add_argument("--no-restart", action="store_true",
                    help="do not restart a process that crashes (default: restart with backoff)")
    run = sub.add_parser("run", help="run one service alone (N instances) in the foreground")
    run.add_argument("service", choices=list(SERVICES))
    run.add_argument("--instances", "-n", type=int, default=1)
    run.add_argument("--postgres", action="store_true")
    run.add_argument("--grace", type=float, default=10.0)
    run.add_argument("--no-restart", action="store_true")
    status = sub.add_parser("status", help="health of every service and the gateway")
    status.add_argument("--timeout", type=float, default=5.0)
    status.add_argument("--gateway", action="append", metavar="HOST:PORT",
                        help="gateway address(es) to check (default: GATEWAY_ADDRESS)")
    args = parser.parse_args(argv)
    return {"up": cmd_up, "run": cmd_run, "status": cmd_status}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
