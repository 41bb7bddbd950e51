#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# test_origin — `mitmlab origin` on loopback (127.0.0.1 and 127.0.0.2, a free high port): makes
# a throwaway web PKI with the openssl CLI (root, intermediate, leaves, a client certificate),
# starts one origin with seven sites and checks, with curl (HTTP/1.1 and HTTP/2) and
# openssl s_client: per-site dispatch by SNI and alias, body sizes, HSTS, the default_for rule
# for unknown SNI, a TLS 1.3-only site, a client-certificate-required site, 4 MiB bodies
# intact on h1 and h2, /echo, keep-alive, malformed and oversized requests, the absolute
# handshake deadline against a trickling client, 100 pipelined requests, survival of a
# non-TLS client, and a clean SIGTERM exit. Plain HTTP (http_port): dispatch by Host header
# (per request on one connection, default_for by local IP), never HSTS, /echo says tls false,
# a 302 site's Location, and the "install the certificate" site (HTML page naming the root,
# /root.crt byte-identical to the PEM given in the file, and to a DER given by
# --install-page on a second origin). Kills only the PIDs it started; no namespaces.
# Env: BUILD (default build) for $BUILD/bin/mitmlab, or MITMLAB for another binary.
set -eu

BUILD=${BUILD:-build}
MITMLAB=${MITMLAB:-$BUILD/bin/mitmlab}
T=$(mktemp -d /tmp/mitmlab-test-origin.XXXXXX)
PID=
PID2=
BUSPID=
pass=0
fail=0

# stop PID: SIGTERM one process this script started and reap it.
stop() {
	if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
		kill -TERM "$1" 2>/dev/null || true
		wait "$1" 2>/dev/null || true
	fi
}
cleanup() {
	stop "$PID"
	stop "$PID2"
	stop "$BUSPID"
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

ok() { pass=$((pass + 1)); echo "ok   - $1"; }
nok() { fail=$((fail + 1)); echo "FAIL - $1"; }
# check DESCRIPTION COMMAND...: pass if the command succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

[ -x "$MITMLAB" ] || { echo "test_origin: no binary at $MITMLAB (run make BUILD=$BUILD)"; exit 1; }
MITMLAB=$(cd "$(dirname "$MITMLAB")" && pwd)/$(basename "$MITMLAB")	# absolute: the PKI step cds
"$MITMLAB" origin --help >/dev/null 2>&1 ||
	{ echo "test_origin: $MITMLAB has no origin command (cmd_origin missing from main.c)"; exit 1; }

# --- a throwaway web PKI --------------------------------------------------------------------
ec() { echo "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"; }
cd "$T"
# shellcheck disable=SC2046
openssl req -x509 $(ec) -keyout root.key -out root.pem -days 30 -subj "/CN=mitmlab LAB web root" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
# shellcheck disable=SC2046
openssl req $(ec) -keyout int.key -out int.csr -subj "/CN=mitmlab LAB web intermediate" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 30 \
	-extfile int.ext -out int.pem 2>/dev/null
# leaf NAME SIGNER [ALIAS...]: NAME.pem / NAME.key signed by SIGNER
leaf() {
	local n=$1 signer=$2 san="DNS:$1" a
	shift 2
	for a in "$@"; do san="$san,DNS:$a"; done
	# shellcheck disable=SC2046
	openssl req $(ec) -keyout "$n.key" -out "$n.csr" -subj "/CN=$n" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >"$n.ext"
	openssl x509 -req -in "$n.csr" -CA "$signer.pem" -CAkey "$signer.key" -CAcreateserial \
		-days 30 -extfile "$n.ext" -out "$n.pem" 2>/dev/null
}
leaf www.google.com root google.com
leaf iqala.kz int
leaf tls13.lab root
leaf mtls.lab root
leaf bulk.lab root
leaf client root
leaf warning.lab root
leaf moved.lab root
# The mock national root the install page hands out (PEM in the file, DER on the command line).
openssl req -x509 -newkey rsa:2048 -nodes -keyout nat.key -out nat.pem -days 30 \
	-subj "/C=KZ/CN=Information Security Certification Authority CA (LAB mock)" \
	-addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl x509 -in nat.pem -outform der -out nat.der

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(freeport)
HPORT=$(freeport)
BIG=4194304
# Events are checked when the bus forwarder is in this binary (optional).
BUSKEY=
if "$MITMLAB" bus --help >/dev/null 2>&1; then
	"$MITMLAB" bus --in "ipc://$T/bus.in" --out "ipc://$T/bus.out" --record "$T/events.jsonl" \
		--pidfile "$T/bus.pid" 2>"$T/bus.log" &
	BUSPID=$!
	for _ in $(seq 1 100); do [ -s "$T/bus.pid" ] && break; sleep 0.05; done
	BUSKEY="\"bus\": \"ipc://$T/bus.in\","
fi
cat >origin.json <<EOF
{"id": "origin-test", $BUSKEY
 "listen": ["127.0.0.1:$PORT", "127.0.0.2:$PORT"], "http_port": $HPORT,
 "handshake_timeout": 5, "idle_timeout": 10,
 "sites": [
  {"name": "www.google.com", "aliases": ["google.com"], "cert": "$T/www.google.com.pem",
   "key": "$T/www.google.com.key", "hsts": "preload", "body_bytes": 1000},
  {"name": "iqala.kz", "cert": "$T/iqala.kz.pem", "key": "$T/iqala.kz.key", "chain": "$T/int.pem",
   "default_for": ["127.0.0.2:$PORT"], "body_bytes": 2345},
  {"name": "tls13.lab", "cert": "$T/tls13.lab.pem", "key": "$T/tls13.lab.key", "tls_min": "1.3",
   "body_bytes": 13},
  {"name": "mtls.lab", "cert": "$T/mtls.lab.pem", "key": "$T/mtls.lab.key", "client_cert": "required",
   "client_ca": "$T/root.pem", "body_bytes": 77},
  {"name": "bulk.lab", "cert": "$T/bulk.lab.pem", "key": "$T/bulk.lab.key", "body_bytes": $BIG,
   "hsts": true},
  {"name": "warning.lab", "cert": "$T/warning.lab.pem", "key": "$T/warning.lab.key",
   "install_root": "$T/nat.pem", "hsts": true},
  {"name": "moved.lab", "cert": "$T/moved.lab.pem", "key": "$T/moved.lab.key", "status": 302,
   "location": "http://warning.lab/install-certificate", "body_bytes": 0}
 ]}
EOF
cd - >/dev/null

"$MITMLAB" origin -c "$T/origin.json" --check >/dev/null 2>"$T/check.log" &&
	ok "--check accepts the configuration" || { nok "--check: $(cat "$T/check.log")"; }
"$MITMLAB" origin -c "$T/origin.json" --pidfile "$T/pid" 2>"$T/origin.log" &
PID=$!
for _ in $(seq 1 100); do [ -s "$T/pid" ] && break; sleep 0.05; done
check "origin writes its pid file" test -s "$T/pid"

# fetch NAME PATH CURLOPTS...: body to $T/body, headers to $T/hdr, prints the HTTP version
fetch() {
	local n=$1 p=$2
	shift 2
	curl -sS --max-time 20 --cacert "$T/root.pem" --resolve "$n:$PORT:127.0.0.1" \
		-A "mitmlab-test/1" -D "$T/hdr" -o "$T/body" -w '%{http_version}' "$@" "https://$n:$PORT$p"
}
hdr() { grep -i "^$1:" "$T/hdr" | head -n1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
size() { stat -c %s "$T/body"; }

for proto in http1.1 http2; do
	want=$([ $proto = http2 ] && echo 2 || echo 1.1)
	for spec in www.google.com:1000 google.com:1000 iqala.kz:2345 tls13.lab:13; do
		n=${spec%%:*} sz=${spec#*:}
		site=$([ "$n" = google.com ] && echo www.google.com || echo "$n")
		v=$(fetch "$n" / --$proto 2>"$T/err") || v="error: $(cat "$T/err")"
		check "$proto $n: HTTP/$want, X-Mitmlab-Site $site, $sz bytes (got $v, $(hdr x-mitmlab-site), $(size))" \
			test "$v" = "$want" -a "$(hdr x-mitmlab-site)" = "$site" -a "$(size)" = "$sz"
	done
	fetch www.google.com / --$proto >/dev/null 2>&1 || true
	check "$proto: HSTS preload on www.google.com" \
		test "$(hdr strict-transport-security)" = "max-age=31536000; includeSubDomains; preload"
	fetch iqala.kz / --$proto >/dev/null 2>&1 || true
	check "$proto: no HSTS on iqala.kz" test -z "$(hdr strict-transport-security)"

	v=$(fetch bulk.lab / --$proto 2>"$T/err") || v="error: $(cat "$T/err")"
	want_sum=$(yes 'mitmlab-origin-body-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG' | head -c $BIG | sha256sum)
	check "$proto: 4 MiB body intact (size $(size), HTTP/$v)" \
		test "$(size)" = $BIG -a "$(sha256sum <"$T/body")" = "$want_sum"
	check "$proto: HSTS without preload on bulk.lab" \
		test "$(hdr strict-transport-security)" = "max-age=31536000; includeSubDomains"

	fetch www.google.com /echo --$proto >/dev/null 2>&1 || true
	check "$proto: /echo reports SNI, UA and a JA3" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))
assert e["sni"] == "www.google.com" and e["ua"] == "mitmlab-test/1", e
assert len(e["ja3"] or "") == 32 and (e["ja4"] or "").startswith("t1"), e
assert e["proto"] == sys.argv[2], e
' "$T/body" "$([ $proto = http2 ] && echo h2 || echo http/1.1)"
done

# Keep-alive: two requests, one connection.
n=$(curl -sS --max-time 10 --http1.1 --cacert "$T/root.pem" --resolve "www.google.com:$PORT:127.0.0.1" \
	-o /dev/null -o /dev/null -w '%{num_connects}' \
	"https://www.google.com:$PORT/a" "https://www.google.com:$PORT/b" 2>/dev/null || echo x)
check "http1.1 keep-alive reuses the connection (num_connects $n)" test "$n" = 10

# Unknown SNI: the address's default_for site, else the first site.
subject() {
	openssl s_client -connect "$1:$PORT" -servername "$2" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null | sed 's/^subject= *//; s/ //g'
}
check "SNI facebook.com on 127.0.0.2 gets the default_for cert (CN=iqala.kz)" \
	test "$(subject 127.0.0.2 facebook.com)" = "CN=iqala.kz"
check "SNI facebook.com on 127.0.0.1 gets the first site's cert" \
	test "$(subject 127.0.0.1 facebook.com)" = "CN=www.google.com"
check "SNI tls13.lab on 127.0.0.2 still gets tls13.lab" \
	test "$(subject 127.0.0.2 tls13.lab)" = "CN=tls13.lab"

# TLS 1.3-only site.
check "tls13.lab refuses TLS 1.2" bash -c "! openssl s_client -connect 127.0.0.1:$PORT \
	-servername tls13.lab -tls1_2 </dev/null >/dev/null 2>&1"
check "tls13.lab accepts TLS 1.3" bash -c "openssl s_client -connect 127.0.0.1:$PORT \
	-servername tls13.lab -tls1_3 </dev/null >/dev/null 2>&1"
check "www.google.com accepts TLS 1.2" bash -c "openssl s_client -connect 127.0.0.1:$PORT \
	-servername www.google.com -tls1_2 </dev/null >/dev/null 2>&1"

# A ClientHello too large for the origin's own peek (over 64 KiB: 10,000 unknown cipher suites
# and two 25,000-byte private extensions) still gets its site's version bounds: the site is chosen by OpenSSL's
# client-hello callback, before the version, where the servername callback came after it and
# tls13.lab answered TLS 1.2. bighello.py NAME prints what the server sent first.
cat >"$T/bighello.py" <<'PY'
import os, socket, struct, sys
name, port = sys.argv[1].encode(), int(sys.argv[2])
def ext(t, body): return struct.pack("!HH", t, len(body)) + body
sni = struct.pack("!BH", 0, len(name)) + name
exts = (ext(0, struct.pack("!H", len(sni)) + sni) + ext(10, b"\x00\x04\x00\x1d\x00\x17") +
        ext(11, b"\x01\x00") + ext(13, b"\x00\x04\x04\x03\x08\x04") +
        ext(0xff01, b"\x00") + ext(0xfe01, b"\x00" * 25000) + ext(0xfe02, b"\x00" * 25000))
suites = b"\xc0\x2b\xc0\x2f" + b"".join(struct.pack("!H", 0x5a00 + i % 256) for i in range(10000))
body = (b"\x03\x03" + os.urandom(32) + b"\x00" + struct.pack("!H", len(suites)) + suites +
        b"\x01\x00" + struct.pack("!H", len(exts)) + exts)   # TLS 1.2 only: no supported_versions
hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
assert len(hs) > 65536
s = socket.create_connection(("127.0.0.1", port), timeout=5)
for i in range(0, len(hs), 16384):
    c = hs[i:i + 16384]
    s.sendall(b"\x16\x03\x01" + struct.pack("!H", len(c)) + c)
d = b""
while len(d) < 11:
    c = s.recv(4096)
    if not c: break
    d += c
if d[:1] == b"\x15":
    print("alert %d" % d[6])
elif d[:1] == b"\x16" and d[5] == 2:
    print("server-hello 0x%02x%02x" % (d[9], d[10]))
else:
    print("other %r" % d[:11])
PY
r=$(python3 "$T/bighello.py" tls13.lab "$PORT" 2>&1) || true
check "a >64 KiB TLS 1.2 ClientHello to tls13.lab is refused with protocol_version ($r)" \
	test "$r" = "alert 70"
r=$(python3 "$T/bighello.py" www.google.com "$PORT" 2>&1) || true
check "the same hello to www.google.com is answered in TLS 1.2 ($r)" \
	test "$r" = "server-hello 0x0303"

# Client certificate required.
check "mtls.lab fails without a client certificate" bash -c "! curl -sS --max-time 10 \
	--cacert $T/root.pem --resolve mtls.lab:$PORT:127.0.0.1 -o /dev/null https://mtls.lab:$PORT/ 2>/dev/null"
v=$(fetch mtls.lab /echo --cert "$T/client.pem" --key "$T/client.key" 2>"$T/err") || v="error: $(cat "$T/err")"
check "mtls.lab succeeds with a client certificate ($v)" \
	test "$(hdr x-mitmlab-site)" = mtls.lab -a "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_cert"])' "$T/body" 2>/dev/null)" = True

# Malformed and oversized requests get 400 / 431, and the server lives on.
raw() {
	timeout 10 openssl s_client -quiet -connect "127.0.0.1:$PORT" -servername www.google.com \
		-alpn http/1.1 2>/dev/null | head -n1 | tr -d '\r'
}
r=$(printf 'GARBAGE\r\n\r\n' | raw || true)
check "malformed request line gets 400 ($r)" test "${r%% *}" = HTTP/1.1 -a "$(echo "$r" | cut -d' ' -f2)" = 400
r=$( (printf 'GET / HTTP/1.1\r\nHost: x\r\nX-Big: '; head -c 20000 /dev/zero | tr '\0' a; printf '\r\n\r\n') | raw || true)
check "oversized header gets 431 ($r)" test "$(echo "$r" | cut -d' ' -f2)" = 431
r=$(printf 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' | raw || true)
check "chunked request body gets 501 ($r)" test "$(echo "$r" | cut -d' ' -f2)" = 501
# A client that is not TLS at all, and one that sends half a ClientHello and leaves.
(exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && exec 3>&-) 2>/dev/null || true
(exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' >&3 && exec 3>&-) 2>/dev/null || true
v=$(fetch www.google.com / --http2 2>/dev/null) || v=error
check "origin survives non-TLS and truncated hellos (then HTTP/$v)" test "$v" = 2 -a "$(size)" = 1000
# A client that connects and says nothing is closed at the handshake timeout (5 s).
t0=$(date +%s)
(exec 3<>"/dev/tcp/127.0.0.1/$PORT" && timeout 9 cat <&3 >/dev/null) 2>/dev/null || true
t1=$(date +%s)
check "silent client closed by the handshake timeout ($((t1 - t0)) s)" test $((t1 - t0)) -ge 4 -a $((t1 - t0)) -le 7
check "origin process still running" kill -0 "$PID"

# --- plain HTTP on http_port -----------------------------------------------------------------
# pfetch NAME PATH [ADDR] CURLOPTS...: plain HTTP to ADDR:HPORT with Host NAME (as fetch does).
pfetch() {
	local n=$1 p=$2 a=${3:-127.0.0.1}
	shift 3 || shift $#
	curl -sS --max-time 20 --resolve "$n:$HPORT:$a" -A "mitmlab-test/1" -D "$T/hdr" \
		-o "$T/body" -w '%{http_code}' "$@" "http://$n:$HPORT$p"
}
for spec in www.google.com:www.google.com:1000 google.com:www.google.com:1000 \
	iqala.kz:iqala.kz:2345 bulk.lab:bulk.lab:$BIG; do
	IFS=: read -r n site sz <<<"$spec"
	c=$(pfetch "$n" / 127.0.0.1 2>"$T/err") || c="error: $(cat "$T/err")"
	check "plain $n: 200, X-Mitmlab-Site $site, $sz bytes, no HSTS (got $c, $(hdr x-mitmlab-site), $(size), '$(hdr strict-transport-security)')" \
		test "$c" = 200 -a "$(hdr x-mitmlab-site)" = "$site" -a "$(size)" = "$sz" \
		-a -z "$(hdr strict-transport-security)"
done
pfetch nosuch.lab / 127.0.0.2 >/dev/null 2>&1 || true
check "plain unknown Host on 127.0.0.2 gets the default_for site (iqala.kz, got $(hdr x-mitmlab-site))" \
	test "$(hdr x-mitmlab-site)" = iqala.kz
pfetch nosuch.lab / 127.0.0.1 >/dev/null 2>&1 || true
check "plain unknown Host on 127.0.0.1 gets the first site (got $(hdr x-mitmlab-site))" \
	test "$(hdr x-mitmlab-site)" = www.google.com
# Two pipelined requests on one connection, different Hosts: the site is chosen per request.
sites=$(exec 3<>"/dev/tcp/127.0.0.1/$HPORT"; printf 'HEAD / HTTP/1.1\r\nHost: iqala.kz\r\n\r\nHEAD / HTTP/1.1\r\nHost: tls13.lab:%s\r\nConnection: close\r\n\r\n' "$HPORT" >&3
	timeout 5 cat <&3 | tr -d '\r' | sed -n 's/^X-Mitmlab-Site: //p' | paste -sd, -)
check "plain keep-alive: site chosen per request by Host ($sites)" test "$sites" = "iqala.kz,tls13.lab"
pfetch www.google.com /echo 127.0.0.1 >/dev/null 2>&1 || true
check "plain /echo: tls false, no SNI, no JA3, Host and UA seen" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))
assert e["tls"] is False and e["sni"] is None and e["ja3"] is None and e["version"] is None, e
assert e["site"] == "www.google.com" and e["ua"] == "mitmlab-test/1" and e["proto"] == "http/1.1", e
assert e["authority"] == "www.google.com:" + sys.argv[2], e
' "$T/body" "$HPORT"
r=$(printf 'GARBAGE\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HPORT; cat >&3; cat <&3" | head -n1 | tr -d '\r' || true)
check "plain malformed request line gets 400 ($r)" test "$(echo "$r" | cut -d' ' -f2)" = 400
c=$(pfetch moved.lab /any 127.0.0.1 2>/dev/null) || c=error
check "plain moved.lab: 302 with its Location ($c, $(hdr location))" \
	test "$c" = 302 -a "$(hdr location)" = "http://warning.lab/install-certificate"
c=$(fetch moved.lab / --http2 2>/dev/null) || c=error
check "https moved.lab (h2): 302 with its Location too ($c, $(hdr location))" \
	test "$c" = 2 -a "$(hdr location)" = "http://warning.lab/install-certificate"
# Not following the redirect: a plain http:// client opens the install page the packet plane
# points to.
c=$(pfetch warning.lab /install-certificate 127.0.0.1 2>/dev/null) || c=error
check "install page: 200 HTML naming the root, link to /root.crt, no HSTS ($c, $(hdr content-type))" \
	bash -c "test '$c' = 200 -a '$(hdr content-type)' = 'text/html; charset=utf-8' -a -z '$(hdr strict-transport-security)' &&
	grep -q 'Information Security Certification Authority CA (LAB mock)' '$T/body' &&
	grep -q 'href=\"/root.crt\"' '$T/body' &&
	grep -qi \"\$(openssl x509 -in '$T/nat.pem' -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')\" '$T/body'"
c=$(pfetch warning.lab /root.crt 127.0.0.1 2>/dev/null) || c=error
check "install page: /root.crt is the PEM byte for byte, application/x-x509-ca-cert ($c, $(hdr content-type))" \
	bash -c "test '$c' = 200 -a '$(hdr content-type)' = application/x-x509-ca-cert && cmp -s '$T/body' '$T/nat.pem'"
fetch warning.lab /root.crt --http2 >/dev/null 2>&1 || true
check "install page over https (h2): /root.crt identical, HSTS kept on TLS" \
	bash -c "cmp -s '$T/body' '$T/nat.pem' && test -n '$(hdr strict-transport-security)'"

# A second origin from quick flags: --install-page with a DER root.
PORT2=$(freeport)
HPORT2=$(freeport)
"$MITMLAB" origin --listen "127.0.0.1:$PORT2" --http-port "$HPORT2" \
	--site "warning.lab,$T/warning.lab.pem,$T/warning.lab.key" \
	--install-page "warning.lab=$T/nat.der" --pidfile "$T/pid2" 2>"$T/origin2.log" &
PID2=$!
for _ in $(seq 1 100); do [ -s "$T/pid2" ] && break; sleep 0.05; done
curl -sS --max-time 10 -D "$T/hdr" -o "$T/body" -H "Host: warning.lab" "http://127.0.0.1:$HPORT2/root.crt" 2>/dev/null || true
check "--install-page with a DER root: /root.crt is the DER byte for byte" cmp -s "$T/body" "$T/nat.der"
stop "$PID2"
PID2=
r=0
"$MITMLAB" origin --listen "127.0.0.1:$PORT2" --site "a.lab,$T/warning.lab.pem,$T/warning.lab.key" \
	--install-page "nosuch.lab=$T/nat.pem" --check >/dev/null 2>"$T/err" || r=$?
check "--install-page for an unknown site is refused ($r: $(head -c 120 "$T/err"))" \
	bash -c "test $r != 0 && grep -q 'no site named \"nosuch.lab\"' '$T/err'"
r=0
"$MITMLAB" origin --listen "127.0.0.1:$PORT2" --site "a.lab,$T/warning.lab.pem,$T/warning.lab.key" \
	--install-page "a.lab=$T/warning.lab.key" --check >/dev/null 2>"$T/err" || r=$?
check "--install-page with a file that is no certificate is refused ($r)" \
	bash -c "test $r != 0 && grep -q 'not a PEM or DER certificate' '$T/err'"
# A plain connection that never sends a request (as when the packet plane answers it).
(exec 3<>"/dev/tcp/127.0.0.2/$HPORT" && sleep 0.2 && exec 3>&-) 2>/dev/null || true
sleep 0.3

# 100 pipelined requests on one connection get 100 responses (the origin serves 64 per read
# callback and must come back for the rest without new input).
n=$(timeout 20 /usr/bin/python3 - "$T/root.pem" "$PORT" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1]); ctx.set_alpn_protocols(["http/1.1"])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2]))), server_hostname="www.google.com")
s.settimeout(15)
req = b"GET / HTTP/1.1\r\nHost: www.google.com\r\n\r\n"
s.sendall(req * 99 + req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
got = b""
try:
    while True:
        d = s.recv(65536)
        if not d: break
        got += d
except Exception:
    pass
print(got.count(b"HTTP/1.1 200"))
PY
)
check "100 pipelined requests get 100 responses ($n)" test "$n" = 100

# The handshake deadline (5 s here) is absolute: a client that sends its second flight one
# byte every 0.3 s is closed at the deadline, not served once it is done (about 20 s later).
cat >"$T/trickle.py" <<'PY'
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[1]); ctx.minimum_version = ssl.TLSVersion.TLSv1_3
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
o = ctx.wrap_bio(inc, out, server_hostname="www.google.com")
s = socket.create_connection(("127.0.0.1", int(sys.argv[2]))); t0 = time.time(); s.settimeout(0.3)
def closed(why):
    t = time.time() - t0
    print("closed (%s) at %.1f s" % (why, t)); sys.exit(0 if 4 <= t < 7.5 else 1)
done = False
try:
    while not done and time.time() - t0 < 12:   # ClientHello at once, the server's flight in
        try:
            o.do_handshake(); done = True
        except ssl.SSLWantReadError:
            s.sendall(out.read())
        if not done:
            try:
                d = s.recv(65536)
            except socket.timeout:
                continue
            if not d: closed("eof before the client's Finished")
            inc.write(d)
    for b in out.read():                         # the client's Finished, a byte at a time
        s.sendall(bytes([b])); time.sleep(0.3)
        if time.time() - t0 > 12: break
    while time.time() - t0 < 12:                 # tickets may come; then only the close
        s.settimeout(max(0.1, 12 - (time.time() - t0)))
        if not s.recv(65536): closed("eof")
except OSError as e:
    closed(e)
print("still open at %.1f s" % (time.time() - t0)); sys.exit(1)
PY
tr=$(timeout 20 /usr/bin/python3 "$T/trickle.py" "$T/root.pem" "$PORT" 2>&1) && r=0 || r=$?
check "a client trickling its second flight is closed at the 5 s handshake deadline ($tr)" test "$r" = 0

# SIGTERM: stop, exit 0, pid file removed.
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
check "SIGTERM exits 0 (rc $rc)" test "$rc" = 0
check "pid file removed at exit" test ! -e "$T/pid"

if [ -n "$BUSPID" ]; then
	sleep 0.3
	stop "$BUSPID"
	BUSPID=
	check "events: origin.hello and origin.request as specified" python3 -c '
import json, re, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
hello = [e for e in ev if e["t"] == "origin.hello"]
req = [e for e in ev if e["t"] == "origin.request"]
flow = re.compile(r"^127\.0\.0\.1:\d+>127\.0\.0\.[12]:\d+$")
keys = {"flow", "client", "local", "sni", "site", "ja3", "ja3_str", "ja4", "hello_version",
        "version", "cipher", "alpn", "ua", "client_cert", "error", "client_random"}
assert hello and req, "no origin events"
for e in hello:
    assert keys <= set(e), keys - set(e)
    assert e["src"] == "origin-test" and flow.match(e["flow"]), e
g = [e for e in hello if e["sni"] == "www.google.com" and e["ua"] == "mitmlab-test/1"]
assert g and all(len(e["ja3"]) == 32 and e["version"] and e["cipher"] for e in g), g[:1]
# the random of each hello: 64 hex digits wherever it parsed, a new one per connection
rs = [e["client_random"] for e in hello if e["ja3"] is not None]
assert rs and all(re.fullmatch("[0-9a-f]{64}", x) for x in rs) and len(set(rs)) == len(rs), rs[:3]
assert any(e["alpn"] == "h2" for e in g) and any(e["alpn"] == "http/1.1" for e in g)
assert any(e["sni"] == "tls13.lab" and e["error"] for e in hello), "no failed handshake"
assert any(e["sni"] == "mtls.lab" and e["client_cert"] for e in hello)
assert any(e["sni"] == "facebook.com" and e["site"] == "iqala.kz" for e in hello)
b = [e for e in req if e["site"] == "bulk.lab"]
assert b and all(e["bytes"] == 4194304 and e["status"] == 200 for e in b), b
assert any(e["path"] == "/echo" and e["ua"] == "mitmlab-test/1" for e in req)
assert any(e["status"] == 400 for e in req) and any(e["status"] == 431 for e in req)
assert any(e["error"] and "timeout" in e["error"] for e in hello), "no timeout hello"
assert any(e["t"] == "origin.stop" for e in ev)
# Plain HTTP: the same keys, tls false, every TLS key null, site by Host.
plain = [e for e in hello if e.get("tls") is False]
tlsk = ("sni", "ja3", "ja3_str", "ja4", "hello_version", "record_version", "version", "cipher", "alpn",
        "client_cert", "client_random")
assert plain and all(e.get("tls") is True for e in hello if e not in plain), "tls key missing"
for e in plain:
    assert keys <= set(e) and all(e[k] is None for k in tlsk), e
    assert flow.match(e["flow"]) and e["local"]["port"] == int(sys.argv[2]), e
assert any(e["site"] == "iqala.kz" and e["ua"] == "mitmlab-test/1" and not e["error"] for e in plain)
assert any((e["error"] or "").startswith("no request:") and e["local"]["ip"] == "127.0.0.2"
           for e in plain), "no request-less plain hello"
pr = [e for e in req if e.get("tls") is False]
assert any(e["site"] == "bulk.lab" and e["bytes"] == 4194304 for e in pr), pr[:3]
assert any(e["site"] == "warning.lab" and e["path"] == "/root.crt" and e["status"] == 200 for e in pr)
assert any(e["site"] == "moved.lab" and e["status"] == 302 for e in pr)
start = [e for e in ev if e["t"] == "origin.start"][0]
assert start["http_listen"] == ["127.0.0.1:%s" % sys.argv[2], "127.0.0.2:%s" % sys.argv[2]], start
' "$T/events.jsonl" "$HPORT"
fi

# Two TLS ports on one address share one plain listener (a second bind of ADDR:http_port
# would fail with EADDRINUSE and the origin would not start).
P1=$(freeport); P2=$(freeport); P3=$(freeport)
cat >"$T/two.json" <<EOF2
{"listen": ["127.0.0.1:$P1", "127.0.0.1:$P2"], "http_port": $P3,
 "sites": [{"name": "iqala.kz", "cert": "$T/iqala.kz.pem", "key": "$T/iqala.kz.key"}]}
EOF2
"$MITMLAB" origin -c "$T/two.json" 2>"$T/two.log" &
PID2=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$P3/" 2>/dev/null && break; sleep 0.1; done
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: iqala.kz' "http://127.0.0.1:$P3/" || true)
check "two listen ports on one address: one plain listener, serving ($code)" [ "$code" = 200 ]
stop "$PID2"; PID2=

if [ "$fail" != 0 ]; then
	echo "--- origin log"
	tail -n 30 "$T/origin.log" || true
fi
echo "test_origin: $pass passed, $fail failed"
[ "$fail" = 0 ]
