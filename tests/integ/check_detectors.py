#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check_detectors.py — expectations for test_detectors.sh, derived from events.jsonl and the
run's scenario.yaml, never from logs.

  truth RUN                        print intercepted/total client flows (proxy.conn.open action)
  chain RUNRES RUN [BASE]          detect-chain: every intercepted flow of a client that does not
                                   trust the national root is flagged; nothing flagged when the
                                   run has no interception; with BASE (the baseline replayed
                                   with it), sct-missing fires exactly on intercepted flows to
                                   names the baseline reached
  fingerprint RUNRES RUN           detect-fingerprint: every intercepted flow whose upstream hello
                                   reached an origin is flagged; nothing flagged on a clean run
  same DIR1 DIR2 NAME...           two replays gave identical verdicts and results
  compare CMP RUN...               compare.json rows equal counts recomputed here
  measures RUNRES                  breakage and throughput results are present and consistent
                                   (throughput's packet_plane equals netq's last proxy.stats)
  path RUNRES RUN                  detect-path, on runs with the packet plane and a router before
                                   the gateway (the passive monitor's net.flow): nothing flagged
                                   without interception; otherwise precision and recall >= 0.9
                                   over the client flows the monitor saw, and the terminator's
                                   hop equals lab.truth.topology's gateway_hop
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


def chain(res, run, base=None):
    t, ev = truth(run)
    nat = national_clients(run)
    src = {e["flow"]: e["src"] for e in ev if e["t"] == "client.result" and e.get("flow")}
    sni = {e["flow"]: e.get("sni") for e in ev if e["t"] == "client.result" and e.get("flow")}
    pem = {e["flow"] for e in ev if e["t"] == "client.result" and e.get("flow") and e.get("chain_pem")}
    v, _ = verdicts(os.path.join(res, "detect-chain.json"))
    bad = []
    for f, yes in t.items():
        said = v.get(f, {}).get("intercepted", False)
        client = src[f].split(".", 1)[1]
        if yes and client not in nat and not said:
            bad.append(f"missed intercepted flow {f} of {client} (no national root)")
        if not any(t.values()) and said:
            bad.append(f"flagged {f} on a run without interception: {v[f].get('evidence')}")
    if base:
        # every lab site's leaf carries SCTs and no forging profile copies them: with the
        # baseline as the clean view, sct-missing fires on each intercepted flow whose client
        # gave the chain (a wrapped curl does not) to a name the baseline reached, and never on
        # a flow that was not intercepted
        seen = {e.get("sni") for e in events(base) if e["t"] == "client.result" and e.get("tls")}
        checked = 0
        for f, yes in t.items():
            sig = (v.get(f, {}).get("evidence") or {}).get("signals", {})
            if yes and f in pem and sni[f] in seen:
                checked += 1
                if "sct-missing" not in sig:
                    bad.append(f"sct-missing did not fire on intercepted flow {f} ({sni[f]}): {sorted(sig)}")
            if not yes and "sct-missing" in sig:
                bad.append(f"sct-missing on {f} ({sni[f]}), which was not intercepted: {sig['sct-missing']}")
        # a run with interception must give the positive check something to look at
        if any(t.values()) and checked == 0:
            bad.append("sct-missing: no intercepted flow with a chain to a name the baseline reached; nothing was checked")
    print(f"detect-chain: {sum(1 for f in t if v.get(f, {}).get('intercepted'))} flagged of "
          f"{len(t)} flows, {sum(t.values())} intercepted; national-root clients: {sorted(nat)}")
    fail(bad)


def fingerprint(res, run):
    t, ev = truth(run)
    v, r = verdicts(os.path.join(res, "detect-fingerprint.json"))
    up = {e["flow"] for e in ev if e["t"] == "proxy.upstream"}
    # a flow whose own hello reached an origin unchanged (spliced, or off the gateway's path):
    # that hello, found by its ClientHello random, is the one judged
    at_origin = {e["client_random"]: e["flow"] for e in ev
                 if e["t"] == "origin.hello" and e.get("client_random")}
    own = {e["flow"]: at_origin[e["client_random"]] for e in ev if e["t"] == "client.result"
           and e.get("flow") and e.get("client_random") in at_origin}
    bad = []
    for f, yes in t.items():
        said = v.get(f, {}).get("intercepted", False)
        if yes and f in up and not said:
            bad.append(f"missed intercepted flow {f} (its upstream hello reached the origin)")
        if not any(t.values()) and said:
            bad.append(f"flagged {f} on a run without interception: {v[f].get('evidence')}")
        if not yes and f in own:
            judged = v.get(f, {}).get("evidence", {}).get("origin_flow") or f
            if judged != own[f] or said:
                bad.append(f"not intercepted flow {f}: judged by hello {judged}, flagged {said}; "
                           f"its own hello (same random) is {own[f]}")
    if r["result"]["summary"]["baseline_hellos"] == 0:
        bad.append("no baseline fingerprints were learned")
    if any(not y for y in t.values()) and not any(not t[f] and f in own for f in t):
        bad.append("no flow that was not intercepted has its own hello at an origin (by "
                   "client_random): the random join went unchecked")
    print(f"detect-fingerprint: {sum(1 for f in t if v.get(f, {}).get('intercepted'))} flagged "
          f"of {len(t)} flows, {sum(1 for f in t if t[f] and f in up)} intercepted upstream, "
          f"{sum(1 for f in t if not t[f] and f in own)} not intercepted judged by their own hello")
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
    nq = [e for e in ev if e["t"] == "proxy.stats" and e.get("component") == "netq"]
    pp = tp.get("packet_plane")
    if nq and (pp is None or pp["packets"] != nq[-1]["packets"] or pp["samples"] != len(nq)
               or pp["packets_per_s_peak"] != max(e["packets_per_s"] for e in nq)):
        bad.append(f"throughput packet_plane {pp} != netq proxy.stats (last {nq[-1]['packets']} packets)")
    if not nq and pp is not None:
        bad.append("throughput reports a packet plane the run did not have")
    engines = {e.get("worker") or e["src"] for e in ev if e["t"] == "proxy.stats" and e.get("component") != "netq"}
    if tp["workers"] != len(engines):
        bad.append(f"throughput counted {tp['workers']} workers, the engine has {len(engines)}")
    print(f"breakage: {s['cells']} cells, {s['changed']} changed; throughput: "
          f"{tp['handshakes_per_s']:.1f} hs/s, cache hit {tp['cache_hit_ratio']}, "
          f"{tp['cpu_s_per_1000_conns']:.2f} cpu s/1000 conns" +
          (f"; packet plane peak {pp['packets_per_s_peak']:.0f} packets/s" if pp else ""))
    fail(bad)


def path(res, run):
    t, ev = truth(run)
    sc = next(e for e in ev if e["t"] == "lab.truth.scenario")
    topo = next(e for e in ev if e["t"] == "lab.truth.topology")
    if not sc.get("packet_plane") or topo["hops_inside"] < 1:
        print("detect-path: no packet plane or no router before the gateway: not asserted")
        return
    seen = {e["flow"] for e in ev if e["t"] == "net.flow" and e.get("vantage", "gateway") != "gateway"}
    if not seen:
        fail(["no net.flow from a monitor vantage: `mitmlab netq --monitor` is not running in the "
              "router before the gateway (run.c)"])
    v, r = verdicts(os.path.join(res, "detect-path.json"))
    c = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
    for f, yes in t.items():
        if f not in seen:
            continue
        said = v.get(f, {}).get("intercepted", False)
        c[("tp" if said else "fn") if yes else ("fp" if said else "tn")] += 1
    bad = []
    term = r["result"]["summary"].get("terminator")
    if not any(t.values()):
        if c["fp"]:
            bad.append(f"flagged {c['fp']} flows on a run without interception")
    else:
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0
        rc = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0
        if p < 0.9 or rc < 0.9:
            bad.append(f"precision {p:.2f} recall {rc:.2f} over the monitor's flows {c}")
        if not term or term["hop"] != topo["gateway_hop"]:
            bad.append(f"terminator {term} is not at the gateway's hop {topo['gateway_hop']}")
    # the TTL-limited probes (tool: probe-ttl, inside clients): a certificate injected exactly
    # at the gateway, counted in TTL from the client (the gateway is chain hop gateway_hop,
    # 0-based from the inside edge, so TTL gateway_hop + 1); untargeted hosts never
    loc = r["result"]["summary"].get("localised") or []
    inside = {"probe." + c["name"] for c in sc["clients"] if c["tool"] == "probe-ttl" and c["side"] == "inside"}
    mine = [x for x in loc if x["src"].rsplit(".", 1)[0] in inside]
    hit = [x for x in mine if x.get("injection_hop") is not None]
    if any(t.values()) and inside and (not hit or any(x["injection_hop"] != topo["gateway_hop"] + 1 for x in hit)):
        bad.append(f"probe.ttl localisations {[(x['host'], x.get('injection_hop')) for x in mine]} "
                   f"do not put the injection at TTL {topo['gateway_hop'] + 1}")
    if not any(t.values()) and hit:
        bad.append(f"probe.ttl saw an injection on a run without interception: {hit}")
    print(f"detect-path: {c} over {sum(c.values())} flows the monitor saw; terminator "
          f"{term and (term['vantage'], term['hop'])}, gateway hop {topo['gateway_hop']}; probes "
          f"{[(x['host'], x.get('injection_hop')) for x in mine]}")
    fail(bad)


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "chain":
        chain(a[0], a[1], a[2] if len(a) > 2 else None)
    elif cmd == "fingerprint":
        fingerprint(a[0], a[1])
    elif cmd == "same":
        same(a[0], a[1], a[2:])
    elif cmd == "compare":
        compare(a[0], a[1:])
    elif cmd == "measures":
        measures(a[0], a[1])
    elif cmd == "path":
        path(a[0], a[1])
    else:
        print(__doc__)
        sys.exit(2)
