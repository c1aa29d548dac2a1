"""Small process helpers shared by the operator scripts (no third-party imports)."""
import ctypes
import os
import signal
import socket

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig=signal.SIGTERM):
    """A `preexec_fn`: the child gets `sig` when the process that started it dies.

    Keeps a SIGKILLed supervisor (or test run) from leaving orphans behind. Linux only;
    elsewhere it does nothing.
    """
    def _preexec():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        except Exception:  # pragma: no cover - not Linux
            pass
    return _preexec


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def split_address(address, default_port):
    """'host:port' -> (host, port); a bare host gets `default_port`."""
    address = address.strip()
    if "://" in address:
        address = address.split("://", 1)[1]
    address = address.split("/", 1)[0]
    if address.startswith("["):  # [::1]:9000
        host, _, rest = address[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _, port = address.rpartition(":")
        if not host:
            host, port = port, ""
    return host or "127.0.0.1", int(port) if port else default_port


def port_open(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_local_host(host):
    return host in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "") or host.startswith("127.")


def tail(path, lines=30):
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


# Warnings that third-party imports print at every process start, outside any logger
# (cryptography 51 deprecates DSA, which dnspython - imported by eventlet - defines): on
# stderr they break LOG_FORMAT=json's one JSON object per line. Processes started by
# `./gongdan up`, the tests and the image (deploy/Dockerfile) get this PYTHONWARNINGS unless
# one is set already.
# (and eventlet >= 0.36 announces its own deprecation when nameko.cli.commands imports it)
PROCESS_WARNINGS = ("ignore:DSA is deprecated,ignore:pkg_resources is deprecated,"
                    "ignore:::nameko.cli.commands")


def with_quiet_imports(env):
    env.setdefault("PYTHONWARNINGS", PROCESS_WARNINGS)
    return env
