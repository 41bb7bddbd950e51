#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_wrap — `mitmlab wrap` end to end on loopback only: openssl s_server -www on 127.0.0.1
# high ports with a lab PKI made by the openssl CLI (root, intermediate, leaf for lab.test,
# plus an unrelated root), then each tool (curl, openssl) must classify ok, cert-untrusted
# (other root as trust store), hostname-mismatch (other name) and connect-failed (closed
# port), and the client.result events must reach a `mitmlab bus` forwarder. curl on http://
# URLs against `mitmlab origin --http-port` (127.0.0.1 and 127.0.0.2): ok, and a 302 reported
# as redirect with its location and null TLS keys. Processes are tracked by PID and stopped by
# the trap; no namespace is used.
set -eu
. "$(dirname "$0")/lib.sh"
ml_init wrap
BIN=$ML_BIN
command -v curl >/dev/null && command -v jq >/dev/null && command -v openssl >/dev/null || {
	echo "test_wrap: needs curl, jq and openssl"; exit 1; }

ml_webpki "$ML_TMP/pki" lab.test
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=Unrelated Root (LAB mock)" -keyout "$ML_TMP/other.key" \
    -out "$ML_TMP/other.pem" 2>/dev/null

# wait_port PORT: until 127.0.0.1:PORT accepts (5 s at most).
wait_port() {
	local i
	for ((i = 0; i < 50; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "timeout waiting for 127.0.0.1:$1" >&2
	return 1
}

PORT=$((20000 + RANDOM % 20000))
CLOSED=$((PORT + 1))
openssl s_server -quiet -www -accept "127.0.0.1:$PORT" -cert "$ML_TMP/pki/lab.test.pem" \
    -key "$ML_TMP/pki/lab.test.key" -cert_chain "$ML_TMP/pki/int.pem" \
    >"$ML_TMP/s_server.log" 2>&1 &
ml_track "$!"
wait_port "$PORT"

# The bus forwarder and a tail collecting client.result (optional: only if `bus` exists).
BUS=0
if "$BIN" bus --help >/dev/null 2>&1; then
	BUS=1
	"$BIN" bus --in "ipc://$ML_TMP/bus.in" --out "ipc://$ML_TMP/bus.out" \
	    --record "$ML_TMP/events.jsonl" >"$ML_TMP/bus.log" 2>&1 &
	ml_track "$!"
	ml_wait_file "$ML_TMP/bus.out"
	"$BIN" bus --tail "ipc://$ML_TMP/bus.out" --topic client.result --count 8 \
	    --timeout-ms 60000 >"$ML_TMP/tail.jsonl" 2>"$ML_TMP/tail.log" &
	TAIL=$!
	ml_track "$TAIL"
	sleep 0.5
fi
busarg=()
[ "$BUS" = 1 ] && busarg=(--bus "ipc://$ML_TMP/bus.in")

# wrapsum TOOL CAFILE URL: one run, prints the client.summary JSON.
wrapsum() {
	"$BIN" wrap --tool "$1" --cafile "$2" --url "$3" --connect "lab.test=127.0.0.1" \
	    --connect "other.test=127.0.0.1" --timeout-ms 5000 --summary --id "wrap-$1" \
	    "${busarg[@]}" 2>>"$ML_TMP/wrap.log"
}

# outcome_is TOOL CAFILE URL OUTCOME: the run's only outcome is OUTCOME.
outcome_is() {
	local s
	s=$(wrapsum "$1" "$2" "$3") || return 1
	echo "$s" | jq -e --arg o "$4" '.counts[$o] == 1 and .completed == 1 and .tool != null' \
	    >/dev/null || { echo "    got: $s" >&2; return 1; }
}

for tool in curl openssl; do
	ok "$tool ok" outcome_is $tool "$ML_TMP/pki/root.pem" "https://lab.test:$PORT/" ok
	ok "$tool cert-untrusted" outcome_is $tool "$ML_TMP/other.pem" \
	    "https://lab.test:$PORT/" cert-untrusted
	ok "$tool hostname-mismatch" outcome_is $tool "$ML_TMP/pki/root.pem" \
	    "https://other.test:$PORT/" hostname-mismatch
	ok "$tool connect-failed" outcome_is $tool "$ML_TMP/pki/root.pem" \
	    "https://lab.test:$CLOSED/" connect-failed
done

# SPKI pins in both forms the lab writes (curl's sha256// and Chromium's sha256/, which the
# runner puts in scenarios' wrapped clients): the leaf's pin is ok, another key's is pin-mismatch.
LEAFPIN=$(openssl x509 -in "$ML_TMP/pki/lab.test.pem" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)
OTHERPIN=$(openssl x509 -in "$ML_TMP/other.pem" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)
pin_is() {	# TOOL PIN OUTCOME
	local s
	s=$("$BIN" wrap --tool "$1" --cafile "$ML_TMP/pki/root.pem" --url "https://lab.test:$PORT/" \
	    --connect "lab.test=127.0.0.1" --pin "lab.test=$2" --timeout-ms 5000 --summary \
	    2>>"$ML_TMP/wrap.log") || { echo "    wrap failed: $(tail -n 1 "$ML_TMP/wrap.log")" >&2; return 1; }
	echo "$s" | jq -e --arg o "$3" '.counts[$o] == 1' >/dev/null || { echo "    got: $s" >&2; return 1; }
}
for tool in curl openssl; do
	ok "$tool: the leaf's pin as sha256//B64 is ok" pin_is $tool "sha256//$LEAFPIN" ok
	ok "$tool: the leaf's pin as sha256/B64 is ok" pin_is $tool "sha256/$LEAFPIN" ok
	ok "$tool: another key's pin is pin-mismatch" pin_is $tool "sha256/$OTHERPIN" pin-mismatch
	# base64 may begin with '/': sha256/ + "/AA…=" is Chromium's form, not curl's
	ok "$tool: a sha256/ pin whose base64 begins with '/' is read as one" \
	    pin_is $tool "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" pin-mismatch
done

# The user's SSLKEYLOGFILE still gets the tool's secrets (wrap logs to a file of its own for
# the random, then appends), created mode 0600, and the random wrap reports is in it.
keylog_user() {	# TOOL
	local kl=$ML_TMP/user-$1.keylog s r
	s=$(SSLKEYLOGFILE=$kl "$BIN" wrap --tool "$1" --results --cafile "$ML_TMP/pki/root.pem" \
	    --url "https://lab.test:$PORT/" --connect "lab.test=127.0.0.1" --timeout-ms 5000 \
	    2>>"$ML_TMP/wrap.log") || return 1
	r=$(echo "$s" | jq -r 'select(.t == "client.result") | .client_random')
	[ "$(stat -c %a "$kl")" = 600 ] && [ "${#r}" = 64 ] && grep -q " $r " "$kl" ||
	    { echo "    got: $s; $(stat -c %a "$kl" 2>&1)" >&2; return 1; }
}
for tool in curl openssl; do
	ok "$tool: the user's SSLKEYLOGFILE gets the secrets, mode 0600, with the reported random" \
	    keylog_user $tool
done

# Plain http:// (curl only) against a `mitmlab origin` with --http-port: a 200 is ok, a 302 is
# redirect with curl's redirect_url as location, TLS keys null; s_client refuses http://.
OPORT=$((PORT + 2))
HPORT=$((PORT + 3))
"$BIN" origin --listen "127.0.0.1:$OPORT" --http-port "$HPORT" \
    --site "lab.test,$ML_TMP/pki/lab.test.pem,$ML_TMP/pki/lab.test.key" >"$ML_TMP/origin.log" 2>&1 &
ml_track "$!"
cat >"$ML_TMP/moved.json" <<JSON
{"listen": ["127.0.0.2:$OPORT"], "http_port": $HPORT, "sites": [{"name": "moved.test",
 "cert": "$ML_TMP/pki/lab.test.pem", "key": "$ML_TMP/pki/lab.test.key", "status": 302,
 "body_bytes": 0, "location": "http://warning.test/install-certificate"}]}
JSON
"$BIN" origin -c "$ML_TMP/moved.json" >"$ML_TMP/origin2.log" 2>&1 &
ml_track "$!"
wait_port "$HPORT"
for ((i = 0; i < 50; i++)); do (exec 3<>"/dev/tcp/127.0.0.2/$HPORT") 2>/dev/null && break; sleep 0.1; done
# plain_is URL OUTCOME LOCATION: one curl run, checks its client.result.
plain_is() {
	local s
	s=$("$BIN" wrap --tool curl --url "$1" --connect lab.test=127.0.0.1 \
	    --connect moved.test=127.0.0.2 --timeout-ms 5000 --results 2>>"$ML_TMP/wrap.log") || return 1
	echo "$s" | jq -e --arg o "$2" --arg l "$3" --argjson p "$HPORT" '.outcome == $o and
	    .tls == false and .sni == null and .alpn == null and .version == null and
	    .chain_sha256 == null and .t_handshake_us == null and (.location // "") == $l and
	    .server.port == $p and (.flow | test("^127\\.0\\.0\\.[12]:[0-9]+>127\\.0\\.0\\.[12]:[0-9]+$"))' \
	    >/dev/null || { echo "    got: $s" >&2; return 1; }
}
ok "curl http:// ok" plain_is "http://lab.test:$HPORT/" ok ""
ok "curl http:// 302 is redirect with location" plain_is "http://moved.test:$HPORT/" redirect \
    "http://warning.test/install-certificate"
ok "curl http:// closed port is connect-failed" bash -c "\"$BIN\" wrap --tool curl \
    --url http://lab.test:$CLOSED/ --connect lab.test=127.0.0.1 --summary 2>/dev/null |
    jq -e '.counts[\"connect-failed\"] == 1' >/dev/null"
sclient_http() { "$BIN" wrap --tool openssl --url "http://lab.test:$HPORT/" 2>/dev/null; [ $? = 2 ]; }
ok "openssl with http:// is a usage error" sclient_http

# --count cycles over the URLs in order.
cycle() {
	"$BIN" wrap --tool curl --cafile "$ML_TMP/pki/root.pem" --count 3 \
	    --url "https://lab.test:$PORT/" --url "https://lab.test:$CLOSED/" \
	    --connect lab.test=127.0.0.1 --summary 2>>"$ML_TMP/wrap.log" |
	    jq -e '.counts.ok == 2 and .counts["connect-failed"] == 1' >/dev/null
}
ok "count cycles over urls" cycle

# A bad option is a usage error (exit 2).
usage_err() { "$BIN" wrap --tool wget --url https://x.test/ 2>/dev/null; [ $? = 2 ]; }
ok "unknown tool is a usage error" usage_err

if [ "$BUS" = 1 ]; then
	tail_done() {
		local i
		for ((i = 0; i < 100; i++)); do kill -0 "$TAIL" 2>/dev/null || return 0; sleep 0.1; done
		return 1
	}
	ok "bus tail got 8 client.result" tail_done
	has_events() {
		[ "$(jq -s 'map(select(.t == "client.result")) | length' "$ML_TMP/tail.jsonl")" = 8 ] &&
		jq -s -e 'map(select(.tool == "curl")) | length == 4' "$ML_TMP/tail.jsonl" >/dev/null &&
		# s_client is bound to a local end wrap chose, so a run that connected has the
		# contract flow id (three here); the refused connection has none
		jq -s -e 'map(select(.tool == "openssl" and .outcome != "connect-failed" and
		    (.flow | test("^127\\.0\\.0\\.1:[0-9]+>127\\.0\\.0\\.1:'"$PORT"'$")) and
		    .client.port == (.flow | split(">")[0] | split(":")[1] | tonumber))) | length == 3' \
		    "$ML_TMP/tail.jsonl" >/dev/null &&
		jq -s -e 'map(select(.tool == "openssl" and .outcome == "connect-failed" and
		    .flow == null and .client == null)) | length == 1' "$ML_TMP/tail.jsonl" >/dev/null &&
		jq -s -e 'map(select(.tool == "curl" and .outcome == "ok"))[0].flow |
		    test("^127\\.0\\.0\\.1:[0-9]+>127\\.0\\.0\\.1:[0-9]+$")' "$ML_TMP/tail.jsonl" >/dev/null &&
		jq -s -e 'map(select(.tool == "openssl" and .outcome == "ok"))[0] |
		    (.chain_sha256 | length) == 2 and .leaf_subject == "CN=lab.test,O=Lab Origin,C=XX"' \
		    "$ML_TMP/tail.jsonl" >/dev/null
	}
	ok "client.result events have tool, flow and chain" has_events
	# the hello's random from the tool's key log: every run that reached the server has one
	# (a failed certificate check too: TLS 1.3 logs the server's handshake secret first), a
	# distinct one; the refused connections have none
	has_randoms() {
		jq -s -e 'map(select(.t == "client.result" and .outcome != "connect-failed") |
		    .client_random) | (length == 6) and all(test("^[0-9a-f]{64}$")) and
		    (unique | length == 6)' "$ML_TMP/tail.jsonl" >/dev/null &&
		jq -s -e 'map(select(.outcome == "connect-failed") | .client_random) |
		    length == 2 and all(. == null)' "$ML_TMP/tail.jsonl" >/dev/null
	}
	ok "client.result has the hello's client_random, read from the tool's key log" has_randoms
else
	echo "  skip bus checks (no 'mitmlab bus')"
fi

ml_done
