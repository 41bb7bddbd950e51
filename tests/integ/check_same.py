#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check_same.py RUN_A RUN_B — two runs of one scenario with one seed did the same thing.

Issue #3: "the same scenario and seed give the same flows, the same policy decisions and the
same verdicts". Ephemeral ports, timestamps, keys and serials differ from run to run by
design, so each run is projected onto what the seed fixes and the projections are compared
as multisets (connections run concurrently, so their order may differ):
  * flows: per client, (URL, server address, outcome, error class);
  * decisions: per diverted flow, (client address, SNI, destination, gateway action);
  * verdicts: per live analyzer, (client, SNI, intercepted, signal) joined through the flow id;
  * probes: (host, injection hop, server hop).
Prints one line per comparison and exits 1 when any differs.
"""
import collections, json, os, sys

failed = 0


def load(run):
    evs = [json.loads(l) for l in open(os.path.join(run, "events.jsonl"))]
    by = collections.defaultdict(list)
    for e in evs:
        by[e["t"]].append(e)
    results = by["client.result"]
    flow_of = {e["flow"]: e for e in results if e.get("flow")}
    proj = {
        "flows": collections.Counter((e["src"], e.get("url"), (e.get("server") or {}).get("ip"),
                                      e.get("outcome")) for e in results),
        "decisions": collections.Counter((e["flow"].split(":")[0], e.get("sni"), e["dst"]["ip"],
                                          e["action"]) for e in by["proxy.conn.open"]),
        "probes": collections.Counter((e["host"], e.get("injection_hop"), e.get("server_hop"))
                                      for e in by["probe.ttl"]),
    }
    truth = (by["lab.truth.scenario"] or [{}])[0]
    for a in truth.get("analyzers", []):
        path = os.path.join(run, "results", a + ".json")
        verdicts = json.load(open(path)).get("verdicts", []) if os.path.exists(path) else []
        proj["verdicts " + a] = collections.Counter(
            ((flow_of.get(v.get("flow")) or {}).get("src"), (flow_of.get(v.get("flow")) or {}).get("sni"),
             v.get("intercepted"), v.get("signal")) for v in verdicts)
    return proj, truth.get("scenario"), by["lab.run.start"][0].get("seed")


def explain_truth(run):
    """Why truth may differ: its verdicts against the recorded proxy.conn.open events (truth is
    a function of them), its delivery counts from the harness, and the forwarder's counts."""
    evs = [json.loads(l) for l in open(os.path.join(run, "events.jsonl"))]
    opens, res_at, end_at = {}, {}, None
    for i, e in enumerate(evs):
        if e["t"] == "proxy.conn.open":
            opens.setdefault(e["flow"], (i, e.get("action")))
        elif e["t"] == "client.result" and e.get("flow"):
            res_at.setdefault(e["flow"], i)
        elif e["t"] == "lab.run.end":
            end_at = i
    path = os.path.join(run, "results", "truth.json")
    doc = json.load(open(path)) if os.path.exists(path) else {}
    print(f"  {run}: truth delivery {doc.get('delivery')}, events.jsonl {len(evs)} lines, "
          f"lab.run.end at line {end_at}")
    for e in evs:
        if e["t"] == "bus.stats":
            print("    bus.stats " + str({k: e.get(k) for k in ("received", "forwarded", "invalid", "gaps", "missing")}))
    for v in doc.get("verdicts", []):
        o = opens.get(v.get("flow"))
        if (o is not None and o[1] == "intercept") != bool(v.get("intercepted")):
            print(f"    truth says {v.get('signal')} for {v.get('flow')}; events.jsonl: "
                  f"proxy.conn.open {o[1] + ' at line ' + str(o[0]) if o else 'none'}, "
                  f"client.result at line {res_at.get(v.get('flow'))}")


a, na, sa = load(sys.argv[1])
b, nb, sb = load(sys.argv[2])
if (na, sa) != (nb, sb):
    print(f"  FAIL not one scenario and seed: {na}/{sa} vs {nb}/{sb}")
    sys.exit(1)
for k in sorted(set(a) | set(b)):
    x, y = a.get(k, collections.Counter()), b.get(k, collections.Counter())
    n = sum(x.values())
    if x == y and (n > 0 or k == "probes"):
        print(f"  ok   same {k} ({n})")
    else:
        failed += 1
        print(f"  FAIL same {k}: only in A {dict(list((x - y).items())[:3])}, "
              f"only in B {dict(list((y - x).items())[:3])}")
        if k == "verdicts truth":
            explain_truth(sys.argv[1])
            explain_truth(sys.argv[2])
print(f"{len(set(a) | set(b)) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
