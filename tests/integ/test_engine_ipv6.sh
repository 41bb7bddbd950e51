#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_engine_ipv6.sh — the engine over IPv6, inside this script's own namespaces with ULA
# addresses (fd77:1::/64 client side, fd77:2::/64 origin side; nothing routed anywhere else):
# ip6tables REDIRECT (original destination from IP6T_SO_ORIGINAL_DST) with an intercepted
# HTTPS GET end to end; one listener on [::] that also takes the IPv4 flows iptables redirects
# to it (v4-mapped clients, whose original destination is IPv4); --allow-upstream with an IPv6
# prefix refusing another IPv6 destination before any byte reaches it; and TPROXY over IPv6,
# where the origin sees the client's own address, for IPv6 and for IPv4 on the same listener. Namespaces and processes are this script's
# own (lib.sh).
set -eu
. "$(dirname "$0")/lib.sh"
ml_init engine6

ml_engine_line 6
v6() { ip -n "$1" -6 addr add "$2" dev "$3" nodad; }
v6 "$C" fd77:1::2/64 c0
v6 "$G" fd77:1::1/64 g0
v6 "$G" fd77:2::1/64 g1
v6 "$O" fd77:2::2/64 o0
v6 "$O" fd77:2::6/64 o0
v6 "$O" fd77:2::9/64 o0
ip -n "$C" -6 route add default via fd77:1::1
ip -n "$O" -6 route add default via fd77:2::1
ip netns exec "$G" sysctl -qw net.ipv6.conf.all.forwarding=1

W=$ML_TMP/web
ml_webpki "$W" www.google.com,google.com
mkdir -p "$ML_TMP/docroot"; echo "origin body $$" >"$ML_TMP/docroot/index.html"
# the origin on fd77:2::2 and on 10.77.2.2, the same site
for a in fd77:2::2 10.77.2.2; do
	ml_bg "$O" "nghttpd-$a" nghttpd -d "$ML_TMP/docroot" --address="$a" 443 \
	    "$W/www.google.com.key" "$W/www.google.com.chain.pem"
done
# fd77:2::9, outside --allow-upstream, logs the connections that reach it
cat >"$ML_TMP/count.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 443)); s.listen(8)
while True:
    c, a = s.accept(); print("PEER", a[0], flush=True); c.close()
PY
ml_bg "$O" refused python3 "$ML_TMP/count.py" fd77:2::9
"$ML_BIN" ca init --out "$ML_TMP/ca" --profile plain --seed 6 >/dev/null

start_proxy() {
	ml_bg "$G" "proxy$1" "$ML_BIN" proxy --listen "[::]:8443" --workers 2 --ca "$ML_TMP/ca" \
	    --target www.google.com --upstream-cafile "$W/root.pem" \
	    --allow-upstream fd77:2::/125 --allow-upstream 10.77.2.0/24 "${@:2}"
	PROXYPID=$ML_LASTPID
	ml_wait_port "$G" ::1 8443
}
# get ADDR: an HTTPS GET of www.google.com at ADDR (IPv6 in brackets) from the client, trusting
# only the mitmlab root, so that a 200 means the engine intercepted: prints the leaf's issuer
# and "HTTP CODE"; the body goes to $ML_TMP/body
get() {
	ip netns exec "$C" curl -sv --max-time 10 --cacert "$ML_TMP/ca/root.pem" \
	    --resolve "www.google.com:443:$1" -o "$ML_TMP/body" -w 'HTTP %{http_code}\n' \
	    https://www.google.com/ 2>&1 | grep -E '^HTTP [0-9]+$|issuer:' | tr -s '\n* ' ' ' || true
}
# code OUT: the HTTP code in get's output
code() { sed -n 's/.*HTTP \([0-9]*\).*/\1/p' <<<"$1"; }
intercepted() { [ "$(code "$1")" = 200 ]; }
body_ok() { grep -qsx "origin body $$" "$ML_TMP/body"; }
ml_wait_port "$O" fd77:2::2 443
ml_wait_port "$O" fd77:2::9 443

echo "-- REDIRECT over IPv6, and IPv4 flows on the same [::] listener"
ip netns exec "$G" ip6tables -t nat -A PREROUTING -i g0 -p tcp --dport 443 -j REDIRECT --to-ports 8443
ip netns exec "$G" iptables -t nat -A PREROUTING -i g0 -p tcp --dport 443 -j REDIRECT --to-ports 8443
start_proxy 1 --debug
rm -f "$ML_TMP/body"; out=$(get "[fd77:2::2]")
ok "IPv6: intercepted, 200 with the lab root's chain ($out)" intercepted "$out"
ok "IPv6: the origin's body" body_ok
rm -f "$ML_TMP/body"; out=$(get "10.77.2.2")
ok "IPv4 through the [::] listener: intercepted, 200 ($out)" intercepted "$out"
ok "IPv4 through the [::] listener: the origin's body" body_ok
out=$(get "[fd77:2::9]")
ok "IPv6 destination outside --allow-upstream: no answer ($out)" [ "$(code "$out")" = 000 ]
# the listener logged its own readiness probe (from fd77:2::9) and nothing else
ok "... and nothing reached it ($(tr '\n' ' ' <"$ML_TMP/refused.log"))" \
    bash -c "grep -q '^PEER fd77:2::9$' '$ML_TMP/refused.log' && ! grep -v '^PEER fd77:2::9$' '$ML_TMP/refused.log'"
ok "the engine names the IPv6 destination it refused" \
    grep -q 'refused: destination fd77:2::9 outside --allow-upstream' "$ML_TMP/proxy1.log"
ok "the engine names the IPv4 destination as IPv4, not v4-mapped" \
    grep -q '10\.77\.1\.2:[0-9]*>10\.77\.2\.2:443' "$ML_TMP/proxy1.log"
ml_term "$PROXYPID"

echo "-- TPROXY over IPv6: the origin sees the client's address"
ip netns exec "$G" ip6tables -t nat -F
ip netns exec "$G" ip6tables -t mangle -A PREROUTING -i g0 -p tcp --dport 443 -j TPROXY --on-port 8443 --on-ip :: --tproxy-mark 0x1/0x1
ip netns exec "$G" ip6tables -t mangle -A PREROUTING -i g1 -p tcp --sport 443 -j MARK --set-mark 1
ip -n "$G" -6 rule add fwmark 1 lookup 100
ip -n "$G" -6 route add local ::/0 dev lo table 100
ip netns exec "$G" iptables -t nat -F
ip netns exec "$G" iptables -t mangle -A PREROUTING -i g0 -p tcp --dport 443 -j TPROXY --on-port 8443 --on-ip 0.0.0.0 --tproxy-mark 0x1/0x1
ip netns exec "$G" iptables -t mangle -A PREROUTING -i g1 -p tcp --sport 443 -j MARK --set-mark 1
ip -n "$G" rule add fwmark 1 lookup 100
ip -n "$G" route add local 0.0.0.0/0 dev lo table 100
# fd77:2::6 and 10.77.2.6 print the address of each peer (one connection each)
for a in fd77:2::6 10.77.2.6; do
	ml_bg "$O" "peer-$a" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.bind((sys.argv[1], 443)); s.listen(4); s.settimeout(30)
c, a = s.accept(); print("PEER", a[0], flush=True); c.close()' "$a"
done
sleep 0.5
start_proxy 2 --mode tproxy --debug
rm -f "$ML_TMP/body"; out=$(get "[fd77:2::2]")
ok "tproxy IPv6: intercepted, 200 ($out)" intercepted "$out"
ok "tproxy IPv6: the origin's body" body_ok
get "[fd77:2::6]" >/dev/null; sleep 0.3
ok "tproxy IPv6: the origin saw the client's address ($(cat "$ML_TMP/peer-fd77:2::6.log"))" \
    grep -q "PEER fd77:1::2" "$ML_TMP/peer-fd77:2::6.log"
# routed straight through, the peer would see the same address: the engine must have had it
ok "tproxy IPv6: the engine relayed that flow" grep -q '\[fd77:1::2\]:[0-9]*>\[fd77:2::6\]:443' "$ML_TMP/proxy2.log"
rm -f "$ML_TMP/body"; out=$(get "10.77.2.2")
ok "tproxy IPv4 through the [::] listener: intercepted, 200 ($out)" intercepted "$out"
get "10.77.2.6" >/dev/null; sleep 0.3
ok "tproxy IPv4 through the [::] listener: the origin saw the client's IPv4 address ($(cat "$ML_TMP/peer-10.77.2.6.log"))" \
    grep -q "PEER 10.77.1.2" "$ML_TMP/peer-10.77.2.6.log"
ok "tproxy IPv4 through the [::] listener: the engine relayed that flow" \
    grep -q '10\.77\.1\.2:[0-9]*>10\.77\.2\.6:443' "$ML_TMP/proxy2.log"
ml_term "$PROXYPID"
ml_done
