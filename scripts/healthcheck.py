"""Health probes: exit 0 when a Gongdan service answers, 1 otherwise.

    python -m scripts.healthcheck intake            # the service's `health` RPC over AMQP
    python -m scripts.healthcheck gateway           # GET http://GATEWAY_ADDRESS/readyz
    python -m scripts.healthcheck gateway --path /healthz

Used by docker-compose healthchecks, Kubernetes exec probes and `./gongdan status`.
The config file is --config, else $GONGDAN_CONFIG, else config/gongdan.yaml of this checkout.

An RPC health call reaches *some* instance of the service (whichever consumes the message
first), so it tells whether the service as a whole answers, not one particular replica.
"""
import argparse
import json
import os
import sys
import urllib.error
import urllib.request

from scripts._proc import split_address

NAMEKO_SERVICES = ["intake", "dispatch", "worklog", "sla", "notify", "kb", "channels", "exports"]
GATEWAY = "gateway"
DEFAULT_GATEWAY_ADDRESS = "127.0.0.1:8000"


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def config_path(path=None):
    return path or os.environ.get("GONGDAN_CONFIG") or os.path.join(
        repo_root(), "config", "gongdan.yaml")


def load(path=None):
    from gongdan_common.config import load_config
    return load_config(config_path(path))


def gateway_address(config):
    """The address to *reach* the gateway on (a 0.0.0.0 bind is reached on loopback)."""
    host, port = split_address(str(config.get("WEB_SERVER_ADDRESS") or DEFAULT_GATEWAY_ADDRESS),
                               8000)
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    return f"{host}:{port}"


def rpc_health(config, services, timeout=5.0):
    """{service: (ok, detail)} from each service's `health` RPC, all called at once."""
    from nameko.exceptions import RpcTimeout, UnknownService
    from nameko.standalone.rpc import ClusterRpcProxy

    results = {}
    try:
        with ClusterRpcProxy(config, timeout=timeout) as cluster:
            pending = {}
            for name in services:
                try:
                    pending[name] = getattr(cluster, name).health.call_async()
                except UnknownService:
                    results[name] = (False, "not running (no queue on the broker)")
            for name, reply in pending.items():
                try:
                    answer = reply.result()
                except RpcTimeout:
                    results[name] = (False, f"no answer within {timeout:g}s")
                except Exception as exc:  # a remote error
                    results[name] = (False, f"{type(exc).__name__}: {exc}"[:200])
                else:
                    ok = isinstance(answer, dict) and answer.get("status") == "ok"
                    results[name] = (ok, json.dumps(answer, ensure_ascii=False)[:200])
    except Exception as exc:  # the broker itself
        for name in services:
            results.setdefault(name, (False, f"broker unreachable: {exc}"[:200]))
    return results


def http_check(address, path="/readyz", timeout=5.0):
    """(ok, detail) for GET http://address/path; ok means a 2xx answer."""
    url = f"http://{address}{path}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            body = resp.read(300).decode("utf-8", "replace").strip()
            return 200 <= resp.status < 300, f"{resp.status} {body}"[:200]
    except urllib.error.HTTPError as exc:
        body = exc.read(300).decode("utf-8", "replace").strip()
        return False, f"{exc.code} {body}"[:200]
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"{url}: {reason}"[:200]


def consumer_counts(config, services, timeout=3.0):
    """{service: consumers on its rpc-<service> queue} (= running instances), None if unknown."""
    from kombu import Connection

    counts = {name: None for name in services}
    try:
        with Connection(config["AMQP_URI"], connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1)
            for name in services:
                channel = conn.channel()
                try:
                    _, _, consumers = channel.queue_declare(queue=f"rpc-{name}", passive=True)
                    counts[name] = consumers
                except Exception:  # 404: the service never ran on this broker
                    counts[name] = 0
                finally:
                    try:
                        channel.close()
                    except Exception:
                        pass
    except Exception:
        pass
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m scripts.healthcheck", description=__doc__)
    parser.add_argument("service", choices=NAMEKO_SERVICES + [GATEWAY])
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--config")
    parser.add_argument("--path", default="/readyz", help="gateway only: the path to GET")
    parser.add_argument("--address", help="gateway only: host:port (default: the config's)")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    config = load(args.config)
    if args.service == GATEWAY:
        ok, detail = http_check(args.address or gateway_address(config), args.path, args.timeout)
    else:
        ok, detail = rpc_health(config, [args.service], args.timeout)[args.service]
    if not args.quiet:
        print(f"{args.service}: {'ok' if ok else 'FAIL'} {detail}",
              file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
