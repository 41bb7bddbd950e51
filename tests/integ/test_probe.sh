#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_probe.sh — `mitmlab probe ttl` (Censored Planet's TTL-limited localisation) on a line of
# namespaces with the interceptor three hops from the client and the server six:
#
#   client 10.78.0.2 ── r1 ── r2 ── gw ── r3 ── r4 ── server 10.78.5.2
#   hop:                1     2     3     4     5     6
#   (gw: REDIRECT :443 → mitmlab proxy :8443 targeting www.google.com only)
#
# Asserts: the targeted SNI first gets the injected certificate at TTL 3 (the gateway), the
# server answers at TTL 6, hops_before_server is 3; no certificate below TTL 3; the untargeted
# SNI never shows injection; classification without --trust (against the control) agrees;
# the probe.ttl event reaches the bus.
set -eu
ML_KEEP=${ML_KEEP:-}
. "$(dirname "$0")/lib.sh"
ml_init probe

ml_ns C c; ml_ns R1 r1; ml_ns R2 r2; ml_ns G g; ml_ns R3 r3; ml_ns R4 r4; ml_ns S s
ml_link "$C" c0 10.78.0.2/24 "$R1" a0 10.78.0.1/24
ml_link "$R1" a1 10.78.1.1/24 "$R2" b0 10.78.1.2/24
ml_link "$R2" b1 10.78.2.1/24 "$G" g0 10.78.2.2/24
ml_link "$G" g1 10.78.3.1/24 "$R3" d0 10.78.3.2/24
ml_link "$R3" d1 10.78.4.1/24 "$R4" e0 10.78.4.2/24
ml_link "$R4" e1 10.78.5.1/24 "$S" s0 10.78.5.2/24
ip -n "$C" route add 10.78.0.0/16 via 10.78.0.1
ip -n "$S" route add 10.78.0.0/16 via 10.78.5.1
# Node i (client 0 .. server 6) sits on links i-1 and i (10.78.LINK.0/24): links further left
# go via its left neighbour, links further right via its right one.
route() {
	local ns=$1 i=$2 left=$3 right=$4 k
	for k in 0 1 2 3 4 5; do
		if [ "$k" -lt $((i - 1)) ]; then ip -n "$ns" route add "10.78.$k.0/24" via "$left"; fi
		if [ "$k" -gt "$i" ]; then ip -n "$ns" route add "10.78.$k.0/24" via "$right"; fi
	done
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
}
route "$R1" 1 10.78.0.2 10.78.1.2
route "$R2" 2 10.78.1.1 10.78.2.2
route "$G" 3 10.78.2.1 10.78.3.2
route "$R3" 4 10.78.3.1 10.78.4.2
route "$R4" 5 10.78.4.1 10.78.5.2
ip netns exec "$G" iptables -t nat -A PREROUTING -i g0 -p tcp --dport 443 -j REDIRECT --to-ports 8443

W=$ML_TMP/web
ml_webpki "$W" www.google.com,google.com,example.org,example.net
ml_bg "$S" s_server openssl s_server -quiet -www -accept 10.78.5.2:443 \
    -cert "$W/www.google.com.pem" -key "$W/www.google.com.key" -cert_chain "$W/int.pem"
echo www.google.com >"$ML_TMP/targets.txt"
ml_bg "$G" bus "$ML_BIN" bus --in "ipc://$ML_TMP/bus.in" --out "ipc://$ML_TMP/bus.out" --record "$ML_TMP/events.jsonl"
BUSPID=$ML_LASTPID
"$ML_BIN" ca init --out "$ML_TMP/ca" --profile kz-2019 --seed 7 >/dev/null
ml_bg "$G" proxy "$ML_BIN" proxy --listen 0.0.0.0:8443 --workers 1 --ca "$ML_TMP/ca" \
    --profile kz2019 --target-list "$ML_TMP/targets.txt" --require-valid-upstream \
    --upstream-cafile "$W/root.pem" --allow-upstream 10.78.5.0/24
ml_wait_port "$G" 127.0.0.1 8443
ml_wait_port "$S" 10.78.5.2 443

# probe NAME ARGS...: run the probe from the client namespace, JSON into $ML_TMP/NAME.json
probe() {
	local n=$1; shift
	ip netns exec "$C" timeout 120 "$ML_BIN" probe ttl --connect 10.78.5.2 --max-ttl 10 \
	    --timeout-ms 300 "$@" >"$ML_TMP/$n.json" 2>"$ML_TMP/$n.err" || { cat "$ML_TMP/$n.err"; return 1; }
}
# jq-less field check: js FILE PYEXPR (ev = the probe.ttl event)
js() { python3 -c "import json,sys; ev=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }

echo "-- targeted SNI www.google.com, real = chains to the web root"
ok "probe runs" probe tg --host www.google.com --control-sni example.org --trust "$W/root.pem" \
    --bus "ipc://$ML_TMP/bus.in" --id probe.c1
T=$ML_TMP/tg.json
ok "injection hop = 3 (the gateway: r1=1, r2=2, gw=3) [$(python3 -c "import json;print(json.load(open('$T')).get('injection_hop'))")]" js "$T" "ev['injection_hop'] == 3"
ok "server hop = 6, from the echo [$(python3 -c "import json;e=json.load(open('$T'));print(e.get('server_hop'), e.get('server_hop_source'))")]" js "$T" "ev['server_hop'] == 6 and ev['server_hop_source'] == 'icmp-echo'"
ok "hops before server = 3" js "$T" "ev['hops_before_server'] == 3"
ok "no certificate at TTL 1 and 2 (hello dies before the gateway)" js "$T" \
    "all(o['target']['cert'] == 'none' and o['control']['cert'] == 'none' and o['target']['tcp'] for o in ev['observations'] if o['ttl'] < 3)"
ok "targeted SNI injected at every TTL >= 3" js "$T" \
    "all(o['target']['cert'] == 'injected' for o in ev['observations'] if o['ttl'] >= 3)"
ok "control answered (real) from the gateway on: a transparent proxy, terminated hop 3" js "$T" \
    "ev['control_hop'] == 3 and ev['untargeted_terminated_hop'] == 3 and not ev['control_injected']"
ok "injected leaf issued by the mock national intermediate, not verified" js "$T" \
    "[(('Security Certificate' in o['target']['issuer']), o['target']['verified']) for o in ev['observations'] if o['ttl'] == 3] == [(True, False)]"
ok "routers answered the echo below the server" js "$T" \
    "[o.get('icmp_from') for o in ev['observations'] if o['ttl'] == 1] == ['10.78.0.1']"

echo "-- untargeted SNI example.org never shows injection"
ok "probe runs" probe ut --host example.org --control-sni example.net --trust "$W/root.pem"
U=$ML_TMP/ut.json
ok "no injection hop" js "$U" "ev['injection_hop'] is None and not ev['intercepted']"
ok "no injected certificate at any TTL" js "$U" \
    "not any(o['target']['cert'] == 'injected' or o['control']['cert'] == 'injected' for o in ev['observations'])"
ok "server hop still 6" js "$U" "ev['server_hop'] == 6"

echo "-- without --trust: real = same leaf/issuer as the control's certificate"
ok "probe runs" probe nt --host www.google.com --control-sni example.org
ok "injection hop = 3, server hop = 6" js "$ML_TMP/nt.json" "ev['injection_hop'] == 3 and ev['server_hop'] == 6"

echo "-- without ICMP: the server distance falls back to the control (here: the proxy)"
ok "probe runs" probe ni --host www.google.com --trust "$W/root.pem" --no-icmp
ok "server hop from the control TLS = 3, injection 3" js "$ML_TMP/ni.json" \
    "ev['server_hop_source'] == 'control-tls' and ev['server_hop'] == 3 and ev['injection_hop'] == 3"

echo "-- bounded"
ok "--max-ttl 0 is a usage error (exit 2)" bash -c "'$ML_BIN' probe ttl --host x --connect 10.78.5.2 --max-ttl 0 2>/dev/null; [ \$? -eq 2 ]"
ok "max-ttl 2 gives exactly 2 observations" bash -c "ip netns exec '$C' '$ML_BIN' probe ttl --host www.google.com --connect 10.78.5.2 --max-ttl 2 --tries 1 --timeout-ms 200 | python3 -c 'import json,sys; e=json.load(sys.stdin); sys.exit(0 if len(e[\"observations\"]) == 2 and e[\"injection_hop\"] is None else 1)'"

sleep 0.5; kill -TERM "$BUSPID"; for _ in $(seq 50); do kill -0 "$BUSPID" 2>/dev/null || break; sleep 0.1; done
ok "probe.ttl recorded on the bus with the contract keys" python3 - "$ML_TMP/events.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
p = [e for e in ev if e["t"] == "probe.ttl"]
sys.exit(0 if len(p) == 1 and p[0]["src"] == "probe.c1" and p[0]["injection_hop"] == 3
         and all(k in p[0] for k in ("v", "ts", "seq", "observations", "hops_before_server")) else 1)
PY
ml_done
