"""--trace of bench/ticket_search.py: one client recording every request of a kind, and the
report that places the slowest beside what the gateway and intake logged for them and the
CPU each process used meanwhile."""
import json
import time
import urllib.parse


def dirty_mib():
    """The kernel's dirty pages and pages under writeback, in MiB."""
    with open("/proc/meminfo") as fh:
        return sum(int(line.split()[1]) for line in fh
                   if line.startswith(("Dirty:", "Writeback:"))) / 1024


def trace_point(system, token, paths, seconds):
    """One client, one keep-alive connection, the kind's paths in turn for `seconds`: every
    request's own record (path, the gateway's X-Request-ID, the client's latency), which
    wrk's summary cannot give — to place a rare slow request (see `trace_report`)."""
    import http.client

    import threading

    from bench.ticket_create import cpu_snapshot

    names = {p.pid: name for name, p in system.procs.items()}
    samples, sampling = [], [True]

    def sample():  # every process's CPU every 50 ms: who ran while a request was slow
        while sampling[0]:
            snap = cpu_snapshot()
            snap[-1] = ("dirty+writeback MiB", dirty_mib())  # writing back a bulk load?
            samples.append((time.time(), snap))
            time.sleep(0.05)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    url = urllib.parse.urlsplit(system.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    records, i = [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        path = paths[i % len(paths)]
        i += 1
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        records.append({"path": path, "ms": (time.perf_counter() - t0) * 1000,
                        "status": response.status, "at": time.time(),
                        "request_id": response.getheader("X-Request-ID")})
    conn.close()
    sampling[0] = False
    sampler.join()
    for r in sorted(records, key=lambda r: -r["ms"])[:8]:
        start = r["at"] - r["ms"] / 1000
        window = [snap for at, snap in samples if start - 0.05 <= at <= r["at"] + 0.05]
        if len(window) >= 2:
            used = {}
            r["dirty_mib"] = round(max(w[-1][1] for w in window))
            for pid, (comm, cpu) in window[-1].items():
                if pid < 0:
                    continue
                before = window[0].get(pid)
                if before and cpu > before[1]:
                    name = names.get(pid) or comm
                    used[name] = used.get(name, 0.0) + cpu - before[1]
            r["cpu_ms"] = {k: round(v * 1000) for k, v in
                           sorted(used.items(), key=lambda kv: -kv[1])[:5] if v >= 0.005}
    return records


def trace_report(system, traces, slowest=8):
    """Per traced kind: the client's p50/p99, each path's median and worst, and the slowest
    requests beside what the gateway (request line) and intake (RPC line) logged for them."""
    import statistics

    import datetime

    durations = {}  # request id -> {"gateway": ms, "intake": ms}
    pauses = []  # (end as epoch seconds, process, ms): the collections each process logged
    for name in ("gateway", "intake"):
        try:
            with open(system.log_path(name), encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if not line.startswith("{"):
                        continue
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    rid, ms = rec.get("request_id"), rec.get("duration_ms")
                    if str(rec.get("message", "")).startswith("garbage collection"):
                        at = datetime.datetime.fromisoformat(rec["time"].replace("Z", "+00:00"))
                        pauses.append((at.timestamp(), name, ms))
                        continue
                    if rid and ms is not None and (name == "gateway" or str(
                            rec.get("entrypoint", "")).endswith("list_tickets")):
                        durations.setdefault(rid, {})[name] = ms
        except OSError:
            pass
    out = []
    for label, records in traces.items():
        ms = sorted(r["ms"] for r in records)
        if not ms:
            continue
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        out.append(f"trace {label}: n={len(ms)} p50 {statistics.median(ms):.1f} "
                   f"p99 {p99:.1f} max {ms[-1]:.1f} ms")
        by_path = {}
        for r in records:
            by_path.setdefault(r["path"], []).append(r["ms"])
        for path, values in sorted(by_path.items(), key=lambda kv: -max(kv[1]))[:5]:
            kw = urllib.parse.unquote(path.split("keyword=")[-1]) if "keyword=" in path else path
            out.append(f"  {kw}: n={len(values)} median {statistics.median(values):.1f} "
                       f"max {max(values):.1f} ms")
        for r in sorted(records, key=lambda r: -r["ms"])[:slowest]:
            d = durations.get(r["request_id"], {})
            kw = urllib.parse.unquote(r["path"].split("keyword=")[-1])
            met = [f"{name} {ms:.0f} ms" for end, name, ms in pauses
                   if r["at"] - r["ms"] / 1000 - 0.005 <= end <= r["at"] + 0.005]
            at = time.strftime("%H:%M:%S", time.gmtime(r["at"]))
            out.append(f"  slow {r['ms']:.1f} ms at {at}"
                       f" {kw}: gateway {d.get('gateway', '?')} ms, intake "
                       f"{d.get('intake', '?')} ms, status {r['status']}"
                       + (f"; collections logged meanwhile: {', '.join(met)}" if met else "")
                       + (f"; CPU ms meanwhile: {r['cpu_ms']}, dirty+writeback "
                          f"{r['dirty_mib']} MiB" if r.get("cpu_ms") is not None else ""))
    if pauses:
        out.append(f"collections of {min(p[2] for p in pauses):.0f} ms or more logged: "
                   + ", ".join(f"{n} {sum(1 for p in pauses if p[1] == n)}"
                               for n in ("gateway", "intake")))
    return "\n".join(out)
