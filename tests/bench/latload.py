#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# latload.py — reduces the segments of the bench row "latload" (added latency of a new
# connection at moderate load, issue #7) to one JSON record:
#   latload.py MANIFEST SAMPLES_OUT ROW R CAP_HS_PER_S CAP_N CAP_OK CAP_SECS
# MANIFEST has one JSON line per segment, in the order they ran: {"seg","side" ("direct" |
# "proxy"),"file" (the `mitmlab client --results` output),"count","rc","wall_s","cpu","runq_ms",
# "slices"} (cpu/runq_ms/slices: the proxy's process tree over that segment, from procstat.py).
# A sample is the t_total_us of a client.result whose outcome is "ok": from the connect() call
# to the end of the response (new TCP connection + TLS 1.3 handshake + GET / + full response).
# Anything else, and every connection of the count that printed no result, is a failure and
# not a sample. Per side: the pooled samples' p50/p99 (p999 from 1000 samples on), and the
# median over that side's segments of each segment's p50 and p99. Added p50 and the p99
# ratio come from the pooled figures. Every segment's samples (µs) go to SAMPLES_OUT. Each side
# also counts the roots its chains ended at (direct: the web root; intercepted: the proxy's CA).
import json, os, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import pct   # nearest rank, the same as latpair's

def med(v):
    v = [x for x in v if x is not None]
    return round(statistics.median(v), 3) if v else None

def read_results(path):
    ok, phases, fails, roots = [], {"connect": [], "handshake": [], "first_byte": []}, {}, {}
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
    return n, ok, phases, fails, roots

def main():
    man, samples_out, row, rate, cap, cap_n, cap_ok, cap_secs = sys.argv[1:9]
    segs, samples = [], []
    for line in open(man):
        if not line.strip():
            continue
        m = json.loads(line)
        n, ok, phases, fails, roots = read_results(m["file"])
        missing = max(0, m["count"] - n)
        if missing:
            fails["no result"] = missing
        ms = [u / 1000 for u in ok]
        segs.append({"seg": m["seg"], "side": m["side"], "count": m["count"], "ok": len(ok),
                     "fail": sum(fails.values()), "fail_by": fails, "rc": m["rc"], "wall_s": m["wall_s"],
                     "p50_ms": pct(ms, 50), "p99_ms": pct(ms, 99),
                     "cpu": m["cpu"], "runq_ms": m["runq_ms"], "slices": m["slices"],
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
