#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check_run.py RUN_DIR — assert a scenario run's expected observables from events.jsonl.

Expectations are derived from the run's own ground truth (the lab.truth.scenario event the
runner publishes: targets, rules, gateway settings, clients and their trust) — never from
logs. Checks:
  * every event has the contract keys; per-source sequence numbers have no gaps; the bus
    recorder saw no invalid message and counted no gap; nothing but the analyzers' and the
    recorder's events follows lab.run.end;
  * the gateway's decision per flow is exactly what the targets/rules say (intercept only the
    targeted SNI set, splice everything else, block what the rules block);
  * every client connection ends with the outcome class its trust store implies;
  * scenario specifics (kz-2019: the iqala.kz forged leaf is named iqala.kz; the interceptor's
    upstream ClientHello is TLS 1.2 with 13 suites; vendor-block: blocked-root; an expired
    chain (isca-2024): clients with the national root see "certificate has expired");
  * no PEM private key anywhere in the run directory outside pki/;
  * the lab's namespaces are gone.
Prints one line per check and "N passed, M failed"; exits 1 on any failure.
"""
import json, os, re, subprocess, sys, tempfile, urllib.parse

from checklib import check, finish

run = sys.argv[1]


events = [json.loads(l) for l in open(os.path.join(run, "events.jsonl"))]
manifest = json.load(open(os.path.join(run, "manifest.json")))
by = {}
for e in events:
    by.setdefault(e.get("t"), []).append(e)
truth = (by.get("lab.truth.scenario") or [None])[0]
if not check("ground truth recorded", truth is not None):
    finish()
name = truth["scenario"]

# -- the bus: contract keys, no lost events
bad = [e for e in events if not all(k in e for k in ("v", "t", "ts", "src"))]
check("every event has v, t, ts, src", not bad, str(bad[:1]))
seqs = {}
for e in events:
    if "seq" in e and e["src"] != "bus":
        seqs.setdefault(e["src"], []).append(e["seq"])
gaps = {s: l for s, l in seqs.items() if sorted(l) != list(range(len(l)))}
check(f"no event lost: {len(seqs)} sources, sequence numbers without gaps", not gaps,
      ", ".join(f"{s}: {len(l)} events, max seq {max(l)}" for s, l in gaps.items()))
bs = by.get("bus.stats", [])
check("recorder saw no invalid message and no gap",
      bool(bs) and bs[-1].get("invalid", 0) == 0 and bs[-1].get("gaps", 0) == 0,
      json.dumps(bs[-1]) if bs else "no bus.stats")
# tail loss is invisible to sequence gaps: each client and origin ends with a last event
# (client.summary, origin.stop) whose seq must be its source's count - 1
counts = {}
for e in events:
    counts[e["src"]] = counts.get(e["src"], 0) + 1
lasts = {e["src"]: e for e in by.get("client.summary", []) + by.get("origin.stop", [])}
want_last = {c["src"] for c in truth["clients"] if c["tool"] != "probe-ttl"} | \
    {"origin." + o["name"] for o in truth["origins"]}
short = sorted(s for s in want_last if s not in lasts or lasts[s].get("seq") != counts[s] - 1)
check(f"no event lost at the end: every client and origin's last event arrived ({len(want_last)})",
      not short, ", ".join(f"{s}: {counts.get(s, 0)} events, last {'seq %s' % lasts[s].get('seq') if s in lasts else 'missing'}"
                           for s in short[:4]))
starts, ends = by.get("lab.run.start", []), by.get("lab.run.end", [])
check("run start and end recorded", len(starts) == 1 and len(ends) == 1)
# analyzers stop reading at lab.run.end: only their own events and the recorder's may follow
if ends:
    at = next(i for i, e in enumerate(events) if e.get("t") == "lab.run.end")
    late = [e for e in events[at + 1:] if not e["src"].startswith("analyzer.") and e["src"] != "bus"]
    check("lab.run.end recorded after every lab event", not late,
          f"{len(late)} after it, first: {late[0]['t']} from {late[0]['src']}" if late else "")


# -- the policy the scenario declares
def pat_match(p, sni):
    p, sni = p.lower(), (sni or "").lower()
    return sni.endswith(p[1:]) and sni != p[2:] if p.startswith("*.") else p == sni


import ipaddress


def in_dst_targets(ip):
    return any(ipaddress.ip_address(ip) in ipaddress.ip_network(c) for c in truth.get("target_dst", []))


def site_cert(sni, dst_ip=None):
    """How the certificate the server answers sni with was issued (a site's `cert`): the
    origin at dst_ip (else any origin serving sni), its site for sni, else its first site."""
    origins = [o for o in truth["origins"] if dst_ip is None or o["addr"] == dst_ip]
    for o in origins:
        for st in o.get("sites", []):
            if any(pat_match(n, sni) for n in st["names"]):
                return st["cert"]
    if dst_ip is not None and origins and origins[0].get("sites"):
        return origins[0]["sites"][0]["cert"]
    return "valid"


def expected_action(sni, dst_ip=None):
    act = policy_action(sni, dst_ip)
    # KZ-FACTS trigger (3): intercept only when the server's certificate is valid (for any
    # name); the engine checks the upstream chain and splices the rest
    if act == "intercept" and truth.get("require_valid_upstream") and site_cert(sni, dst_ip) != "valid":
        return "splice"
    return act


def policy_action(sni, dst_ip=None):
    if not truth["intercept"]:
        return None
    if truth.get("target_dst") and truth.get("packet_plane"):
        # diversion by destination at SYN time: only those flows reach the engine
        if dst_ip is not None and not in_dst_targets(dst_ip):
            return None
        if dst_ip is not None:
            return "intercept"
    for r in truth["rules"]:
        act, m = r.split(None, 1)
        if m.startswith("sni=") and pat_match(m[4:], sni):
            return act
    if any(pat_match(t, sni) for t in truth["targets"]):
        return "intercept"
    return truth["default"]


opens = by.get("proxy.conn.open", [])
if truth.get("target_dst") and truth.get("packet_plane"):
    outside = [e for e in by.get("proxy.conn.open", []) if not in_dst_targets(e["dst"]["ip"])]
    check("only flows to the targeted destinations reached the engine", not outside,
          str([(e.get("sni"), e["dst"]["ip"]) for e in outside[:3]]))
    nf = [e for e in by.get("net.flow", []) if e.get("vantage", "gateway") == "gateway"]
    div = {e["flow"] for e in nf if e.get("diverted")}
    check("the packet plane diverted exactly the flows to targeted destinations",
          nf and all(bool(e.get("diverted")) == in_dst_targets(e["flow"].split(">")[1].rsplit(":", 1)[0])
                     for e in nf if e["flow"].split(">")[1].endswith(":443") and e.get("on_path", True)
                     and e["flow"].split(":")[0] in {c["addr"] for c in truth["clients"]}),
          f"{len(div)} diverted of {len(nf)}")
if not truth["intercept"]:
    # (the packet plane reports its own packets/s as proxy.stats with component "netq")
    check("no interception at all (no proxy.* event but the packet plane's proxy.stats)",
          not [e for e in events if e["t"].startswith("proxy.") and e["t"] != "proxy.stats"])
else:
    wrong = [(e.get("sni"), e["action"], expected_action(e.get("sni"), e["dst"]["ip"])) for e in opens
             if e["action"] != expected_action(e.get("sni"), e["dst"]["ip"])]
    check(f"gateway decisions match the targets and rules ({len(opens)} flows)", opens and not wrong,
          str(wrong[:5]))
    inter = {e.get("sni") for e in opens if e["action"] == "intercept"}
    exp = {e.get("sni") for e in opens if expected_action(e.get("sni"), e["dst"]["ip"]) == "intercept"}
    check(f"exactly the targeted SNI set is intercepted ({len(inter)} names)", inter == exp,
          f"intercepted {sorted(inter)} expected {sorted(exp)}")
    closes = {e["flow"] for e in by.get("proxy.conn.close", [])}
    check("every diverted flow was closed and accounted",
          all(e["flow"] in closes for e in opens), f"{len(opens)} opens, {len(closes)} closes")


# -- client outcomes from the trust each client has
clients = {c["src"]: c for c in truth["clients"] if c["tool"] != "probe-ttl"}
origin_hosts = {o["name"]: set(o["hosts"]) for o in truth["origins"]}


def plain_redirect(host):
    """The packet plane's redirect URL for a plain-HTTP request to host, or None."""
    for im in truth.get("impair", []):
        act, m = im.split(None, 1)
        if act.startswith("redirect:") and m.startswith("sni=") and pat_match(m[4:], host):
            return act[len("redirect:"):]
    return None


def client_action(c, sni, server_ip):
    """expected_action for client c's connection: none when its path does not cross the
    gateway (KZ-FACTS trigger 2: client and server on the same side)."""
    at = [o for o in truth["origins"] if o["addr"] == server_ip]
    if at and at[0]["side"] == c["side"]:
        return None
    return expected_action(sni, server_ip)


def expected_outcome(c, sni, server_ip):
    act = client_action(c, sni, server_ip)
    own = [o for o in truth["origins"] if sni in o["hosts"]]
    mismatch = bool(own) and server_ip is not None and server_ip not in [o["addr"] for o in own]
    if act in ("block-timeout",):
        return {"timeout"}
    if act in ("block-reset",):
        return {"reset"}
    kind = site_cert(sni, server_ip)
    if act == "intercept":
        # a profile that checks the upstream itself ends the flow (mitmproxy) or signs with
        # an untrusted CA of its own (Squid), so the client sees an error either way
        if kind != "valid" and truth["forging"] == "mitmproxy":
            return {"handshake-failure", "reset"}
        if kind != "valid" and truth["forging"] == "squid":
            return {"cert-untrusted"}
        # the rest forge a certificate whatever the origin's was: sslsplit masks its error
        if "national" not in c["trust"]:
            return {"cert-untrusted"}
        if truth["chain"] == "expired":
            return {"cert-untrusted"}
        if c["block_national"]:
            return {"blocked-root"}
        return {"hostname-mismatch"} if mismatch else {"ok"}
    if mismatch:
        return {"hostname-mismatch"}
    return {"ok"} if kind == "valid" else {"cert-untrusted"}


results = by.get("client.result", [])
want = sum(1 for c in truth["clients"])
seen = {e["src"] for e in results}
check(f"every client reported ({len(seen)}/{want})", seen == set(clients), str(set(clients) - seen))
wrong = []
plain = [e for e in results if e.get("tls") is False]
for e in results:
    c = clients.get(e["src"])
    if c is None:
        continue
    if e.get("tls") is False:	# plain HTTP: only the packet plane's redirect can touch it
        to = plain_redirect(urllib.parse.urlsplit(e["url"]).hostname)
        exp = {"redirect"} if to else {"ok"}
        if e.get("outcome") not in exp or (to and e.get("location") != to):
            wrong.append((e["src"], e["url"], e.get("outcome"), sorted(exp), e.get("location")))
        continue
    exp = expected_outcome(c, e.get("sni"), (e.get("server") or {}).get("ip"))
    if e.get("outcome") not in exp:
        wrong.append((e["src"], e.get("sni"), e.get("outcome"), sorted(exp), e.get("error")))
check(f"every client outcome is the one its trust implies ({len(results)} connections)",
      results and not wrong, "; ".join(map(str, wrong[:6])) + (f" (+{len(wrong) - 6})" if len(wrong) > 6 else ""))
if truth["chain"] == "expired":
    # isca-2024: the EXPIRED intermediate signs the forged leaves and is served after them, so
    # a client that trusts the national root fails on the intermediate's date (OpenSSL's
    # X509_V_ERR_CERT_HAS_EXPIRED text in client.result's verify_error), not on a signature
    # or a missing issuer
    nat = [e for e in results if e.get("tls") is not False and e["src"] in clients
           and "national" in clients[e["src"]]["trust"]
           and expected_action(e.get("sni"), (e.get("server") or {}).get("ip")) == "intercept"]
    bad = [(e["src"], e.get("sni"), e.get("verify_error")) for e in nat
           if e.get("verify_error") != "certificate has expired"]
    check(f"expired chain: intercepted connections of clients trusting the national root fail "
          f"with verify_error \"certificate has expired\" ({len(nat)})", nat and not bad,
          str(bad[:4]) + (f" (+{len(bad) - 4})" if len(bad) > 4 else ""))
    # OpenSSL reports the intermediate's date before it checks the leaf's signature, so the
    # text alone would also pass a leaf signed by another key: every connection's served
    # intermediate must be ca.json's issuer_expired, and it must have signed the leaf
    ca = json.load(open(os.path.join(run, "pki", "national", "ca.json")))
    exp_sha = [c["sha256"] for c in ca["certs"] if c["role"] == ca.get("issuer_expired")]

    def signed_by(leaf, inter):
        with tempfile.TemporaryDirectory() as d:
            for fn, pem in (("i.pem", inter), ("l.pem", leaf)):
                with open(os.path.join(d, fn), "w") as f:
                    f.write(pem)
            return subprocess.run(["openssl", "verify", "-partial_chain", "-no_check_time",
                                   "-CAfile", os.path.join(d, "i.pem"), os.path.join(d, "l.pem")],
                                  capture_output=True).returncode == 0
    bad = [(e["src"], e.get("sni")) for e in nat
           if len(e.get("chain_pem") or []) < 2 or (e.get("chain_sha256") or [None, None])[1] not in exp_sha
           or not signed_by(e["chain_pem"][0], e["chain_pem"][1])]
    check(f"expired chain: the served intermediate is the expired one ({ca.get('issuer_expired')}) "
          f"and signed each forged leaf ({len(nat)})", nat and exp_sha and not bad, str(bad[:4]))
if name == "baseline":
    check("baseline: zero client failures", results and all(e["outcome"] == "ok" for e in results))
if name == "kz-2020":
    red = [e for e in plain if e.get("outcome") == "redirect"]
    check(f"kz-2020: plain HTTP to targeted names is redirected to the install page ({len(red)} of "
          f"{len(plain)} plain requests)", red and all(e["location"] == "http://qca.kz/" for e in red))
    page = [e for e in plain if urllib.parse.urlsplit(e["url"]).hostname == "qca.kz"]
    check("kz-2020: the install page and its /root.crt are served (ok)",
          page and all(e["outcome"] == "ok" for e in page) and
          any(e["url"].endswith("/root.crt") for e in page))
if name == "corporate":
    masked = [e for e in results if e.get("sni") == "legacy.example.com"]
    check(f"corporate: the origin's expired certificate is masked by the forged one ({len(masked)} "
          "connections of managed devices, all ok)", masked and all(e["outcome"] == "ok" for e in masked))
if name == "kz-2019":
    bad = [e for e in results if e.get("sni") in ("rukoeb.com", "sosalkino.tv")]
    check(f"kz-2019: targeted names with an invalid own certificate are spliced, so the client "
          f"sees that certificate's error ({len(bad)} connections)",
          bad and all(e["outcome"] == "cert-untrusted" for e in bad) and
          {o["action"] for o in opens if o.get("sni") in ("rukoeb.com", "sosalkino.tv")} == {"splice"})
    off = [e for e in results if e["src"] == "client.abroad-direct"]
    check(f"kz-2019: a client abroad reaching a server abroad is off the path, not intercepted "
          f"({len(off)} connections)", off and all(e["outcome"] == "ok" for e in off) and
          not [o for o in opens if o.get("sni") == "www.facebook.com" and
               o["client"]["ip"] in {c["addr"] for c in truth["clients"] if c["name"] == "abroad-direct"}])
if name == "vendor-block":
    blocked = [e for e in results if expected_action(e.get("sni")) == "intercept"]
    check("vendor-block: every intercepted flow fails as blocked-root",
          blocked and all(e["outcome"] == "blocked-root" for e in blocked))
    check("vendor-block: untargeted sites still work",
          all(e["outcome"] == "ok" for e in results if expected_action(e.get("sni")) != "intercept"))

# -- TTL-limited probes (tool: probe-ttl) find the gateway at the hop the scenario put it
topo = (by.get("lab.truth.topology") or [{}])[0].get("nodes", [])
chain = sorted((n for n in topo if n["role"] in ("router", "gateway")), key=lambda n: n["hop"])
gw_hop = [n["hop"] for n in chain if n["role"] == "gateway"]
for c in truth["clients"]:
    if c["tool"] != "probe-ttl":
        continue
    pr = [e for e in by.get("probe.ttl", []) if e["src"].startswith("probe." + c["name"] + ".")]
    node = [n for n in topo if n["name"] == "c-" + c["name"]]
    # hop 1 is the first router the client's packets meet: the chain end on the client's side
    exp_hop = None
    if gw_hop and node:
        exp_hop = gw_hop[0] + 1 if node[0]["side"] == "inside" else len(chain) - gw_hop[0]
    check(f"probe-ttl {c['name']}: one probe.ttl per URL ({len(pr)}/{len(c.get('urls', []))})",
          len(pr) == len(c.get("urls", [])) and len(pr) > 0)
    wrong = []
    for e in pr:
        inter = truth["intercept"] and expected_action(e["host"], e["connect"].rsplit(":", 1)[0]) == "intercept"
        if inter and (not e.get("intercepted") or e.get("injection_hop") != exp_hop):
            wrong.append((e["host"], e.get("injection_hop"), exp_hop))
        if not inter and (e.get("intercepted") or e.get("injection_hop") is not None):
            wrong.append((e["host"], e.get("injection_hop"), None))
    check(f"probe-ttl {c['name']}: targeted hosts injected at hop {exp_hop} (the gateway), "
          "untargeted ones not at all", pr and exp_hop and not wrong, str(wrong))


def pem_field(pem, opt):
    r = subprocess.run(["openssl", "x509", "-noout", opt], input=pem.encode(), capture_output=True)
    return r.stdout.decode().strip()


forges = by.get("proxy.forge", [])
if name == "kz-2019":
    iq = [o for o in truth["origins"] if o["name"] == "iqala"][0]["addr"]
    fl = {e["flow"] for e in opens if e.get("sni") == "facebook.com" and e["dst"]["ip"] == iq}
    f = [x for x in forges if x["flow"] in fl]
    check("iqala.kz case: SNI facebook.com to the iqala.kz server was intercepted", bool(f))
    check("iqala.kz case: the forged leaf is named iqala.kz",
          bool(f) and all(re.search(r"CN ?= ?iqala\.kz", pem_field(x["forged_pem"], "-subject")) for x in f),
          pem_field(f[0]["forged_pem"], "-subject") if f else "")
    check("kz2019 forging: RSA-2048 keys with e=3",
          forges and all(x.get("key_bits") == 2048 and x.get("key_exponent") == 3 for x in forges))
    # the upstream leg's flow id as the origin writes it (source ports are reused across origins)
    up = {"%s:%s>%s:%s" % (e["upstream"]["ip"], e["upstream"]["port"], e["dst"]["ip"], e["dst"]["port"])
          for e in opens if e["action"] == "intercept" and e.get("upstream")}
    hellos = [h for h in by.get("origin.hello", []) if h.get("flow") in up]
    def ja3_fields(h):
        return (h.get("ja3_str") or ",,").split(",")
    # every leg has a hello and every hello is the kz2019 one (a leg id seen twice, when the
    # gateway reuses a source port towards the same origin, has two)
    missing = sorted(up - {h.get("flow") for h in hellos})
    other = [h for h in hellos if ja3_fields(h)[0] != "771" or len(ja3_fields(h)[1].split("-")) != 13]
    check(f"origins saw the interceptor's kz2019 ClientHello on all {len(up)} upstream legs (TLS 1.2, 13 suites)",
          hellos and not missing and not other,
          f"{len(hellos)} hellos for {len(up)} legs; legs without one: {missing[:3]}; "
          f"other hellos: {[(h.get('flow'), h.get('ja3_str')) for h in other[:2]]}")
if name == "mitmproxy-like":
    check("mitmproxy forging: leaf key is the CA's key", forges and all(x.get("key_strategy") == "ca" for x in forges))
if name == "corporate":
    keys = {pem_field(x["forged_pem"], "-pubkey") for x in forges}
    check("sslsplit forging: one leaf key for every host", forges and len(keys) == 1, f"{len(keys)} keys")

# -- analyzers that ran live delivered their results
for a in truth.get("analyzers", []):
    path = os.path.join(run, "results", a + ".json")
    res = json.load(open(path)) if os.path.exists(path) else {}
    check(f"live analyzer {a} delivered results/{a}.json",
          (res.get("delivery") or {}).get("status") == "ok", str(res.get("delivery")))
if "truth" in truth.get("analyzers", []) and os.path.exists(os.path.join(run, "results", "truth.json")):
    tv = json.load(open(os.path.join(run, "results", "truth.json"))).get("verdicts", [])
    client_flows = {e.get("flow") for e in results} - {None}	# a run that never connected has none
    n_int = len({e["flow"] for e in opens if e["action"] == "intercept"} & client_flows)
    check(f"truth analyzer: {n_int} intercepted client flows, as the engine says",
          sum(1 for v in tv if v.get("intercepted")) == n_int)
if "detect-chain" in truth.get("analyzers", []):
    dv = {v["flow"]: v for v in json.load(open(os.path.join(run, "results", "detect-chain.json"))).get("verdicts", [])}
    noroot = {c["src"] for c in truth["clients"] if "national" not in c["trust"] and c["tool"] == "mitmlab"}
    miss = [e["flow"] for e in results if e["src"] in noroot and
            client_action(clients[e["src"]], e.get("sni"), (e.get("server") or {}).get("ip")) == "intercept"
            and not (dv.get(e["flow"]) or {}).get("intercepted")]
    check("detect-chain flags every intercepted flow of clients without the national root", not miss, str(miss[:3]))

# -- private keys only in pki/
leaks = []
for root, dirs, files in os.walk(run):
    if os.path.relpath(root, run).split(os.sep)[0] == "pki":
        continue
    for fn in files:
        p = os.path.join(root, fn)
        try:
            if b"PRIVATE KEY-----" in open(p, "rb").read():
                leaks.append(os.path.relpath(p, run))
        except OSError:
            pass
check("no PEM private key outside pki/", not leaks, str(leaks))
check("pki/ holds no private key without --keep-keys",
      manifest.get("keep_keys") or not any(fn.endswith(".key") for _, _, fs in os.walk(os.path.join(run, "pki")) for fn in fs))

# -- the manifest names the libraries as loaded (the versions they report, not constants)
libs = manifest.get("libraries", {})
check("manifest.libraries names each library's version",
      sorted(libs) == ["jansson", "libcyaml", "libevent", "libpcap", "nghttp2", "openssl", "zeromq"]
      and all(re.search(r"\d+\.\d+", v or "") for v in libs.values())
      and re.fullmatch(r"\d+\.\d+\.\d+", libs.get("zeromq", "")) is not None, str(libs))

# -- the lab is gone
ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
check("the lab's namespaces are gone", f"ml{manifest['lab_id']}-" not in ns)
finish()
