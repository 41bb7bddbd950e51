#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_client — `mitmlab client` on loopback: makes a small web PKI with the openssl CLI (a
# trusted web root + leaf, a second untrusted "national" root + leaf, a wrong-host leaf and an
# expired leaf), starts openssl s_server / nghttpd / a silent listener on 127.0.0.1 high ports,
# and asserts each outcome class from the --summary JSON. Plain http:// URLs run against a
# `mitmlab origin` with --http-port (ok, a 302 site giving outcome redirect with its Location,
# TLS keys null) and against the canned reset listener and a closed port; with a `mitmlab bus`
# the client's flow id must equal the origin's for the same connection. Cleans up by trap,
# killing only the PIDs it started. Environment: BUILD (default build), MITMLAB (binary;
# default $BUILD/bin/mitmlab).
set -eu

BUILD=${BUILD:-build}
MITMLAB=${MITMLAB:-$BUILD/bin/mitmlab}
[ -x "$MITMLAB" ] || { echo "test_client: $MITMLAB not built"; exit 1; }
MITMLAB=$(cd "$(dirname "$MITMLAB")" && pwd)/$(basename "$MITMLAB")

T=$(mktemp -d /tmp/mitmlab-client-test.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }

# A free-looking high port (bound and released by python).
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Wait (bounded) until something listens on 127.0.0.1:$1.
wait_port() {
	for _ in $(seq 1 100); do
		python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$1)))" && return 0
		sleep 0.05
	done
	echo "test_client: nothing listening on $1"; return 1
}

# ---- PKI ---------------------------------------------------------------------------------
cd "$T"
mkroot() {	# name CN
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 30 \
	    -subj "/CN=$2" -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
mkleaf() {	# name issuer dns days
	openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$3" 2>/dev/null
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$3" > "$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days "$4" \
	    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
spki_b64() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64; }
spki_hex() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -r | cut -d' ' -f1; }

mkroot webroot "LAB Web Root"
mkroot natroot "LAB Qaznet Trust Network (mock)"
mkleaf site webroot site.lab 30
mkleaf natsite natroot site.lab 30
mkleaf wrong webroot other.lab 30
# Expired: issued with a validity that ended yesterday (openssl x509 accepts negative -days).
mkleaf old webroot site.lab -1 || true
echo "hello from the lab origin" > index.html
head -c 100000 /dev/urandom > big.bin

# ---- servers -----------------------------------------------------------------------------
sserver() {	# port cert key [extra...]
	local p=$1 c=$2 k=$3; shift 3
	openssl s_server -quiet -accept "127.0.0.1:$p" -cert "$c" -key "$k" -WWW "$@" \
	    </dev/null >/dev/null 2>&1 &
	PIDS="$PIDS $!"
}
P_OK=$(port); sserver "$P_OK" site.pem site.key
P_NAT=$(port); sserver "$P_NAT" natsite.pem natsite.key -cert_chain natroot.pem
P_WRONG=$(port); sserver "$P_WRONG" wrong.pem wrong.key
P_OLD=$(port); sserver "$P_OLD" old.pem old.key
P_T12=$(port); sserver "$P_T12" site.pem site.key -tls1_3
P_H2=$(port)
nghttpd -d "$T" --address=127.0.0.1 "$P_H2" site.key site.pem >/dev/null 2>&1 &
PIDS="$PIDS $!"
P_SILENT=$(port)
python3 - "$P_SILENT" >/dev/null 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
end = time.time() + 60; held = []
s.settimeout(1)
while time.time() < end:
    try: held.append(s.accept()[0])
    except socket.timeout: pass
PY
PIDS="$PIDS $!"
# Canned HTTP/1.1 responses over TLS (redirect, chunked body) and a listener that resets.
canned() {	# port mode
	python3 - "$1" "$2" >/dev/null 2>&1 <<'PY' &
import socket, ssl, struct, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(16); s.settimeout(1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain("site.pem", "site.key")
resp = {"redirect": b"HTTP/1.1 301 Moved\r\nLocation: https://site.lab/new\r\nContent-Length: 0\r\n\r\n",
        "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"}
end = time.time() + 60
while time.time() < end:
    try: c, _ = s.accept()
    except socket.timeout: continue
    try:
        if mode == "reset":
            c.recv(4096)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close(); continue
        t = ctx.wrap_socket(c, server_side=True); t.recv(4096); t.sendall(resp[mode]); t.close()
    except Exception: pass
PY
	PIDS="$PIDS $!"
}
P_REDIR=$(port); canned "$P_REDIR" redirect
P_CHUNK=$(port); canned "$P_CHUNK" chunked
P_RST=$(port); canned "$P_RST" reset
P_CLOSED=$(port)
for p in $P_OK $P_NAT $P_WRONG $P_OLD $P_T12 $P_H2 $P_SILENT $P_REDIR $P_CHUNK $P_RST; do wait_port "$p"; done

# ---- assertions --------------------------------------------------------------------------
# run NAME EXPECTED_OUTCOME EXPECTED_COUNT mitmlab-client-args...
run() {
	local name=$1 want=$2 n=$3 out got; shift 3
	if ! out=$(timeout 60 "$MITMLAB" client --summary "$@" 2>"$T/err.txt"); then
		bad "$name: mitmlab client exited non-zero: $(tail -n 3 "$T/err.txt")"; return
	fi
	got=$(printf '%s\n' "$out" | tail -n 1 | python3 -c "import json,sys; print(json.load(sys.stdin)['counts'].get('$want', -1))" 2>/dev/null || echo "?")
	if [ "$got" = "$n" ]; then ok "$name ($want x$n)"
	else bad "$name: wanted $want x$n, summary: $(printf '%s' "$out" | tail -n 1)"; fi
}

U="https://site.lab"
run "trusted root"            ok 1 --url "$U:$P_OK/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem
run "browser hello"           ok 1 --url "$U:$P_OK/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --hello browser
run "tls 1.2 max"             ok 1 --url "$U:$P_OK/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --tls-max 1.2
run "no trust"                cert-untrusted 1 --url "$U:$P_OK/index.html" --connect site.lab=127.0.0.1
run "national root untrusted" cert-untrusted 1 --url "$U:$P_NAT/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem
run "national root installed" ok 1 --url "$U:$P_NAT/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --trust natroot.pem
spki_hex natroot.pem > block.txt
printf '# web root in base64\n%s\n' "$(spki_b64 natroot.pem)" > block64.txt
run "installed but blocked"   blocked-root 1 --url "$U:$P_NAT/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --trust natroot.pem --blocklist block.txt
run "blocked, base64 list"    blocked-root 1 --url "$U:$P_NAT/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --blocklist block64.txt
run "block-list other key"    ok 1 --url "$U:$P_OK/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --blocklist block.txt
run "wrong host"              hostname-mismatch 1 --url "$U:$P_WRONG/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem
if [ -f old.pem ]; then
run "expired leaf"            cert-untrusted 1 --url "$U:$P_OLD/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem
fi
run "pin matches root"        ok 1 --url "$U:$P_OK/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --pin "site.lab=sha256/$(spki_b64 webroot.pem)"
run "pin mismatch"            pin-mismatch 1 --url "$U:$P_NAT/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --trust natroot.pem --pin "site.lab=sha256/$(spki_b64 webroot.pem)"
run "server wants tls1.3"     handshake-failure 1 --url "$U:$P_T12/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --tls-max 1.2
run "404 from nghttpd"        http-error 1 --url "$U:$P_H2/missing.html" --connect site.lab=127.0.0.1 --trust webroot.pem
run "h2 via nghttpd"          ok 1 --url "$U:$P_H2/big.bin" --connect site.lab=127.0.0.1 --trust webroot.pem --http 2
run "h2 auto, browser"        ok 1 --url "$U:$P_H2/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --hello browser
run "silent after hello"      timeout 2 --url "$U:$P_SILENT/" --connect site.lab=127.0.0.1 --trust webroot.pem --count 2 --concurrency 2 --timeout-ms 500
run "redirect"                redirect 1 --url "$U:$P_REDIR/" --connect site.lab=127.0.0.1 --trust webroot.pem
run "chunked body"            ok 1 --url "$U:$P_CHUNK/" --connect site.lab=127.0.0.1 --trust webroot.pem --http 1.1
run "RST after hello"         reset 1 --url "$U:$P_RST/" --connect site.lab=127.0.0.1 --trust webroot.pem
run "closed port"             connect-failed 1 --url "$U:$P_CLOSED/" --connect site.lab=127.0.0.1 --trust webroot.pem
run "200 at concurrency 20"   ok 200 --url "$U:$P_H2/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --count 200 --concurrency 20
run "duration bound"          timeout 3 --url "$U:$P_SILENT/" --connect site.lab=127.0.0.1 --count 3 --concurrency 3 --duration-ms 300

# The load's own CPU cost (client.summary cpu_us, user + system over the run): 200 TLS
# connections cost more than 50 us each (a key share and a signature check alone do), and no
# more than the run's wall time (one event loop; no bus, so no ZeroMQ threads).
out=$(timeout 60 "$MITMLAB" client --summary --url "$U:$P_H2/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --count 200 --concurrency 20 2>/dev/null | tail -n 1)
if printf '%s' "$out" | python3 -c '
import json, sys
e = json.load(sys.stdin)
c = e["cpu_us"]
assert isinstance(c, int) and c > 200 * 50, c
assert c <= e["elapsed_ms"] * 1000 + 20000, (c, e["elapsed_ms"])
'; then ok "client.summary cpu_us is the load's CPU time"; else bad "client.summary cpu_us: $out"; fi

# The per-connection event: flow is the client's own 4-tuple, chain is what the server sent.
line=$("$MITMLAB" client --results --url "$U:$P_NAT/index.html" --connect site.lab=127.0.0.1 --trust natroot.pem 2>/dev/null | head -n 1)
if printf '%s' "$line" | python3 -c '
import json, sys
e = json.load(sys.stdin)
assert e["t"] == "client.result" and e["outcome"] == "ok", e
c, s = e["client"], e["server"]
assert e["flow"] == "%s:%d>%s:%d" % (c["ip"], c["port"], s["ip"], s["port"]), e["flow"]
assert len(e["chain_sha256"]) == 2 and e["leaf_spki_sha256"] == e["chain_spki_sha256"][0]
assert "Qaznet" in e["root_subject"] and e["sni"] == "site.lab" and e["http_status"] == 200
assert e["body_bytes"] > 0 and e["t_total_us"] >= e["t_handshake_us"] > 0
assert len(e["client_random"]) == 64 and int(e["client_random"], 16) > 0, e["client_random"]
'; then ok "client.result fields"; else bad "client.result fields: $line"; fi

# ---- plain http:// against a real origin (mitmlab origin --http-port) ----------------------
P_OTLS=$(port); P_HTTP=$(port)
BUSPID=
if "$MITMLAB" bus --help >/dev/null 2>&1; then
	"$MITMLAB" bus --in "ipc://$T/bus.in" --out "ipc://$T/bus.out" --record "$T/events.jsonl" \
	    --pidfile "$T/bus.pid" >/dev/null 2>"$T/bus.log" &
	BUSPID=$!
	PIDS="$PIDS $BUSPID"
	for _ in $(seq 1 100); do [ -s "$T/bus.pid" ] && break; sleep 0.05; done
fi
BUSKEY=
[ -n "$BUSPID" ] && BUSKEY="\"bus\": \"ipc://$T/bus.in\","
cat >origin.json <<JSON
{"id": "origin-ct", "listen": ["127.0.0.1:$P_OTLS"], "http_port": $P_HTTP, $BUSKEY
 "sites": [
  {"name": "site.lab", "cert": "site.pem", "key": "site.key", "body_bytes": 1000, "hsts": true},
  {"name": "moved.lab", "cert": "site.pem", "key": "site.key", "status": 302, "body_bytes": 0,
   "location": "http://warning.lab/install-certificate"}]}
JSON
"$MITMLAB" origin -c origin.json --pidfile "$T/origin.pid" >/dev/null 2>"$T/origin.log" &
OPID=$!
PIDS="$PIDS $OPID"
wait_port "$P_HTTP"
H=(--connect site.lab=127.0.0.1 --connect moved.lab=127.0.0.1)
run "http:// ok (origin)"        ok 1 --url "http://site.lab:$P_HTTP/" "${H[@]}"
run "http:// 302 (origin)"       redirect 1 --url "http://moved.lab:$P_HTTP/" "${H[@]}"
run "http:// RST after request"  reset 1 --url "http://site.lab:$P_RST/" --connect site.lab=127.0.0.1
run "http:// closed port"        connect-failed 1 --url "http://site.lab:$P_CLOSED/" --connect site.lab=127.0.0.1
run "http:// silent server"      timeout 1 --url "http://site.lab:$P_SILENT/" --connect site.lab=127.0.0.1 --timeout-ms 500
run "http:// and https:// mixed" ok 2 --url "http://site.lab:$P_HTTP/" --url "$U:$P_OK/index.html" --connect site.lab=127.0.0.1 --trust webroot.pem --count 2
if "$MITMLAB" client --url "http://site.lab:$P_HTTP/" --connect site.lab=127.0.0.1 --http 2 2>"$T/err.txt"; then
	bad "--http 2 with http:// accepted"
elif grep -q 'needs https' "$T/err.txt"; then ok "--http 2 with http:// refused"
else bad "--http 2 with http:// message: $(cat "$T/err.txt")"; fi
# The client.result of a plain redirect and of a plain ok: facts from the wire, TLS keys null.
BUSARG=()
[ -n "$BUSPID" ] && BUSARG=(--bus "ipc://$T/bus.in")
"$MITMLAB" client --results --url "http://moved.lab:$P_HTTP/" --url "http://site.lab:$P_HTTP/x" \
    --count 2 "${H[@]}" "${BUSARG[@]}" --id client-ct >"$T/plain.jsonl" 2>"$T/err.txt" || true
if python3 - "$T/plain.jsonl" "$P_HTTP" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
port = int(sys.argv[2])
assert len(ev) == 2, ev
r, o = ev
tls = ("sni", "verify_error", "chain_sha256", "chain_spki_sha256", "chain_pem", "leaf_spki_sha256",
       "leaf_subject", "leaf_issuer", "root_subject", "version", "cipher", "alpn", "client_random",
       "t_handshake_us")
for e in ev:
    assert e["tls"] is False and all(k in e and e[k] is None for k in tls), e
    c, s = e["client"], e["server"]
    assert e["flow"] == "%s:%d>%s:%d" % (c["ip"], c["port"], s["ip"], s["port"]) and s["port"] == port, e
    assert e["t_connect_us"] > 0 and e["t_total_us"] >= e["t_first_byte_us"] > 0, e
assert r["outcome"] == "redirect" and r["http_status"] == 302, r
assert r["location"] == "http://warning.lab/install-certificate", r
assert o["outcome"] == "ok" and o["http_status"] == 200 and o["body_bytes"] == 1000, o
assert o["location"] is None, o
PY
then ok "plain client.result: redirect with location, ok with body, TLS keys null"
else bad "plain client.result: $(cat "$T/plain.jsonl" "$T/err.txt")"; fi
if [ -n "$BUSPID" ]; then
	sleep 0.3
	kill "$OPID" 2>/dev/null || true; wait "$OPID" 2>/dev/null || true
	sleep 0.3
	kill "$BUSPID" 2>/dev/null || true; wait "$BUSPID" 2>/dev/null || true
	if python3 - "$T/events.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
cr = [e for e in ev if e["t"] == "client.result" and e["src"] == "client-ct"]
oh = {e["flow"]: e for e in ev if e["t"] == "origin.hello" and e["src"] == "origin-ct"}
assert len(cr) == 2, cr
for e in cr:
    h = oh.get(e["flow"])
    assert h is not None, (e["flow"], list(oh))
    assert h["tls"] is False and h["sni"] is None and h["ua"] == e["ua"], h
    want = "moved.lab" if "moved.lab" in e["url"] else "site.lab"
    assert h["site"] == want, (h, e["url"])
PY
	then ok "same flow id on the client and origin vantages, origin.hello tls false"
	else bad "flow join: $(grep -c . "$T/events.jsonl") events"; fi
else
	echo "  skip flow join (no 'mitmlab bus')"
fi

# A bad block-list line is reported as file:line.
printf 'deadbeef\n' > badblock.txt
if "$MITMLAB" client --url "$U:$P_OK/" --connect site.lab=127.0.0.1 --blocklist badblock.txt 2>"$T/err.txt"; then
	bad "bad block-list accepted"
elif grep -q 'badblock.txt:1:' "$T/err.txt"; then ok "bad block-list names file:line"
else bad "bad block-list message: $(cat "$T/err.txt")"; fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
