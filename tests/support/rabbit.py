"""RabbitMQ nodes of a test's own, for fault tests (never the shared broker on 5672).

Each node has its own node name, AMQP and distribution ports, data and log directories and
config file (the machine's /etc/rabbitmq files pin port 5672, so they are bypassed). The
node runs as the `rabbitmq` user (Debian's wrapper switches to it), so its directories are
given to that user, and every node shares that user's Erlang cookie - which is what lets
`rabbitmqctl` reach them and them join one cluster.

    node = RabbitNode.create(base_dir, "gdt1"); node.start()
    ... node.stop(); node.start() ...     # a broker restart
    node.destroy()                          # stop and remove its files

    nodes = start_cluster(base_dir, 3)      # 3 nodes, joined to the first
"""
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time

from scripts._proc import free_port, port_open

CTL = "/usr/sbin/rabbitmqctl"
SERVER = "/usr/sbin/rabbitmq-server"


class RabbitNode:
    def __init__(self, base_dir, name, port, dist_port):
        self.base_dir, self.port, self.dist_port = base_dir, port, dist_port
        self.nodename = f"{name}@localhost"
        self.dir = os.path.join(base_dir, name)
        self.started = False

    @classmethod
    def create(cls, base_dir, name=None):
        name = name or "gdt" + secrets.token_hex(3)
        return cls(base_dir, name, free_port(), free_port())

    @property
    def amqp_uri(self):
        return f"pyamqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self):
        env = dict(os.environ)
        env.update({
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": os.path.join(self.dir, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(self.dir, "log"),
            "RABBITMQ_CONFIG_FILE": os.path.join(self.dir, "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(self.dir, "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(self.dir, "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(self.dir, "rabbitmq-env.conf"),
            "RABBITMQ_PID_FILE": os.path.join(self.dir, "pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/sbin",
        })
        return env

    def _prepare(self):
        for sub in ("mnesia", "log"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        with open(os.path.join(self.dir, "rabbitmq.conf"), "w") as fh:
            # guest may connect from loopback only (the default); 127.0.0.1 listener only
            fh.write(f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
                     "loopback_users.guest = true\n"
                     "cluster_partition_handling = pause_minority\n"
                     # single-machine tests: no disk alarm from a nearly full /tmp
                     "disk_free_limit.absolute = 50MB\n")
        with open(os.path.join(self.dir, "advanced.config"), "w") as fh:
            fh.write("[].\n")
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as fh:
            fh.write("[].\n")
        with open(os.path.join(self.dir, "rabbitmq-env.conf"), "w") as fh:
            fh.write("")
        uid, gid = pwd.getpwnam("rabbitmq")[2:4]
        for root, dirs, files in os.walk(self.base_dir):
            os.chown(root, uid, gid)
            for f in files:
                os.chown(os.path.join(root, f), uid, gid)

    def ctl(self, *args, timeout=60, check=True):
        out = run([CTL, "-q", "-n", self.nodename, *args], self._env(), timeout,
                  f"rabbitmqctl {' '.join(args)} on {self.nodename}")
        if check and out.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {self.nodename}: "
                               f"{out.stdout}{out.stderr}")
        return out.stdout

    def start(self, timeout=90, wait=True):
        self._prepare()
        out = run([SERVER, "-detached"], self._env(), 60, f"starting {self.nodename}")
        if out.returncode != 0:
            raise RuntimeError(f"rabbitmq-server -detached for {self.nodename}: "
                               f"{out.stdout}{out.stderr}")
        self.started = True
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                out = run([CTL, "-q", "-n", self.nodename, "await_startup", "--timeout", "10"],
                          self._env(), 30, f"rabbitmqctl await_startup on {self.nodename}")
            except RuntimeError:  # one rabbitmqctl that hung (killed): ask again
                out = None
            if out is not None and out.returncode == 0 and port_open("127.0.0.1", self.port):
                return
            time.sleep(0.5)
        raise RuntimeError(f"RabbitMQ node {self.nodename} did not start within "
                           f"{timeout}s:\n{self.log_tail()}")

    def stop(self, timeout=90):
        """Stop the Erlang node (as an operator's restart would) within `timeout` seconds:
        one that does not (rabbitmqctl stop still running, or its port still open) is killed
        and RuntimeError says so - never an endless wait."""
        deadline = time.monotonic() + timeout
        problem = None
        if self.started:
            try:
                self.ctl("stop", timeout=timeout, check=False)
            except RuntimeError as exc:
                problem = str(exc)
            self.started = False
        while port_open("127.0.0.1", self.port) and time.monotonic() < deadline:
            time.sleep(0.2)
        if problem is None and port_open("127.0.0.1", self.port):
            problem = f"its AMQP port {self.port} was still open after {timeout}s"
        if problem:
            self.kill()
            raise RuntimeError(f"RabbitMQ node {self.nodename} did not stop: {problem}; "
                               f"killed\n{self.log_tail()}")

    def kill(self):
        """SIGKILL the node's Erlang VM (pid file, else the process naming the node)."""
        pids = set()
        try:
            with open(os.path.join(self.dir, "pid")) as fh:
                pids.add(int(fh.read().strip()))
        except (OSError, ValueError):
            pass
        pids.update(_pids_with_arg(self.nodename.split("@")[0]))
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.started = False

    def destroy(self):
        try:
            self.stop(timeout=30)
        except RuntimeError:
            pass  # killed
        finally:
            self.kill()  # no orphan beam, whatever happened
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines=40):
        logdir = os.path.join(self.dir, "log")
        out = []
        for name in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
            with open(os.path.join(logdir, name), errors="replace") as fh:
                out.append(f"== {name}\n" + "".join(fh.readlines()[-lines:]))
        return "\n".join(out)


def run(argv, env, timeout, what):
    """subprocess.run with capture and a deadline that really holds: when it passes, the
    whole process tree is killed (Debian's /usr/sbin wrapper runs the tool through `su`,
    which starts a session of its own - killing the wrapper alone left the Erlang CLI
    running and holding the pipes) and RuntimeError says what did not finish."""
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except _timeout_errors():
        _kill_tree(proc.pid)
        try:
            proc.communicate(timeout=10)
        except _timeout_errors():
            proc.kill()
        raise RuntimeError(f"{what}: no answer within {timeout}s (killed)") from None
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _timeout_errors():
    """Under eventlet's monkey patch (the test process) `communicate` raises the original
    module's TimeoutExpired, which is not the patched module's `subprocess.TimeoutExpired`."""
    original = sys.modules.get("__original_module_subprocess")
    return (subprocess.TimeoutExpired,) + ((original.TimeoutExpired,) if original else ())


def _children():
    """{parent pid: [child pids]} of every process, from /proc."""
    tree = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _kill_tree(pid):
    tree, todo, found = _children(), [pid], []
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(tree.get(p, []))
    for p in found:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def _pids_with_arg(arg):
    """Processes whose command line has `arg` as one of its words."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    words = fh.read().split(b"\0")
            except OSError:
                continue
            if any(w == arg.encode() or w.startswith(arg.encode() + b"@") for w in words):
                pids.append(int(entry))
    return pids


def start_cluster(base_dir, size=3):
    """`size` nodes joined into one cluster (the first is the seed). On failure every node
    started so far is destroyed."""
    tag = secrets.token_hex(2)
    nodes = [RabbitNode.create(base_dir, f"gdt{tag}n{i}") for i in range(1, size + 1)]
    try:
        for node in nodes:  # boot together (each takes ~10-30 s), then wait for each
            node.start(wait=False)
        for node in nodes:
            node.wait_ready()
        for node in nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", nodes[0].nodename)
            node.ctl("start_app")
            node.wait_ready()
        return nodes
    except BaseException:
        for node in nodes:
            node.destroy()
        raise


def failover_uri(nodes):
    """One AMQP URI naming every node: kombu tries them in turn (round robin)."""
    return ";".join(n.amqp_uri for n in nodes)
