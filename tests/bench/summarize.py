#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# summarize.py ROWS.jsonl SPEED.txt OUTDIR QUICK REPS HS_C BULK_C — medians per row, ratios to
# direct and sslsplit, the `openssl speed` bound; writes OUTDIR/bench.json and bench.md, prints
# the Markdown. Missing numbers are shown as "n/a" with the reason, never estimated.
import json, os, platform, re, socket, statistics, sys, time

rows_f, speed_f, out, quick, reps, hs_c, bulk_c = sys.argv[1:8]
recs = [json.loads(l) for l in open(rows_f) if l.strip()]
ORDER = ["direct", "relay", "relay-ref", "mitmlab", "mitmlab-ref", "resume", "resume-ref", "mitmlab-rec", "mitmlab-bus", "sslsplit",
         "squid", "mitmproxy"]
LABEL = {"direct": "direct (no proxy)", "relay": "plain TCP relay (mitmlab splice)",
         "relay-ref": "plain TCP relay, REF_BIN (reference build)",
         "mitmlab": "mitmlab (ECDSA P-256, cache warm)",
         "mitmlab-ref": "mitmlab REF_BIN (reference build)",
         "resume": "mitmlab --upstream-resume (origin issues tickets)",
         "resume-ref": "mitmlab --upstream-resume, REF_BIN (reference build)",
         "mitmlab-rec": "mitmlab + bus recorder (no analyzers)",
         "mitmlab-bus": "mitmlab + bus recorder + 6 analyzers", "sslsplit": "sslsplit 0.5.5",
         "squid": "Squid 5.7 ssl-bump", "mitmproxy": "mitmproxy 8.1 (mitmdump)"}

def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None

def row_stats(name):
    r = [x for x in recs if x["row"] == name]
    na = [x["why"] for x in r if x["kind"] == "na"]
    if na:
        return {"row": name, "measured": False, "why": na[0]}
    hs = [x for x in r if x["kind"] == "hs" and x["secs"] > 0 and x["ok"] > 0]
    bk = [x for x in r if x["kind"] == "bulk" and x["secs"] > 0 and x["bytes"] > 0]
    lt = [x["r"] for x in r if x["kind"] == "lat" and x["r"].get("ok")]
    mem = [x for x in r if x["kind"] == "mem"]
    proxy = name != "direct"
    s = {"row": name, "measured": bool(hs or bk), "reps": len(hs),
         "hs_per_s": med([x["ok"] / x["secs"] for x in hs]),
         "hs_fail": sum(x["n"] - x["ok"] for x in hs),
         "cpu_per_1000_hs": med([x["cpu"] / x["ok"] * 1000 for x in hs]) if proxy else None,
         "bulk_MBps": med([x["bytes"] / 1e6 / x["secs"] for x in bk]),
         "cpu_per_GB": med([x["cpu"] / (x["bytes"] / 1e9) for x in bk]) if proxy else None,
         "peak_rss_MiB": mem[0]["hwm_kib"] / 1024 if mem else None,
         "procs": mem[0]["procs"] if mem else None,
         "lat_p50_ms": med([x["p50_ms"] for x in lt]), "lat_p99_ms": med([x["p99_ms"] for x in lt])}
    if not s["measured"]:
        s["why"] = "no successful load run (see the run's logs)"
    return s

def speed():
    d = {}
    try:
        t = open(speed_f).read()
    except OSError:
        return d
    m = re.search(r"X25519\)\s+\S+\s+([\d.]+)", t)
    if m: d["x25519_per_s"] = float(m.group(1))
    m = re.search(r"nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", t)
    if m: d["p256_sign_per_s"], d["p256_verify_per_s"] = float(m.group(1)), float(m.group(2))
    m = re.search(r"(?i)aes-128-gcm\s+([\d.]+)k", t)
    if m: d["aes128gcm_MBps"] = float(m.group(1)) * 1000 / 1e6
    if len(d) == 4:
        # per intercepted flow: 2 X25519 ops per leg, one P-256 sign (client leg), two verifies
        # (upstream CertificateVerify + the leaf's signature in the chain check)
        t = 4 / d["x25519_per_s"] + 1 / d["p256_sign_per_s"] + 2 / d["p256_verify_per_s"]
        d["bound_hs_per_s"] = 1 / t
        d["bound_relay_MBps"] = d["aes128gcm_MBps"] / 2      # decrypt + re-encrypt
    return d

# rows left out by ROWS= have no records at all and are not shown
rows = [row_stats(n) for n in ORDER if any(x["row"] == n for x in recs)]
by = {r["row"]: r for r in rows}
def ratio(a, b):
    return a / b if a is not None and b else None
for r in rows:
    if not r["measured"]:
        continue
    d, s = by.get("direct", {}), by.get("sslsplit", {})
    r["hs_vs_direct"] = ratio(r["hs_per_s"], d.get("hs_per_s"))
    r["MBps_vs_direct"] = ratio(r["bulk_MBps"], d.get("bulk_MBps"))
    r["cpu_hs_vs_sslsplit"] = ratio(r["cpu_per_1000_hs"], s.get("cpu_per_1000_hs"))
    r["cpu_GB_vs_sslsplit"] = ratio(r["cpu_per_GB"], s.get("cpu_per_GB"))
    if r["lat_p50_ms"] is not None and d.get("lat_p50_ms") is not None:
        r["added_p50_ms"] = r["lat_p50_ms"] - d["lat_p50_ms"]
        r["p99_vs_direct"] = ratio(r["lat_p99_ms"], d["lat_p99_ms"])

extra = {}
for x in recs:
    if x["kind"] == "cold" and x["r"].get("ok"):
        c = x["r"]
        extra[x["row"]] = {"conns": c["ok"], "of": c["n"], "cpu_per_1000": x["cpu"] / c["ok"] * 1000,
                           "per_s": c["ok"] / c["wall_s"], "p50_ms": c["p50_ms"], "p99_ms": c["p99_ms"],
                           "first_ms": c["first_ms"], "fill_s": x.get("fill_s")}
    elif x["kind"] == "idle":
        extra[x["row"]] = {"conns": x["conns"], "rss_before_kib": x["rss0_kib"], "rss_after_kib": x["rss1_kib"],
                           "kib_per_conn": (x["rss1_kib"] - x["rss0_kib"]) / x["conns"] if x["conns"] else None}
    elif x["kind"] == "idle-after" and x["row"] in extra:
        extra[x["row"]]["rss_released_kib"] = x["rss2_kib"]
    elif x["kind"] == "churn":
        r = x["rss_kib"]
        extra[x["row"]] = {"conns": x["n"], "ok": x["ok"], "rss_kib": r,
                           "growth_after_first_step_kib": r[-1] - r[1] if len(r) > 2 else None}
    elif x["kind"] == "pair":
        for k in ("runq_ms", "slices", "cpu"):
            x["r"][k] = x.get(k)
        extra.setdefault(x["row"], {"reps": []})["reps"].append(x["r"])
    elif x["kind"] == "latload":
        extra[x["row"]] = {k: v for k, v in x.items() if k not in ("row", "kind")}
    elif x["kind"] == "client_legs":	# pubpair writes one per rep and half: add them up
        e = extra.setdefault(x["row"] + "-client", {"completed": 0, "resumed": 0})
        e["completed"] += x["completed"]
        e["resumed"] += x["resumed"]
    elif x["kind"] == "resumed":
        extra[x["row"] + "-resumed"] = {k: x[k] for k in ("upstream_handshakes", "offered", "resumed", "refused", "unusable")}
    elif x["kind"] == "netq":
        pps = None
        try:
            st = [json.loads(l) for l in open(x["events"]) if '"net.stats"' in l]
            pps = max((e.get("pkts_per_s", 0) for e in st), default=None)
        except OSError:
            pass
        extra["netq"] = {"pkts_per_s_peak": pps, "MBps": x["bytes"] / 1e6 / x["secs"] if x["secs"] else None,
                         "cpu_s": x["cpu"], "cpu_per_GB": x["cpu"] / (x["bytes"] / 1e9) if x["bytes"] else None}

# anfeed: per analyzer and the recorder, µs of CPU per connection (median over reps); reps in
# which the recorder did not record every event sent, or an analyzer died, are left out
af = [x for x in recs if x["kind"] == "anfeed"]
if af:
    good = [x for x in af if x["sent"] > 0 and x["recorded"] == x["sent"] and x["alive"] == len(x["an_ns"])]
    e = {"conns": af[0]["conns"], "rate": af[0].get("rate"), "reps": len(af), "reps_complete": len(good)}
    if good:
        e["recorder_us"] = med([x["rec_ns"] / 1e3 / x["conns"] for x in good])
        e["analyzers_us"] = {a: med([x["an_ns"][a] / 1e3 / x["conns"] for x in good]) for a in good[0]["an_ns"]}
        e["analyzers_total_us"] = med([sum(x["an_ns"].values()) / 1e3 / x["conns"] for x in good])
    extra["anfeed"] = e

# pubinstr: instructions per intercepted connection (cachegrind), per half and rep the slope
# between the two handshake counts; runs that did not serve every handshake are left out
pinst = [x for x in recs if x["kind"] == "pubinstr" and x["ok"] == x["n"] and x["ir"] > 0]
if pinst:
    slope = {}
    for h in ("none", "rec"):
        for r in sorted({x["rep"] for x in pinst}):
            runs = sorted((x["n"], x["ir"]) for x in pinst if x["row"] == "pi-" + h and x["rep"] == r)
            if len(runs) == 2 and runs[1][0] > runs[0][0]:
                slope.setdefault(h, {})[r] = (runs[1][1] - runs[0][1]) / (runs[1][0] - runs[0][0])
    both = sorted(set(slope.get("none", {})) & set(slope.get("rec", {})))
    info = next((x for x in recs if x["kind"] == "pubinstrinfo"), {})
    e = {"reps": len(both), "analyzers": info.get("analyzers"), "alive": info.get("alive"),
         "n": sorted({x["n"] for x in pinst})}
    if both:
        e["ir_per_conn_alone"] = med([slope["none"][r] for r in both])
        e["ir_per_conn_bus"] = med([slope["rec"][r] for r in both])
        e["ratios"] = [slope["rec"][r] / slope["none"][r] for r in both]
        e["ratio"] = med(e["ratios"])
    extra["pubinstr"] = e

def pub_pairs(kind, *need, prefix="pub", keep=lambda x: True):
    """pubpair's (or pubsus's, prefix "sus") records of kind per half ("none", "rec"), by rep,
    keeping those whose fields need are all > 0 and that keep accepts; and the reps both
    halves have."""
    d = {h: {x["rep"]: x for x in recs if x["row"] == prefix + "-" + h and x["kind"] == kind
             and all(x[k] > 0 for k in need) and keep(x)} for h in ("none", "rec")}
    return d, sorted(set(d["none"]) & set(d["rec"]))


def pair_ratios(d, reps, num, den):
    """Per pair: num/den of the half with the bus over the same of the engine alone."""
    return [(d["rec"][r][num] / d["rec"][r][den]) / (d["none"][r][num] / d["none"][r][den]) for r in reps]


# pubsus: pubpair's halves under a held closed-loop load. Per pair, the window's hs/s with the
# consumers over without, and "held": each half's connections over its window plus the CPU
# time its consumers still spent on core 0 after the window (the work they had deferred,
# which a longer load would have paid within it, from the load generator's core)
# (a half whose proxy died has no CPU; one whose consumer died, a negative catch-up)
sus, sus_reps = pub_pairs("sus", "ok", "secs", "cpu", prefix="sus", keep=lambda x: x["after_ns"] >= 0)
sus_na = any(x["row"] == "pubsus" and x["kind"] == "na" for x in recs)
if sus_reps or (any(x["kind"] == "susinfo" for x in recs) and not sus_na):
    info = next((x for x in recs if x["kind"] == "susinfo"), {})
    def held(x):
        return x["ok"] / (x["secs"] + x["after_ns"] / 1e9)
    # the windows' own length (SUS_SECS unless the count was capped)
    e = {"pairs": len(sus_reps), "secs": round(med([sus["none"][r]["secs"] for r in sus_reps]), 1)
         if sus_reps else info.get("secs", "?"), "n": info.get("n", "?"),
         "analyzers": info.get("analyzers", "?"), "alive": info.get("alive", "?"), "behind": info.get("behind")}
    if sus_reps:
        R, N = sus["rec"], sus["none"]
        e["window_ratios"] = pair_ratios(sus, sus_reps, "ok", "secs")
        e["held_ratios"] = [held(R[r]) / held(N[r]) for r in sus_reps]
        e["cpu_ratios"] = pair_ratios(sus, sus_reps, "cpu", "ok")
        e["window_ratio"], e["held_ratio"], e["cpu_ratio"] = (med(e["window_ratios"]), med(e["held_ratios"]),
                                                              med(e["cpu_ratios"]))
        e["hs_per_s_alone"] = med([N[r]["ok"] / N[r]["secs"] for r in sus_reps])
        e["hs_per_s_attached"] = med([R[r]["ok"] / R[r]["secs"] for r in sus_reps])
        # the consumers' core-0 time per connection, in the window and in all (window + after)
        e["consumers_us_window"] = med([(R[r]["an_ns"] + R[r]["rec_ns"]) / 1e3 / R[r]["ok"] for r in sus_reps])
        e["consumers_us_all"] = med([(R[r]["an_ns"] + R[r]["rec_ns"] + R[r]["after_ns"]) / 1e3 / R[r]["ok"]
                                     for r in sus_reps])
        e["catchup_s"] = med([R[r]["quiet_ns"] / 1e9 for r in sus_reps])
        # quiet() gave up at 10 s with the consumers still busy: their catch-up is undercounted
        e["catchup_capped"] = sum(1 for r in sus_reps if R[r].get("quiet_capped"))
    extra["pubsus"] = e

for k, e in extra.items():
    if not k.startswith("latpair"):
        continue
    ok = [r for r in e["reps"] if r.get("direct", {}).get("ok") and r.get("proxy", {}).get("ok")]
    for side in ("direct", "proxy"):
        for q in ("p50_ms", "p99_ms"):
            e[f"{side}_{q}"] = med([r[side][q] for r in ok])
    # per repetition ratios first, then their median: each ratio compares samples taken together
    e["added_p50_ms"] = med([r["proxy"]["p50_ms"] - r["direct"]["p50_ms"] for r in ok])
    e["p99_vs_direct"] = med([r["proxy"]["p99_ms"] / r["direct"]["p99_ms"] for r in ok])
    e["n"] = ok[0]["n"] if ok else 0
    # CPU contention seen by the proxy: run-queue wait per intercepted connection
    e["runq_ms_per_conn"] = med([r["runq_ms"] / r["proxy"]["ok"] for r in ok if r.get("runq_ms") is not None])
    # times the proxy was scheduled in (wakeups) and its CPU ms, per intercepted connection
    e["slices_per_conn"] = med([r["slices"] / r["proxy"]["ok"] for r in ok if r.get("slices") is not None])
    e["cpu_ms_per_conn"] = med([r["cpu"] * 1000 / r["proxy"]["ok"] for r in ok if r.get("cpu") is not None])

sp = speed()
meta = {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": socket.gethostname(),
        "kernel": platform.release(), "cpus": os.cpu_count(), "quick": bool(quick), "reps": int(reps),
        "hs_clients": int(hs_c), "bulk_clients": int(bulk_c),
        "cpu_model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")}
doc = {"meta": meta, "rows": rows, "extra": extra, "openssl_speed": sp}
os.makedirs(out, exist_ok=True)
json.dump(doc, open(os.path.join(out, "bench.json"), "w"), indent=2)

def f(v, fmt="{:.0f}"):
    return "—" if v is None else fmt.format(v)
L = []
L.append(f"mitmlab bench {meta['date_utc']} on {meta['host']} ({meta['cpu_model']}, {meta['cpus']} CPUs, "
         f"Linux {meta['kernel']}){' QUICK' if quick else ''}; medians of {reps} reps; proxy pinned to cpu 1, "
         f"client + nginx origin on cpu 0; TLS 1.3, ECDSA P-256, X25519, HTTP/1.1 (h2load --h1)")
L.append("")
L.append("| row | new hs/s | ×direct | proxy CPU-s/1000 hs | ×sslsplit | bulk MB/s | ×direct | proxy CPU-s/GB | ×sslsplit | peak RSS MiB | latency p50 / p99 ms |")
L.append("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    if not r["measured"]:
        L.append(f"| {LABEL[r['row']]} | not measured: {r.get('why','')} |||||||||| ")
        continue
    L.append(f"| {LABEL[r['row']]} | {f(r['hs_per_s'])} | {f(r.get('hs_vs_direct'),'{:.2f}')} | "
             f"{f(r['cpu_per_1000_hs'],'{:.2f}')} | {f(r.get('cpu_hs_vs_sslsplit'),'{:.2f}')} | {f(r['bulk_MBps'])} | "
             f"{f(r.get('MBps_vs_direct'),'{:.2f}')} | {f(r['cpu_per_GB'],'{:.2f}')} | {f(r.get('cpu_GB_vs_sslsplit'),'{:.2f}')} | "
             f"{f(r['peak_rss_MiB'],'{:.1f}')} | {f(r['lat_p50_ms'],'{:.2f}')} / {f(r['lat_p99_ms'],'{:.2f}')} |")
L.append("")
m = by.get("mitmlab", {"measured": False})
if m["measured"]:
    # the latency verdict comes from latpair (direct and intercepted interleaved) when it ran; the
    # table's latency column is each row's own unpaired run, taken minutes apart
    lp = extra.get("latpair")
    a50, r99, src = ((lp["added_p50_ms"], lp["p99_vs_direct"], "latpair") if lp else
                     (m.get("added_p50_ms"), m.get("p99_vs_direct"), "unpaired rows"))
    L.append(f"- mitmlab vs targets: CPU/1000 hs (warm) {f(m['cpu_per_1000_hs'],'{:.2f}')} s (target ≤ 1.6); "
             f"CPU/GB {f(m['cpu_per_GB'],'{:.2f}')} s (≤ 3.0); added latency ({src}) p50 {f(a50,'{:+.2f}')} ms (≤ +2), "
             f"p99 {f(r99,'{:.2f}')}× direct (≤ 2×); at moderate load see latload")
cl = [(k[:-len("-client")], e) for k, e in extra.items() if k.endswith("-client")]
if cl:	# h2load runs with noresume.so; the engine counts what its client legs resumed
    L.append("- client legs (h2load offers no session, so every row's handshakes are full on both legs): "
             + "; ".join(f"{k} {e['resumed']} of {e['completed']} resumed" for k, e in cl)
             + ("" if all(e["resumed"] == 0 for _, e in cl) else " — NOT all full handshakes"))
for k in ("resume", "resume-ref"):
    rr = by.get(k, {"measured": False})
    if not rr["measured"]:
        continue
    fr = extra.get(k + "-resumed")
    share = (f"{fr['resumed']}/{fr['upstream_handshakes']} = {fr['resumed'] / fr['upstream_handshakes']:.1%} "
             f"(offered {fr['offered']}, offered but not resumed {fr['refused']}, unusable {fr['unusable']}; warm-up included)"
             if fr else "n/a (no upstream sessions line in the proxy log)")
    ref = by.get("mitmlab-ref" if k.endswith("-ref") else "mitmlab", {"measured": False})
    vs = (f"; the full-handshake row in the same run {ref['cpu_per_1000_hs']:.2f} s, ×{rr['cpu_per_1000_hs'] / ref['cpu_per_1000_hs']:.2f}"
          if ref["measured"] and ref["cpu_per_1000_hs"] and rr["cpu_per_1000_hs"] else "")
    L.append(f"- {k}: CPU per 1000 intercepted connections with upstream resumption {f(rr['cpu_per_1000_hs'],'{:.2f}')} s "
             f"(target ≤ 1.2{vs}); {f(rr['hs_per_s'])} hs/s; upstream legs resumed {share}")
mb = by.get("mitmlab-bus", {"measured": False})
bi = next((x for x in recs if x["row"] == "mitmlab-bus" and x["kind"] == "bus"), None)
if m["measured"] and mb["measured"] and m["hs_per_s"] and m["cpu_per_1000_hs"]:
    L.append(f"- with the bus and every analyzer attached ({bi['alive'] if bi else '?'} of 6 alive at the end, "
             f"{bi['conn_open_events'] if bi else '?'} proxy.conn.open recorded): hs/s {mb['hs_per_s'] / m['hs_per_s']:.3f}× "
             f"the engine alone, CPU/1000 hs {mb['cpu_per_1000_hs'] / m['cpu_per_1000_hs']:.3f}×, "
             f"bulk MB/s {f(mb['bulk_MBps'] / m['bulk_MBps'] if mb['bulk_MBps'] and m['bulk_MBps'] else None, '{:.3f}')}× "
             f"(sequential rows, which drift ±10% on a shared machine: the target's figure is pubpair's)")
    mr = by.get("mitmlab-rec", {"measured": False})
    if mr["measured"] and mr["hs_per_s"] and mr["cpu_per_1000_hs"]:
        L.append(f"  - split: publishing to the recorder alone hs/s {mr['hs_per_s'] / m['hs_per_s']:.3f}×, CPU/1000 "
                 f"{mr['cpu_per_1000_hs'] / m['cpu_per_1000_hs']:.3f}× the engine without a bus; the 6 analyzers on top "
                 f"hs/s {mb['hs_per_s'] / mr['hs_per_s']:.3f}×, CPU/1000 {mb['cpu_per_1000_hs'] / mr['cpu_per_1000_hs']:.3f}× the recorder alone")
def behind_text(info):
    """How often the consumers fell behind and left the idle scheduling class (bgsched.h)."""
    if info.get("behind") is None:
        return ""
    return (f"; the recorder and analyzers run in the idle scheduling class and fell 2 s behind "
            f"{info['behind']} times in all (each time they ran in the normal class until caught up)")


pub, reps_both = pub_pairs("pub", "ok", "secs", "cpu")
if reps_both:
    cr = pair_ratios(pub, reps_both, "cpu", "ok")
    hr = pair_ratios(pub, reps_both, "ok", "secs")
    pi = next((x for x in recs if x["row"] == "pub-rec" and x["kind"] == "pubinfo"), {})
    bulk, rb = pub_pairs("pubbulk", "bytes", "secs", "cpu")
    bs = ""
    if rb:
        mr_ = pair_ratios(bulk, rb, "bytes", "secs")
        gr = pair_ratios(bulk, rb, "cpu", "bytes")
        bs = f"; bulk MB/s ×{med(mr_):.3f}, CPU per GB ×{med(gr):.3f} ({len(rb)} pairs)"
    # the same halves at one offered load (open loop): the engine's own CPU per connection,
    # without the burst's difference in how busy the load generator (on core 0 with the
    # analyzers) keeps it
    rate, rr_ = pub_pairs("pubrate", "ok", "cpu")
    rs = ""
    if rr_:
        qr = pair_ratios(rate, rr_, "cpu", "ok")
        okr = sum(rate["rec"][r]["ok"] for r in rr_) / sum(2 * rate["rec"][r]["rate"] for r in rr_)
        okn = sum(rate["none"][r]["ok"] for r in rr_) / sum(2 * rate["none"][r]["rate"] for r in rr_)
        rs = (f"; at one offered load of {rate['none'][rr_[0]]['rate']}/s (open loop, both halves): CPU per connection "
              f"×{med(qr):.3f} (pairs {min(qr):.3f}–{max(qr):.3f}; served {okn:.1%} / {okr:.1%} of the offered connections)")
    # what the consumers cost on core 0 per connection of the burst (the "rec" halves only;
    # in the "none" halves they receive nothing)
    def burst_us(key, scale=1e-3):
        """key of the "rec" halves' bursts in µs per connection (scale: to µs), where recorded."""
        return [pub["rec"][r][key] * scale / pub["rec"][r]["ok"] for r in reps_both
                if pub["rec"][r].get(key) is not None and pub["rec"][r]["ok"] > 0]
    an, rc_, zq = burst_us("an_ns"), burst_us("rec_ns"), burst_us("zmq_ns")
    en = burst_us("cpu", 1e6)
    zs = f", of which its ZeroMQ threads {med(zq):.1f} µs" if zq else ""
    if an and rc_:
        rs_cost = (f"; on core 0 per connection of the burst: the analyzers {med(an):.0f} µs, the recorder "
                   f"{med(rc_):.0f} µs (the engine {med(en):.0f} µs on its own core{zs})")
    else:
        rs_cost = ""
    L.append(f"- every analyzer attached (pubpair: the engine alone and the engine with the bus recorder and "
             f"{pi.get('analyzers', '?')} analyzers ({pi.get('alive', '?')} alive at the end) alternating, {len(reps_both)} pairs): "
             f"burst hs/s ×{med(hr):.3f}, CPU per connection ×{med(cr):.3f} (pairs {min(cr):.3f}–{max(cr):.3f}){bs}{rs}{rs_cost}"
             f"{behind_text(pi)} (target: within 5%)")
e = extra.get("pubsus")
if e:
    if e["pairs"]:
        L.append(f"- every analyzer attached, load held (pubsus: {e['pairs']} pairs of {e['n']} closed-loop handshakes, "
                 f"about {e['secs']} s of the engine alone and with the bus recorder and {e['analyzers']} analyzers ({e['alive']} alive "
                 f"at the end)): {e['hs_per_s_alone']:.0f} and {e['hs_per_s_attached']:.0f} hs/s, ×{e['window_ratio']:.3f} over the "
                 f"window (pairs {', '.join(f'{x:.3f}' for x in e['window_ratios'])}); held, with what the consumers still "
                 f"spent after it counted in, ×{e['held_ratio']:.3f} (pairs {', '.join(f'{x:.3f}' for x in e['held_ratios'])}); "
                 f"the engine's CPU per connection ×{e['cpu_ratio']:.3f}; the consumers on core 0 {e['consumers_us_window']:.0f} µs "
                 f"per connection in the window, {e['consumers_us_all']:.0f} µs with their catch-up "
                 f"({e['catchup_s']:.1f} s to quiet, measured in 0.3 s steps"
                 f"{'; NOT quiet after 10 s in ' + str(e['catchup_capped']) + ' pair(s), so the catch-up is undercounted' if e['catchup_capped'] else ''})"
                 f"{behind_text(e)} (target: within 5%)")
    else:
        L.append("- pubsus: no complete pair of runs (see raw.jsonl)")
e = extra.get("pubinstr")
if e:
    if e.get("ratio"):
        L.append(f"- pubinstr (the engine's instructions per intercepted connection under cachegrind, slope between "
                 f"{e['n'][0]} and {e['n'][-1]} handshakes, {e['reps']} rep(s)): alone {e['ir_per_conn_alone'] / 1e6:.3f} M, "
                 f"with the bus and {e['analyzers']} analyzers ({e['alive']} alive at the end) {e['ir_per_conn_bus'] / 1e6:.3f} M: "
                 f"×{e['ratio']:.4f} (reps {', '.join(f'{x:.4f}' for x in e['ratios'])}; the engine's own added work, target within 5%)")
    else:
        L.append("- pubinstr: no complete pair of runs (see raw.jsonl)")
a = extra.get("anfeed")
if a:
    if a.get("analyzers_us"):
        per = ", ".join(f"{k} {v:.1f}" for k, v in a["analyzers_us"].items())
        L.append(f"- anfeed (the engine's 4 events per intercepted connection, proxy.forge with both PEMs, {a['conns']} connections at {a['rate']}/s, "
                 f"{a['reps_complete']}/{a['reps']} reps complete): µs of CPU per connection: the recorder "
                 f"{a['recorder_us']:.1f}, the analyzers {a['analyzers_total_us']:.1f} ({per})")
    else:
        L.append(f"- anfeed: no complete rep of {a['reps']} (events lost or an analyzer died; see raw.jsonl)")
def kz_fill(k):
    """Whether a kz2019 row's key pool was full when its clock started."""
    if k['fill_s'] is None:
        return 'fill not recorded (a result from before the fill wait)'
    if k['fill_s'] < 0:
        return 'NOT full at the start: still generating after 30 s'
    return f"full at the start: it filled in {k['fill_s']:.1f} s"


for r in ("", "-ref"):
    ref = " (REF_BIN)" if r else ""
    c = extra.get("mitmlab-cold" + r)
    if c:
        L.append(f"- mitmlab distinct SNI, cold cache{ref} ({c['conns']}/{c['of']} conns, 4 client threads): {c['cpu_per_1000']:.2f} CPU-s/1000 (target ≤ 2.0)")
    k = extra.get("mitmlab-kz2019" + r)
    if k:
        L.append(f"- kz2019{ref} (RSA-2048 e=3 per host, key pool 32, {kz_fill(k)}): {k['conns']}/{k['of']} new hosts, {k['per_s']:.1f} forged certs/s (one per new host, 4 client threads), "
                 f"{k['cpu_per_1000']:.0f} CPU-s/1000; first-connection latency for a new host p50 {f(k['p50_ms'],'{:.1f}')} ms, p99 {f(k['p99_ms'],'{:.1f}')} ms "
                 f"(median of the first 8 new hosts: {f(k['first_ms'],'{:.1f}')} ms)")
k = extra.get("mitmlab-kz2019-2cores")
if k:
    L.append(f"- kz2019 with the engine on both cores (a key-generator thread per core; the client and origin share core 0), "
             f"{kz_fill(k)}: "
             f"{k['conns']}/{k['of']} new hosts, {k['per_s']:.1f} forged certs/s, first-connection latency for a new host p50 "
             f"{f(k['p50_ms'],'{:.1f}')} ms, p99 {f(k['p99_ms'],'{:.1f}')} ms")
for k in ("latpair", "latpair-ref"):
    e = extra.get(k)
    if e:
        L.append(f"- {k}{' (REF_BIN)' if k.endswith('-ref') else ''}: {e['n']} direct/intercepted pairs interleaved x {len(e['reps'])} reps: "
                 f"direct p50 {f(e['direct_p50_ms'],'{:.2f}')} / p99 {f(e['direct_p99_ms'],'{:.2f}')} ms, "
                 f"intercepted p50 {f(e['proxy_p50_ms'],'{:.2f}')} / p99 {f(e['proxy_p99_ms'],'{:.2f}')} ms; "
                 f"added p50 {f(e['added_p50_ms'],'{:+.2f}')} ms (≤ +2), p99 {f(e['p99_vs_direct'],'{:.2f}')}× direct (≤ 2×); "
                 f"per connection the proxy ran {f(e['slices_per_conn'],'{:.1f}')} times, {f(e['cpu_ms_per_conn'],'{:.2f}')} ms CPU, and waited "
                 f"{f(e['runq_ms_per_conn'],'{:.2f}')} ms for a CPU (other load on its core)")
def cn(dn):
    m = re.search(r"CN=([^,/]+)", dn)
    return m.group(1) if m else dn
def pctf(x):
    return f"{x * 100:.0f}%" if x is not None else "—"
for k in ("latload", "latload-ref"):
    e = extra.get(k)
    why = next((x["why"] for x in recs if x["row"] == k and x["kind"] == "na"), None)
    if why:
        L.append(f"- {k}: not measured: {why}")
    elif e:
        d, p = e["direct"], e["proxy"]
        # a failed connection is not a sample: counted per side, by outcome ("no result": never reported)
        fails = ", ".join(f"{name} {x['fail']} ({', '.join(f'{o} {n}' for o, n in sorted(x['fail_by'].items()))})"
                          for name, x in (("direct", d), ("intercepted", p)) if x["fail"])
        p999 = (f", p999 {f(d['p999_ms'],'{:.2f}')} / {f(p['p999_ms'],'{:.2f}')} ms direct / intercepted"
                if d["p999_ms"] is not None and p["p999_ms"] is not None else "")
        L.append(f"- {k}{' (REF_BIN)' if k.endswith('-ref') else ''}: open-loop {e['rate']}/s (half the intercepted capacity "
                 f"measured by the first latload row, or LL_RATE; this row's burst: {e['capacity_hs_per_s']:.0f} hs/s), {d['segments']}+{p['segments']} segments of 2 s alternating D I I D…, "
                 f"{d['samples']} / {p['samples']} samples direct / intercepted (latency = t_total: new connection + TLS 1.3 + GET + "
                 f"full response): direct p50 {f(d['p50_ms'],'{:.2f}')} / p99 {f(d['p99_ms'],'{:.2f}')} ms, intercepted p50 "
                 f"{f(p['p50_ms'],'{:.2f}')} / p99 {f(p['p99_ms'],'{:.2f}')} ms{p999}; added p50 {f(e['added_p50_ms'],'{:+.2f}')} ms (≤ +2), "
                 f"p99 {f(e['p99_vs_direct'],'{:.2f}')}× direct (≤ 2×); medians of the segments' p50 / p99: added p50 "
                 f"{f(e['seg_added_p50_ms'],'{:+.2f}')} ms, p99 {f(e['seg_p99_vs_direct'],'{:.2f}')}×; failed connections "
                 f"{fails or 'none'}; chains ended at {' / '.join(', '.join(f'{cn(r)} ×{n}' for r, n in x.get('root_subjects', {}).items()) or '—' for x in (d, p))} "
                 f"(direct / intercepted); per intercepted connection the proxy ran "
                 f"{f(e['proxy_slices_per_conn'],'{:.1f}')} times, {f(e['proxy_cpu_ms_per_conn'],'{:.2f}')} ms CPU, and waited "
                 f"{f(e['proxy_runq_ms_per_conn'],'{:.2f}')} ms for a CPU (over the intercepted segments it used "
                 f"{pctf(e['proxy_cpu_share'])} of its core and waited {pctf(e['proxy_runq_share'])} of the time"
                 f"{': other load on its core, so these figures are the machine’s as much as the proxy’s' if (e['proxy_runq_share'] or 0) > 0.1 else ''}); "
                 f"core 0 (client, origin and their kernel work) busy {pctf(d.get('core0_busy_share'))} / {pctf(p.get('core0_busy_share'))} direct / intercepted, "
                 f"the client's own CPU {f(d.get('client_cpu_us_per_conn'),'{:.0f}')} / {f(p.get('client_cpu_us_per_conn'),'{:.0f}')} µs per connection")
for k in ("idle", "idle-ref"):
    i = extra.get(k)
    if i:
        rel = f", {i['rss_released_kib']/1024:.1f} MiB after they closed" if i.get("rss_released_kib") else ""
        L.append(f"- idle intercepted connections{' (REF_BIN)' if k.endswith('-ref') else ''}: {i['conns']} open, RSS {i['rss_before_kib']/1024:.1f} → {i['rss_after_kib']/1024:.1f} MiB = "
                 f"{f(i['kib_per_conn'],'{:.1f}')} KiB per connection (target ≤ 30 KiB at 10k){rel}")
for k in ("churn", "churn-ref"):
    i = extra.get(k)
    if i:
        L.append(f"- churn{' (REF_BIN)' if k.endswith('-ref') else ''}: {i['ok']}/{i['conns']} intercepted connections in 5 steps, RSS MiB "
                 f"{' → '.join(f'{v/1024:.1f}' for v in i['rss_kib'])}; growth after the first step "
                 f"{f(i['growth_after_first_step_kib'],'{:+.0f}')} KiB (target: none)")
n = extra.get("netq")
if n:
    L.append(f"- packet plane (mitmlab netq, all port-80 packets queued, MSS-sized): peak {f(n['pkts_per_s_peak'])} packets/s (net.stats), "
             f"{f(n['MBps'])} MB/s bulk HTTP through it, {f(n['cpu_per_GB'],'{:.2f}')} CPU-s/GB")
if sp:
    L.append(f"- openssl speed (cpu 1): X25519 {f(sp.get('x25519_per_s'))}/s, P-256 sign {f(sp.get('p256_sign_per_s'))}/s verify "
             f"{f(sp.get('p256_verify_per_s'))}/s, AES-128-GCM {f(sp.get('aes128gcm_MBps'))} MB/s (16 KiB) → bound about "
             f"{f(sp.get('bound_hs_per_s'))} intercepted hs/s and {f(sp.get('bound_relay_MBps'))} MB/s relayed on one core")
# every row that was not measured says why, including those the lines above do not show
shown = {r["row"] for r in rows} | {k for k in ("latload", "latload-ref")}
for x in recs:
    if x["kind"] == "na" and x["row"] not in shown:
        shown.add(x["row"])
        L.append(f"- {x['row']}: not measured: {x['why']}")
md = "\n".join(L) + "\n"
open(os.path.join(out, "bench.md"), "w").write(md)
print(md)
print(f"written: {out}/bench.json {out}/bench.md")
