"""`./gongdan up` restarts a crashed service: a real kb service under the `up` command's
supervisor (scripts/cli.py `up`, on a private RabbitMQ vhost and SQLite files) is killed
with SIGKILL; the supervisor says so, restarts it after its backoff, and the new process
serves again (its RPC queue has a consumer)."""
import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import pytest

from tests.support.system import ROOT, _rabbitmqctl

pytestmark = [pytest.mark.integration, pytest.mark.faults]


class Lines:
    """The supervisor's output, read on a thread, searchable while it runs."""

    def __init__(self, stream):
        self.all, self._q = [], queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for raw in iter(stream.readline, b""):
            self._q.put(raw.decode("utf-8", "replace").rstrip())

    def wait_for(self, pattern, timeout, since=0):
        """The first match in the lines from index `since` on."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        checked = since
        while True:
            for line in self.all[checked:]:
                if rx.search(line):
                    return rx.search(line)
            checked = max(checked, len(self.all))
            if time.monotonic() > deadline:
                raise AssertionError(f"no line matching {pattern!r} within {timeout}s:\n"
                                     + "\n".join(self.all[-60:]))
            try:
                self.all.append(self._q.get(timeout=0.2))
            except queue.Empty:
                pass


def consumers(vhost, name):
    out = _rabbitmqctl("list_queues", "-p", vhost, "name", "consumers").stdout
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == name:
            return int(parts[1])
    return 0


def wait_consumer(vhost, name, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if consumers(vhost, name) >= 1:
            return
        time.sleep(0.5)
    raise AssertionError(f"no consumer on {name} after {timeout}s")


def test_a_killed_service_is_restarted_with_backoff():
    workdir = tempfile.mkdtemp(prefix="gongdan-supervise-")
    vhost = "gongdan-test-" + secrets.token_hex(4)
    assert _rabbitmqctl("add_vhost", vhost).returncode == 0
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    env = dict(os.environ, PYTHONPATH=ROOT, GONGDAN_DATA_DIR=os.path.join(workdir, "data"),
               AMQP_URI="pyamqp://guest:guest@127.0.0.1:5672/" + urllib.parse.quote(vhost, safe=""),
               NO_COLOR="1")
    sup = None
    try:
        subprocess.run([sys.executable, "-m", "gongdan_common.migrate", "kb"], cwd=ROOT,
                       env=env, check=True, capture_output=True, timeout=120)
        scale = ["--scale", "gateway=0,intake=0,dispatch=0,worklog=0,sla=0,notify=0"]
        sup = subprocess.Popen([sys.executable, "-m", "scripts.cli", "up", "--no-s3",
                                "--skip-migrate", *scale], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
        lines = Lines(sup.stdout)
        first = int(lines.wait_for(r"started kb \(pid (\d+)\)", 60).group(1))
        wait_consumer(vhost, "rpc-kb")

        mark = len(lines.all)
        os.kill(first, signal.SIGKILL)
        lines.wait_for(r"kb killed by SIGKILL", 20, mark)
        lines.wait_for(r"restarting kb in 1s \(exit code -9\)", 5, mark)
        second = int(lines.wait_for(r"started kb \(pid (\d+)\)", 20, mark).group(1))
        assert second != first
        # the new process serves: the old consumer is gone, the new one is there
        time.sleep(1)
        wait_consumer(vhost, "rpc-kb")

        # a second crash soon after: the backoff doubles
        mark = len(lines.all)
        os.kill(second, signal.SIGKILL)
        lines.wait_for(r"restarting kb in 2s \(exit code -9\)", 20, mark)
        third = int(lines.wait_for(r"started kb \(pid (\d+)\)", 20, mark).group(1))
        assert third not in (first, second)
        wait_consumer(vhost, "rpc-kb")

        mark = len(lines.all)
        sup.send_signal(signal.SIGINT)
        assert sup.wait(timeout=30) == 0
        lines.wait_for(r"kb stopped", 5, mark)
        assert not any("restarting" in line for line in lines.all[mark:])
    finally:
        if sup is not None and sup.poll() is None:
            os.killpg(sup.pid, signal.SIGKILL)
        _rabbitmqctl("delete_vhost", vhost)
        subprocess.run(["rm", "-rf", workdir])


def test_no_restart_only_reports():
    """`--no-restart` keeps the old behaviour: the exit is reported, nothing restarted."""
    out = subprocess.run(
        [sys.executable, "-m", "scripts.supervise", "--no-restart", "--colour", "never",
         "crash=sh -c 'exit 3'"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert "crash exited with code 3" in out.stdout and "not restarted" in out.stdout
    assert "restarting" not in out.stdout
    assert out.returncode == 1
