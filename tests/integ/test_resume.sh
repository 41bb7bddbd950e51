#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_resume.sh — upstream TLS session resumption (--upstream-resume) against openssl s_server,
# which issues tickets and whose -www page says whether the session it served was "Reused":
#
#   client ns 10.77.1.2 ── 10.77.1.1 gateway ns 10.77.2.1 ── origin ns 10.77.2.2 / .3
#                          (REDIRECT :443 → mitmlab proxy :8443, one worker, bus recorder)
#
# Asserts, from the origin's page, the client's view and the recorded proxy.upstream events:
# the second intercepted connection to a host is resumed upstream (TLS 1.3 tickets; TLS 1.2
# with the kz2019 hello) and still gets a forged certificate for that host that verifies under
# the mock root; another SNI to the same address is not resumed with the first host's session;
# the same SNI at another address is not offered it either; with the option off nothing is.
set -eu
. "$(dirname "$0")/lib.sh"
ml_init resume

ml_engine_line 3
ip netns exec "$G" iptables -t nat -A PREROUTING -i g0 -p tcp --dport 443 -j REDIRECT --to-ports 8443

W=$ML_TMP/web
ml_webpki "$W" a.test,b.test
for ip in 10.77.2.2 10.77.2.3; do
	ml_bg "$O" "s_server-$ip" openssl s_server -www -accept "$ip:443" -cert "$W/a.test.pem" \
	    -key "$W/a.test.key" -cert_chain "$W/int.pem"
done
ml_bg "$G" bus "$ML_BIN" bus --in "ipc://$ML_TMP/bus.in" --out "ipc://$ML_TMP/bus.out" --record "$ML_TMP/events.jsonl"
BUSPID=$ML_LASTPID
"$ML_BIN" ca init --out "$ML_TMP/ca" --profile plain --seed 7 >/dev/null
for ip in 10.77.2.2 10.77.2.3; do ml_wait_port "$O" $ip 443; done

# start_proxy ID ARGS...: one worker (sessions are per worker), upstream verification on
start_proxy() {
	ml_bg "$G" "proxy-$1" "$ML_BIN" proxy --id "$1" --listen 0.0.0.0:8443 --workers 1 \
	    --ca "$ML_TMP/ca" --profile mitmproxy --target a.test --target b.test \
	    --upstream-verify on --upstream-cafile "$W/root.pem" --allow-upstream 10.77.2.0/24 \
	    --bus "ipc://$ML_TMP/bus.in" "${@:2}"
	PROXYPID=$ML_LASTPID
	ml_wait_port "$G" 127.0.0.1 8443
}
stop_proxy() { ml_term "$PROXYPID"; }
# get NAME IP: one intercepted GET / with s_client (certificate, verification and the page);
# output in $ML_TMP/NAME-IP.N, the file name in $OUT
N=0
get() {
	N=$((N + 1)); OUT=$ML_TMP/$1-$2.$N
	printf 'GET / HTTP/1.0\r\n\r\n' | ip netns exec "$C" timeout 10 openssl s_client -connect "$2:443" \
	    -servername "$1" -verify_hostname "$1" -CAfile "$ML_TMP/ca/root.pem" -showcerts -ign_eof \
	    >"$OUT" 2>&1 || true
	sleep 0.2	# the origin's close and its tickets reach the proxy
}
verified() { grep -q "Verify return code: 0 (ok)" "$1"; }
reused() { grep -q "^Reused, " "$1"; }	# s_server -www's page; s_client prints "New," for its own leg
forged_for() {
	awk '/BEGIN CERT/,/END CERT/' "$1" | openssl x509 -noout -issuer -ext subjectAltName 2>/dev/null >"$1.x"
	grep -q "DNS:$2" "$1.x" && ! grep -q "Lab Web" "$1.x"
}

echo "-- --upstream-resume, TLS 1.3 (openssl hello)"
start_proxy p1 --upstream-resume
get a.test 10.77.2.2; A1=$OUT
get a.test 10.77.2.2; A2=$OUT
get b.test 10.77.2.2; B1=$OUT
get b.test 10.77.2.2; B2=$OUT
get a.test 10.77.2.3; A3=$OUT
ok "first connection to a.test: full handshake at the origin" bash -c "grep -q '^New, TLSv1.3' '$A1'"
ok "second connection to a.test: resumed at the origin" reused "$A2"
ok "resumed: the client's chain verifies for a.test" verified "$A2"
ok "resumed: forged leaf (mock CA) names a.test" forged_for "$A2" a.test
ok "b.test to the same address: not resumed with a.test's session" bash -c "! grep -q '^Reused' '$B1' && grep -q '^New, ' '$B1'"
ok "b.test: verifies for b.test" verified "$B1"
ok "second b.test: resumed with its own session" reused "$B2"
ok "a.test at another address: full handshake" bash -c "grep -q '^New, ' '$A3'"
stop_proxy

echo "-- option off: nothing is resumed"
start_proxy p2
get a.test 10.77.2.2; O1=$OUT
get a.test 10.77.2.2; O2=$OUT
ok "off: first and second connection both full handshakes" bash -c "grep -q '^New, ' '$O1' && grep -q '^New, ' '$O2'"
ok "off: verified for a.test" verified "$O2"
stop_proxy

echo "-- --upstream-resume with the kz2019 hello (TLS 1.2 session tickets)"
start_proxy p3 --upstream-resume --upstream-hello kz2019
get a.test 10.77.2.2; K1=$OUT
get a.test 10.77.2.2; K2=$OUT
ok "kz2019: first connection new (TLS 1.2)" bash -c "grep -q '^New, TLSv1.2' '$K1'"
ok "kz2019: second connection resumed (TLS 1.2)" bash -c "grep -q '^Reused, TLSv1.2' '$K2'"
ok "kz2019: resumed flow verifies for a.test" verified "$K2"
stop_proxy
sleep 0.5; kill -TERM "$BUSPID"; for _ in $(seq 50); do kill -0 "$BUSPID" 2>/dev/null || break; sleep 0.1; done

echo "-- the recorded proxy.upstream events"
ok "proxy.upstream \"resumed\" matches, per proxy, in order" python3 - "$ML_TMP/events.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
sni = {e["flow"]: (e.get("sni"), e["dst"]["ip"]) for e in ev if e["t"] == "proxy.conn.open"}
got = {}
for e in ev:
    if e["t"] == "proxy.upstream":
        if "resumed" not in e: print("    no resumed key:", e); sys.exit(1)
        got.setdefault(e["src"].split(".")[0], []).append(sni[e["flow"]] + (e["resumed"], e["verdict"], e["version"]))
want = {"p1": [("a.test", "10.77.2.2", False), ("a.test", "10.77.2.2", True), ("b.test", "10.77.2.2", False),
               ("b.test", "10.77.2.2", True), ("a.test", "10.77.2.3", False)],
        "p2": [("a.test", "10.77.2.2", False), ("a.test", "10.77.2.2", False)],
        "p3": [("a.test", "10.77.2.2", False), ("a.test", "10.77.2.2", True)]}
bad = 0
for p, w in want.items():
    g = got.get(p, [])
    print("   ", p, [(s, ip, r, v) for s, ip, r, _, v in g])
    if [x[:3] for x in g] != w or any(x[3] != "intercept" for x in g): bad = 1
if any(x[4] != "TLSv1.2" for x in got.get("p3", [])): bad = 1
st = {}
for e in ev:
    if e["t"] == "proxy.stats" and e.get("final"): st[e["src"].split(".")[0]] = e
s1, s3 = st.get("p1", {}), st.get("p3", {})
print("    p1 final stats:", {k: v for k, v in s1.items() if k.startswith("upstream")})
# a.test at .3 was never offered .2's session: nothing was refused by an origin
if (s1.get("upstream_resume_offered"), s1.get("upstream_resumed"), s1.get("upstream_resume_refused")) != (2, 2, 0): bad = 1
if "upstream_resume_offered" in st.get("p2", {}) or s3.get("upstream_resumed") != 1: bad = 1
sys.exit(bad)
PY
ml_done
