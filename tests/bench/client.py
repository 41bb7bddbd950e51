#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# client.py — the bench's small TLS clients (run inside the client namespace):
#   lat IP SNI N                 N sequential new connections (TLS 1.3 + GET / + full response);
#                                prints {"n","ok","p50_ms","p99_ms"}
#   cold IP DOMAIN N THREADS TAG N connections, each to a distinct SNI "TAG-i.DOMAIN", over THREADS
#                                threads; prints {"n","ok","wall_s","p50_ms","p99_ms","first_ms"}
#   idle IP SNI N HOLD_S READY   open N TLS connections (handshake done, no request), write the
#                                count to READY, hold them for at most HOLD_S seconds
#   pair IP SNI N                N pairs of sequential new connections, one direct (port 4443, not
#                                diverted) and one intercepted (port 443), in alternating order,
#                                so both see the same machine load; prints {"n","direct":{ok,p50_ms,
#                                p99_ms},"proxy":{...}}; with PAIR_DUMP=FILE also appends one JSON
#                                line per connection to FILE: [start (perf_counter s), port,
#                                connect ms, TLS handshake ms, request to full response ms]
# Every loop is bounded by its count and by a deadline.
import asyncio, json, os, socket, ssl, sys, threading, time

def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    c.minimum_version = ssl.TLSVersion.TLSv1_3
    return c

def one(c, ip, sni, timeout=10.0, port=443, phases=None):
    t0 = time.perf_counter()
    s = socket.create_connection((ip, port), timeout=timeout)
    try:
        t1 = time.perf_counter()
        t = c.wrap_socket(s, server_hostname=sni)
        t2 = time.perf_counter()
        t.sendall(f"GET / HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n".encode())
        got = b""
        while True:
            b = t.recv(65536)
            if not b:
                break
            got += b
        ok = got.startswith(b"HTTP/1.1 200")
        if phases is not None:
            t3 = time.perf_counter()
            phases.append((t0, port, (t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000))
        try:
            t.close()
        except OSError:
            pass
        return ok, (time.perf_counter() - t0) * 1000
    finally:
        s.close()

def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    return round(v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))], 3)

def lat(ip, sni, n, deadline=60):
    c, ms, ok = ctx(), [], 0
    end = time.time() + deadline
    for _ in range(n):
        if time.time() > end:
            break
        try:
            g, t = one(c, ip, sni)
            ok += g
            if g:
                ms.append(t)
        except OSError:
            pass
    print(json.dumps({"n": n, "ok": ok, "p50_ms": pct(ms, 50), "p99_ms": pct(ms, 99)}))

def cold(ip, domain, n, threads, tag, deadline=120):
    c, ms, first, lock = ctx(), [], [], threading.Lock()
    idx = iter(range(n))
    end = time.time() + deadline
    def work():
        while time.time() < end:
            with lock:
                i = next(idx, None)
            if i is None:
                return
            try:
                g, t = one(c, ip, f"{tag}-{i}.{domain}")
            except OSError:
                g, t = False, 0
            with lock:
                if g:
                    ms.append(t)
                    if i < 8:
                        first.append(t)
    t0 = time.perf_counter()
    th = [threading.Thread(target=work) for _ in range(threads)]
    for t in th: t.start()
    for t in th: t.join()
    wall = time.perf_counter() - t0
    print(json.dumps({"n": n, "ok": len(ms), "wall_s": round(wall, 3), "p50_ms": pct(ms, 50),
                      "p99_ms": pct(ms, 99), "first_ms": pct(first, 50)}))

def pair(ip, sni, n, deadline=100):
    c, end = ctx(), time.time() + deadline
    ms = {4443: [], 443: []}
    dump = os.environ.get("PAIR_DUMP")
    ph = [] if dump else None
    for i in range(n):
        if time.time() > end:
            break
        for port in ((4443, 443) if i % 2 == 0 else (443, 4443)):
            try:
                g, t = one(c, ip, sni, port=port, phases=ph)
                if g:
                    ms[port].append(t)
            except OSError:
                pass
    if dump:
        with open(dump, "a") as f:
            for r in ph:
                f.write(json.dumps(r) + "\n")
    side = lambda v: {"ok": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99)}
    print(json.dumps({"n": n, "direct": side(ms[4443]), "proxy": side(ms[443])}))

async def idle(ip, sni, n, hold, ready):
    c = ctx()
    conns, sem = [], asyncio.Semaphore(64)
    end = time.time() + hold
    async def op():
        async with sem:
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection(ip, 443, ssl=c, server_hostname=sni), 20)
                conns.append(w)
            except (OSError, asyncio.TimeoutError, ssl.SSLError):
                pass
    await asyncio.gather(*(op() for _ in range(n)))
    with open(ready, "w") as f:
        f.write(f"{len(conns)}\n")
    while time.time() < end:
        await asyncio.sleep(0.2)
    for w in conns:
        w.transport.abort()

if __name__ == "__main__":
    m = sys.argv[1]
    if m == "lat":
        lat(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif m == "cold":
        cold(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    elif m == "pair":
        pair(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif m == "idle":
        asyncio.run(idle(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]))
