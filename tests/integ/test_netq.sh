#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_netq.sh — the packet plane (`mitmlab netq`) in a gateway namespace between its own
# clients and origins, asserted from the recorded net.* events and what the clients saw.
#
#   client c1 10.78.1.2 (on path) ── router m 10.78.1.1 / 10.78.5.1 (netq --monitor)
#                                       │
#                                   gateway g 10.78.5.2 (netq + NFQUEUE rules, "engine" on :8443)
#   client c2 10.78.4.2 (off path) ─┘   │ 10.78.2.1
#                                   router r 10.78.2.2 / 10.78.3.1
#                                       │
#                                   origin o 10.78.3.2 .3 .4 .5 (openssl s_server :443,
#                                   python http.server :80)
#
# The "engine" is an openssl s_server on the gateway's :8443 with its own certificate, so a
# client can tell a diverted flow (engine.lab) from a routed one (origin.lab) by the certificate.
# Asserts: TTL / hop fields (client 1 hop across m, server 1 hop across r); only flows to the target
# CIDR from the on-path network are diverted, also a SYN (sent from a raw socket) whose TCP
# options Linux ignores in part (counted in net.stats malformed_options); reset (also for a
# client bound to port 100, below the server's) → client sees a reset, timeout → timeout,
# redirect → 302 with Location, delay → slower connect; a ClientHello sent in two segments is
# reassembled (the reset rule still fires, an unmatched one passes, both flows are named, by
# the monitor too, and net.stats counts them); so is a plain HTTP request whose Host header
# or its value comes in a second segment (the redirect rule still fires, an unmatched one
# passes, both named at the gateway and by the monitor); the flow table bound holds under a
# burst; net.stats reports the handler's packets/s under a bounded bulk load (printed);
# fail-closed stops traffic when the handler dies, fail-open lets it through untouched; the
# handler's proxy.stats ("component": "netq") matches its net.stats. The passive monitor in m
# (the router before the gateway) accepts everything, and its net.flow shows the diverted flow's
# server side 0 hops away (the engine in g answers) and the routed flow's 2 hops away (g, r);
# killing the monitor stops nothing (it is always fail-open).
set -eu
. "$(dirname "$0")/lib.sh"
ml_init netq

ml_ns C1 c1; ml_ns C2 c2; ml_ns M m; ml_ns G g; ml_ns R r; ml_ns O o
ml_link "$C1" c0 10.78.1.2/24 "$M" m0 10.78.1.1/24
ml_link "$M" m1 10.78.5.1/24 "$G" g0 10.78.5.2/24
ml_link "$C2" c0 10.78.4.2/24 "$G" g2 10.78.4.1/24
ml_link "$G" g1 10.78.2.1/24 "$R" r0 10.78.2.2/24
ml_link "$R" r1 10.78.3.1/24 "$O" o0 10.78.3.2/24
for a in 3 4 5; do ip -n "$O" addr add 10.78.3.$a/24 dev o0; done
ip -n "$C1" route add default via 10.78.1.1
ip -n "$C2" route add default via 10.78.4.1
ip -n "$M" route add 10.78.0.0/16 via 10.78.5.2
ip -n "$G" route add 10.78.1.0/24 via 10.78.5.1
ip -n "$G" route add 10.78.3.0/24 via 10.78.2.2
ip -n "$R" route add 10.78.0.0/16 via 10.78.2.1
ip -n "$O" route add default via 10.78.3.1
ip netns exec "$M" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1

W=$ML_TMP/web
ml_webpki "$W" origin.lab engine.lab
mkdir -p "$ML_TMP/www"; truncate -s 1G "$ML_TMP/www/big.bin"; echo hi >"$ML_TMP/www/index.html"
# one s_server per address: s_server serves one connection at a time, and the timeout
# impairment leaves its server half-open on purpose
for a in 2 3 4 5; do
	ml_bg "$O" "origin$a" openssl s_server -quiet -www -accept "10.78.3.$a:443" -cert "$W/origin.lab.pem" -key "$W/origin.lab.key" -cert_chain "$W/int.pem"
done
ml_bg "$O" http python3 -m http.server 80 --bind 10.78.3.4 --directory "$ML_TMP/www"
ml_bg "$G" engine openssl s_server -quiet -www -accept 8443 -cert "$W/engine.lab.pem" -key "$W/engine.lab.key" -cert_chain "$W/int.pem"
ml_bg "$G" bus "$ML_BIN" bus --in "ipc://$ML_TMP/bus.in" --out "ipc://$ML_TMP/bus.out" --record "$ML_TMP/events.jsonl"
BUSPID=$ML_LASTPID
ml_wait_port "$O" 10.78.3.2 443; ml_wait_port "$O" 10.78.3.4 80; ml_wait_port "$G" 127.0.0.1 8443

NETQ_ARGS=(--bus "ipc://$ML_TMP/bus.in" --install-rules --divert-dst 10.78.3.2/32 --on-path 10.78.1.0/24
    --impair "reset sni=reset.lab" --impair "timeout sni=timeout.lab"
    --impair "redirect:http://warning.lab/install-certificate sni=plain.lab"
    --impair "delay:250 dst=10.78.3.5/32" --max-flows 64 --idle-s 2 --stats-ms 500 --seed 7)
# start_netq LOG ARGS...: run the handler in the gateway, wait for its rules.
start_netq() {
	local log=$1; shift
	ml_bg "$G" "$log" "$ML_BIN" netq "$@"
	NETQPID=$ML_LASTPID
	for _ in $(seq 50); do ip netns exec "$G" iptables -t mangle -S MITMLAB_NETQ 2>/dev/null | grep -q NFQUEUE && break; sleep 0.1; done
	sleep 0.3
}
# cert_cn IP SNI [CLIENTNS]: the CN of the certificate the client gets.
cert_cn() {
	ip netns exec "${3:-$C1}" timeout 5 openssl s_client -connect "$1:443" -servername "$2" </dev/null 2>/dev/null |
	    openssl x509 -noout -subject 2>/dev/null | sed -n 's/.*CN *= *//p'
}
# split_send IP KIND NAME CUT: from c1, a client's first data for NAME in two TCP segments,
# the first CUT bytes 0.2 s ahead of the rest, as a post-quantum key share or a DPI-evasion
# tool would split it. KIND tls: a real ClientHello with SNI NAME (Python's ssl on memory
# BIOs) to port 443; prints "data N" for what came back. KIND http: a GET with Host NAME to
# port 80; prints the status code and the Location header ("-" without one). Otherwise
# "reset", "eof", "timeout" or "error NAME" (the connect failed, ...).
split_send() {
	ip netns exec "$C1" python3 - "$@" <<'PY'
import socket, ssl, sys, time
ip, kind, name, cut = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if kind == "tls":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname=name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    data, port = out.read(), 443
else:
    data = ("GET /index.html HTTP/1.1\r\nUser-Agent: split\r\nHost: %s\r\n"
            "Connection: close\r\n\r\n" % name).encode()
    port = 80
s = socket.create_connection((ip, port), timeout=3)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.sendall(data[:cut])
time.sleep(0.2)
s.sendall(data[cut:])
try:
    d = s.recv(65536)
    while kind == "http" and d and b"\r\n\r\n" not in d:
        more = s.recv(65536)
        if not more:
            break
        d += more
    if not d:
        print("eof")
    elif kind == "tls":
        print("data %d" % len(d))
    else:
        head = d.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
        loc = [h.split(":", 1)[1].strip() for h in head[1:] if h.lower().startswith("location:")]
        print(head[0].split()[1], loc[0] if loc else "-")
except ConnectionResetError:
    print("reset")
except socket.timeout:
    print("timeout")
except OSError as e:
    print("error", type(e).__name__)
PY
}
# raw_syn IP SPORT OPTS: from c1, a SYN to IP:443 from port SPORT (above the ephemeral range)
# carrying the TCP options OPTS (hex, a multiple of 4 bytes), built on a raw socket since
# Linux's own stack never sends options it would ignore; prints the TTL of the SYN-ACK that
# answers ("none" after 2 s): 63 from the engine in g (diverted), 61 from the origin (routed
# across m, g, r). c1's kernel resets the SYN-ACK (no socket of its own), which ends the flow.
raw_syn() {
	ip netns exec "$C1" python3 - "$@" <<'PY'
import socket, struct, sys, time
dst, sport, opts = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
tcp = struct.pack("!HHIIBBHHH", sport, 443, 1000, 0, (5 + len(opts) // 4) << 4, 0x02, 64240, 0, 0) + opts
pseudo = socket.inet_aton("10.78.1.2") + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.settimeout(0.2)
s.sendto(tcp, (dst, 0))
end = time.monotonic() + 2
for _ in range(100):
    if time.monotonic() > end:
        break
    try:
        d = s.recv(2048)
    except socket.timeout:
        continue
    h = (d[0] & 15) * 4
    if (d[12:16] == socket.inet_aton(dst) and struct.unpack("!HH", d[h:h + 4]) == (443, sport)
            and d[h + 13] & 0x12 == 0x12):
        print(d[8])
        sys.exit(0)
print("none")
PY
}
# curl_c1 ARGS...: curl from c1; prints "rc=N" and the write-out.
curl_c1() { ip netns exec "$C1" curl -sS -k "$@" 2>"$ML_TMP/curl.err"; echo " rc=$?"; }

# the passive monitor in m: its own queue (1), rules in mangle FORWARD, always --queue-bypass
ml_bg "$M" monitor "$ML_BIN" netq --monitor --vantage m --bus "ipc://$ML_TMP/bus.in" --install-rules \
    --on-path 10.78.1.0/24 --stats-ms 500
MONPID=$ML_LASTPID
# queue_bound NS N: a handler is bound to queue N in NS (the runner's readiness signal)
queue_bound() { ip netns exec "$1" awk -v q="$2" '$1 == q { f = 1 } END { exit !f }' /proc/net/netfilter/nfnetlink_queue; }
for _ in $(seq 50); do queue_bound "$M" 1 && break; sleep 0.1; done
ok "monitor bound queue 1 in the router" queue_bound "$M" 1
ok "monitor rule: mangle FORWARD, queue 1, --queue-bypass" bash -c \
    "ip netns exec '$M' iptables -t mangle -S MITMLAB_NETQ_MON | grep -q -- '--queue-num 1 --queue-bypass' &&
     ip netns exec '$M' iptables -t mangle -S FORWARD | grep -q MITMLAB_NETQ_MON"
ok "--monitor refuses active options (exit 2)" bash -c \
    "'$ML_BIN' netq --monitor --vantage m --divert-dst 10.0.0.0/8 --print-rules >/dev/null 2>&1; [ \$? -eq 2 ]"
start_netq netq "${NETQ_ARGS[@]}"
ok "netq running" kill -0 "$NETQPID"

echo "-- diversion at SYN time by destination and client network"
ok "on-path client to the target CIDR is diverted (engine.lab)" [ "$(cert_cn 10.78.3.2 a.lab)" = engine.lab ]
ok "on-path client to another destination is routed (origin.lab)" [ "$(cert_cn 10.78.3.3 b.lab)" = origin.lab ]
ok "off-path client to the target CIDR is routed (origin.lab)" [ "$(cert_cn 10.78.3.2 c.lab "$C2")" = origin.lab ]
# SYNs with options Linux ignores in part (the kernel still answers): an MSS of length 6, a
# window scale of length 4, a lone kind byte at the end; diverted like any other SYN
out=$(raw_syn 10.78.3.5 61000 020605b400000402)
ok "raw SYN, MSS of length 6, to another destination (delayed): the origin answers (TTL $out)" [ "$out" = 61 ]
out=$(raw_syn 10.78.3.2 61001 020605b400000402)
ok "raw SYN, MSS of length 6, to the target: diverted, the engine answers (TTL $out)" [ "$out" = 63 ]
out=$(raw_syn 10.78.3.2 61002 020405b403040700)
ok "raw SYN, window scale of length 4, to the target: diverted (TTL $out)" [ "$out" = 63 ]
out=$(raw_syn 10.78.3.2 61003 020405b401010103)
ok "raw SYN, a lone kind byte at the end, to the target: diverted (TTL $out)" [ "$out" = 63 ]

echo "-- impairments"
out=$(curl_c1 --max-time 5 --resolve reset.lab:443:10.78.3.4 https://reset.lab/)
ok "reset after the ClientHello: client sees a reset ($out; $(head -c 80 "$ML_TMP/curl.err"))" \
    bash -c "grep -qi 'reset' '$ML_TMP/curl.err'"
# a client bound to a port below the server's: still the client (its SYN said so), so its
# ClientHello names the flow and the reset acts (a guess by ports took it for the server)
out=$(curl_c1 --max-time 5 --local-port 100 --resolve reset.lab:443:10.78.3.4 https://reset.lab/)
ok "reset, client port 100 (below 443): client sees a reset ($out; $(head -c 80 "$ML_TMP/curl.err"))" \
    bash -c "grep -qi 'reset' '$ML_TMP/curl.err'"
out=$(split_send 10.78.3.4 tls reset.lab 60)
ok "reset, the ClientHello in two segments: reassembled, client sees a reset ($out)" [ "$out" = reset ]
out=$(split_send 10.78.3.3 tls split.lab 60)
ok "no rule, the ClientHello in two segments: the origin answers ($out)" [ "${out%% *}" = data ]
t0=$(date +%s%N)
out=$(curl_c1 --max-time 2 --resolve timeout.lab:443:10.78.3.4 https://timeout.lab/)
t1=$(date +%s%N)
ok "timeout after the ClientHello: client times out ($out)" bash -c "[[ '$out' == *rc=28 ]] && [ $(( (t1 - t0) / 1000000 )) -ge 1900 ]"
out=$(curl_c1 --max-time 5 -o /dev/null -w '%{http_code} %{redirect_url}' --resolve plain.lab:80:10.78.3.4 http://plain.lab/)
ok "plain HTTP to a target: 302 to the certificate page ($out)" [ "$out" = "302 http://warning.lab/install-certificate rc=0" ]
# the request cut just before the Host header's colon ("...Host" | ": plain.lab"), and inside
# its value ("...Host: plain" | ".lab")
out=$(split_send 10.78.3.4 http plain.lab 49)
ok "plain HTTP to a target, Host in the second segment: reassembled, 302 ($out)" \
    [ "$out" = "302 http://warning.lab/install-certificate" ]
out=$(split_send 10.78.3.4 http plain.lab 56)
ok "plain HTTP to a target, the Host value cut: reassembled, 302 ($out)" \
    [ "$out" = "302 http://warning.lab/install-certificate" ]
out=$(split_send 10.78.3.4 http splithttp.lab 49)
ok "plain HTTP, no rule, Host in the second segment: the origin answers ($out)" [ "$out" = "200 -" ]
out=$(curl_c1 --max-time 5 -o /dev/null -w '%{http_code}' http://10.78.3.4/index.html)
ok "plain HTTP to a non-target passes ($out)" [ "$out" = "200 rc=0" ]
tc=$(ip netns exec "$C1" curl -sk -o /dev/null --max-time 10 -w '%{time_connect}' https://10.78.3.5/ || true)
tc3=$(ip netns exec "$C1" curl -sk -o /dev/null --max-time 10 -w '%{time_connect}' https://10.78.3.3/ || true)
ok "delay 250 ms per packet: connect takes >= 0.45 s ($tc s vs $tc3 s undelayed)" \
    python3 -c "import sys; sys.exit(0 if float('$tc') >= 0.45 and float('$tc3') < 0.2 else 1)"

echo "-- flow table bound under a burst of 150 connections (max 64 flows)"
ip netns exec "$C1" bash -c 'for i in $(seq 150); do (exec 3<>/dev/tcp/10.78.3.3/443) 2>/dev/null; done'

echo "-- bounded load for the handler's packets/s (bulk HTTP for 4 s, segmentation offload off)"
# MSS-sized packets from the sender, so the count is packets on the wire, not GSO batches
ip -n "$O" link set o0 gso_max_size 1500 2>/dev/null || true
ip netns exec "$C1" curl -s -o /dev/null --max-time 4 -w '%{size_download} %{speed_download}\n' http://10.78.3.4/big.bin >"$ML_TMP/bulk.txt" || true
ip -n "$O" link set o0 gso_max_size 65536 2>/dev/null || true
sleep 1.2

echo "-- fail-closed: kill the handler (no --queue-bypass)"
{ kill -KILL "$NETQPID"; wait "$NETQPID"; } 2>/dev/null || true; sleep 0.3
out=$(curl_c1 --max-time 2 -o /dev/null -w '%{http_code}' https://10.78.3.3/)
ok "traffic stops without the handler ($out)" bash -c "[[ '$out' == *rc=28 ]]"
ip netns exec "$G" "$ML_BIN" netq --remove-rules
ok "rules removed" bash -c "! ip netns exec '$G' iptables -t mangle -S MITMLAB_NETQ 2>/dev/null"

echo "-- fail-open: kill the handler (--queue-bypass)"
start_netq netq2 --bus "ipc://$ML_TMP/bus.in" --install-rules --fail-open --divert-dst 10.78.3.2/32 --stats-ms 200
ok "with the handler, the target is diverted" [ "$(cert_cn 10.78.3.2 d.lab)" = engine.lab ]
{ kill -KILL "$NETQPID"; wait "$NETQPID"; } 2>/dev/null || true; sleep 0.3
ok "queue rule carries --queue-bypass" bash -c "ip netns exec '$G' iptables -t mangle -S MITMLAB_NETQ | grep -q queue-bypass"
ok "without the handler, traffic flows untouched (origin.lab, not diverted)" [ "$(cert_cn 10.78.3.2 e.lab)" = origin.lab ]
ip netns exec "$G" "$ML_BIN" netq --remove-rules --fail-open

echo "-- the monitor: stop it cleanly (rules removed), then kill one (traffic still flows)"
kill -TERM "$MONPID"; for _ in $(seq 50); do kill -0 "$MONPID" 2>/dev/null || break; sleep 0.1; done
ok "monitor exits on SIGTERM and removes its rules" bash -c \
    "! kill -0 $MONPID 2>/dev/null && ! ip netns exec '$M' iptables -t mangle -S MITMLAB_NETQ_MON 2>/dev/null"
ml_bg "$M" monitor2 "$ML_BIN" netq --monitor --vantage m --install-rules --stats-ms 500
MONPID=$ML_LASTPID
for _ in $(seq 50); do queue_bound "$M" 1 && break; sleep 0.1; done
{ kill -KILL "$MONPID"; wait "$MONPID"; } 2>/dev/null || true; sleep 0.3
cn=$(cert_cn 10.78.3.3 f.lab)
ok "monitor killed, its rule still there: traffic flows ($cn)" bash -c \
    "ip netns exec '$M' iptables -t mangle -S MITMLAB_NETQ_MON | grep -q NFQUEUE && [ '$cn' = origin.lab ]"
ip netns exec "$M" "$ML_BIN" netq --monitor --vantage m --remove-rules
ok "monitor rules removed by --monitor --remove-rules" bash -c "! ip netns exec '$M' iptables -t mangle -S MITMLAB_NETQ_MON 2>/dev/null"

sleep 0.5; kill -TERM "$BUSPID"; for _ in $(seq 50); do kill -0 "$BUSPID" 2>/dev/null || break; sleep 0.1; done

echo "-- the recorded net.* events"
ok "events recorded" [ -s "$ML_TMP/events.jsonl" ]
ok "net.* events match what happened" python3 - "$ML_TMP/events.jsonl" "$ML_TMP/bulk.txt" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
net = [e for e in ev if e["t"].startswith("net.")]
def fail(m): print("   ", m); sys.exit(1)
for e in net:
    want = "net" if e.get("vantage") == "gateway" else "net.m"
    if e.get("vantage") not in ("gateway", "m") or e["src"] != want: fail(f"src {e['src']} vantage {e.get('vantage')}")
mon = [e for e in net if e["vantage"] == "m"]
net = [e for e in net if e["vantage"] == "gateway"]
flows = [e for e in net if e["t"] == "net.flow"]
def by(dst, cli="10.78.1.2"):
    return [f for f in flows if f["flow"].startswith(cli + ":") and f["flow"].endswith(">" + dst)]
routed = [f for f in by("10.78.3.3:443") if f["server"]["pkts"] > 0 and "syn" in f["client"]]
if not routed: fail("no net.flow for the routed flow")
f = routed[0]
if f["client_hops"] != 1 or f["client_ttl"] != 63: fail(f"client ttl {f['client_ttl']} hops {f['client_hops']}")
if f["server_hops"] != 1 or f["server_ttl"] != 63: fail(f"server ttl {f['server_ttl']} hops {f['server_hops']}")
for side, hs in (("client", "syn"), ("server", "synack")):
    s = f[side]
    if hs not in s or "mss" not in s[hs] or "wscale" not in s[hs]: fail(f"{side} {hs} options missing: {s}")
    if s["ipid"] not in ("zero", "incrementing", "random", "constant", "unknown"): fail(f"ipid {s['ipid']}")
for k in ("syn_synack_us", "synack_data_us", "data_reply_us"):
    if k not in f: fail(f"{k} missing: {f}")
if f["client"]["first_data_bytes"] < 100: fail("client first data is not a ClientHello")
if f["name"] != "b.lab": fail(f"name {f.get('name')}")
# the split hellos: named from two segments, the first of 60 bytes
for n in ("split.lab", "reset.lab"):
    sp = [x for x in flows if x.get("name") == n and x["client"].get("first_data_bytes") == 60]
    if not sp: fail(f"no net.flow named {n} from a 60-byte first segment")
if max(e.get("hellos_reassembled", 0) for e in net if e["t"] == "net.stats") < 2: fail("hellos_reassembled < 2")
for n in ("split.lab", "reset.lab"):
    if not any(e.get("name") == n and e["client"].get("first_data_bytes") == 60
               for e in mon if e["t"] == "net.flow"): fail(f"the monitor did not name the split hello {n}")
# the split HTTP requests: named from two segments, the first cut inside the Host header or
# its value, at the gateway and by the monitor
for n, cut in (("plain.lab", 49), ("plain.lab", 56), ("splithttp.lab", 49)):
    for where, evs in (("gateway", net), ("monitor", mon)):
        if not any(e["t"] == "net.flow" and e.get("name") == n and e["client"].get("first_data_bytes") == cut
                   for e in evs): fail(f"{where}: no net.flow named {n} from a {cut}-byte first segment")
if max(e.get("requests_reassembled", 0) for e in net if e["t"] == "net.stats") < 3: fail("requests_reassembled < 3")
if max(e.get("requests_not_reassembled", 0) for e in net if e["t"] == "net.stats") != 0: fail("requests_not_reassembled")
div = by("10.78.3.2:443")
if not div or not all(x["diverted"] for x in div): fail(f"target flows not diverted: {div}")
# the raw SYNs with options Linux ignores: diverted to the target, noted on the flow and counted
for port in (61000, 61001, 61002, 61003):
    r = [x for x in flows if x["flow"].startswith(f"10.78.1.2:{port}>")]
    if len(r) != 1 or r[0]["diverted"] != (port != 61000) or not r[0]["client"]["syn"]["opts_malformed"]:
        fail(f"raw SYN from port {port}: {r}")
if max(e.get("malformed_options", 0) for e in net if e["t"] == "net.stats") < 4: fail("malformed_options < 4")
# "malformed" keeps its meaning: such packets are counted there too (as before they were decided)
if max(e.get("malformed", 0) for e in net if e["t"] == "net.stats") < 4: fail("malformed < 4")
if any(x["diverted"] for x in by("10.78.3.3:443")): fail("non-target flow diverted")
off = by("10.78.3.2:443", "10.78.4.2")
if not off or any(x["diverted"] or x["on_path"] for x in off): fail(f"off-path flow diverted: {off}")
low = [x for x in flows if x["flow"] == "10.78.1.2:100>10.78.3.4:443"]
if len(low) != 1 or low[0].get("name") != "reset.lab" or low[0]["client"].get("first_data_bytes", 0) < 100:
    fail(f"client port 100: {low}")
if not any(e["t"] == "net.impair" and e["flow"] == "10.78.1.2:100>10.78.3.4:443" for e in net):
    fail("client port 100: no net.impair")
imp = {e["action"]: e for e in net if e["t"] == "net.impair"}
for a, n in (("reset", "reset.lab"), ("timeout", "timeout.lab"), ("redirect", "plain.lab"), ("delay", None)):
    if a not in imp: fail(f"no net.impair {a}")
    if n and imp[a].get("name") != n: fail(f"impair {a} name {imp[a].get('name')}")
stats = [e for e in net if e["t"] == "net.stats"]
if len(stats) < 3: fail("too few net.stats")
last = max(stats, key=lambda e: e["pkts"])
v = last["verdicts"]
if v["mark"] < 1 or v["drop"] < 1 or v["hold"] < 1 or v["release"] != v["hold"]: fail(f"verdicts {v}")
if last["injected"] < 3 or last["inject_errors"] != 0: fail(f"injected {last['injected']}")
if max(s["flows"] for s in stats) > 64: fail("flow table exceeded its bound")
if last["flows_evicted"] < 1: fail("no eviction under the burst")
pps = max(s["pkts_per_s"] for s in stats)
# the handler's own throughput in proxy.stats: same counters, same ticks as net.stats
ps = [e for e in ev if e["t"] == "proxy.stats"]
if not ps or any(e.get("component") != "netq" or e["src"] != "net" for e in ps): fail(f"proxy.stats {ps[:1]}")
for k in ("packets", "packets_per_s", "ip_bytes", "verdicts", "queue_dropped", "queue_user_dropped",
          "queue_overruns", "handler_cpu_s", "fail_open", "queue"):
    if k not in ps[-1]: fail(f"proxy.stats lacks {k}: {ps[-1]}")
for k in ("accepted", "handshakes", "bytes_c2s", "bytes_s2c", "cpu_s", "rss_kb", "active"):
    if k in ps[-1]: fail(f"proxy.stats of netq reuses the engine key {k}")
if max(e["packets"] for e in ps) != last["pkts"]: fail("proxy.stats packets != net.stats pkts")
if max(e["packets_per_s"] for e in ps) != pps: fail("proxy.stats packets_per_s peak != net.stats")
if {e["fail_open"] for e in ps} != {False, True}: fail("proxy.stats fail_open of both handlers")
if any(e["queue_dropped"] is None for e in ps): fail("kernel queue counters not read")
# the monitor: passive, and its view of the server side tells diverted from routed
ms = [e for e in mon if e["t"] == "net.stats"]
if not ms or any(e["verdicts"]["mark"] or e["verdicts"]["drop"] or e["verdicts"]["hold"] for e in ms):
    fail(f"monitor gave a verdict other than accept: {ms[-1:]}")
if any(e["t"] == "net.impair" for e in mon): fail("monitor impaired a flow")
mf = [e for e in mon if e["t"] == "net.flow"]
if any("diverted" in e or "on_path" in e for e in mf): fail("monitor claims to know diversion")
if any(not e["flow"].startswith("10.78.1.2:") for e in mf): fail("monitor recorded an off-path client")
def mon_by(dst):
    return [e for e in mf if e["flow"].endswith(">" + dst) and "server_hops" in e and "syn" in e["client"]]
# a.lab and d.lab went to the target with a handler running (diverted); e.lab after the
# fail-open handler was killed (routed to the origin)
md = [e for e in mon_by("10.78.3.2:443") if e.get("name") in ("a.lab", "d.lab")]
mr = mon_by("10.78.3.3:443") + [e for e in mon_by("10.78.3.2:443") if e.get("name") == "e.lab"]
if len(md) != 2 or not any(e.get("name") == "e.lab" for e in mr): fail(f"monitor net.flow missing: diverted {len(md)} routed {len(mr)}")
if {e["server_hops"] for e in md} != {0} or {e["server_ttl"] for e in md} != {64}: fail(f"diverted server hops {[(e['server_hops'], e['server_ttl']) for e in md]}")
if {e["server_hops"] for e in mr} != {2}: fail(f"routed server hops {[e['server_hops'] for e in mr]}")
if {e["client_hops"] for e in md + mr} != {0}: fail("client hops at the monitor")
if {e["path_hops"] for e in mr} != {3} or {e["path_hops"] for e in md} != {1}: fail("path_hops")
if not any(e.get("name") == "b.lab" for e in mr): fail("monitor did not learn the SNI")
bulk = open(sys.argv[2]).read().split()
print(f"    handler peak: {pps} packets/s (net.stats = proxy.stats); bulk {bulk}; monitor: diverted "
      f"server hops {md[0]['server_hops']}, routed {mr[0]['server_hops']}")
PY
ml_done
