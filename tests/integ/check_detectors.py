#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check_detectors.py — expectations for test_detectors.sh, derived from events.jsonl and the
run's scenario.yaml, never from logs.

  truth RUN                        print intercepted/total client flows (proxy.conn.open action)
  chain RUNRES RUN [--all]         detect-chain: every intercepted flow of a client that does not
                                   trust the national root is flagged; nothing flagged when the
                                   run has no interception
  fingerprint RUNRES RUN           detect-fingerprint: every intercepted flow whose upstream hello
                                   reached an origin is flagged; nothing flagged on a clean run
  same DIR1 DIR2 NAME...           two replays gave identical verdicts and results
  compare CMP RUN...               compare.json rows equal counts recomputed here
  measures RUNRES                  breakage and throughput results are present and consistent
"""
import json
import os
import re
import sys


def events(run):
    with open(os.path.join(run, "events.jsonl")) as f:
        return [json.loads(l) for l in f if l.strip()]


def truth(run):
    """flow -> intercepted, for client flows with an id (the truth analyzer's own rule)."""
    ev = events(run)
    act = {e["flow"]: e.get("action") for e in ev if e["t"] == "proxy.conn.open"}
    out = {}
    for e in ev:
        if e["t"] == "client.result" and e.get("flow") and e["flow"] not in out:
            out[e["flow"]] = act.get(e["flow"]) == "intercept"
    return out, ev


def national_clients(run):
    """Client names whose trust list includes the national root (scenario.yaml)."""
    names, cur, in_clients = set(), None, False
    with open(os.path.join(run, "scenario.yaml")) as f:
        for line in f:
            if re.match(r"^[a-z_]+:", line):
                in_clients = line.startswith("clients:")
                cur = None
                continue
            m = re.match(r"^\s*-\s*name:\s*(\S+)", line)
            if in_clients and m:
                cur = m.group(1)
            if in_clients and cur and re.match(r"^\s*trust:.*national", line):
                names.add(cur)
    return names


def verdicts(path):
    with open(path) as f:
        r = json.load(f)
    return {v["flow"]: v for v in r["verdicts"]}, r


def fail(msgs):
    for m in msgs[:10]:
        print(m)
    sys.exit(1 if msgs else 0)


def chain(res, run):
    t, ev = truth(run)
    nat = national_clients(run)
    src = {e["flow"]: e["src"] for e in ev if e["t"] == "client.result" and e.get("flow")}
    v, _ = verdicts(os.path.join(res, "detect-chain.json"))
    bad = []
    for f, yes in t.items():
        said = v.get(f, {}).get("intercepted", False)
        client = src[f].split(".", 1)[1]
        if yes and client not in nat and not said:
            bad.append(f"missed intercepted flow {f} of {client} (no national root)")
        if not any(t.values()) and said:
            bad.append(f"flagged {f} on a run without interception: {v[f].get('evidence')}")
    print(f"detect-chain: {sum(1 for f in t if v.get(f, {}).get('intercepted'))} flagged of "
          f"{len(t)} flows, {sum(t.values())} intercepted; national-root clients: {sorted(nat)}")
    fail(bad)


def fingerprint(res, run):
    t, ev = truth(run)
    v, r = verdicts(os.path.join(res, "detect-fingerprint.json"))
    up = {e["flow"] for e in ev if e["t"] == "proxy.upstream"}
    bad = []
    for f, yes in t.items():
        said = v.get(f, {}).get("intercepted", False)
        if yes and f in up and not said:
            bad.append(f"missed intercepted flow {f} (its upstream hello reached the origin)")
        if not any(t.values()) and said:
            bad.append(f"flagged {f} on a run without interception: {v[f].get('evidence')}")
    if r["result"]["summary"]["baseline_hellos"] == 0:
        bad.append("no baseline fingerprints were learned")
    print(f"detect-fingerprint: {sum(1 for f in t if v.get(f, {}).get('intercepted'))} flagged "
          f"of {len(t)} flows, {sum(1 for f in t if t[f] and f in up)} intercepted upstream")
    fail(bad)


def same(a, b, names):
    bad = []
    for n in names:
        x = json.load(open(os.path.join(a, n + ".json")))
        y = json.load(open(os.path.join(b, n + ".json")))
        for k in ("verdicts", "result"):
            if x[k] != y[k]:
                bad.append(f"{n}: {k} differ between replays")
    fail(bad)


def compare(cmp, runs):
    doc = json.load(open(os.path.join(cmp, "compare.json")))
    bad, seen = [], 0
    for run in runs:
        base = os.path.basename(run.rstrip("/"))
        t, _ = truth(run)
        for row in (r for r in doc["rows"] if r["run"] == base):
            seen += 1
            v, _ = verdicts(os.path.join(cmp, "results", base, row["detector"] + ".json"))
            c = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
            for f, yes in t.items():
                said = v.get(f, {}).get("intercepted", False)
                c[("tp" if said else "fn") if yes else ("fp" if said else "tn")] += 1
            exp = dict(c, flows=len(t), positives=sum(t.values()),
                       unmatched=sum(1 for f in v if f not in t))
            got = {k: row[k] for k in exp}
            if got != exp:
                bad.append(f"{base} {row['detector']}: table {got} != events {exp}")
            p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else None
            rc = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else None
            if (p is None) != (row["precision"] is None) or (p is not None and abs(p - row["precision"]) > 1e-9):
                bad.append(f"{base} {row['detector']}: precision {row['precision']} != {p}")
            if (rc is None) != (row["recall"] is None) or (rc is not None and abs(rc - row["recall"]) > 1e-9):
                bad.append(f"{base} {row['detector']}: recall {row['recall']} != {rc}")
            print(f"  {row['detector']:<19} {row['scenario']:<15} flows {len(t):3d} pos "
                  f"{exp['positives']:3d} TP {c['tp']:3d} FP {c['fp']:3d} FN {c['fn']:3d} "
                  f"precision {p if p is None else round(p, 3)} recall {rc if rc is None else round(rc, 3)}")
    if seen == 0:
        bad.append("compare.json has no rows for these runs")
    fail(bad)


def measures(res, run):
    t, ev = truth(run)
    b = json.load(open(os.path.join(res, "breakage.json")))["result"]
    s = b["summary"]
    bad = []
    if s["flows"] != sum(1 for e in ev if e["t"] == "client.result"):
        bad.append(f"breakage counted {s['flows']} client results")
    if s["cells"] != s["unchanged"] + s["changed"] + s["no_baseline"]:
        bad.append("breakage cells do not add up")
    n = sum(c["n"] for p in b["matrix"].values() for c in p.values())
    if n != s["flows"]:
        bad.append(f"breakage matrix holds {n} flows, not {s['flows']}")
    tp = json.load(open(os.path.join(res, "throughput.json")))["result"]["summary"]
    opens = sum(1 for e in ev if e["t"] == "proxy.conn.open")
    if tp["connections"] != opens:
        bad.append(f"throughput saw {tp['connections']} connections, events have {opens}")
    if tp["intercepted"] != sum(1 for e in ev if e["t"] == "proxy.conn.open"
                                and e.get("action") == "intercept"):
        bad.append("throughput intercepted count differs from events")
    if opens and (tp["cpu_s_per_1000_conns"] <= 0 or tp["window_s"] <= 0):
        bad.append("throughput: no CPU or window figure")
    print(f"breakage: {s['cells']} cells, {s['changed']} changed; throughput: "
          f"{tp['handshakes_per_s']:.1f} hs/s, cache hit {tp['cache_hit_ratio']}, "
          f"{tp['cpu_s_per_1000_conns']:.2f} cpu s/1000 conns")
    fail(bad)


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "chain":
        chain(a[0], a[1])
    elif cmd == "fingerprint":
        fingerprint(a[0], a[1])
    elif cmd == "same":
        same(a[0], a[1], a[2:])
    elif cmd == "compare":
        compare(a[0], a[1:])
    elif cmd == "measures":
        measures(a[0], a[1])
    else:
        print(__doc__)
        sys.exit(2)
