#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# latload.py — reduces the segments of the bench row "latload" (added latency of a new
# connection at moderate load, issue #7) to one JSON record:
#   latload.py MANIFEST SAMPLES_OUT ROW R CAP_HS_PER_S CAP_N CAP_OK CAP_SECS
# MANIFEST has one JSON line per segment, in the order they ran: {"seg","side" ("direct" |
# "proxy"),"file" (the `mitmlab client --results --summary` output),"count","rc","wall_s","cpu",
# "runq_ms","slices","core0_idle_ticks"} (cpu/runq_ms/slices: the proxy's process tree over that
# segment, from procstat.py; core0_idle_ticks: /proc/stat's idle and iowait clock ticks of core
# 0, where the client and the origin run, over the segment).
# A sample is the t_total_us of a client.result whose outcome is "ok": from the connect() call
# to the end of the response (new TCP connection + TLS 1.3 handshake + GET / + full response).
# Anything else, and every connection of the count that printed no result, is a failure and
# not a sample. Per side: the pooled samples' p50/p99 (p999 from 1000 samples on), and the
# median over that side's segments of each segment's p50 and p99. Added p50 and the p99
# ratio come from the pooled figures. Every segment's samples (µs) go to SAMPLES_OUT. Each side
# also counts the roots its chains ended at (direct: the web root; intercepted: the proxy's CA)
# and reports what the load generator cost: the client's CPU per connection (client.summary's
# cpu_us over the results it printed) and core 0's busy share. The client checks a longer chain
# through the proxy (its CA's issuer as well as the leaf), so core 0 is busier on that side.
import json, os, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import pct   # nearest rank, the same as latpair's

def med(v):
    v = [x for x in v if x is not None]
    return round(statistics.median(v), 3) if v else None

def busy(idle_ticks, wall_s):
    """Core 0's busy share over a segment: 1 - its idle time over the wall time, or None."""
    if not isinstance(idle_ticks, int) or not wall_s:
        return None
    return round(min(1.0, max(0.0, 1 - idle_ticks / os.sysconf("SC_CLK_TCK") / wall_s)), 3)

def read_results(path):
    ok, phases, fails, roots = [], {"connect": [], "handshake": [], "first_byte": []}, {}, {}
    cpu_us = None
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError:
        lines = []
    n = 0
    for line in lines:
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("t") == "client.summary" and isinstance(ev.get("cpu_us"), int):
            cpu_us = ev["cpu_us"]
        if ev.get("t") != "client.result":
            continue
        n += 1
        out = ev.get("outcome")
        if out == "ok" and isinstance(ev.get("t_total_us"), int):
            ok.append(ev["t_total_us"])
            rs = ev.get("root_subject") or "?"
            roots[rs] = roots.get(rs, 0) + 1
            for k in phases:
                v = ev.get(f"t_{k}_us")
                if isinstance(v, int):
                    phases[k].append(v)
        else:
            fails[out or "?"] = fails.get(out or "?", 0) + 1
    return n, ok, phases, fails, roots, cpu_us

def main():
    man, samples_out, row, rate, cap, cap_n, cap_ok, cap_secs = sys.argv[1:9]
    segs, samples = [], []
    for line in open(man):
        if not line.strip():
            continue
        m = json.loads(line)
        n, ok, phases, fails, roots, cpu_us = read_results(m["file"])
        missing = max(0, m["count"] - n)
        if missing:
            fails["no result"] = missing
        ms = [u / 1000 for u in ok]
        segs.append({"seg": m["seg"], "side": m["side"], "count": m["count"], "ok": len(ok),
                     "fail": sum(fails.values()), "fail_by": fails, "rc": m["rc"], "wall_s": m["wall_s"],
                     "p50_ms": pct(ms, 50), "p99_ms": pct(ms, 99),
                     "cpu": m["cpu"], "runq_ms": m["runq_ms"], "slices": m["slices"],
                     # the load generator: the client's own CPU (client.summary cpu_us) and
                     # the share of core 0 busy (client, origin and their kernel work)
                     "client_cpu_us": cpu_us, "results": n,
                     "core0_busy": busy(m.get("core0_idle_ticks"), m["wall_s"]),
                     "_idle": m.get("core0_idle_ticks"),
                     "_ms": ms, "_ph": phases, "_roots": roots})
        samples.append({"seg": m["seg"], "side": m["side"], "t_total_us": ok})
    sides = {}
    for side in ("direct", "proxy"):
        ss = [s for s in segs if s["side"] == side]
        pool = [x for s in ss for x in s["_ms"]]
        fb, roots = {}, {}
        for s in ss:
            for k, v in s["fail_by"].items():
                fb[k] = fb.get(k, 0) + v
            for k, v in s["_roots"].items():
                roots[k] = roots.get(k, 0) + v
        d = {"segments": len(ss), "count": sum(s["count"] for s in ss), "samples": len(pool),
             "fail": sum(s["fail"] for s in ss), "fail_by": fb,
             # the root each successful connection's chain ended at: the web root directly, the
             # interceptor's CA through the proxy (a check that each side took its path)
             "root_subjects": roots,
             "p50_ms": pct(pool, 50), "p99_ms": pct(pool, 99),
             "p999_ms": pct(pool, 99.9) if len(pool) >= 1000 else None,
             "seg_p50_median_ms": med([s["p50_ms"] for s in ss]),
             "seg_p99_median_ms": med([s["p99_ms"] for s in ss]),
             # the phases of the successful connections, for reading the total (pooled p50s)
             "connect_p50_ms": pct([u / 1000 for s in ss for u in s["_ph"]["connect"]], 50),
             "handshake_p50_ms": pct([u / 1000 for s in ss for u in s["_ph"]["handshake"]], 50),
             "first_byte_p50_ms": pct([u / 1000 for s in ss for u in s["_ph"]["first_byte"]], 50),
             "proxy_cpu_s": round(sum(s["cpu"] for s in ss), 3),
             "proxy_runq_ms": round(sum(s["runq_ms"] for s in ss), 3),
             "proxy_slices": sum(s["slices"] for s in ss),
             "wall_s": round(sum(s["wall_s"] for s in ss), 3)}
        # the load generator's cost on this side: the client's CPU per connection it reported,
        # and core 0's busy share over its segments, pooled as the proxy's share is (None
        # where a segment lacks a figure)
        cc = [s for s in ss if s["client_cpu_us"] is not None and s["results"] > 0]
        d["client_cpu_us_per_conn"] = (round(sum(s["client_cpu_us"] for s in cc) /
                                              sum(s["results"] for s in cc), 1)
                                       if cc and len(cc) == len(ss) else None)
        d["core0_busy_share"] = (busy(sum(s["_idle"] for s in ss), d["wall_s"])
                                 if ss and all(isinstance(s["_idle"], int) for s in ss) else None)
        sides[side] = d
    dd, pp = sides["direct"], sides["proxy"]
    def sub(a, b):
        return round(a - b, 3) if a is not None and b is not None else None
    def div(a, b):
        return round(a / b, 3) if a is not None and b else None
    rec = {"row": row, "kind": "latload", "rate": int(rate), "capacity_hs_per_s": float(cap),
           "capacity_n": int(cap_n), "capacity_ok": int(cap_ok), "capacity_secs": float(cap_secs),
           "direct": dd, "proxy": pp,
           "added_p50_ms": sub(pp["p50_ms"], dd["p50_ms"]),
           "p99_vs_direct": div(pp["p99_ms"], dd["p99_ms"]),
           "seg_added_p50_ms": sub(pp["seg_p50_median_ms"], dd["seg_p50_median_ms"]),
           "seg_p99_vs_direct": div(pp["seg_p99_median_ms"], dd["seg_p99_median_ms"]),
           # the proxy over the intercepted segments, per successful intercepted connection
           "proxy_cpu_ms_per_conn": div(pp["proxy_cpu_s"] * 1000, pp["samples"]),
           "proxy_runq_ms_per_conn": div(pp["proxy_runq_ms"], pp["samples"]),
           "proxy_slices_per_conn": div(pp["proxy_slices"], pp["samples"]),
           # share of its core the proxy used, and waited for, over the intercepted segments' wall time
           "proxy_cpu_share": div(pp["proxy_cpu_s"], pp["wall_s"]),
           "proxy_runq_share": div(pp["proxy_runq_ms"] / 1000, pp["wall_s"]),
           "segments": [{k: v for k, v in s.items() if not k.startswith("_")} for s in segs]}
    json.dump({"row": row, "rate": int(rate), "segments": samples}, open(samples_out, "w"))
    print(json.dumps(rec))

main()
