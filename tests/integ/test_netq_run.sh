#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_netq_run.sh — killing the packet plane's handler in the middle of a `mitmlab run`
# (issue #6): with gateway.fail_open the targeted connections started after the kill are
# routed to the origin untouched (client outcome ok, the web PKI's certificate, no engine
# event for them); without it they fail (timeout / connect-failed). Either way the run ends on
# its own with exit status 0 (a dead handler is a lab event, not a runner failure: the workload
# is what the scenario measures), writes manifest.json, and removes its namespaces.
#
# Two small scenarios written here (dst-target's shape, one targeted origin, one client of
# ~12 s at 5 connections/s). The handler killed is the `mitmlab netq` in this run's gateway
# namespace: the run is found by its runner PID in the lab registry (/run/mitmlab/<id>), its
# gateway is ml<id>-gw, and the process is the one of `ip netns pids` whose argv says netq.
# Assertions come from the run's events.jsonl; the kill time splits the client results.
set -u
. "$(dirname "$0")/lib.sh"
ml_init netq-run

# scenario NAME FAIL_OPEN: write $ML_TMP/NAME.yaml
scenario() {
	cat >"$ML_TMP/$1.yaml" <<EOF
name: $1
description: packet-plane handler killed mid-run (fail_open $2)
seed: 6
duration_s: 40
national_ca: kz-2019
topology:
  hops_inside: 1
  hops_outside: 1
gateway:
  intercept: true
  mode: redirect
  forging: kz2019-late
  upstream_hello: openssl
  packet_plane: true
  fail_open: $2
  target_dst: [google]
  default: intercept
origins:
  - name: google
    sites:
      - host: www.google.com
clients:
  - name: user
    trust: [web, national]
    urls: [https://www.google.com/]
    count: 60
    rate: 5
    concurrency: 10
    timeout_ms: 1500
EOF
}

# registry_id RUNNER_PID: the lab id whose registry entry names this runner ("" if none yet)
registry_id() {
	local f
	for f in /run/mitmlab/*; do
		[ -f "$f" ] && grep -qx "pid $1" "$f" 2>/dev/null && { basename "$f"; return; }
	done
}

# netq_pid NS: the `mitmlab netq` process in namespace NS (argv[1] == netq)
netq_pid() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do
		[ "$({ tr '\0' '\n' <"/proc/$p/cmdline"; } 2>/dev/null | sed -n 2p)" = netq ] && { echo "$p"; return; }
	done
}

# results RUN: client.result lines recorded so far
results() { local n; n=$(grep -c '"t": *"client.result"' "$1/events.jsonl" 2>/dev/null); echo "${n:-0}"; }

# one NAME FAIL_OPEN: run the scenario, kill its handler after 8 results, check the outcome
one() {
	local name=$1 open=$2 run=$ML_TMP/run-$1 pid id="" np="" kill_ns=0 rc i t0
	scenario "$name" "$open"
	echo "-- $name: fail_open $open"
	t0=$(date +%s)
	"$ML_BIN" run "$ML_TMP/$name.yaml" --out "$run" --no-report >"$ML_TMP/$name.out" 2>&1 &
	pid=$!
	ml_track "$pid"
	for i in $(seq 300); do	# at most 30 s for the lab, its handler and 8 results
		[ -z "$id" ] && id=$(registry_id "$pid")
		[ -n "$id" ] && [ -z "$np" ] && np=$(netq_pid "ml$id-gw")
		[ -n "$np" ] && [ "$(results "$run")" -ge 8 ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	ok "$name: found this run's lab ($id) and its handler ($np)" [ -n "$id" -a -n "$np" ]
	if [ -n "$np" ]; then
		kill_ns=$(date +%s%N)
		kill -KILL "$np"
		echo "     killed netq $np after $(results "$run") client results"
	fi
	for i in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done	# bounded: 60 s
	if kill -0 "$pid" 2>/dev/null; then
		ok "$name: mitmlab run ends by itself within 60 s of the kill" false
		kill -TERM "$pid"; wait "$pid" 2>/dev/null; rc=-1
	else
		wait "$pid"; rc=$?
	fi
	# a killed packet plane is a degraded run (exit 3, manifest "status"), whatever
	# fail-open/closed then made of the traffic
	ok "$name: mitmlab run exits 3, degraded ($rc, $(($(date +%s) - t0)) s)" [ "$rc" = 3 ]
	ok "$name: the manifest says degraded" grep -q '"status": "degraded"' "$run/manifest.json"
	ok "$name: manifest.json written" [ -s "$run/manifest.json" ]
	ok "$name: the runner reported the handler's death" \
	    grep -Eq "netq (was killed by signal 9|exited with status 137)" "$ML_TMP/$name.out"
	ok "$name: no namespace ml$id-* left" bash -c "[ -n '$id' ] && ! ip netns list | grep -q '^ml$id-'"
	ok "$name: registry entry removed" [ ! -e "/run/mitmlab/$id" ]
	ok "$name: events show the configured behaviour" python3 - "$run/events.jsonl" "$kill_ns" "$open" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
kill, fail_open = int(sys.argv[2]), sys.argv[3] == "true"
def fail(m): print("    ", m); sys.exit(1)
opens = {e["flow"]: e for e in ev if e["t"] == "proxy.conn.open"}
res = [e for e in ev if e["t"] == "client.result" and e.get("flow")]
TIMEOUT = 1.5e9   # the client's timeout: a connection lives at most this long
before = [e for e in res if e["ts"] < kill]
after = [e for e in res if e["ts"] > kill + TIMEOUT + 0.5e9]   # surely started after the kill
if len(before) < 5 or len(after) < 5: fail(f"too few results around the kill: {len(before)} before, {len(after)} after")
if any(e["outcome"] != "ok" or opens.get(e["flow"], {}).get("action") != "intercept" for e in before):
    fail(f"before the kill: not all intercepted and ok: {[(e['outcome'], e['flow'] in opens) for e in before][:5]}")
late_opens = [e for e in opens.values() if e["ts"] > kill + 0.5e9]
if late_opens: fail(f"{len(late_opens)} flows reached the engine after the handler died")
if fail_open:
    bad = [(e["outcome"], e["flow"] in opens, e.get("leaf_issuer")) for e in after
           if e["outcome"] != "ok" or e["flow"] in opens or "Lab Web" not in (e.get("leaf_issuer") or "")]
    if bad: fail(f"fail-open: connections after the kill not routed untouched: {bad[:5]}")
    ok_ = sum(1 for e in after if e["outcome"] == "ok")
    print(f"     fail-open: {len(before)} intercepted before the kill, {ok_}/{len(after)} ok untouched after")
else:
    bad = [e["outcome"] for e in after if e["outcome"] not in ("timeout", "connect-failed")]
    if bad: fail(f"fail-closed: connections after the kill did not fail: {bad[:5]}")
    print(f"     fail-closed: {len(before)} ok before the kill, {len(after)}/{len(after)} "
          f"{sorted({e['outcome'] for e in after})} after")
st = [e for e in ev if e["t"] == "proxy.stats" and e.get("component") == "netq"]
if not st or st[-1]["ts"] > kill + 0.5e9: fail("netq's proxy.stats did not stop at the kill")
if not any(e["t"] == "lab.run.end" for e in ev): fail("no lab.run.end")
PY
}

one netq-kill-open true
one netq-kill-closed false
ml_done
