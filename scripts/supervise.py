"""A small foreground process supervisor for running Gongdan locally.

Starts every process, prefixes each output line with the process's padded (and, on a
terminal, coloured) name, reports every exit and restarts a process that ended by itself
(a crash, a kill -9) with exponential backoff - 1 s, 2 s, 4 s ... up to 30 s, back to 1 s once
it has stayed up for a minute - saying so ("restarting intake in 2s (exit code 1)");
`restart=False` (`--no-restart`) only reports. On SIGINT/SIGTERM it stops all children:
SIGTERM to each child's process group, then SIGKILL after a grace period (a second Ctrl-C
kills at once).

As a library::

    from scripts.supervise import Supervisor, ProcessSpec, instances
    specs = instances("intake", ["nameko", "run", "services.intake.service:IntakeService"], {}, 2)
    sys.exit(Supervisor(specs).run())

As a command (each NAME=COMMAND is split like a shell would; --instances NAME=N runs N copies
named NAME.1 … NAME.N, each with GONGDAN_INSTANCE=i in its environment)::

    python -m scripts.supervise [--grace 10] [--instances web=2] 'web=python -m http.server' ...
"""
import argparse
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from scripts._proc import die_with_parent, with_quiet_imports

# bright, readable ANSI colours, cycled over the processes
_COLOURS = (36, 33, 32, 35, 34, 96, 93, 92, 95, 94, 31, 91)
_SELF = "supervise"
# an exit this soon after the start is reported as a start-up failure
_EARLY_EXIT_SECONDS = 10.0
# restart backoff: first delay, cap, and the uptime after which it starts again from the first
RESTART_FIRST, RESTART_MAX, RESTART_RESET_AFTER = 1.0, 30.0, 60.0


@dataclass
class ProcessSpec:
    """One process to run. `env` holds overrides on top of the supervisor's environment."""
    name: str
    argv: list
    env: dict = field(default_factory=dict)
    cwd: str = None


def instances(name, argv, env=None, count=1, env_for=None):
    """`count` specs of one program: NAME when count is 1, else NAME.1 … NAME.count.

    Each gets GONGDAN_INSTANCE=i; `env_for(i)` may add per-instance variables (a port).
    """
    specs = []
    for i in range(1, count + 1):
        proc_env = dict(env or {})
        proc_env["GONGDAN_INSTANCE"] = str(i)
        if env_for is not None:
            proc_env.update(env_for(i))
        specs.append(ProcessSpec(name if count == 1 else f"{name}.{i}", list(argv), proc_env))
    return specs


def _describe_exit(code):
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class _Child:
    def __init__(self, spec):
        self.spec = spec
        self.proc = None
        self.reader = None
        self.started_at = None
        self.ended_at = None
        self.reported = False
        self.stopped_by_us = False
        self.index = 0
        self.restart_at = None   # monotonic time of a scheduled restart
        self.backoff = RESTART_FIRST
        self.restarts = 0

    @property
    def name(self):
        return self.spec.name


class Supervisor:
    def __init__(self, specs, grace=10.0, out=None, colour=None, cwd=None, restart=True):
        names = [s.name for s in specs]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"duplicate process names: {', '.join(sorted(duplicates))}")
        self.children = [_Child(s) for s in specs]
        self.grace = grace
        self.restart = restart
        self.out = out or sys.stdout
        if colour is None:
            colour = (hasattr(self.out, "isatty") and self.out.isatty()
                      and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb")
        self.colour = colour
        self.cwd = cwd
        self.width = max([len(n) for n in names] + [len(_SELF)])
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._signals = 0
        self.on_shutdown = []   # callables run after every child has stopped

    # -- output -------------------------------------------------------------------------
    def _prefix(self, name, index):
        label = name.ljust(self.width)
        if not self.colour:
            return f"{label} | "
        code = "1" if index is None else str(_COLOURS[index % len(_COLOURS)])
        return f"\033[{code}m{label} |\033[0m "

    def _write(self, prefix, text):
        with self._lock:
            try:
                self.out.write(prefix + text + "\n")
                self.out.flush()
            except (OSError, ValueError):  # stdout closed (a pipe to `head`)
                pass

    def log(self, message):
        """A line from the supervisor itself."""
        for line in str(message).splitlines() or [""]:
            self._write(self._prefix(_SELF, None), line)

    def _pump(self, index, child):
        prefix = self._prefix(child.name, index)
        stream = child.proc.stdout
        for raw in iter(stream.readline, b""):
            self._write(prefix, raw.decode("utf-8", "replace").rstrip("\r\n"))
        stream.close()
        self._wake.set()

    # -- lifecycle -----------------------------------------------------------------------
    def start(self):
        for index, child in enumerate(self.children):
            child.index = index
            self._spawn(child)

    def _spawn(self, child):
        spec = child.spec
        env = with_quiet_imports(dict(os.environ))
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.update({k: str(v) for k, v in (spec.env or {}).items()})
        child.reported = False
        try:
            child.proc = subprocess.Popen(
                spec.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=env, cwd=spec.cwd or self.cwd,
                start_new_session=True, preexec_fn=die_with_parent())
        except OSError as exc:
            self.log(f"{child.name}: could not start {shlex.join(spec.argv)}: {exc}")
            child.proc = None
            child.reported = True
            child.ended_at = time.monotonic()
            return
        child.started_at = time.monotonic()
        self.log(f"started {child.name} (pid {child.proc.pid}): {shlex.join(spec.argv)}")
        child.reader = threading.Thread(target=self._pump, args=(child.index, child),
                                        name=f"pump-{child.name}", daemon=True)
        child.reader.start()

    def _restart_due(self):
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None and now >= child.restart_at:
                child.restart_at = None
                child.restarts += 1
                self._spawn(child)

    def _schedule_restart(self, child, code, lived):
        if lived >= RESTART_RESET_AFTER:
            child.backoff = RESTART_FIRST  # it ran fine for a while: not a crash loop
        delay = child.backoff
        child.backoff = min(child.backoff * 2, RESTART_MAX)
        child.restart_at = time.monotonic() + delay
        self.log(f"restarting {child.name} in {delay:g}s (exit code {code})")

    def running(self):
        return [c for c in self.children if c.proc is not None and c.proc.poll() is None]

    def _report_exits(self):
        for child in self.children:
            if child.reported or child.proc is None or child.proc.poll() is None:
                continue
            child.reported = True
            child.ended_at = time.monotonic()
            if child.reader is not None:
                child.reader.join(timeout=2)   # print its last lines first
            code = child.proc.returncode
            lived = child.ended_at - child.started_at
            if child.stopped_by_us:
                self.log(f"{child.name} stopped ({_describe_exit(code)})")
                continue
            restart = self.restart and not self._signals
            message = f"{child.name} {_describe_exit(code)} after {lived:.1f}s"
            message += "" if restart else "; not restarted"
            if code != 0 and lived < _EARLY_EXIT_SECONDS:
                message += " (it failed while starting: see its lines above)"
            self.log(message)
            if restart:
                self._schedule_restart(child, code, lived)
                continue
            alive = len(self.running())
            if alive:
                self.log(f"{alive} other process(es) still running; Ctrl-C stops them")

    def _on_signal(self, signum, frame):
        self._signals += 1
        self._wake.set()
        if self._signals > 1:
            for child in self.running():
                self._kill(child, signal.SIGKILL)

    def _kill(self, child, sig):
        child.stopped_by_us = True
        try:
            os.killpg(child.proc.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:  # pragma: no cover
            child.proc.send_signal(sig)

    def stop(self):
        """SIGTERM every running child, SIGKILL what is left after the grace period."""
        for child in self.children:
            child.restart_at = None
        alive = self.running()
        if alive:
            self.log(f"stopping {len(alive)} process(es) (SIGTERM, SIGKILL after "
                     f"{self.grace:g}s; Ctrl-C again to kill now)")
        for child in alive:
            self._kill(child, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while self.running() and time.monotonic() < deadline and self._signals < 2:
            self._report_exits()
            time.sleep(0.1)
        for child in self.running():
            self.log(f"{child.name} did not stop within {self.grace:g}s: SIGKILL")
            self._kill(child, signal.SIGKILL)
        for child in self.children:
            if child.proc is not None:
                try:
                    child.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:  # pragma: no cover
                    pass
        self._report_exits()

    def _shutdown_hooks(self):
        for hook in self.on_shutdown:
            try:
                hook()
            except Exception as exc:  # keep stopping the rest
                self.log(f"shutdown step failed: {exc!r}")

    def run(self):
        """Start everything, block until every child exited or a signal came; return a code.

        0 when stopped by a signal with nothing failed on its own, else 1 if any child failed.
        """
        previous = {s: signal.signal(s, self._on_signal)
                    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            self.start()
            while not self._signals:
                self._report_exits()
                self._restart_due()
                if not self.running() and not any(c.restart_at for c in self.children):
                    self.log("every process has exited")
                    break
                self._wake.wait(0.25)
                self._wake.clear()
            if self._signals:
                self.stop()
        finally:
            self._shutdown_hooks()
            for s, handler in previous.items():
                signal.signal(s, handler)
        failed = [c for c in self.children
                  if not c.stopped_by_us and (c.proc is None or c.proc.returncode != 0)]
        if failed:
            self.log("failed: " + ", ".join(
                f"{c.name} ({_describe_exit(c.proc.returncode) if c.proc else 'did not start'})"
                for c in failed))
            return 1
        return 0


def _main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m scripts.supervise",
                                     description="Run processes with prefixed output.")
    parser.add_argument("--grace", type=float, default=10.0,
                        help="seconds between SIGTERM and SIGKILL on shutdown")
    parser.add_argument("--instances", action="append", default=[], metavar="NAME=N")
    parser.add_argument("--colour", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--no-restart", action="store_true",
                        help="report a process that ends by itself, do not restart it")
    parser.add_argument("programs", nargs="+", metavar="NAME=COMMAND")
    args = parser.parse_args(argv)
    counts = {}
    for item in args.instances:
        name, _, n = item.partition("=")
        counts[name] = int(n)
    specs = []
    for item in args.programs:
        name, sep, command = item.partition("=")
        if not sep or not name or not command.strip():
            parser.error(f"expected NAME=COMMAND, got {item!r}")
        specs += instances(name, shlex.split(command), {}, counts.get(name, 1))
    colour = {"auto": None, "always": True, "never": False}[args.colour]
    return Supervisor(specs, grace=args.grace, colour=colour,
                      restart=not args.no_restart).run()


if __name__ == "__main__":
    sys.exit(_main())
