#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_engine_modes.sh — engine checks beyond test_engine.sh:
# block-reset / block-timeout, --require-valid-upstream falling back to a byte-identical splice,
# an origin failing verification under Squid (signed by its untrusted CA) and mitmproxy (closed),
# the kz2019 and mirror upstream ClientHellos as the origin sees them, a 32 MiB download through
# interception (backpressure), TPROXY mode with the client's source address at the origin,
# --max-conns, and the SIGTERM drain. Namespaces and processes are this script's own (lib.sh).
set -eu
. "$(dirname "$0")/lib.sh"
ml_init enginemodes

ml_engine_line 3 5 6
ip netns exec "$G" iptables -t nat -A PREROUTING -i g0 -p tcp --dport 443 -j REDIRECT --to-ports 8443

W=$ML_TMP/web
ml_webpki "$W" www.google.com,google.com
mkdir -p "$ML_TMP/docroot"; head -c $((32 << 20)) /dev/urandom >"$ML_TMP/docroot/big"
ml_bg "$O" nghttpd nghttpd -d "$ML_TMP/docroot" --address=10.77.2.2 443 "$W/www.google.com.key" "$W/www.google.com.chain.pem"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=untrusted.test" \
    -keyout "$ML_TMP/self.key" -out "$ML_TMP/self.pem" 2>/dev/null
ml_bg "$O" s_server openssl s_server -quiet -www -accept 10.77.2.3:443 -cert "$ML_TMP/self.pem" -key "$ML_TMP/self.key"
# 10.77.2.5: records the first bytes it receives (the engine's upstream ClientHello)
cat >"$ML_TMP/hello.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.2.5", 443)); s.listen(8); s.settimeout(60)
for i in range(8):
    c, _ = s.accept(); c.settimeout(3); data = b""
    try:
        while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
            d = c.recv(65536)
            if not d: break
            data += d
    except Exception: pass
    open(sys.argv[1] + ".%d" % i, "wb").write(data); c.close()
PY
ml_bg "$O" hello python3 "$ML_TMP/hello.py" "$ML_TMP/hello"
"$ML_BIN" ca init --out "$ML_TMP/ca" --profile kz-2019 --seed 7 >/dev/null

start_proxy() {
	ml_bg "$G" "proxy$1" "$ML_BIN" proxy --listen 0.0.0.0:8443 --workers 2 --ca "$ML_TMP/ca" \
	    --target www.google.com --target untrusted.test --target hello.test \
	    --rule "block-reset sni=reset.test" --rule "block-timeout sni=hold.test" \
	    --block-timeout 1500 --require-valid-upstream --upstream-cafile "$W/root.pem" \
	    --allow-upstream 10.77.2.0/24 "${@:2}"
	PROXYPID=$ML_LASTPID
	ml_wait_port "$G" 127.0.0.1 8443
}
stop_proxy() { ml_term "$PROXYPID"; }
sclient() { ip netns exec "$C" timeout 10 openssl s_client -connect "$1:443" -servername "$2" "${@:3}" </dev/null 2>&1 || true; }
der_sha() { openssl x509 -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1; }
# has TEXT GREP-ARGS...: TEXT matches. Never paste client output into `bash -c "…'$out'…"`:
# s_client prints session tickets with an ASCII column, and a random quote in it broke that.
has() { printf '%s\n' "$1" | grep -q "${@:2}"; }
lacks() { ! has "$@"; }

start_proxy 1 --upstream-hello kz2019 --keylog "$ML_TMP/keylog.txt"
ml_wait_port "$O" 10.77.2.2 443

echo "-- block actions"
out=$(sclient 10.77.2.2 reset.test); ok "block-reset: client sees a reset" has "$out" -iE 'reset|errno=104|write:errno'
t0=$(date +%s%N); out=$(sclient 10.77.2.2 hold.test); t1=$(date +%s%N)
ok "block-timeout: held silently ~1.5 s ($(( (t1 - t0) / 1000000 )) ms)" [ $(( (t1 - t0) / 1000000 )) -ge 1300 ]
ok "block-timeout: no certificate" lacks "$out" 'BEGIN CERT'

echo "-- --require-valid-upstream: an untrusted origin is spliced untouched"
got=$(sclient 10.77.2.3 untrusted.test -showcerts | awk '/BEGIN CERT/,/END CERT/' | der_sha)
ok "origin's self-signed certificate byte-identical" [ "$got" = "$(der_sha <"$ML_TMP/self.pem")" ]

echo "-- kz2019 upstream ClientHello at the origin"
sclient 10.77.2.5 hello.test >/dev/null
ok "kz2019 hello: TLS 1.0 record, TLS 1.2 hello, 13 cipher suites" python3 - "$ML_TMP/hello.0" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
rec = d[1:3].hex(); ver = d[9:11].hex(); sid = d[43]; n = int.from_bytes(d[44 + sid:46 + sid], "big") // 2
print("    record", rec, "hello", ver, "ciphers", n)
sys.exit(0 if (rec, ver, n) == ("0301", "0303", 13) else 1)
PY

echo "-- 32 MiB through interception (h2, backpressure)"
out=$(ip netns exec "$C" curl -sS --max-time 60 --http2 --cacert "$ML_TMP/ca/root.pem" \
    --resolve www.google.com:443:10.77.2.2 -w '%{http_version} %{http_code}' -o "$ML_TMP/big.out" https://www.google.com/big 2>&1 || true)
ok "curl h2 200 ($out)" [ "$out" = "2 200" ]
ok "body identical" cmp -s "$ML_TMP/big.out" "$ML_TMP/docroot/big"
ok "key log is mode 0600" [ "$(stat -c %a "$ML_TMP/keylog.txt")" = 600 ]
ok "proxy RSS below 200 MiB" bash -c "[ \$(awk '/VmRSS/{print \$2}' /proc/$PROXYPID/status) -lt 204800 ]"

echo "-- SIGTERM drains"
ip netns exec "$C" bash -c 'exec 3<>/dev/tcp/10.77.2.2/443; sleep 0.5' &
sleep 0.2
ok "exits within the grace" stop_proxy

echo "-- mirror upstream hello"
start_proxy 2 --upstream-hello mirror
sclient 10.77.2.5 hello.test -tls1_2 -cipher 'ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA' >/dev/null
ok "mirror: the client's two TLS 1.2 suites in its order" python3 - "$ML_TMP/hello.1" <<'PY'
import sys
d = open(sys.argv[1], "rb").read(); sid = d[43]; n = int.from_bytes(d[44 + sid:46 + sid], "big")
cs = [d[46 + sid + i:48 + sid + i].hex() for i in range(0, n, 2)]
print("    ciphers", cs)
sys.exit(0 if cs[:2] == ["c030", "002f"] and d[9:11].hex() == "0303" else 1)
PY
stop_proxy

echo "-- an origin that fails verification: Squid signs with its untrusted CA, mitmproxy closes"
# untrusted.test (10.77.2.3) is self-signed. Without --require-valid-upstream each profile
# does what the real tool does (KZ-FACTS): Squid mimics it under an "untrusted" CA of its
# own, so the client still sees a certificate error; mitmproxy refuses the flow.
sq() {
	ml_bg "$G" "proxy-$1" "$ML_BIN" proxy --listen 0.0.0.0:8443 --workers 1 --ca "$ML_TMP/ca" \
	    --target www.google.com --target untrusted.test --profile "$1" \
	    --upstream-cafile "$W/root.pem" --allow-upstream 10.77.2.0/24
	PROXYPID=$ML_LASTPID
	ml_wait_port "$G" 127.0.0.1 8443
}
sq squid
out=$(sclient 10.77.2.3 untrusted.test -CAfile "$ML_TMP/ca/root.pem")
ok "squid: the leaf is named as the origin's and issued by 'Not trusted by \"Security Certificate (LAB mock)\"'" \
    has "$out" -E 'issuer=.*Not trusted by .{0,2}Security Certificate \(LAB mock\)'
ok "squid: the client cannot verify it under the national root" lacks "$out" 'Verify return code: 0 (ok)'
out=$(sclient 10.77.2.2 www.google.com -CAfile "$ML_TMP/ca/root.pem")
ok "squid: a valid origin still gets the national issuer (verifies)" has "$out" 'Verify return code: 0 (ok)'
stop_proxy
sq mitmproxy
out=$(sclient 10.77.2.3 untrusted.test -CAfile "$ML_TMP/ca/root.pem")
ok "mitmproxy: no certificate for an origin that fails verification" lacks "$out" 'BEGIN CERT'
stop_proxy

echo "-- --max-conns 1"
start_proxy 3 --max-conns 1
ip netns exec "$C" bash -c 'exec 3<>/dev/tcp/10.77.2.2/443; sleep 2' &
HOLD=$!
sleep 0.3
out=$(sclient 10.77.2.2 www.google.com -CAfile "$ML_TMP/ca/root.pem")
ok "second connection refused while the first is open" lacks "$out" 'Server certificate'
stop_proxy; wait $HOLD

echo "-- TPROXY mode: the origin sees the client's address"
ip netns exec "$G" iptables -t nat -F
ip netns exec "$G" iptables -t mangle -A PREROUTING -i g0 -p tcp --dport 443 -j TPROXY --on-port 8443 --on-ip 0.0.0.0 --tproxy-mark 0x1/0x1
ip netns exec "$G" iptables -t mangle -A PREROUTING -i g1 -p tcp --sport 443 -j MARK --set-mark 1
ip -n "$G" rule add fwmark 1 lookup 100; ip -n "$G" route add local 0.0.0.0/0 dev lo table 100
ml_bg "$O" peer python3 -c '
import socket; s = socket.socket(); s.bind(("10.77.2.6", 443)); s.listen(4); s.settimeout(30)
c, a = s.accept(); print("PEER", a[0], flush=True); c.close()'
sleep 0.5
start_proxy 4 --mode tproxy
ml_wait_port "$G" 10.77.1.1 8443 || true
got=$(sclient 10.77.2.3 untrusted.test -showcerts | awk '/BEGIN CERT/,/END CERT/' | der_sha)
ok "tproxy: spliced certificate identical" [ "$got" = "$(der_sha <"$ML_TMP/self.pem")" ]
sclient 10.77.2.6 www.google.com >/dev/null; sleep 0.3
ok "tproxy: the origin saw the client's address ($(cat "$ML_TMP/peer.log"))" grep -q "PEER 10.77.1.2" "$ML_TMP/peer.log"
stop_proxy
ml_done
