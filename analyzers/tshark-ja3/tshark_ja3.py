#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tshark-ja3 — an external tool as a detector ("kind": "capture" in analyzer.json).

Reads RUN/capture/client-*.pcap and RUN/capture/origin-*.pcap with tshark, and writes one JSON
line per verdict on stdout ({"flow", "intercepted", "confidence", "signal", "evidence", "at"}),
which the harness turns into RUN/results/tshark-ja3.json. A ClientHello that reaches an origin
with a JA3 that no client sent was written by something in the middle: the interceptor's own
upstream handshake.

Mapping an origin-side ClientHello back to a client flow ("CLIENTIP:CPORT>DSTIP:DPORT"):
the same 4-tuple when the middlebox keeps the client's address (TPROXY-style); otherwise
(REDIRECT: the upstream leg starts at the gateway) the earliest not yet matched client
ClientHello to the same server address and SNI sent before it — with the same JA3 when the
origin saw a known JA3 (a spliced flow), any JA3 otherwise. Client flows no origin hello maps to
get no verdict. Pure function of the pcaps: the same run gives the same lines.
"""
import glob
import json
import os
import subprocess
import sys

FIELDS = ["frame.time_epoch", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport",
          "tls.handshake.extensions_server_name", "tls.handshake.ja3"]


def hellos(pcap):
    """ClientHellos in a pcap: dicts with t (ns), flow, dst, sni, ja3."""
    cmd = ["tshark", "-n", "-r", pcap, "-T", "fields", "-Y", "tls.handshake.type==1"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    res = []
    for line in out.splitlines():
        p = line.split("\t")
        if len(p) < 7 or not p[6]:
            continue
        sec, _, frac = p[0].partition(".")
        t = int(sec) * 10**9 + int((frac + "000000000")[:9])
        res.append({"t": t, "flow": f"{p[1]}:{p[2]}>{p[3]}:{p[4]}", "dst": f"{p[3]}:{p[4]}",
                    "sni": p[5].split(",")[0], "ja3": p[6].split(",")[0]})
    return res


def main():
    run = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MITMLAB_RUN_DIR", ".")
    cap = os.path.join(run, "capture")
    clients = sorted((h for f in sorted(glob.glob(os.path.join(cap, "client-*.pcap")))
                      for h in hellos(f)), key=lambda h: (h["t"], h["flow"]))
    origins = sorted((h for f in sorted(glob.glob(os.path.join(cap, "origin-*.pcap")))
                      for h in hellos(f)), key=lambda h: (h["t"], h["flow"]))
    known = {h["ja3"] for h in clients}
    by_flow = {h["flow"]: h for h in clients}
    matched = set()
    for o in origins:
        c = by_flow.get(o["flow"])
        if c is None or c["flow"] in matched:
            cands = [h for h in clients if h["flow"] not in matched and h["dst"] == o["dst"]
                     and h["sni"] == o["sni"] and h["t"] <= o["t"]
                     and (o["ja3"] not in known or h["ja3"] == o["ja3"])]
            c = cands[0] if cands else None
        if c is None:
            continue
        matched.add(c["flow"])
        odd = o["ja3"] not in known
        print(json.dumps({"flow": c["flow"], "intercepted": odd, "confidence": 0.9 if odd else 0.6,
                          "signal": "ja3-unknown-at-origin" if odd else "ja3-matches-client",
                          "evidence": {"origin_flow": o["flow"], "origin_ja3": o["ja3"],
                                       "client_ja3": c["ja3"], "sni": o["sni"]},
                          "at": o["t"]}, sort_keys=True))
    print(f"tshark-ja3: {len(clients)} client hellos ({len(known)} JA3s), {len(origins)} at the "
          f"origins, {len(matched)} mapped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
