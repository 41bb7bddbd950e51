#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""report_synth.py RUN_DIR — turn a copy of a baseline run into a synthetic kz-2019-like run
for the report's tests while the interception engine is unavailable: for every client.result
whose SNI is a kz-2019 target, add the proxy.* events the engine would publish (conn.open with
action intercept and an upstream address, proxy.forge with the origin's real certificate and
a forgery made here with the openssl CLI: same subject and SAN, RSA-2048 e=3, validity shifted
6 hours, no other extension, signed by a throwaway CA), an origin.hello from the upstream
address with a TLS 1.2 / 13-suite fingerprint (the client's own hello on spliced flows, which
the engine also connects upstream), and proxy.stats ticks. The truth event is
switched to intercept. Marked "synthetic": true in every added event. Keys stay in a temp dir.
"""
import json, os, subprocess, sys, tempfile

run = sys.argv[1]
targets = [l.strip() for l in open(os.path.join(os.path.dirname(__file__), "../../scenarios/lists/kz-2019-domains.txt"))
           if l.strip() and not l.startswith("#")] if os.path.exists(
    os.path.join(os.path.dirname(__file__), "../../scenarios/lists/kz-2019-domains.txt")) else [
    "www.google.com", "google.com", "mail.google.com", "www.facebook.com", "facebook.com",
    "vk.com", "twitter.com", "www.youtube.com"]
ev = [json.loads(l) for l in open(os.path.join(run, "events.jsonl"))]
tmp = tempfile.mkdtemp()


def sh(*a, inp=None):
    return subprocess.run(a, input=inp, capture_output=True, check=True).stdout


sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
   "/C=KZ/CN=Security Certificate (synthetic)", "-keyout", f"{tmp}/ca.key", "-out", f"{tmp}/ca.pem")
sh("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
   "-pkeyopt", "rsa_keygen_pubexp:3", "-out", f"{tmp}/leaf.key")
forged = {}


def forge(host):
    if host in forged:
        return forged[host]
    sites = os.path.join(run, "pki/web/sites")
    cand = [f for f in os.listdir(sites) if f.endswith(".pem") and not f.endswith(".chain.pem")]
    # the origin certificate whose SAN covers host, else any
    orig = None
    for f in cand:
        txt = sh("openssl", "x509", "-in", os.path.join(sites, f), "-noout", "-ext", "subjectAltName").decode()
        if f"DNS:{host}" in txt:
            orig = os.path.join(sites, f)
            break
    orig = orig or os.path.join(sites, cand[0])
    subj = sh("openssl", "x509", "-in", orig, "-noout", "-subject", "-nameopt", "compat").decode().split("=", 1)[1].strip()
    san = sh("openssl", "x509", "-in", orig, "-noout", "-ext", "subjectAltName").decode().splitlines()[1].strip()
    san = san.replace("DNS:", "DNS:").replace(" ", "")
    sh("openssl", "req", "-new", "-key", f"{tmp}/leaf.key", "-subj", subj, "-out", f"{tmp}/leaf.csr")
    open(f"{tmp}/ext", "w").write(f"subjectAltName={san}\n")
    sh("openssl", "x509", "-req", "-in", f"{tmp}/leaf.csr", "-CA", f"{tmp}/ca.pem", "-CAkey", f"{tmp}/ca.key",
       "-set_serial", "0x" + sh("openssl", "rand", "-hex", "12").decode().strip(), "-days", "90",
       "-extfile", f"{tmp}/ext", "-out", f"{tmp}/forged.pem")
    forged[host] = (open(orig).read().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n",
                    open(f"{tmp}/forged.pem").read())
    return forged[host]


out = []
port = 40000
t0 = next(e["ts"] for e in ev if e["t"] == "lab.run.start")
for e in ev:
    if e["t"] == "lab.truth.scenario":
        e["intercept"] = True
        e["targets"] = targets
        e["scenario"] = "kz-2019"
    out.append(e)
    if e["t"] != "client.result":
        continue
    sni = e.get("sni")
    act = "intercept" if sni in targets else "splice"
    port += 1
    up = {"ip": "10.0.0.1", "port": port}
    out.append({"v": 1, "t": "proxy.conn.open", "ts": e["ts"] - 1000, "src": "proxy.w0", "flow": e["flow"],
                "client": e["client"], "dst": e["server"], "upstream": up, "sni": sni, "action": act,
                "why": "sni=" + sni if act == "intercept" else "default", "ja3": "d267d03ff23dcf63aad6fbd1c784f166",
                "ja3_str": "771,4865-4866", "ja4": "t13d1612h2_1711a4c0508c_e4c29a02ccbf", "hello_version": "TLSv1.3",
                "mode": "redirect", "synthetic": True})
    if act == "intercept":
        o, f = forge(sni)
        out.append({"v": 1, "t": "proxy.forge", "ts": e["ts"] - 900, "src": "proxy.w0", "flow": e["flow"],
                    "profile": "kz2019", "orig_pem": o, "forged_pem": f, "key_bits": 2048, "key_exponent": 3,
                    "key_strategy": "per-host", "cache_hit": False, "synthetic": True})
        out.append({"v": 1, "t": "origin.hello", "ts": e["ts"] - 800, "src": "origin.synthetic",
                    "flow": f"10.0.0.1:{port}>{e['server']['ip']}:443", "client": up,
                    "ja3": "6734f37431670b3ab4292b8f60f29984", "ja3_str": "771,49200-49196-49192-49188-49172-49162-159-107-57-52393-52392-52394-65413,0-11-10-13,29-23-24,0",
                    "ja4": "t12d1304h1_aaaaaaaaaaaa_bbbbbbbbbbbb", "hello_version": "TLSv1.2", "synthetic": True})
    else:
        # a spliced flow: in REDIRECT mode the engine opens the upstream connection too, and
        # the origin sees the client's own hello (relayed) from the engine's address
        out.append({"v": 1, "t": "origin.hello", "ts": e["ts"] - 800, "src": "origin.synthetic",
                    "flow": f"10.0.0.1:{port}>{e['server']['ip']}:443", "client": up,
                    "ja3": "d267d03ff23dcf63aad6fbd1c784f166", "ja3_str": "771,4865-4866",
                    "ja4": "t13d1612h2_1711a4c0508c_e4c29a02ccbf", "hello_version": "TLSv1.3",
                    "synthetic": True})
    out.append({"v": 1, "t": "proxy.conn.close", "ts": e["ts"] + 1000, "src": "proxy.w0", "flow": e["flow"],
                "action": act, "bytes_c2s": 300, "bytes_s2c": 3000, "hs_client_us": 900, "hs_upstream_us": 2000,
                "duration_us": 20000, "reason": "eof", "error": None, "phase": "relay", "synthetic": True})
for i in range(20):
    out.append({"v": 1, "t": "proxy.stats", "ts": t0 + i * 1_000_000_000, "src": "proxy.w0", "worker": "w0",
                "active": i % 5, "accepted": i * 4, "handshakes": i * 4, "forges": i, "bytes_c2s": i * 40000,
                "bytes_s2c": i * 400000, "cpu_s": i * 0.01, "rss_kb": 12000, "synthetic": True})
out.sort(key=lambda e: e["ts"])
with open(os.path.join(run, "events.jsonl"), "w") as f:
    for e in out:
        f.write(json.dumps(e) + "\n")
subprocess.run(["rm", "-rf", tmp])
