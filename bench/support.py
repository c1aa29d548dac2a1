"""Small pieces every bench script shares: progress lines, percentiles, stopping the
`nameko run` processes a bench started (and their private vhost)."""
import signal
import subprocess
import time

from tests.support.system import _rabbitmqctl


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def exit_on_signals():
    """SIGTERM/SIGINT raise SystemExit, so that the run's `finally` stops what it started;
    once: a second signal must not interrupt the cleanup that the first one starts."""
    def on_signal(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        log(f"signal {signum}: stopping everything this run started ...")
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def percentile(sorted_values, p):
    """Nearest-rank percentile of already sorted values (nan when empty)."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def pct(values, p):
    """Percentile by rounded index over (n - 1), of unsorted values (nan when empty)."""
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def stop_processes(procs, vhost=None):
    """Terminate the processes (kill what does not stop in 15 s), then drop the vhost."""
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if vhost:
        _rabbitmqctl("delete_vhost", vhost)
