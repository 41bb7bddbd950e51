#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check_analyzers.py — checks for test_analyzers.sh, each computed from events.jsonl on its own.

  same A B            result files of two replays are identical except "meta"
  isolation DIR       example-py (client vantage) saw no proxy.* / lab.truth.* topic
  compare CMP RUN...  compare.json's truth figures and example-py's TP/FP/TN/FN equal counts
                      computed here from each run's events.jsonl
  crafted MITMLAB OUT CASE...
                      replay a crafted run (tests/fixtures/analyzers/CASE, or one generated
                      here) with MITMLAB to the analyzers the case is about, into OUT/CASE, and
                      check their results: the inputs reviewers found them wrong on
  crafted-list        the cases, one a line: NAME, a tab, what it checks
Prints one line per failure and exits 1 if any.
"""
import glob
import json
import os
import random
import shutil
import subprocess
import sys

WEB_PKI = "mitmlab web PKI"
CERT_ERRORS = {"cert-untrusted", "blocked-root", "pin-mismatch", "hostname-mismatch"}
bad = []


def load(p):
    with open(p) as f:
        return json.load(f)


def same(a, b):
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(a, "*.json")))
    if not names:
        bad.append(f"no result files in {a}")
    for n in names:
        x, y = load(os.path.join(a, n)), load(os.path.join(b, n))
        x.pop("meta", None)
        y.pop("meta", None)
        if x != y:
            bad.append(f"{n}: differs between {a} and {b}")


def isolation(d):
    r = load(os.path.join(d, "example-py.json"))
    seen = (r.get("result") or {}).get("topics_seen")
    if not seen:
        bad.append("example-py recorded no topics")
        return
    leak = [t for t in seen if t.startswith("proxy.") or t.startswith("lab.truth.")]
    if leak:
        bad.append(f"example-py saw ground truth: {leak}")
    other = [t for t in seen if not (t.startswith("client.") or t.startswith("lab.run."))]
    if other:
        bad.append(f"example-py saw topics outside its vantage: {other}")


def expected(run):
    """flows, positives and example-py's confusion matrix, from events.jsonl alone."""
    ev = [json.loads(l) for l in open(os.path.join(run, "events.jsonl")) if l.strip()]
    # a reused flow id counts as its last proxy.conn.open says (truth's rule, as scoring's)
    act = {e["flow"]: e.get("action") for e in ev if e["t"] == "proxy.conn.open" and e.get("flow")}
    flows, said = {}, {}
    for e in ev:
        if e["t"] == "client.result" and e.get("flow") and e["flow"] not in flows:
            flows[e["flow"]] = act.get(e["flow"]) == "intercept"
        if e["t"] == "client.result" and e.get("flow"):
            root = e.get("root_subject") or ""
            said[e["flow"]] = bool((root and WEB_PKI not in root) or
                                   (not root and e.get("outcome") in CERT_ERRORS))
    m = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
    for f, truly in flows.items():
        s = said.get(f, False)
        m["tp" if truly and s else "fn" if truly else "fp" if s else "tn"] += 1
    return len(flows), sum(flows.values()), m


def compare(cmp, runs):
    doc = load(os.path.join(cmp, "compare.json"))
    for run in runs:
        base = os.path.basename(run.rstrip("/"))
        n, pos, m = expected(run)
        info = [r for r in doc["runs"] if r["run"] == base]
        if not info or info[0]["flows"] != n or info[0]["intercepted"] != pos:
            bad.append(f"{base}: compare says {info} but events.jsonl has {n} flows, {pos} intercepted")
        rows = [r for r in doc["rows"] if r["run"] == base and r["detector"] == "example-py"]
        if len(rows) != 1:
            bad.append(f"{base}: {len(rows)} example-py rows")
            continue
        got = {k: rows[0][k] for k in m}
        if got != m:
            bad.append(f"{base}: example-py {got} but events.jsonl gives {m}")
        for r in doc["rows"]:
            if r["run"] == base and r["tp"] + r["fn"] != pos or r["run"] == base and r["fp"] + r["tn"] != n - pos:
                bad.append(f"{base}: {r['detector']} row does not add up to {n} flows / {pos} positives")
        if info and info[0]["scenario"] == "baseline":
            fpr = doc["baseline_fpr"].get("example-py")
            want = m["fp"] / n if n else None
            if (fpr is None) != (want is None) or (fpr is not None and abs(fpr - want) > 1e-9):
                bad.append(f"baseline_fpr of example-py {fpr}, expected {want}")
    csv = open(os.path.join(cmp, "compare.csv")).read().splitlines()
    if len(csv) != 1 + len(doc["rows"]):
        bad.append(f"compare.csv has {len(csv) - 1} rows, compare.json {len(doc['rows'])}")


TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(TOP, "tests", "fixtures", "analyzers")
CRAFTED = {}


def crafted(fn):
    """Register a crafted case under its function name with dashes."""
    CRAFTED[fn.__name__.replace("_", "-")] = fn
    return fn


def replay(ml, run, out, names, baseline=None, env=None, timeout=300):
    """Replay run to the analyzers names into out; {name: result file or None}."""
    shutil.rmtree(out, ignore_errors=True)
    e = dict(os.environ)
    e.setdefault("MITMLAB_ANALYZERS", os.path.join(TOP, "analyzers"))
    e.update(env or {})
    cmd = [ml, "replay", run, "--analyzer", ",".join(names), "--out", out, "--quiet"]
    if baseline:
        cmd += ["--baseline", baseline]
    subprocess.run(cmd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=timeout, check=False)
    res = {}
    for n in names:
        p = os.path.join(out, n + ".json")
        res[n] = load(p) if os.path.exists(p) else None
    return res


def summary(res, name):
    """The summary of an analyzer whose delivery is ok, else None (the failure noted)."""
    r = res.get(name)
    if r is None:
        bad.append(f"{name}: no result file")
        return None
    st = r["delivery"]["status"]
    s = (r.get("result") or {}).get("summary")
    if st != "ok" or not isinstance(s, dict):
        have = "present" if isinstance(s, dict) else "missing"
        bad.append(f"{name}: delivery {st}, summary {have}")
        return None
    return s


def expect(what, got, want):
    """Note a failure unless got == want."""
    if got != want:
        bad.append(f"{what}: {got!r}, expected {want!r}")


@crafted
def tp_workers(ml, out):
    """throughput: cpu_s and rss_kb are process-wide, the max of the workers' last stats"""
    res = replay(ml, os.path.join(FIXTURES, "tp-workers"), out, ["throughput"])
    s = summary(res, "throughput")
    if s is not None:
        expect("cpu_s", s["cpu_s"], 7.3)
        expect("rss_kb", s.get("rss_kb"), 197952)
        expect("cpu_s_per_1000_conns", round(s["cpu_s_per_1000_conns"], 6), 3650.0)
        expect("workers", s["workers"], 2)


@crafted
def tp_nosamples(ml, out):
    """throughput: no intercepted samples gives null percentiles and added_p50_us, not -baseline"""
    run = os.path.join(FIXTURES, "tp-nosamples")
    s = summary(replay(ml, run, out, ["throughput"], baseline=run), "throughput")
    if s is None:
        return
    for k in ("t_handshake_us", "t_first_byte_us"):
        lat = s["latency"][k]
        expect(f"{k} intercepted", lat["intercepted"],
               {"n": 0, "p50_us": None, "p95_us": None, "p99_us": None})
        expect(f"{k} baseline n", lat["baseline"]["n"], 2)
        expect(f"{k} added_p50_us", lat["added_p50_us"], None)


@crafted
def tp_extreme(ml, out):
    """throughput: events with absurd numbers (2^63-1 bytes, 1.7e308 us) are ignored and counted"""
    s = summary(replay(ml, os.path.join(FIXTURES, "tp-extreme"), out, ["throughput"]), "throughput")
    if s is None:
        return
    expect("ignored_events", s.get("ignored_events"), 5)
    expect("forge_us_mean", s["forge_us_mean"], 1500.0)
    expect("cpu_s", s["cpu_s"], 0.5)
    expect("handshakes", s["handshakes"], 1)
    r = load(os.path.join(out, "throughput.json"))["result"]
    expect("series bytes_c2s", sum(b["bytes_c2s"] for b in r["series"]), 100)


@crafted
def tp_window(ml, out):
    """throughput: the window is the earliest open to the latest close; a cut series says so"""
    res = replay(ml, os.path.join(FIXTURES, "tp-window"), out, ["throughput"])
    s = summary(res, "throughput")
    if s is None:
        return
    expect("window_s", s["window_s"], 3999.5)
    expect("series_truncated", s.get("series_truncated"), True)
    series = res["throughput"]["result"]["series"]	# an hour from the earliest proxy event
    expect("opens, closes in the series", (sum(b["opens"] for b in series),
           sum(b["closes"] for b in series)), (3, 2))
    # the extremes of ts (1 and 2^63-1, both valid on the bus): nothing to prepend an hour to
    big = 2**63 - 1
    run = write_run(os.path.join(out, "far"), [
        {"t": "proxy.conn.open", "ts": big - 1000, "flow": "10.1.1.2:1>10.2.2.2:443",
         "action": "intercept", "src": "proxy.w0"},
        {"t": "proxy.conn.open", "ts": 1, "flow": "10.1.1.2:2>10.2.2.2:443",
         "action": "intercept", "src": "proxy.w0"}])
    s = summary(replay(ml, run, os.path.join(out, "far-res"), ["throughput"]), "throughput")
    if s is not None:
        expect("series_truncated with ts 1 after 2^63-1", s.get("series_truncated"), True)


@crafted
def dfp_extreme(ml, out):
    """detect-fingerprint: a client.result with t_total_us near 2^63/1000 is ignored and counted"""
    run = os.path.join(FIXTURES, "dfp-extreme")
    res = replay(ml, run, out, ["detect-fingerprint"], baseline=run)
    s = summary(res, "detect-fingerprint")
    if s is None:
        return
    expect("ignored_events", s.get("ignored_events"), 1)
    expect("mapped", s["mapped"], 1)
    expect("verdict flows", sorted(v["flow"] for v in res["detect-fingerprint"]["verdicts"]),
           ["10.1.1.2:40001>10.2.2.2:443", "10.255.1.2:5000>10.2.2.2:443"])


def write_run(d, evs):
    """Run directory d, its events.jsonl lab.run.start, evs (v, seq filled in), lab.run.end."""
    os.makedirs(d, exist_ok=True)
    seq = {}
    first, last = evs[0]["ts"] if evs else 1, evs[-1]["ts"] if evs else 1
    with open(os.path.join(d, "events.jsonl"), "w") as f:
        for e in ([{"t": "lab.run.start", "ts": first, "scenario": "crafted", "src": "lab"}] + evs +
                  [{"t": "lab.run.end", "ts": last + 1000, "src": "lab"}]):
            e = dict(e, v=1, seq=seq.get(e["src"], 0))
            seq[e["src"]] = e["seq"] + 1
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    return d


def dfp_hello(ts, flow, sni, local):
    """An origin.hello of a curl-like client (the crafted runs are their own baseline)."""
    c, _, _ = flow.partition(">")
    return {"t": "origin.hello", "ts": ts, "flow": flow, "tls": True, "sni": sni,
            "client": {"ip": c.rsplit(":", 1)[0], "port": int(c.rsplit(":", 1)[1])},
            "local": {"ip": local.rsplit(":", 1)[0], "port": int(local.rsplit(":", 1)[1])},
            "ja3": "0123456789abcdef0123456789abcdef", "ja3_str": "771,4865-4866,0-10,29,0",
            "ja4": "t13d0202h2_aaaaaaaaaaaa_bbbbbbbbbbbb", "ua": "curl/8.0", "src": "origin.a"}


def dfp_result(ts, flow, sni, tt):
    """A client.result for flow (its server the flow's destination); tt: t_total_us or None."""
    e = {"t": "client.result", "ts": ts, "flow": flow, "tls": True, "sni": sni, "outcome": "ok",
         "server": {"ip": flow.split(">")[1].rsplit(":", 1)[0],
                    "port": int(flow.rsplit(":", 1)[1])}, "src": "client.u"}
    if tt is not None:
        e["t_total_us"] = tt
    return e


def dfp_join(evs, cands=16):
    """detect-fingerprint's join of origin hellos to client flows, as its header specifies it,
    by brute force: every admissible pair (the same ClientHello random, cost -2; the same flow
    id, cost -1; or the same server
    address and SNI, the client flow started by the hello's ts, and the request as both ends
    tell it: a hello with a UA is not a flow whose TLS failed or whose client sent another UA,
    a hello without one is not a flow that sent a known UA and got an answer; cost |client
    first response byte - hello ts| for a hello with a UA, |client end - hello ts| for one
    without), each hello's cands cheapest, then globally cheapest first, each side at most
    once. The flow each hello's verdict is about, in hello order."""
    failed = ("cert-untrusted", "hostname-mismatch", "blocked-root", "handshake-failure")
    answered = ("ok", "http-error", "redirect")
    addr = lambda o: "%s:%d" % (o["ip"], o["port"])
    hellos = [e for e in evs if e["t"] == "origin.hello"]
    res = [e for e in evs if e["t"] == "client.result"]
    pairs = []
    for i, h in enumerate(hellos):
        mine = []
        for j, r in enumerate(res):
            rnd = r.get("client_random")
            if rnd is not None and len(rnd) == 64 and rnd == h.get("client_random"):
                cost = -2
            elif r["flow"] == h["flow"]:
                cost = -1
            elif r.get("sni") != h.get("sni") or addr(r["server"]) != addr(h["local"]):
                continue
            else:
                tt, fb = r.get("t_total_us"), r.get("t_first_byte_us")
                start = r["ts"] - (tt * 1000 if isinstance(tt, int) else 60 * 10**9)
                if start > h["ts"]:
                    continue
                hua, rua, out = h.get("ua"), r.get("ua"), r.get("outcome")
                if hua is not None and (out in failed or (rua is not None and rua != hua)):
                    continue
                if hua is None and rua is not None and out in answered:
                    continue
                at = r["ts"]
                if hua is not None and isinstance(tt, int) and isinstance(fb, int) and 0 <= fb <= tt:
                    at = start + fb * 1000
                cost = abs(at - h["ts"])
            mine.append((cost, i, j))
        pairs += sorted(mine)[:cands]
    got, used = {}, set()
    for cost, i, j in sorted(pairs):
        if i not in got and j not in used:
            got[i] = res[j]["flow"]
            used.add(j)
    return [got.get(i, h["flow"]) for i, h in enumerate(hellos)]


@crafted
def dfp_join_order(ml, out):
    """detect-fingerprint: hellos map to client flows as a brute-force join says (ties, untimed)"""
    rnd = random.Random(4)
    t0, evs = 1795463001000000000, []
    servers = ["10.2.2.2:443", "10.2.3.2:443"]
    for k in range(500):
        ts = t0 + rnd.randrange(0, 3000) * 1000000		# ms steps: equal times happen
        dst = rnd.choice(servers)
        sni = rnd.choice(["a.test", "b.test", None])
        flow = "10.1.%d.2:%d>%s" % (k % 3, 20000 + k, dst)
        tt = rnd.choice([None, 1.5, rnd.randrange(0, 400000), rnd.randrange(0, 4000000)])
        r = dfp_result(ts, flow, sni, tt)
        if isinstance(tt, int) and rnd.random() < 0.8:	# its first byte, now and then absurd
            r["t_first_byte_us"] = rnd.choice([rnd.randrange(0, tt + 1), tt + 5, -3])
        # what the client sent and how it ended, which the join also reads
        r["outcome"] = rnd.choice(["ok", "ok", "cert-untrusted", "timeout", "http-error"])
        ua = rnd.choice([None, "curl/8.0", "Mozilla/5.0"])
        if ua is not None:
            r["ua"] = ua
        evs.append(r)
        if rnd.random() < 0.7:	# the client's hello random, as the client vantage records it
            r["client_random"] = "%064x" % rnd.getrandbits(256)
        if rnd.random() < 0.8:	# its upstream hello (one in ten on the client's own 4-tuple)
            own = rnd.random() < 0.1
            hflow = flow if own else "10.255.1.2:%d>%s" % (30000 + k, dst)
            h = dfp_hello(ts - rnd.randrange(0, 500000000), hflow, sni, dst)
            h["ua"] = rnd.choice([None, ua, "curl/8.0"])
            # spliced: the client's own hello (its random) reached the origin, sometimes after
            # the middlebox's own check hello (another random, nearer in time)
            if "client_random" in r and rnd.random() < 0.3:
                h["client_random"] = r["client_random"]
                if rnd.random() < 0.5:
                    c = dfp_hello(h["ts"] + rnd.randrange(0, 3000000), "10.255.1.2:%d>%s" %
                                  (40000 + k, dst), sni, dst)
                    c["ua"], c["client_random"] = None, "%064x" % rnd.getrandbits(256)
                    evs.append(c)
            elif rnd.random() < 0.5:
                h["client_random"] = "%064x" % rnd.getrandbits(256)
            evs.append(h)
    evs.sort(key=lambda e: e["ts"])
    run = write_run(os.path.join(out, "run"), evs)
    res = replay(ml, run, os.path.join(out, "res"), ["detect-fingerprint"], baseline=run)
    if summary(res, "detect-fingerprint") is None:
        return
    got = [v["flow"] for v in res["detect-fingerprint"]["verdicts"]]
    want = dfp_join(evs)
    expect("hellos judged", len(got), len(want))
    diff = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
    expect("hellos mapped otherwise than the brute-force join (first 3)", diff[:3], [])


def dfp_check_map(ml, out, evs, want):
    """Replay evs (their own baseline) to detect-fingerprint and expect, per verdict's flow, the
    origin hello it was judged by (want: flow -> hello flow, None for a hello judged under its
    own flow), and the brute-force join to say the same. Its result, or None when the replay
    failed (already reported)."""
    run = write_run(os.path.join(out, "run"), evs)
    res = replay(ml, run, os.path.join(out, "res"), ["detect-fingerprint"], baseline=run)
    if summary(res, "detect-fingerprint") is None:
        return None
    got = {v["flow"]: v["evidence"].get("origin_flow") for v in res["detect-fingerprint"]["verdicts"]}
    expect("origin hello per flow", got, want)
    of = {h: f for f, h in want.items() if h is not None}
    expect("the brute-force join agrees", dfp_join(evs),
           [of.get(e["flow"], e["flow"]) for e in evs if e["t"] == "origin.hello"])
    return res


@crafted
def dfp_ua_join(ml, out):
    """detect-fingerprint: a hello goes to the flow whose request it carried, not the nearest"""
    t0, dst, ms = 1795463001000000000, "10.2.2.2:443", 1000000
    a = dfp_result(t0 + 10 * ms, "10.1.1.2:40000>" + dst, "a.test", 10000)	# browser, untrusted
    a.update(outcome="cert-untrusted", ua="Mozilla/5.0")
    b = dfp_result(t0 + 30 * ms, "10.1.2.2:40001>" + dst, "a.test", 29000)	# curl, answered
    b.update(ua="curl/8.0")
    h1 = dfp_hello(t0 + 25 * ms, "10.255.1.2:50000>" + dst, "a.test", dst)	# a's: no request
    h1["ua"] = None
    h2 = dfp_hello(t0 + 12 * ms, "10.255.1.2:50001>" + dst, "a.test", dst)	# b's request
    evs = sorted([a, b, h1, h2], key=lambda e: e["ts"])
    # by time alone each hello would have gone to the other flow (costs 2 and 5 ms)
    dfp_check_map(ml, out, evs, {a["flow"]: h1["flow"], b["flow"]: h2["flow"]})


@crafted
def dfp_first_byte_join(ml, out):
    """detect-fingerprint: a hello with a UA goes to the flow whose first byte is nearest, not end"""
    # published when the request came. kz-2019: a long flow's end fell nearer a short flow's
    # hello, and the long flow's own hello had come before the short one began
    t0, dst, ms = 1795463001000000000, "10.2.5.2:443", 1000000
    a = dfp_result(t0 + 486 * ms, "10.1.2.2:40000>" + dst, "vk.test", 430000)	# long
    a.update(ua="Mozilla/5.0", t_first_byte_us=418000)	# its first byte at 474 ms
    f = dfp_result(t0 + 500 * ms, "10.1.2.2:40001>" + dst, "vk.test", 25600)	# short
    f.update(ua="Mozilla/5.0", t_first_byte_us=15000)	# first byte at 489.4 ms
    ha = dfp_hello(t0 + 474 * ms, "10.255.2.1:50000>" + dst, "vk.test", dst)
    hf = dfp_hello(t0 + 492 * ms, "10.255.2.1:50001>" + dst, "vk.test", dst)
    ha["ua"] = hf["ua"] = "Mozilla/5.0"
    evs = sorted([a, f, ha, hf], key=lambda e: e["ts"])
    # by end, hf (6 ms from a's end, 8 from f's) went to a, and ha (474 ms) could not go to f,
    # which began at 474.4 ms: f had no hello at all
    dfp_check_map(ml, out, evs, {a["flow"]: ha["flow"], f["flow"]: hf["flow"]})


@crafted
def dfp_random_join(ml, out):
    """detect-fingerprint: a spliced flow is judged by its own hello (same random), not a probe"""
    # kz-2019's dubious sites: the engine's probe of the origin's certificate, nearer in time,
    # then the client's own hello spliced
    t0, dst, ms = 1795463001000000000, "10.2.7.2:443", 1000000
    rnd_c = "ab" * 32
    a = dfp_result(t0 + 20 * ms, "10.1.2.2:40000>" + dst, "dubious.test", 19000)
    a.update(outcome="cert-untrusted", ua="Mozilla/5.0", client_random=rnd_c)
    probe = dfp_hello(t0 + 19 * ms, "10.255.2.1:50000>" + dst, "dubious.test", dst)
    probe.update(ua=None, client_random="cd" * 32, ja3="f" * 32,
                 ja4="t12d1308h2_cccccccccccc_dddddddddddd")
    own = dfp_hello(t0 + 5 * ms, "10.255.2.1:50001>" + dst, "dubious.test", dst)
    own.update(ua=None, client_random=rnd_c)
    evs = sorted([a, probe, own], key=lambda e: e["ts"])
    # by time the probe (1 ms from a's end, against own's 15 ms) would have gone to a; now it
    # keeps its own flow id (no client flow is left for it)
    dfp_check_map(ml, out, evs, {a["flow"]: own["flow"], probe["flow"]: None})


@crafted
def dfp_scale(ml, out):
    """detect-fingerprint: 12,000 flows map within the 10 s result wait, baseline or not"""
    t0, evs, n = 1795463001000000000, [], 12000
    for i in range(n):
        dst = "10.2.2.2:443"
        evs.append(dfp_hello(t0 + 1000000 * i + 10, "10.255.1.2:%d>%s" % (1024 + i % 60000, dst),
                             "a.test", dst))
        evs.append(dfp_result(t0 + 1000000 * i + 500, "10.0.%d.%d:%d>%s" % (i // 50000,
                              (i // 250) % 200, 1024 + i % 50000, dst), "a.test", 1000))
    run = write_run(os.path.join(out, "run"), evs)
    res = replay(ml, run, os.path.join(out, "res"), ["detect-fingerprint"], baseline=run)
    s = summary(res, "detect-fingerprint")
    if s is not None:
        expect("mapped", s["mapped"], n)
        want = [e["flow"] for e in evs if e["t"] == "client.result"]
        expect("verdicts about the client flows", [v["flow"] for v in
               res["detect-fingerprint"]["verdicts"]] == want, True)
    res = replay(ml, run, os.path.join(out, "nobase"), ["detect-fingerprint"])
    s = summary(res, "detect-fingerprint")
    if s is not None:
        expect("hellos without a baseline", s["hellos"], n)
        expect("verdicts without a baseline", len(res["detect-fingerprint"]["verdicts"]), 0)


def verdicts_by_flow(r):
    """flow -> its last verdict, from a result file."""
    return {v["flow"]: v for v in (r or {}).get("verdicts", [])}


@crafted
def chain_store(ml, out):
    """detect-chain: refuses an unreadable --store, naming it; with none, skips root-not-public"""
    run = os.path.join(FIXTURES, "chain")
    res = replay(ml, run, os.path.join(out, "store"), ["detect-chain"])
    s = summary(res, "detect-chain")
    v = verdicts_by_flow(res["detect-chain"])
    if s is not None:
        expect("public_store_certs", s["public_store_certs"], 2)
        expect("skipped_signals", s.get("skipped_signals"), [])
        expect("clean flow", (v["10.1.1.2:40000>10.2.2.2:443"]["intercepted"],
               v["10.1.1.2:40000>10.2.2.2:443"]["signal"]), (False, "chain-clean"))
        expect("forged flow", (v["10.1.1.2:40001>10.2.2.2:443"]["intercepted"],
               v["10.1.1.2:40001>10.2.2.2:443"]["signal"]), (True, "root-not-public"))
    # a copy of the run without its pki/: the analyzer refuses to start, naming the file
    nopki = os.path.join(out, "nopki")
    os.makedirs(nopki, exist_ok=True)
    shutil.copy(os.path.join(run, "events.jsonl"), nopki)
    res = replay(ml, nopki, os.path.join(out, "nopki-res"), ["detect-chain"],
                 env={"MITMLAB_HARNESS_READY_MS": "3000"})
    st = (res["detect-chain"] or {}).get("delivery", {}).get("status")
    if st == "ok":
        bad.append("detect-chain ran without its public store (status ok)")
    log = os.path.join(out, "nopki-res", "analyzer-detect-chain.log")
    text = open(log).read() if os.path.exists(log) else ""
    if os.path.join(nopki, "pki/web/root.pem") not in text or "--store" not in text:
        bad.append(f"detect-chain's log does not name the missing store and the fix: {text!r}")
    # a manifest without --store: root-not-public and issuer-not-public are skipped, and said so
    an = os.path.join(out, "an", "detect-chain")
    os.makedirs(an, exist_ok=True)
    with open(os.path.join(an, "analyzer.json"), "w") as f:
        json.dump({"name": "detect-chain", "role": "detector", "kind": "bus",
                   "vantages": ["client"], "command": ["{bin}/detect-chain", "--patterns",
                   os.path.join(TOP, "analyzers", "detect-chain", "known-interception.txt")]}, f)
    res = replay(ml, run, os.path.join(out, "nostore"), ["detect-chain"],
                 env={"MITMLAB_ANALYZERS": os.path.dirname(an)})
    s = summary(res, "detect-chain")
    v = verdicts_by_flow(res["detect-chain"])
    if s is not None:
        expect("skipped_signals without a store", s.get("skipped_signals"),
               ["root-not-public", "issuer-not-public"])
        expect("clean flow without a store", v["10.1.1.2:40000>10.2.2.2:443"]["intercepted"],
               False)


@crafted
def chain_unparseable(ml, out):
    """detect-chain: a chain_pem that does not parse is not called clean; counted as unparseable"""
    res = replay(ml, os.path.join(FIXTURES, "chain"), out, ["detect-chain"])
    s = summary(res, "detect-chain")
    v = verdicts_by_flow(res["detect-chain"])
    if s is None:
        return
    expect("unparseable", s.get("unparseable"), 3)
    for port in (40002, 40003):	# garbage, and a good leaf before garbage: nothing to judge
        f = "10.1.1.2:%d>10.2.2.2:443" % port
        expect(f"verdict for {f}", v.get(f), None)
    v4 = v.get("10.1.1.2:40004>10.2.2.2:443", {})	# the client's own error still counts
    expect("unparseable chain, issuer error", (v4.get("intercepted"), v4.get("signal"),
           v4.get("evidence", {}).get("chain_unparseable")), (True, "verify-untrusted", True))
    expect("clean flow", v["10.1.1.2:40000>10.2.2.2:443"]["signal"], "chain-clean")


@crafted
def chain_reuse(ml, out):
    """detect-chain: a reused flow id (a clean chain, then a forged one) is judged by its last"""
    res = replay(ml, os.path.join(FIXTURES, "chain-reuse"), out, ["detect-chain"])
    s = summary(res, "detect-chain")
    if s is None:
        return
    vs = res["detect-chain"]["verdicts"]
    expect("verdicts per flow", [v["flow"] for v in vs],
           ["10.1.1.2:40000>10.2.2.2:443", "10.1.1.2:40005>10.2.2.2:443"])
    expect("the reused flow", (vs[0]["intercepted"], vs[0]["signal"]), (True, "root-not-public"))
    expect("the other flow", vs[1]["signal"], "chain-clean")


@crafted
def expy_types(ml, out):
    """example-py: fields of another type (a list SNI, a number root) skip the event, counted"""
    res = replay(ml, os.path.join(FIXTURES, "expy-types"), out, ["example-py"])
    s = summary(res, "example-py")
    if s is None:
        return
    expect("skipped_events", s.get("skipped_events"), 4)
    expect("verdicts", [(v["flow"], v["intercepted"]) for v in res["example-py"]["verdicts"]],
           [("10.1.1.2:40004>10.2.2.2:443", True)])
    expect("outcomes_by_sni", s["outcomes_by_sni"], {"a.test": {"ok": 1}})


@crafted
def reuse(ml, out):
    """truth: a reused flow id (spliced, then intercepted) is judged by its last flow, as scored"""
    run = os.path.join(FIXTURES, "reuse")
    res = replay(ml, run, out, ["truth"])
    s = summary(res, "truth")
    v = verdicts_by_flow(res["truth"])
    if s is None:
        return
    f = v.get("10.1.2.2:40000>10.2.3.2:443", {})
    expect("verdicts", len(res["truth"]["verdicts"]), 2)
    expect("the reused flow", (f.get("intercepted"), f.get("evidence", {}).get("action"),
           f.get("evidence", {}).get("outcome")), (True, "intercept", "cert-untrusted"))
    expect("actions", s["actions"], {"intercept": 1, "none": 1})
    # example-py's last verdict for the flow says intercepted: a true positive, not a false one
    subprocess.run([ml, "compare", run, "--detector", "example-py", "--out",
                    os.path.join(out, "cmp"), "--quiet"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120, check=False,
                   env=dict(os.environ, MITMLAB_ANALYZERS=os.environ.get(
                       "MITMLAB_ANALYZERS", os.path.join(TOP, "analyzers"))))
    p = os.path.join(out, "cmp", "compare.json")
    rows = load(p)["rows"] if os.path.exists(p) else []
    expect("example-py tp/fp/tn/fn", [(r["tp"], r["fp"], r["tn"], r["fn"]) for r in rows],
           [(1, 0, 1, 0)])


@crafted
def truth_start(ml, out):
    """truth: an intercepted flow's time is when it began (accepted_ts), not when it was decided"""
    fx = open(os.path.join(FIXTURES, "reuse", "events.jsonl")).read()
    old = '"action":"intercept","worker":"w0"'
    run = os.path.join(out, "run")
    os.makedirs(run, exist_ok=True)
    with open(os.path.join(run, "events.jsonl"), "w") as f:
        f.write(fx.replace(old, old + ',"accepted_ts":1795463003900000000'))
    res = replay(ml, run, os.path.join(out, "r"), ["truth"])
    if summary(res, "truth") is None:
        return
    v = verdicts_by_flow(res["truth"])
    expect("the intercepted flow's at", v.get("10.1.2.2:40000>10.2.3.2:443", {}).get("at"),
           1795463003900000000)
    expect("the clean flow's at (its client.result)", v.get("10.1.2.2:40001>10.2.3.2:443",
           {}).get("at"), 1795463006000000000)


@crafted
def learned(ml, out):
    """compare: a learning detector gets no baseline FP rate from its own training run (trained_on_run)"""
    fx = open(os.path.join(FIXTURES, "reuse", "events.jsonl")).read()
    fx = fx.replace('"scenario":"crafted"', '"scenario":"baseline"')
    runs = {}
    for name, text in (("base-a", fx),	# the unintercepted flow is seen clean: tn
                       ("base-b", fx.replace(  # ...and here under a foreign root: a false positive
                           '"flow":"10.1.2.2:40001>10.2.3.2:443","sni":"facebook.com","outcome":"ok",'
                           '"root_subject":"CN=Lab Web Root R1 (LAB mock),O=mitmlab web PKI,C=XX"',
                           '"flow":"10.1.2.2:40001>10.2.3.2:443","sni":"facebook.com","outcome":"ok",'
                           '"root_subject":"CN=Some Other Root,C=XX"'))):
        runs[name] = os.path.join(out, name)
        os.makedirs(runs[name], exist_ok=True)
        with open(os.path.join(runs[name], "events.jsonl"), "w") as f:
            f.write(text)
    if open(os.path.join(runs["base-b"], "events.jsonl")).read() == fx:
        bad.append("learned: the false-positive edit did not apply to the fixture")
        return
    # "learner": example-py under another name, whose command names {baseline}
    an = os.path.join(out, "an", "learner")
    os.makedirs(an, exist_ok=True)
    with open(os.path.join(an, "analyzer.json"), "w") as f:
        json.dump({"name": "learner", "role": "detector", "vantages": ["client"],
                   "command": ["sh", "-c", 'exec /usr/bin/python3 "$1"', "learner",
                               os.path.join(TOP, "analyzers", "example-py", "example.py"),
                               "{baseline}"]}, f)
    env = dict(os.environ, MITMLAB_ANALYZERS=os.path.dirname(an) + ":" + os.environ.get(
        "MITMLAB_ANALYZERS", os.path.join(TOP, "analyzers")))

    def cmp(args, d):
        # from out, with the runs named relative to it (compare.json must make them absolute)
        p = subprocess.run([os.path.abspath(ml), "compare"] + args + ["--detector",
                           "learner,example-py", "--out", os.path.join(out, d)], env=env,
                           capture_output=True, text=True, timeout=120, check=False, cwd=out)
        f = os.path.join(out, d, "compare.json")
        return (load(f) if os.path.exists(f) else {"rows": [], "baseline_fpr": {}}), p.stdout
    doc, _ = cmp(["base-a", "base-b", "--baseline", "base-a"], "two")
    expect("trained_on_run by (detector, run)", sorted((r["detector"], r["run"], r["trained_on_run"])
           for r in doc["rows"]), [("example-py", "base-a", False), ("example-py", "base-b", False),
                                   ("learner", "base-a", True), ("learner", "base-b", False)])
    expect("learner's fp per run", sorted((r["run"], r["fp"]) for r in doc["rows"]
           if r["detector"] == "learner"), [("base-a", 0), ("base-b", 1)])
    expect("baseline_fpr with two baseline runs", doc["baseline_fpr"],
           {"example-py": 0.5, "learner": 1.0})
    # absolute, so that `mitmlab report --compare` run from elsewhere still finds the runs
    expect("runs[].path", [r["path"] for r in doc["runs"]], [os.path.realpath(runs["base-a"]),
                                                          os.path.realpath(runs["base-b"])])
    doc, stdout = cmp(["base-a", "--baseline", "base-a"], "one")
    expect("baseline_fpr with the training run only", doc["baseline_fpr"],
           {"example-py": 0.0, "learner": None})
    if "learner: - (its only baseline run is the one it learned from" not in stdout:
        bad.append(f"learned: no note on the learner's missing rate in {stdout!r}")
    csv = open(os.path.join(out, "one", "compare.csv")).read().splitlines()
    if not csv or not csv[0].endswith(",trained_on_run") or \
            sorted(l.rsplit(",", 1)[1] for l in csv[1:]) != ["0", "1"]:
        bad.append(f"learned: compare.csv trained_on_run column {csv}")


# The feeder of the memory case, run with Debian's python3 (python3-zmq, as the manifests use):
# FEEDER OUT RUN RATE CMDS starts each analyzer of CMDS ({name: argv}) by hand on its own feed
# (--sub, no --pub: results on stdout), waits until all have subscribed, sends RUN's events at
# RATE events/s, and writes {name: [exit status, peak RSS in KB, its analysis.result]} to OUT.
# The peak is VmHWM, read every 10 ms until the analyzer exits (a child's ru_maxrss would
# include the forking Python's own RSS).
FEEDER = """import json, os, signal, subprocess, sys, time, zmq
out, run, rate, cmds = sys.argv[1], sys.argv[2], float(sys.argv[3]), json.loads(sys.argv[4])
d = os.path.dirname(out)
pub = zmq.Context().socket(zmq.XPUB)
pub.setsockopt(zmq.XPUB_VERBOSE, 1)
pub.setsockopt(zmq.SNDHWM, 0)
ep = "ipc://" + os.path.join(d, "feed.sock")
pub.bind(ep)
procs = {}
for name, argv in cmds.items():
    env = dict(os.environ, MITMLAB_ANALYZER_NAME=name, MITMLAB_ANALYZER_SUB=ep, MITMLAB_RUN_DIR=run,
               MITMLAB_ANALYZER_VANTAGES="client,origin,net,proxy")
    env.pop("MITMLAB_ANALYZER_PUB", None)
    p = subprocess.Popen(argv, env=env, stdout=open(os.path.join(d, name + ".out"), "w"),
                         stderr=open(os.path.join(d, name + ".log"), "w"))
    procs[p.pid] = name
ready, end = 0, time.time() + 20
while ready < len(procs) and time.time() < end:
    if pub.poll(200) and pub.recv().startswith(b"\\x01lab.run"):
        ready += 1
time.sleep(0.2)
hwm = dict.fromkeys(procs, 0)
def sample():
    for pid in procs:
        try:
            for l in open("/proc/%d/status" % pid):
                if l.startswith("VmHWM:"):
                    hwm[pid] = max(hwm[pid], int(l.split()[1]))
        except OSError:
            pass
t0 = last = time.time()
for n, line in enumerate(open(os.path.join(run, "events.jsonl")), 1):
    pub.send_multipart([json.loads(line)["t"].encode(), line.strip().encode()])
    if n % 25 == 0:
        if n / rate > time.time() - t0:
            time.sleep(n / rate - (time.time() - t0))
        if time.time() - last > 0.01:
            sample()
            last = time.time()
res, end = {}, time.time() + 120
while len(res) < len(procs) and time.time() < end:
    sample()
    pid, st, ru = os.wait4(-1, os.WNOHANG)
    if pid == 0:
        time.sleep(0.01)
        continue
    lines = [json.loads(l) for l in open(os.path.join(d, procs[pid] + ".out")) if l.strip()]
    r = [e for e in lines if e.get("t") == "analysis.result"]
    res[procs[pid]] = [st, hwm[pid], r[-1] if r else None]
for pid in procs:
    if procs[pid] not in res:
        os.kill(pid, signal.SIGKILL)
json.dump(res, open(out, "w"))
"""


def mem_run(d, n):
    """A run of n intercepted flows, each with its proxy.conn.open and close, a client.result
    carrying a three-certificate chain, a net.flow and an origin.hello, as a real run has them."""
    pki = os.path.join(FIXTURES, "chain", "pki", "web")
    chain = [open(os.path.join(pki, f)).read() for f in ("int.pem", "root.pem")]
    chain = [chain[0]] + chain
    t0, evs = 1795463001000000000, []
    for i in range(n):
        ts = t0 + 1000000 * i
        flow = "10.1.%d.%d:%d>10.2.2.2:443" % (i // 50000, (i // 250) % 200, 1024 + i % 50000)
        up = "10.255.1.2:%d>10.2.2.2:443" % (1024 + i % 60000)
        evs.append({"t": "proxy.conn.open", "ts": ts, "flow": flow, "action": "intercept",
                    "sni": "a.test", "client": {"ip": "10.1.1.2", "port": 1024 + i},
                    "dst": {"ip": "10.2.2.2", "port": 443}, "policy": "default-intercept",
                    "hello": {"version": "TLSv1.3", "alpn": ["h2", "http/1.1"],
                              "ja3": "%032x" % i, "ja4": "t13d1516h2_8daaf6152771_02713d6af862"},
                    "worker": "w0", "src": "proxy.w0"})
        evs.append(dfp_hello(ts + 10, up, "a.test", "10.2.2.2:443"))
        r = dfp_result(ts + 500, flow, "a.test", 1000)
        r.update({"chain_pem": chain, "chain_sha256": ["%064x" % k for k in range(3)],
                  "chain_spki_sha256": ["%064x" % (7 + k) for k in range(3)],
                  "leaf_spki_sha256": "%064x" % 7, "leaf_subject": "CN=a.test",
                  "leaf_issuer": "CN=Crafted Web CA 1 (LAB mock),O=mitmlab web PKI,C=XX",
                  "root_subject": "CN=Crafted Web Root (LAB mock),O=mitmlab web PKI,C=XX",
                  "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "alpn": "h2",
                  "http_status": 200, "body_bytes": 2048, "ua": "curl/8.0",
                  "t_connect_us": 300, "t_handshake_us": 4000 + i % 100,
                  "t_first_byte_us": 5000 + i % 100, "url": "https://a.test/"})
        evs.append(r)
        evs.append({"t": "proxy.conn.close", "ts": ts + 600, "flow": flow, "action": "intercept",
                    "bytes_c2s": 570, "bytes_s2c": 4191, "hs_client_us": 900,
                    "hs_upstream_us": 800, "duration_us": 66256, "reason": "eof-client",
                    "error": None, "phase": "relay", "worker": "w0", "src": "proxy.w0"})
        evs.append({"t": "net.flow", "ts": ts + 700, "flow": flow, "why": "complete",
                    "vantage": "ri1", "name": "a.test", "client": {"pkts": 3, "bytes": 432,
                    "ttl": 63, "hops": 1, "win": 64240, "flight_bytes": 268},
                    "server": {"pkts": 3, "bytes": 1604, "ttl": 64, "hops": 0, "win": 65160,
                    "flight_bytes": 1440}, "client_hops": 1, "server_hops": 4,
                    "server_flight_bytes": 1440, "syn_synack_us": 470, "path_hops": 2,
                    "src": "net.ri1"})
    return write_run(d, evs)


@crafted
def memory(ml, out):
    """analyzers that kept whole events (11 KB a flow) keep under 4 KB per flow (peak RSS, paced)"""
    names = ["truth", "throughput", "detect-chain", "detect-path", "detect-fingerprint"]
    abin = os.path.join(os.path.dirname(os.path.abspath(ml)), "..", "analyzers")
    with open(os.path.join(abin, "truth"), "rb") as f:
        if b"__asan_init" in f.read():
            print("       (a sanitizer build: its allocator's memory says nothing; skipped)")
            return
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "feeder.py"), "w") as f:
        f.write(FEEDER)
    rss = {}
    for n in (600, 3000):
        run = mem_run(os.path.join(out, "run%d" % n), n)
        shutil.copytree(os.path.join(FIXTURES, "chain", "pki"), os.path.join(run, "pki"))
        cmds = {}
        for a in names:	# each manifest's command, as the harness would expand it
            cmds[a] = [c.replace("{bin}", abin).replace("{run}", run).replace("{baseline}", run)
                       .replace("{dir}", os.path.join(TOP, "analyzers", a))
                       for c in load(os.path.join(TOP, "analyzers", a, "analyzer.json"))["command"]]
        d = os.path.join(out, "feed%d" % n)
        os.makedirs(d, exist_ok=True)
        # paced as a live run is (2,500 events/s): what an analyzer keeps shows, not a backlog
        # of its feed (a replay sends as fast as it can, and the SDK queues what is not yet read)
        subprocess.run(["/usr/bin/python3", os.path.join(out, "feeder.py"), os.path.join(d, "res"),
                        run, "2500", json.dumps(cmds)], timeout=300, check=False)
        res = load(os.path.join(d, "res")) if os.path.exists(os.path.join(d, "res")) else {}
        for a in names:
            st, kb, r = res.get(a, [None, None, None])
            if st != 0 or not isinstance((r or {}).get("summary"), dict) or not r["complete"]:
                bad.append(f"{a} ({n} flows): exit status {st}, result {str(r)[:200]}")
            else:
                rss[a, n] = kb
    for a in names:
        if (a, 600) in rss and (a, 3000) in rss:
            per = (rss[a, 3000] - rss[a, 600]) / 2400.0
            print(f"       {a}: peak RSS {rss[a, 600]} KB at 600 flows, {rss[a, 3000]} KB at "
                  f"3000: {per:.2f} KB per flow")
            if per > 4:
                bad.append(f"{a}: {per:.2f} KB per flow (peak RSS {rss[a, 600]} KB at 600 "
                           f"flows, {rss[a, 3000]} KB at 3000)")

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "crafted-list":
        for k, fn in CRAFTED.items():
            print(f"{k}\t{' '.join(fn.__doc__.split())}")	# one line, however it wraps
        sys.exit(0)
    if cmd == "crafted":
        for c in sys.argv[4:]:
            if c not in CRAFTED:
                sys.exit(f"unknown crafted case {c} (known: {', '.join(CRAFTED)})")
            n = len(bad)
            shutil.rmtree(os.path.join(sys.argv[3], c), ignore_errors=True)
            CRAFTED[c](sys.argv[2], os.path.join(sys.argv[3], c))
            bad[n:] = [f"{c}: {b}" for b in bad[n:]]
    if cmd == "same":
        same(sys.argv[2], sys.argv[3])
    elif cmd == "isolation":
        isolation(sys.argv[2])
    elif cmd == "compare":
        compare(sys.argv[2], sys.argv[3:])
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)
