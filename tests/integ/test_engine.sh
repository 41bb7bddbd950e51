#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_engine.sh — the interception engine between namespaces, against third-party origins
# (openssl s_server, nghttpd) and third-party clients (openssl s_client, curl).
#
#   client ns 10.77.1.2 ── 10.77.1.1 gateway ns 10.77.2.1 ── origin ns 10.77.2.2/.3/.4
#                          (REDIRECT :443 → mitmlab proxy :8443, bus + recorder)
#
# Asserts: a targeted SNI gets a chain ending in the mock Qaznet root whose leaf obeys the kz2019
# rules; an untargeted SNI gets the origin's certificate byte-identical; SNI facebook.com to a
# server whose certificate is for iqala.kz yields a leaf named iqala.kz; TLS 1.3 and h2 pass
# through; the bus carries proxy.conn.open / proxy.forge / proxy.conn.close / proxy.stats;
# a destination outside --allow-upstream is refused, and so is one addressed to the engine's own
# listener; the key log has both legs; a host (server certificate and SNI) keeps one leaf key
# across workers, concurrent first connections, parked connections and the whole run. A
# second engine on a running one's address is refused, also when both start together (the
# first one's check held by strace); key generation runs on --keygen-threads threads.
set -eu
. "$(dirname "$0")/lib.sh"
ml_init engine

ml_engine_line 3 4 5 6 7
# A second, non-lab subnet behind the gateway: the engine must refuse to connect there.
ip -n "$G" addr add 10.99.0.1/24 dev g1
ip -n "$O" addr add 10.99.0.2/24 dev o0
ip netns exec "$G" iptables -t nat -A PREROUTING -i g0 -p tcp --dport 443 -j REDIRECT --to-ports 8443

W=$ML_TMP/web
# vk.com at 10.77.2.6: a targeted name whose certificate has 1200 SANs (~30 KiB of PEM)
BIGSAN=vk.com$(for i in $(seq 1200); do printf ',s%04d.big.lab' "$i"; done)
ml_webpki "$W" www.google.com,google.com iqala.kz example.org "starve.lab,*.starve.lab" "$BIGSAN"
mkdir -p "$ML_TMP/docroot"; echo "hello from the lab origin" >"$ML_TMP/docroot/index.html"
ml_bg "$O" nghttpd nghttpd -d "$ML_TMP/docroot" --address=10.77.2.2 443 "$W/www.google.com.key" "$W/www.google.com.chain.pem"
for pair in 10.77.2.3:iqala.kz 10.77.2.4:example.org 10.99.0.2:example.org 10.77.2.6:vk.com; do
	ip=${pair%%:*}; n=${pair#*:}
	ml_bg "$O" "s_server-$ip" openssl s_server -quiet -www -accept "$ip:443" \
	    -cert "$W/$n.pem" -key "$W/$n.key" -cert_chain "$W/int.pem"
done

ml_bg "$G" bus "$ML_BIN" bus --in "ipc://$ML_TMP/bus.in" --out "ipc://$ML_TMP/bus.out" --record "$ML_TMP/events.jsonl"
BUSPID=$ML_LASTPID
"$ML_BIN" ca init --out "$ML_TMP/ca" --profile kz-2019 --seed 7 >/dev/null
ml_bg "$G" proxy "$ML_BIN" proxy --listen 0.0.0.0:8443 --workers 2 --ca "$ML_TMP/ca" \
    --profile kz2019 --target-list "$ML_TOP/scenarios/lists/kz-2019-domains.txt" \
    --require-valid-upstream --upstream-cafile "$W/root.pem" --upstream-hello openssl \
    --allow-upstream 10.77.2.0/24 --bus "ipc://$ML_TMP/bus.in" --keylog "$ML_TMP/keylog.txt" \
    --keygen-threads 2
PROXYPID=$ML_LASTPID
ml_wait_port "$G" 127.0.0.1 8443
# refused NAME ARGS...: an engine started with ARGS (sslsplit profile, upstream verification
# off) that must exit at start; its status in $rc, its output in $ML_TMP/NAME.out
refused() {
	local name=$1; shift
	rc=0
	ip netns exec "$G" timeout 10 "$ML_BIN" proxy --workers 1 --profile sslsplit \
	    --allow-upstream 10.77.2.0/24 --upstream-verify off "$@" >"$ML_TMP/$name.out" 2>&1 || rc=$?
}
# a second engine on the same address would join the first's SO_REUSEPORT group and take
# part of its connections unseen: it is refused, naming the address
refused second --listen 0.0.0.0:8443 --ca "$ML_TMP/ca"
ok "a second engine on the first one's address is refused (rc $rc)" bash -c \
    "[ $rc = 1 ] && grep -q -- '--listen 0.0.0.0:8443: another process already listens there' '$ML_TMP/second.out'"
# two engines started together: engine B's check before binding (its first bind) is held 8 s
# by strace, and engine A starts and listens meanwhile (well within that, also on a loaded
# machine), so B's check saw a free address and B then binds into A's SO_REUSEPORT group;
# only the check after binding refuses B (without it both run, sharing A's connections)
RACE=(--listen 0.0.0.0:8447 --workers 1 --profile sslsplit --ca "$ML_TMP/ca" --allow-upstream 10.77.2.0/24 --upstream-verify off)
ml_bg "$G" race-b strace -f -qq -o /dev/null -e trace=bind -e inject=bind:delay_exit=8000000:when=1 \
    "$ML_BIN" proxy "${RACE[@]}"
RACEB=$ML_LASTPID
# until B is held in that bind: its engine stopped by the tracer for 0.3 s (at most 10 s)
held=0
for _ in $(seq 100); do
	kid=$(pgrep -P "$RACEB" | head -n 1 || true)
	if [ -n "$kid" ] && grep -q '^State:.*tracing stop' "/proc/$kid/status" 2>/dev/null; then
		sleep 0.3
		grep -q '^State:.*tracing stop' "/proc/$kid/status" 2>/dev/null && { held=1; ml_track "$kid"; break; }
	fi
	sleep 0.1
done
ml_bg "$G" race-a "$ML_BIN" proxy "${RACE[@]}"
RACEA=$ML_LASTPID
ml_wait_port "$G" 127.0.0.1 8447
for _ in $(seq 150); do kill -0 "$RACEB" 2>/dev/null || break; sleep 0.1; done
rc=0; kill -0 "$RACEB" 2>/dev/null && rc=124 || wait "$RACEB" || rc=$?
ok "two engines started together: the one whose check came first is refused once it has bound (held $held, rc $rc), the other runs on" bash -c \
    "[ $held = 1 ] && [ $rc = 1 ] && grep -q -- \"--listen 0.0.0.0:8447: another process already listens there .*1 socket(s) not this engine's, 0.0.0.0:8447 first\" '$ML_TMP/race-b.log' && kill -0 $RACEA"
ml_term "$RACEA" || true
# B still running (without the check): its engine is strace's child, which SIGTERM to strace
# would only detach, so it is stopped by its own PID (tracked, for the cleanup too)
[ "$rc" != 124 ] || { [ "$held" = 0 ] || ml_term "$kid" || true; ml_term "$RACEB" || true; }
# a CA directory without its keys (a run's pki/national without --keep-keys): the error names
# the option and the file, and says how to get one that works; a missing one gets no such hint
mkdir -p "$ML_TMP/keyless" && cp "$ML_TMP"/ca/*.pem "$ML_TMP/keyless/"
refused keyless --listen 0.0.0.0:8449 --ca "$ML_TMP/keyless" --default intercept
ok "an engine given a CA without its keys says which, and how to get one (rc $rc)" bash -c \
    "[ $rc = 1 ] && grep -q -- '--ca $ML_TMP/keyless: $ML_TMP/keyless/issuer.key: No such file.*--keep-keys.*mitmlab ca init' '$ML_TMP/keyless.out'"
refused noca --listen 0.0.0.0:8449 --ca "$ML_TMP/noca" --default intercept
ok "a CA directory that is not there is named, without the hint about a run's keys (rc $rc)" bash -c \
    "[ $rc = 1 ] && grep -q -- '--ca $ML_TMP/noca: $ML_TMP/noca/root.pem' '$ML_TMP/noca.out' && ! grep -q keep-keys '$ML_TMP/noca.out'"
# --workers 0: one worker per CPU the engine may run on (its affinity), not per online CPU,
# so that a pinned engine does not start workers that only take turns; what it started is in
# its "listening on" line (it runs 2 s, then SIGINT drains it)
workers0() {
	ip netns exec "$G" timeout -s INT -k 5 2 taskset -c "$1" "$ML_BIN" proxy --listen 0.0.0.0:8451 \
	    --workers 0 --default splice --allow-upstream 10.77.2.0/24 >"$ML_TMP/w0-$1.out" 2>&1 || true
}
CPUS=$(taskset -pc $$ | sed 's/.*: //')	# the CPUs this test may use, e.g. "0,1" or "0-3"
NCPU=$(nproc)
if [ "$NCPU" -gt 1 ]; then
	workers0 "${CPUS%%[,-]*}"
	ok "--workers 0 pinned to one CPU starts one worker" grep -q "mode, 1 workers" "$ML_TMP/w0-${CPUS%%[,-]*}.out"
else	# one CPU: affinity and online CPUs agree, so the check could not fail
	echo "  skip --workers 0 pinned to one CPU: this host has one"
fi
workers0 "$CPUS"
ok "--workers 0 on its $NCPU CPUs starts $NCPU workers" grep -q "mode, $NCPU workers" "$ML_TMP/w0-$CPUS.out"
for ip in 10.77.2.2 10.77.2.3 10.77.2.4 10.77.2.6; do ml_wait_port "$O" $ip 443; done

# fetch NAME IP [s_client args]: the server's chain as PEM into $ML_TMP/NAME.chain
fetch() {
	local n=$1 ip=$2; shift 2
	ip netns exec "$C" timeout 10 openssl s_client -connect "$ip:443" -servername "$n" -showcerts "$@" \
	    </dev/null >"$ML_TMP/$n.sclient" 2>&1 || true
	awk '/BEGIN CERT/,/END CERT/' "$ML_TMP/$n.sclient" >"$ML_TMP/$n.chain"
	openssl x509 -in "$ML_TMP/$n.chain" -out "$ML_TMP/$n.leaf" 2>/dev/null || true
}
der_sha() { openssl x509 -in "$1" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1; }
field() { openssl x509 -in "$1" -noout "$2" 2>/dev/null | sed 's/^[^=]*=//'; }
# spkis DIR: how many distinct public keys (SPKI SHA-256) the DER certificates in DIR hold
spkis() {
	local f
	for f in "$1"/*.der; do
		openssl x509 -inform DER -in "$f" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum
	done | sort -u | wc -l
}
# hello.py: the bytes of a ClientHello for a name, as Python's ssl would send it
cat >"$ML_TMP/hello.py" <<'PY'
import ssl
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
def hello(name):
    o = ssl.MemoryBIO(); t = ctx.wrap_bio(ssl.MemoryBIO(), o, server_hostname=name)
    try: t.do_handshake()
    except ssl.SSLWantReadError: pass
    return o.read()
PY
# burst.py IP NAME N DIR [DRAIN]: N clients connect to IP, meet, then all send a ClientHello
# for NAME at once (so that the engine's first ones miss together, on both workers) and save
# the leaf each gets as DIR/I.der. DRAIN > 0: before that, DRAIN clients send a hello for a
# fresh name each and hold, so that they use up the ready keys and queue ahead of the burst:
# the burst's misses must then park for keys.
cat >"$ML_TMP/burst.py" <<'PY'
import os, socket, sys, threading, time
from hello import ctx, hello
ip, name, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
drain = int(sys.argv[5]) if len(sys.argv) > 5 else 0
held = []
for i in range(drain):
    s = socket.create_connection((ip, 443), timeout=10); s.sendall(hello(f"drain{i}-{name}")); held.append(s)
if drain: time.sleep(0.05)
socks = [socket.create_connection((ip, 443), timeout=10) for _ in range(n)]
bar = threading.Barrier(n)
os.makedirs(out, exist_ok=True)
def one(i):
    bar.wait()
    try:
        t = ctx.wrap_socket(socks[i], server_hostname=name)
        open(f"{out}/{i}.der", "wb").write(t.getpeercert(binary_form=True)); t.close()
    except OSError as e: print(i, e)
th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in th: t.start()
for t in th: t.join()
for s in held: s.close()
print("got", len(os.listdir(out)), "of", n)
PY

echo "-- targeted SNI (www.google.com): forged by the kz2019 rules"
fetch www.google.com 10.77.2.2 -CAfile "$ML_TMP/ca/root.pem"
L=$ML_TMP/www.google.com.leaf; O_L=$W/www.google.com.pem
ok "chain verifies to the mock national root" grep -q "Verify return code: 0 (ok)" "$ML_TMP/www.google.com.sclient"
ok "leaf issued by the mock intermediate" bash -c "openssl x509 -in '$L' -noout -issuer | grep -q 'CN *= *Security Certificate'"
ok "root in the chain file is Qaznet (LAB)" bash -c "openssl x509 -in '$ML_TMP/ca/root.pem' -noout -subject | grep -q 'Qaznet Trust Network (LAB mock)'"
ok "subject copied from the real certificate" [ "$(field "$L" -subject)" = "$(field "$O_L" -subject)" ]
ok "SAN copied from the real certificate" [ "$(openssl x509 -in "$L" -noout -ext subjectAltName | tail -n +2)" = "$(openssl x509 -in "$O_L" -noout -ext subjectAltName | tail -n +2)" ]
ok "RSA-2048 public key" bash -c "openssl x509 -in '$L' -noout -text | grep -q 'Public-Key: (2048 bit)'"
ok "public exponent 3" bash -c "openssl x509 -in '$L' -noout -text | grep -q 'Exponent: 3 (0x3)'"
ok "every extension but SAN removed" [ "$(openssl x509 -in "$L" -noout -text | grep -c 'X509v3 [A-Z]')" = 1 ]
shift_h() { echo $(( ($(date -ud "$(field "$O_L" "$1")" +%s) - $(date -ud "$(field "$L" "$1")" +%s)) / 3600 )); }
ok "notBefore shifted 6 hours earlier" [ "$(shift_h -startdate)" = 6 ]
ok "notAfter shifted 6 hours earlier" [ "$(shift_h -enddate)" = 6 ]
ok "serial keeps all but the low 33 bits" python3 -c "
import sys; a=int('$(field "$L" -serial)',16); b=int('$(field "$O_L" -serial)',16)
sys.exit(0 if a>>33==b>>33 and a!=b else 1)"

echo "-- untargeted SNI (example.org): spliced, certificate byte-identical"
fetch example.org 10.77.2.4
ok "leaf is the origin's certificate, byte for byte" [ "$(der_sha "$ML_TMP/example.org.leaf")" = "$(der_sha "$W/example.org.pem")" ]

echo "-- SNI facebook.com to the server whose certificate is for iqala.kz"
fetch facebook.com 10.77.2.3 -CAfile "$ML_TMP/ca/root.pem"
ok "forged leaf is named after the server's certificate (CN=iqala.kz)" bash -c "openssl x509 -in '$ML_TMP/facebook.com.leaf' -noout -subject | grep -q 'CN *= *iqala.kz'"
ok "and issued by the mock intermediate" bash -c "openssl x509 -in '$ML_TMP/facebook.com.leaf' -noout -issuer | grep -q 'Security Certificate'"

echo "-- an origin certificate of 30 KiB PEM (vk.com, 1200 SANs)"
fetch vk.com 10.77.2.6 -CAfile "$ML_TMP/ca/root.pem"
ok "still forged and trusted (the events omit its PEMs, checked below)" grep -q "Verify return code: 0 (ok)" "$ML_TMP/vk.com.sclient"

echo "-- TLS 1.3 and h2 through the interceptor"
fetch google.com 10.77.2.2 -tls1_3 -CAfile "$ML_TMP/ca/root.pem"
ok "client leg negotiates TLS 1.3" grep -q "TLSv1.3" "$ML_TMP/google.com.sclient"
out=$(ip netns exec "$C" curl -sS --max-time 10 --http2 --cacert "$ML_TMP/ca/root.pem" \
    --resolve www.google.com:443:10.77.2.2 -w '%{http_version} %{http_code}' -o "$ML_TMP/body" https://www.google.com/ 2>&1 || true)
ok "curl over h2 gets 200 through the interceptor ($out)" [ "$out" = "2 200" ]
ok "body relayed intact" grep -q "hello from the lab origin" "$ML_TMP/body"
out=$(ip netns exec "$C" curl -sS --max-time 10 --http1.1 --cacert "$W/root.pem" \
    --resolve example.org:443:10.77.2.4 -o /dev/null -w '%{http_code}' https://example.org/ 2>&1 || true)
ok "curl to the untargeted site trusts the real web root ($out)" [ "$out" = 200 ]

echo "-- one host, one key: 24 first connections at once for a new name (both workers miss)"
# KZ-FACTS: the forged leaf carries a host-specific key. Before the fix each worker forged
# its own key for a host, and so did connections that missed together (the events check
# below makes sure both workers missed)
ip netns exec "$C" timeout 20 python3 "$ML_TMP/burst.py" 10.77.2.2 mail.google.com 24 \
    "$ML_TMP/burst" >"$ML_TMP/burst.out" 2>&1 || true
n=$(spkis "$ML_TMP/burst")
ok "all 24 leaves carry one public key ($(tail -n 1 "$ML_TMP/burst.out"); $n keys)" \
    bash -c "[ $n = 1 ] && grep -qx 'got 24 of 24' '$ML_TMP/burst.out'"

echo "-- a client resuming the session the interceptor issued (TLS 1.3 ticket)"
# s_client keeps the ticket only if it is still connected when the ticket arrives; the two
# connections may land on different workers (--workers 2), which share the ticket keys
(sleep 2) | ip netns exec "$C" timeout 10 openssl s_client -connect 10.77.2.2:443 -tls1_3 \
    -servername www.google.com -CAfile "$ML_TMP/ca/root.pem" -sess_out "$ML_TMP/sess.pem" \
    >"$ML_TMP/sess1.out" 2>&1 || true
# twelve reconnects, each landing on either worker (SO_REUSEPORT), all must resume: with
# per-worker ticket keys all twelve would land on the issuing worker 1 time in 4096
reused=0
for i in $(seq 12); do
	ip netns exec "$C" timeout 10 openssl s_client -connect 10.77.2.2:443 -tls1_3 \
	    -servername www.google.com -CAfile "$ML_TMP/ca/root.pem" -sess_in "$ML_TMP/sess.pem" \
	    </dev/null >"$ML_TMP/sess2.out" 2>&1 || true
	grep -q "^Reused, TLSv1.3" "$ML_TMP/sess2.out" && reused=$((reused + 1))
done
ok "reconnects resume on the client leg, whichever worker takes them ($reused of 12)" [ "$reused" = 12 ]

echo "-- network safety: a destination outside --allow-upstream"
ip netns exec "$C" ip route add 10.99.0.0/24 via 10.77.1.1
fetch www.google.com-outside 10.99.0.2
ok "no certificate from outside the lab subnets" [ ! -s "$ML_TMP/www.google.com-outside.chain" ]
# The gateway's own 10.77.2.1 lies inside --allow-upstream: a flow sent straight to the
# listener is not diverted, and dialling its destination would connect the engine to itself.
ip netns exec "$C" timeout 5 openssl s_client -connect 10.77.2.1:8443 -servername www.google.com \
    </dev/null >"$ML_TMP/self.sclient" 2>&1 || true
selfs=$(grep -c "refused: destination 10.77.2.1:8443 is the engine's own listener" "$ML_TMP/proxy.log" || true)
ok "a flow to the engine's own listener is refused once, not dialled ($selfs)" [ "$selfs" = 1 ]
ok "no certificate from the engine's own listener" bash -c "! grep -q 'BEGIN CERTIFICATE' '$ML_TMP/self.sclient'"

echo "-- a client port reused for another destination keeps its flow id"
# Both flows are redirected to the gateway's :8443, so while the first one's conntrack entry
# lives the second one's reply tuple clashes with it and NAT gives it another source port;
# the engine must still name the flow by the port the client used (the join key).
REUSE_PORT=47123
ip netns exec "$C" /usr/bin/python3 - "$REUSE_PORT" <<'PY' >"$ML_TMP/reuse.out" 2>&1 || true
import socket, ssl, sys
port = int(sys.argv[1])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
for ip, sni in (("10.77.2.4", "example.org"), ("10.77.2.2", "www.google.com")):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(10); s.bind(("10.77.1.2", port)); s.connect((ip, 443))
    t = ctx.wrap_socket(s, server_hostname=sni)
    print(ip, "port", t.getsockname()[1], t.version())
    t.close()
PY
ok "the client reused port $REUSE_PORT for both destinations" [ "$(grep -c "port $REUSE_PORT TLS" "$ML_TMP/reuse.out")" = 2 ]

echo "-- hello-and-close clients do not starve key generation for a new name"
# A second engine (no bus) with one ready key and per-host keys (kz2019) intercepts
# *.starve.lab at 10.77.2.5 (its own REDIRECT to :8444). While clients send a ClientHello
# for a fresh name and close at once (30/s for 3 s, 90 at most), a real client for a fresh
# name must finish within 3 s: before the fix every closed client stayed parked in the key
# queue (one RSA-2048 key, ~0.16 s here, each) until the 10 s handshake timeout.
ml_bg "$O" nghttpd-starve nghttpd --address=10.77.2.5 443 "$W/starve.lab.key" "$W/starve.lab.chain.pem"
echo "*.starve.lab" >"$ML_TMP/starve.txt"
ip netns exec "$G" iptables -t nat -I PREROUTING -i g0 -p tcp -d 10.77.2.5 --dport 443 -j REDIRECT --to-ports 8444
# (pinned to one core, the first this test may use: by default one key-generator thread per
# CPU it may run on, so one)
ml_bg "$G" proxy-starve taskset -c "$(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')" "$ML_BIN" proxy --listen 0.0.0.0:8444 --workers 1 --ca "$ML_TMP/ca" \
    --profile kz2019 --target-list "$ML_TMP/starve.txt" --keypool 1 --cache-size 1 --debug \
    --require-valid-upstream --upstream-cafile "$W/root.pem" --allow-upstream 10.77.2.0/24
STARVEPID=$ML_LASTPID
ml_wait_port "$G" 127.0.0.1 8444; ml_wait_port "$O" 10.77.2.5 443
ip netns exec "$C" env PYTHONPATH="$ML_TMP" timeout 10 python3 - <<'PY' >"$ML_TMP/starve.out" 2>&1 || true
import socket, time
from hello import hello
for i in range(90):
    try:
        s = socket.create_connection(("10.77.2.5", 443), timeout=2); s.sendall(hello(f"atk{i}.starve.lab")); s.close()
    except OSError: pass
    time.sleep(1 / 30)
print("sent", i + 1)
PY
t0=$(date +%s%N)
ip netns exec "$C" timeout 10 openssl s_client -connect 10.77.2.5:443 -servername real1.starve.lab \
    -CAfile "$ML_TMP/ca/root.pem" </dev/null >"$ML_TMP/starve.sclient" 2>&1 || true
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
# (starved, it waited for the 10 s handshake timeout and failed; the bound only tells that
# apart on a slow machine, it is not a performance figure)
ok "a real client's new name completes after the burst ($(cat "$ML_TMP/starve.out"), ${ms} ms)" \
    bash -c "[ $ms -lt 8000 ] && grep -q 'Verify return code: 0' '$ML_TMP/starve.sclient'"
ok "an engine pinned to one core generates its keys on one thread" grep -q 'keypool: 1 keys ahead, 1 generator thread(s)' "$ML_TMP/proxy-starve.log"

echo "-- one host, one key: connections parked together for a new name"
# One worker, one ready key: three held hellos for fresh names take it and queue ahead, so
# the 8 connections for one.starve.lab all park. The first key to arrive becomes the host's;
# each later one finds it, forges with it and passes its own key to the next parked request.
ip netns exec "$C" timeout 20 python3 "$ML_TMP/burst.py" 10.77.2.5 one.starve.lab 8 \
    "$ML_TMP/parked" 3 >"$ML_TMP/parked.out" 2>&1 || true
n=$(spkis "$ML_TMP/parked")
ok "all 8 leaves carry one public key ($(tail -n 1 "$ML_TMP/parked.out"); $n keys)" \
    bash -c "[ $n = 1 ] && grep -qx 'got 8 of 8' '$ML_TMP/parked.out'"
nsur=$(grep -c "the host's key was fixed meanwhile" "$ML_TMP/proxy-starve.log" || true)
ok "parked connections re-checked the host's key when theirs came ($nsur keys given back)" \
    [ "$nsur" -ge 1 ]
# --cache-size 1: a new name evicts one.starve.lab's forgery; its next forgery (a cache miss)
# must show the same key, held by the host-key map (by default 4 x cache-size x workers = 4)
ip netns exec "$C" timeout 20 python3 "$ML_TMP/burst.py" 10.77.2.5 evict.starve.lab 1 \
    "$ML_TMP/evict" >/dev/null 2>&1 || true
ip netns exec "$C" timeout 20 python3 "$ML_TMP/burst.py" 10.77.2.5 one.starve.lab 1 \
    "$ML_TMP/parked-again" >/dev/null 2>&1 || true
cp "$ML_TMP/parked-again/0.der" "$ML_TMP/parked/again.der" 2>/dev/null || true
n=$(spkis "$ML_TMP/parked")
ok "forged again after its eviction from the cache, with the same key ($n keys)" \
    bash -c "[ $n = 1 ] && [ -s '$ML_TMP/parked/again.der' ]"

echo "-- a worker parks at most 64 connections for a key"
# 90 clients send a hello for a fresh name each and stay (2 s): the 65th and later that
# find no key ready are closed at once ("keywait-full"), not queued
ip netns exec "$C" env PYTHONPATH="$ML_TMP" timeout 10 python3 - <<'PY' >/dev/null 2>&1 || true
import socket, time
from hello import hello
held = []
for i in range(90):
    s = socket.create_connection(("10.77.2.5", 443), timeout=2); s.sendall(hello(f"park{i}.starve.lab")); held.append(s)
time.sleep(2)
for s in held: s.close()
PY
nfull=$(grep -c "close keywait-full" "$ML_TMP/proxy-starve.log" || true)
ok "connections beyond the cap are closed at once ($nfull of 90)" [ "$nfull" -ge 5 ]

echo "-- out of descriptors: the accept back-off logs once, and the engine recovers"
# the same engine, its descriptor limit lowered to what it has open plus 8: 40 silent clients
# held for 3 s make accept() fail every 100 ms (the back-off); before the fix each failure
# was logged (about 30 lines)
nfd=$(ls "/proc/$STARVEPID/fd" | wc -l)
prlimit --pid "$STARVEPID" --nofile=$((nfd + 8)):$((nfd + 8))
ip netns exec "$C" timeout 10 python3 -c '
import socket, time
s = [socket.create_connection(("10.77.2.5", 443), timeout=2) for _ in range(40)]
time.sleep(3)
for x in s: x.close()
' >/dev/null 2>&1 || true
ip netns exec "$C" timeout 10 openssl s_client -connect 10.77.2.5:443 -servername real2.starve.lab \
    -CAfile "$ML_TMP/ca/root.pem" </dev/null >"$ML_TMP/fd.sclient" 2>&1 || true
nlog=$(grep -c "accept: Too many open files" "$ML_TMP/proxy-starve.log" || true)
ok "3 s of failing accepts logged once ($nlog lines)" [ "$nlog" = 1 ]
ok "accepting again once descriptors are free" grep -q "Verify return code: 0" "$ML_TMP/fd.sclient"
ml_term "$STARVEPID" || true

echo "-- a spliced flow passes a half-close on"
# 10.77.2.7: a plain TCP server that answers only once the client has finished sending (it
# reads to EOF), as a request-then-shutdown protocol does. Not TLS, so the engine splices it;
# before the half-close was passed on, the client's shutdown ended the whole flow and the
# answer was lost.
ml_bg "$O" halfsrv timeout 20 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.2.7", 443)); s.listen(4)
for _ in range(4):	# the port wait connects too
    c, _ = s.accept(); got = b""
    while True:
        b = c.recv(4096)
        if not b: break
        got += b
    c.sendall(b"got %d bytes" % len(got)); c.close()'
ml_wait_port "$O" 10.77.2.7 443
ip netns exec "$C" timeout 10 python3 -c '
import socket
s = socket.create_connection(("10.77.2.7", 443), timeout=5)
s.sendall(b"plain request, then EOF"); s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(4096)
    if not b: break
    out += b
print(out.decode())' >"$ML_TMP/half.out" 2>&1 || true
ok "the answer sent after the client's half-close arrives ($(cat "$ML_TMP/half.out"))" \
    grep -qx "got 23 bytes" "$ML_TMP/half.out"

echo "-- engine survives garbage and keeps serving"
ip netns exec "$C" bash -c 'exec 3<>/dev/tcp/10.77.2.2/443; printf "\x16\x03\x01\xff\xff\x01\x00\xff\xff garbage" >&3; sleep 0.3' 2>/dev/null || true
ip netns exec "$C" bash -c 'exec 3<>/dev/tcp/10.77.2.2/443; printf "GET / HTTP/1.0\r\n\r\n" >&3; sleep 0.3' 2>/dev/null || true
# a hello whose SNI and second ALPN name are not UTF-8 (Python's own hello, two bytes swapped)
ip netns exec "$C" timeout 10 python3 - <<'PY' >"$ML_TMP/badsni.out" 2>&1 || true
import socket, ssl, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["h2", "zzQzz"])
o = ssl.MemoryBIO(); t = ctx.wrap_bio(ssl.MemoryBIO(), o, server_hostname="cafQ.example.org")
try: t.do_handshake()
except ssl.SSLWantReadError: pass
h = o.read().replace(b"cafQ.example.org", b"caf\xe9.example.org").replace(b"zzQzz", b"zz\xffzz")
s = socket.create_connection(("10.77.2.4", 443), timeout=5); s.sendall(h); time.sleep(0.5); s.close()
print("sent", len(h))
PY
fetch www.google.com 10.77.2.2 -CAfile "$ML_TMP/ca/root.pem"
ok "proxy still alive and intercepting" bash -c "kill -0 $PROXYPID && grep -q 'Verify return code: 0' '$ML_TMP/www.google.com.sclient'"

sleep 1.5   # at least one proxy.stats tick
kill -TERM "$PROXYPID"; for _ in $(seq 50); do kill -0 "$PROXYPID" 2>/dev/null || break; sleep 0.1; done
ok "proxy exits on SIGTERM" bash -c "! kill -0 $PROXYPID 2>/dev/null"
resumed=$(sed -n 's/.*client handshakes: [0-9]* completed, \([0-9]*\) resumed a session.*/\1/p' \
    "$ML_TMP/proxy.log" | awk '{ n += $1 } END { print n + 0 }')
ok "its closing logs count the resumed client handshakes ($resumed)" [ "$resumed" -ge 12 ]
sleep 0.5; kill -TERM "$BUSPID"; for _ in $(seq 50); do kill -0 "$BUSPID" 2>/dev/null || break; sleep 0.1; done

echo "-- the recorded bus events"
ok "events recorded" [ -s "$ML_TMP/events.jsonl" ]
ok "the engine named the reused port's second flow 10.77.1.2:$REUSE_PORT>10.77.2.2:443" \
    grep -q "\"t\":\"proxy.conn.open\".*\"flow\":\"10.77.1.2:$REUSE_PORT>10.77.2.2:443\"" "$ML_TMP/events.jsonl"
ok "events carry the contract keys and match what happened" python3 - "$ML_TMP/events.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
def fail(m): print("   ", m); sys.exit(1)
for e in ev:
    for k in ("v", "t", "ts", "src"):
        if k not in e: fail(f"event without {k}: {e}")
opens = [e for e in ev if e["t"] == "proxy.conn.open"]
act = {}
for e in opens: act.setdefault(e.get("sni"), set()).add(e["action"])
if act.get("www.google.com") != {"intercept"}: fail(f"www.google.com actions {act.get('www.google.com')}")
if act.get("example.org") != {"splice"}: fail(f"example.org actions {act.get('example.org')}")
half = [e for e in ev if e["t"] == "proxy.conn.close" and e["flow"].endswith(">10.77.2.7:443")]
if len(half) != 1 or half[0]["reason"] != "eof-client" or half[0]["bytes_s2c"] != 12:
    fail(f"half-closed splice: {half}")
if "intercept" not in act.get("facebook.com", set()): fail("facebook.com not intercepted")
if not any(e["action"] == "refuse" for e in opens): fail("no refused flow for the outside destination")
for e in opens:
    if "sni" not in e or "alpn" not in e: fail(f"proxy.conn.open without sni or alpn: {e}")
    # the flow's start: before the decision, and not long before (nothing here waits 10 s)
    if not (e["ts"] - 10**10 < e["accepted_ts"] <= e["ts"]): fail(f"accepted_ts of {e}")
if not any(e["accepted_ts"] < e["ts"] for e in opens if e["action"] == "intercept"):
    fail("no intercepted flow began before it was decided")
bad = [e for e in opens if "sni_hex" in e]
if len(bad) != 1: fail(f"{len(bad)} opens with sni_hex, want the one non-UTF-8 hello")
b = bad[0]
if b["sni"] != "caf\\xe9.example.org" or b["sni_hex"] != b"caf\xe9.example.org".hex(): fail(f"sni {b}")
if b["alpn"] != ["h2", "zz\\xffzz"] or b.get("alpn_hex") != ["h2".encode().hex(), b"zz\xffzz".hex()]:
    fail(f"alpn {b}")
if any("alpn_hex" in e for e in opens if e is not b): fail("alpn_hex on a UTF-8 hello")
forges = [e for e in ev if e["t"] == "proxy.forge"]
if not forges: fail("no proxy.forge")
big = [f for f in forges if f["flow"].endswith(">10.77.2.6:443")]
for f in forges:
    if f["profile"] != "kz2019" or f["key_exponent"] != 3 or f["key_bits"] != 2048: fail(f"forge {f}")
    if "PRIVATE KEY" in json.dumps(f): fail("private key on the bus")
    if len(f["orig_sha256"]) != 64 or len(f["forged_sha256"]) != 64: fail(f"no SHA-256 in {f}")
    if f in big:	# PEMs over 16 KiB: null, and said so
        if f["orig_pem"] is not None or f["forged_pem"] is not None or \
            f.get("orig_pem_omitted") is not True or f.get("forged_pem_omitted") is not True:
            fail(f"30 KiB PEMs not omitted: {str(f)[:300]}")
        continue
    if "orig_pem_omitted" in f or "forged_pem_omitted" in f: fail(f"normal PEM omitted: {f}")
    if not f["forged_pem"].startswith("-----BEGIN CERTIFICATE"): fail("no forged PEM")
if not big: fail("no proxy.forge for the 30 KiB certificate")
if not any(f["cache_hit"] for f in forges): fail("no cache hit on the repeated host")
burst = {e["flow"] for e in opens if e.get("sni") == "mail.google.com"}
bmiss = [f for f in forges if f["flow"] in burst and not f["cache_hit"]]
if len(burst) != 24 or len({f["worker"] for f in bmiss}) != 2:
    fail(f"the burst: {len(burst)} flows, misses on workers {[f['worker'] for f in bmiss]}")
closes = [e for e in ev if e["t"] == "proxy.conn.close"]
if len(closes) < len(opens): fail(f"{len(closes)} closes for {len(opens)} opens")
icl = [c for c in closes if c["action"] == "intercept" and c["bytes_s2c"] > 0]
if not icl: fail("no intercepted close with plaintext bytes")
stats = [e for e in ev if e["t"] == "proxy.stats"]
if not stats: fail("no proxy.stats")
last = {}
for e in stats: last[e.get("worker")] = e
for e in last.values():	# process-wide figures: 4 x 2 workers x --cache-size 1024 by default
    if e.get("host_keys_max") != 8192 or not 1 <= e.get("host_keys", 0) <= 8192:
        fail(f"host_keys {e.get('host_keys')} of {e.get('host_keys_max')}")
    if e.get("keygen_threads") != 2 or e.get("keygen_failed") != 0:	# --keygen-threads 2
        fail(f"keygen_threads {e.get('keygen_threads')}, keygen_failed {e.get('keygen_failed')}")
if sum(e.get("client_resumed", 0) for e in last.values()) < 12:
    fail("proxy.stats counts no resumed client handshake: %s" % [e.get("client_resumed") for e in last.values()])
# two workers: each its own thread's CPU, within the process's (which both report)
for e in last.values():
    if not (0 <= e["worker_cpu_s"] <= e["cpu_s"] + 0.02):
        fail(f"worker_cpu_s {e['worker_cpu_s']} not within the process's cpu_s {e['cpu_s']}")
if len(last) == 2 and sum(e["worker_cpu_s"] for e in last.values()) > max(e["cpu_s"] for e in last.values()) + 0.05:
    fail(f"the workers' own CPU adds up to more than the process's: {list(last.values())}")
seqs = {}
for e in ev:
    if "seq" in e: seqs.setdefault(e["src"], []).append(e["seq"])
for s, l in seqs.items():
    if l != list(range(len(l))): fail(f"sequence gap from {s}")
PY
# every forgery of the run, grouped by host (the origin's certificate and the SNI): one key each
python3 - "$ML_TMP/events.jsonl" "$ML_TMP/hosts" <<'PY'
import json, os, ssl, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
sni = {e["flow"]: e.get("sni") for e in ev if e["t"] == "proxy.conn.open"}
hosts = {}
for f in ev:
    if f["t"] == "proxy.forge" and f.get("forged_pem"):
        hosts.setdefault((f["orig_sha256"], sni.get(f["flow"])), []).append(f["forged_pem"])
for i, pems in enumerate(hosts.values()):
    os.makedirs(f"{sys.argv[2]}/{i}")
    for j, p in enumerate(pems):
        open(f"{sys.argv[2]}/{i}/{j}.der", "wb").write(ssl.PEM_cert_to_DER_cert(p))
PY
nh=0; multi=0
for d in "$ML_TMP"/hosts/*/; do
	nh=$((nh + 1)); [ "$(spkis "$d")" = 1 ] || multi=$((multi + 1))
done
ok "every host kept one key all run ($nh hosts, $multi with more than one key)" \
    bash -c "[ $nh -ge 4 ] && [ $multi = 0 ]"
ok "key log has secrets for both legs" bash -c "[ \$(grep -c CLIENT_HANDSHAKE_TRAFFIC_SECRET '$ML_TMP/keylog.txt') -ge 4 ]"
ok "no private key outside pki/ in the bus record" bash -c "! grep -q 'PRIVATE KEY' '$ML_TMP/events.jsonl'"
ml_done
