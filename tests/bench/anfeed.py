#!/usr/bin/python3
"""anfeed.py --in ENDPOINT --count N --rate R --pem FILE: publish the engine's four events of
N intercepted connections (proxy.conn.open, proxy.upstream, proxy.forge, proxy.conn.close, as
mitmlab proxy publishes them for a TLS 1.3 client through the mitmproxy profile, with the
certificate cache warm) to a bus input, R connections per second, each with its own flow;
then print the number of messages sent. proxy.forge goes out on a cache hit too, with the
origin's and the forged certificate's PEM: FILE (a certificate, the bench's origin leaf)
stands in for both, as the two are of about the same size.

The bench's "anfeed" row feeds these to the bus recorder with every analyzer attached and
reads what each one spent per connection, which pubpair can only give as a sum. Bounded: at
most 100,000 connections and 60 s. Debian's python3-zmq (run it with /usr/bin/python3)."""
import argparse
import hashlib
import json
import sys
import time

import zmq

# The engine's events with the keys of a recorded kz-2019 run's and the values of an
# intercepted TLS 1.3 connection (so they drift if the engine's events change: compare with a
# run's events.jsonl); flow, client, ts and seq are filled in per connection.
JA3 = ("771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-"
       "49187-49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,"
       "0-11-10-35-16-22-23-13-43-45-51,29-23-30-25-24-256-257-258-259-260,0-1-2")
OPEN = {"v": 1, "t": "proxy.conn.open", "dst": {"ip": "10.88.2.2", "port": 443},
        "upstream": {"ip": "10.88.1.1", "port": 40000}, "sni": "bench.example",
        "action": "intercept", "why": "default", "ja3": "5a1edc7f170af1014fc65c994878e63c",
        "ja3_str": JA3, "ja4": "t13d3111h2_e8f1e7e78f70_1f22a2ca17c4", "alpn": ["http/1.1"],
        "hello_version": "0x0304", "hello_record_version": "0x0301", "mode": "redirect",
        "worker": "w0", "src": "proxy.w0"}
UPSTREAM = {"v": 1, "t": "proxy.upstream", "hello": "mitmproxy", "version": "TLSv1.3",
            "cipher": "TLS_AES_256_GCM_SHA384", "alpn": "http/1.1", "verify": "ok",
            "verify_code": 0, "resumed": False, "verdict": "intercept", "hs_upstream_us": 900,
            "worker": "w0", "src": "proxy.w0"}
# proxy.forge on a cache hit: the per-connection keys, then the forgery's facts (orig_pem,
# orig_sha256, forged_pem, forged_sha256, key_bits, key_exponent), filled in by main()
FORGE = {"v": 1, "t": "proxy.forge", "profile": "mitmproxy", "key_strategy": "ca",
         "cache_hit": True, "forge_us": 0, "key_waited": False, "src": "proxy.w0"}
CLOSE = {"v": 1, "t": "proxy.conn.close", "action": "intercept", "bytes_c2s": 75,
         "bytes_s2c": 612, "hs_client_us": 1100, "hs_upstream_us": 900, "duration_us": 4200,
         "reason": "eof-client", "error": None, "phase": "relay", "worker": "w0",
         "src": "proxy.w0"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="ep", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--pem", required=True)
    a = ap.parse_args()
    pem = open(a.pem).read()
    digest = hashlib.sha256(pem.encode()).hexdigest()
    forge = dict(FORGE, orig_pem=pem, orig_sha256=digest, forged_pem=pem, forged_sha256=digest,
                 key_bits=256, key_exponent=None)
    n = max(1, min(a.count, 100000))
    rate = max(1, a.rate)
    ctx = zmq.Context()
    s = ctx.socket(zmq.PUB)
    s.setsockopt(zmq.SNDHWM, 0)
    s.setsockopt(zmq.LINGER, 5000)
    s.connect(a.ep)
    time.sleep(0.5)             # the bus's subscriptions reach us
    t0 = time.monotonic()
    ts0 = time.time_ns()
    seq = sent = 0
    for i in range(n):
        # 10.77.X.Y:PORT>10.88.2.2:443, unique per connection
        cport = 1024 + i % 60000
        cip = "10.77.%d.%d" % (i // 60000 // 250 % 250, 2 + i // 60000 % 250)
        flow = "%s:%d>10.88.2.2:443" % (cip, cport)
        for tpl in (UPSTREAM, forge, OPEN, CLOSE):
            e = dict(tpl, flow=flow, ts=ts0 + seq * 1000, seq=seq)
            if tpl is OPEN:
                e["client"] = {"ip": cip, "port": cport}
            s.send_multipart([e["t"].encode(), json.dumps(e, separators=(",", ":")).encode()])
            seq += 1
            sent += 1
        ahead = (i + 1) / rate - (time.monotonic() - t0)
        if ahead > 0.002:       # sleep in steps the scheduler can keep
            time.sleep(ahead)
        if time.monotonic() - t0 > 60:
            print("anfeed: stopped at 60 s after %d connections" % (i + 1), file=sys.stderr)
            break
    s.close()
    ctx.term()
    print(sent)


if __name__ == "__main__":
    main()
