#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_run_cleanup.sh — `mitmlab run` removes everything it created also when it is cut short
# (issue #3): Ctrl-C mid-workload, a crashed interception engine, and a killed runner (whose
# leftovers `mitmlab lab gc` removes). Each case uses its own run directory; only processes
# of this test's runs are signalled, found through the lab registry entry naming that run
# directory. Also (fix-runner): a closing terminal (SIGHUP) tears down like Ctrl-C; a ^C to the
# runner's process group during the lab build ends the run as interrupted (exit 130), not as an
# ip error; two runs given one --out cannot share it; a run directory too long for the bus
# sockets, or a wrapped client whose program is missing, is refused before anything is built
# (one whose longest socket path is exactly 107 bytes, what sun_path holds, runs);
# a wrapped client that dies or a capture that cannot be written makes the run degraded
# (exit 3, manifest "status" and "problems"); --keep-keys keeps the web PKI's CA keys.
set -u
. "$(dirname "$0")/lib.sh"
ml_init runclean
SCN=$ML_TOP/scenarios/kz-2019.yaml

# lab_of DIR: the registry id of the lab whose run directory is DIR (empty if none).
lab_of() { grep -ls "^dir $1\$" /run/mitmlab/* 2>/dev/null | head -n 1 | xargs -r basename; }
# start_run NAME: mitmlab run in the background into $ML_TMP/NAME; waits until its clients
# run (bounded); sets RUNPID and LABID.
start_run() {
	"$ML_BIN" run "$SCN" --out "$ML_TMP/$1" --no-report >"$ML_TMP/$1.out" 2>&1 &
	RUNPID=$!
	ml_track "$RUNPID"
	LABID=
	for _ in $(seq 300); do
		[ -z "$LABID" ] && LABID=$(lab_of "$ML_TMP/$1")
		grep -q "client(s) started" "$ML_TMP/$1.out" && break
		kill -0 "$RUNPID" 2>/dev/null || break
		sleep 0.1
	done
}
# wait_exit PID SECONDS: wait for our child to end; its status in RC (124: still running).
wait_exit() {
	local i
	RC=124
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; RC=$?; return; }
		sleep 0.1
	done
}
# gw_pid ID WORD: PID of the process in lab ID's gateway whose command line has WORD.
gw_pid() {
	local p
	for p in $(ip netns pids "ml$1-gw" 2>/dev/null); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- " $2 " && { echo "$p"; return; }
	done
}

echo "-- Ctrl-C mid-workload"
start_run int
ok "the run is up with its lab ($LABID, $(ml_ns_count "$LABID") namespaces)" [ -n "$LABID" ]
# every process in the lab's namespaces, with its start time (a reused PID is not ours)
LABPROCS=()
for p in $(ml_lab_pids "$LABID"); do LABPROCS+=("$p:$(ml_starttime "$p")"); done
# left: the same process (PID and start time) and not past the point of its exit where it
# leaves its namespaces (its last open files are released after that, so a dying process
# can show as running, with no command line, for a moment after the teardown saw it end)
left() { [ "$(ml_starttime "${1%%:*}")" = "${1#*:}" ] && readlink "/proc/${1%%:*}/ns/net" >/dev/null 2>&1; }
left_procs() { local x n=0; for x in "${LABPROCS[@]}"; do left "$x" && n=$((n + 1)); done; echo $n; }
# left_names: the survivors, as PID:command line (for the failure message)
left_names() {
	local x
	for x in "${LABPROCS[@]}"; do
		left "$x" &&
			printf ' %s:%s' "${x%%:*}" "$(tr '\0' ' ' <"/proc/${x%%:*}/cmdline" 2>/dev/null | cut -c1-80)"
	done
}
# a process the runner did not start, in its gateway (a researcher's `lab exec` shell): the
# teardown stops it too, as deleting the namespace would leave it running in no named one
"$ML_BIN" lab exec --lab "$LABID" gw -- sleep 300 >/dev/null 2>&1 &
EXECPID=$!
ml_track "$EXECPID"
INGW=0
for _ in $(seq 50); do ip netns pids "ml$LABID-gw" 2>/dev/null | grep -qx "$EXECPID" && { INGW=1; break; }; sleep 0.1; done
kill -INT "$RUNPID"
wait_exit "$RUNPID" 60; rc=$RC
ok "SIGINT ends the run within 60 s, exit 130 for an interrupted run (status $rc)" [ "$rc" = 130 ]
ok "a process started in the gateway with lab exec (in it: $INGW) is stopped by the teardown" \
    eval '[ "$INGW" = 1 ] && ! ml_ours "$EXECPID"'
ok "it says it was interrupted" grep -q "interrupted: the run directory holds" "$ML_TMP/int.out"
ok "no namespace of the lab is left" [ "$(ml_ns_count "$LABID")" -eq 0 ]
ok "its registry entry is gone" [ ! -e "/run/mitmlab/$LABID" ]
ok "manifest.json and events.jsonl were written, the run end recorded" bash -c \
    "[ -s '$ML_TMP/int/manifest.json' ] && grep -q '\"t\":\"lab.run.end\"' '$ML_TMP/int/events.jsonl'"
LEFT=$(left_procs)
ok "no component of the run is left (${#LABPROCS[@]} processes were in its namespaces, $LEFT left$(left_names))" \
    [ ${#LABPROCS[@]} -gt 0 -a "$LEFT" -eq 0 ]
ok "the manifest says interrupted, with every component's exit" python3 -c "
import json, sys; m = json.load(open(sys.argv[1]))
assert m['status'] == 'interrupted', m['status']
# every component reaped (an exit status or a signal, never null), each stopped by the runner
assert m['components'] and all(c.get('exit') is not None or 'signal' in c for c in m['components']), m['components']
assert all(c['stopped_by_runner'] for c in m['components'] if c['role'] != 'client'), m['components']
assert isinstance(m['captures'][0], str) and m['capture_stats'][0]['name'] == m['captures'][0]" \
    "$ML_TMP/int/manifest.json"

echo "-- the terminal closes (SIGHUP) mid-workload"
start_run hup
ok "the run is up ($LABID)" [ -n "$LABID" ]
kill -HUP "$RUNPID"
wait_exit "$RUNPID" 60; rc=$RC
ok "SIGHUP ends the run through teardown (status $rc, 130 expected)" [ "$rc" = 130 ]
ok "no namespace of the lab is left" [ "$(ml_ns_count "$LABID")" -eq 0 ]
ok "manifest.json was written, status interrupted" grep -q '"status": "interrupted"' "$ML_TMP/hup/manifest.json"
ok "no private key is left in pki/ ($(find "$ML_TMP/hup/pki" -name '*.key' | wc -l))" \
    [ "$(find "$ML_TMP/hup/pki" -name '*.key' | wc -l)" -eq 0 ]
ok "each analyzer's log starts with its command line" bash -c \
    "ls '$ML_TMP'/hup/logs/analyzer-*.log >/dev/null && for f in '$ML_TMP'/hup/logs/analyzer-*.log; do head -n 1 \"\$f\" | grep -q '^# started on the host' || exit 1; done"

echo "-- ^C to the runner's process group while the lab is built"
setsid "$ML_BIN" run "$SCN" --out "$ML_TMP/cc" --no-report >"$ML_TMP/cc.out" 2>&1 &
RUNPID=$!
ml_track "$RUNPID"
for _ in $(seq 1000); do grep -q "PKI ready" "$ML_TMP/cc.out" && break; kill -0 "$RUNPID" 2>/dev/null || break; sleep 0.01; done
LABID=$(lab_of "$ML_TMP/cc")
kill -INT -- "-$RUNPID" 2>/dev/null
wait_exit "$RUNPID" 60; rc=$RC
[ -z "$LABID" ] && LABID=$(sed -n 's/.*lab \([0-9a-f]*\) up:.*/\1/p' "$ML_TMP/cc.out")
ok "the run ends as interrupted (status $rc, 130 expected)" [ "$rc" = 130 ]
ok "no helper is reported failed (the ^C was the runner's, not ip's)" bash -c "! grep -q 'failed:' '$ML_TMP/cc.out'"
ok "no client was started" bash -c "! grep -q 'client(s) started' '$ML_TMP/cc.out'"
ok "no namespace of the lab is left" bash -c "[ -z '$LABID' ] || [ \$(ip netns list | grep -c '^ml$LABID-') -eq 0 ]"
ok "manifest says interrupted and no key is left" bash -c \
    "grep -q '\"status\": \"interrupted\"' '$ML_TMP/cc/manifest.json' && [ -z \"\$(find '$ML_TMP/cc/pki' -name '*.key')\" ]"

echo "-- the interception engine crashes"
start_run crash
ok "the run is up ($LABID)" [ -n "$LABID" ]
EPID=$(gw_pid "$LABID" proxy)
ok "found the engine's PID in the gateway ($EPID)" [ -n "$EPID" ]
[ -n "$EPID" ] && kill -KILL "$EPID"
wait_exit "$RUNPID" 60; rc=$RC
ok "the run ends by itself within 60 s, exit 3 for a degraded run (status $rc)" [ "$rc" = 3 ]
ok "it names the dead engine" grep -q "interception engine died" "$ML_TMP/crash.out"
ok "no namespace of the lab is left" [ "$(ml_ns_count "$LABID")" -eq 0 ]
ok "manifest.json was written" [ -s "$ML_TMP/crash/manifest.json" ]
ok "the manifest says degraded and names the engine's death" python3 -c "
import json, sys; m = json.load(open(sys.argv[1]))
assert m['status'] == 'degraded', m['status']
assert any(p['what'] == 'component' and p['detail'].startswith('gateway ') for p in m['problems']), m['problems']
assert any(c['name'] == 'gateway' and c.get('signal') == 9 for c in m['components'])" \
    "$ML_TMP/crash/manifest.json"

echo "-- two runs given the same --out at once"
"$ML_BIN" run "$SCN" --out "$ML_TMP/same" --no-report >"$ML_TMP/same1.out" 2>&1 &
P1=$!; ml_track "$P1"
"$ML_BIN" run "$SCN" --out "$ML_TMP/same" --no-report >"$ML_TMP/same2.out" 2>&1 &
P2=$!; ml_track "$P2"
wait_exit "$P1" 120; rc1=$RC
wait_exit "$P2" 120; rc2=$RC
ok "one runs (0), the other is refused (1): statuses $rc1 $rc2" bash -c \
    "[ '$rc1 $rc2' = '0 1' ] || [ '$rc1 $rc2' = '1 0' ]"
ok "the refused one says why" bash -c "grep -Eq 'is in use by another mitmlab run \(pid [0-9]+\)|already holds a run' '$ML_TMP'/same[12].out"
ok "the run directory holds one run: one lab.run.start, a complete manifest" bash -c \
    "[ \$(grep -c '\"t\":\"lab.run.start\"' '$ML_TMP/same/events.jsonl') -eq 1 ] && grep -q '\"status\": \"complete\"' '$ML_TMP/same/manifest.json'"
ok "and its pcaps are whole (capinfos reads each)" bash -c \
    "for f in '$ML_TMP'/same/capture/*.pcap; do capinfos -c \"\$f\" >/dev/null 2>&1 || exit 1; done"
OWNER=$(cat "$ML_TMP/same/runner.lock")
"$ML_BIN" run "$SCN" --out "$ML_TMP/same" --no-report >"$ML_TMP/same3.out" 2>&1; rc=$?
ok "a run given a finished run's directory is refused (1) and leaves its runner.lock ($OWNER)" \
    bash -c "[ $rc = 1 ] && grep -q 'already holds a run' '$ML_TMP/same3.out' && [ \"\$(cat '$ML_TMP/same/runner.lock')\" = '$OWNER' ]"

echo "-- refused before anything is built"
LONG=$ML_TMP/$(printf 'x%.0s' $(seq 110))
"$ML_BIN" run "$SCN" --out "$LONG" --no-report >"$ML_TMP/long.out" 2>&1; rc=$?
ok "a run directory too long for the bus sockets is refused (status $rc)" bash -c \
    "[ $rc = 1 ] && grep -q 'use a shorter run directory' '$ML_TMP/long.out'"
ok "said once, and nothing is left to refuse a rerun" bash -c \
    "[ \$(grep -c 'use a shorter run directory' '$ML_TMP/long.out') -eq 1 ] && [ ! -e '$LONG/events.jsonl' ] && ! grep -q 'PKI ready' '$ML_TMP/long.out'"
# a finished run's directory whose path (95 bytes) fits bus.out but not the scenario's first
# analyzer's input socket (an-truth.in.sock, 112): refused before it is claimed, so its
# runner.lock stays
MID=$ML_TMP/mid-
MID=$MID$(printf 'y%.0s' $(seq $((95 - ${#MID}))))
mkdir -p "$MID" && echo 4242 >"$MID/runner.lock" && : >"$MID/events.jsonl"
"$ML_BIN" run "$SCN" --out "$MID" --no-report >"$ML_TMP/mid.out" 2>&1; rc=$?
ok "a run directory too long for an analyzer's socket is refused, naming it, and keeps its runner.lock (status $rc)" bash -c \
    "[ $rc = 1 ] && grep -q \"analyzer truth's socket would be 112 bytes\" '$ML_TMP/mid.out' && [ \"\$(cat '$MID/runner.lock')\" = 4242 ]"
# the boundary: an analyzer's input socket (DIR/an-detect-chain.in.sock, 24 bytes after DIR)
# of exactly 107 bytes, the most sun_path holds, is bound: the analyzer is fed and delivers
# its result; one byte more is refused
EXACT=$ML_TMP/exact-
[ $((107 - 24 - ${#EXACT})) -ge 1 ] || { echo "ML_TMP is too long for the 107-byte case: ${#ML_TMP} bytes" >&2; exit 1; }
EXACT=$EXACT$(printf 'z%.0s' $(seq $((107 - 24 - ${#EXACT}))))
"$ML_BIN" run "$ML_TOP/scenarios/baseline.yaml" --out "$EXACT" --analyzer detect-chain --no-report --quiet \
    >"$ML_TMP/exact.out" 2>&1; rc=$?
ok "an analyzer's socket of exactly 107 bytes ($((${#EXACT} + 24))) is bound: the run completes and the analyzer's result is filed (status $rc)" \
    python3 -c "
import json, sys; d = json.load(open(sys.argv[1] + '/results/detect-chain.json'))
assert $rc == 0 and d['delivery']['status'] == 'ok' and d['delivery']['events'] > 0, d['delivery']" "$EXACT"
"$ML_BIN" run "$ML_TOP/scenarios/baseline.yaml" --out "${EXACT}z" --analyzer detect-chain --no-report --quiet \
    >"$ML_TMP/exact1.out" 2>&1; rc=$?
ok "  ... and one of 108 bytes is refused (status $rc)" bash -c \
    "[ $rc = 1 ] && grep -q \"analyzer detect-chain's socket would be 108 bytes\" '$ML_TMP/exact1.out' && [ ! -e '${EXACT}z' ]"
mkdir -p "$ML_TMP/nocurl"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin; do
	for f in "$d"/*; do b=${f##*/}; [ "$b" = curl ] || [ -e "$ML_TMP/nocurl/$b" ] || ln -s "$f" "$ML_TMP/nocurl/$b"; done
done
PATH=$ML_TMP/nocurl "$ML_BIN" run "$ML_TOP/scenarios/baseline.yaml" --out "$ML_TMP/nocurl-run" --no-report >"$ML_TMP/nocurl.out" 2>&1; rc=$?
ok "a wrapped client whose curl is not on PATH is refused, naming the file:line (status $rc)" bash -c \
    "[ $rc = 1 ] && grep -Eq 'baseline.yaml:[0-9]+: .*curl.*not on PATH' '$ML_TMP/nocurl.out' && [ ! -e '$ML_TMP/nocurl-run' ]"

echo "-- degraded: a wrapped client dies, a capture cannot be written"
mkdir -p "$ML_TMP/fake" "$ML_TMP/deg/capture"
printf '#!/bin/sh\nkill -KILL $PPID\n' >"$ML_TMP/fake/curl"
chmod 755 "$ML_TMP/fake/curl"
ln -s /dev/full "$ML_TMP/deg/capture/origin-google.pcap"
PATH=$ML_TMP/fake:$PATH "$ML_BIN" run "$ML_TOP/scenarios/baseline.yaml" --out "$ML_TMP/deg" --keep-keys --quiet \
    >"$ML_TMP/deg.out" 2>&1; rc=$?
ok "the run ends with exit 3 (status $rc)" [ "$rc" = 3 ]
ok "the client's death is warned about" grep -q "client-curl-noroot was killed by signal 9" "$ML_TMP/deg.out"
ok "the manifest names both problems and the capture's write errors" python3 -c "
import json, sys; m = json.load(open(sys.argv[1]))
assert m['status'] == 'degraded', m['status']
assert any(p['what'] == 'component' and 'client-curl-noroot' in p['detail'] for p in m['problems']), m['problems']
assert any(p['what'] == 'capture' and 'origin-google' in p['detail'] for p in m['problems']), m['problems']
st = {c['name']: c for c in m['capture_stats']}
assert st['origin-google']['write_errors'] > 0 and st['gateway-in']['write_errors'] == 0, st
assert 'origin-google' in m['captures']" "$ML_TMP/deg/manifest.json"
ok "the run directory is still complete (report written)" [ -s "$ML_TMP/deg/report.json" ]
ok "--keep-keys keeps the web PKI's CA keys, mode 0600" bash -c \
    "for k in root int client-ca; do [ \"\$(stat -c %a '$ML_TMP/deg/pki/web/'\$k.key)\" = 600 ] || exit 1; done"

echo "-- the runner itself is killed (SIGKILL: no clean-up possible)"
start_run kill
ok "the run is up ($LABID)" [ -n "$LABID" ]
kill -KILL "$RUNPID"
wait "$RUNPID" 2>/dev/null
# in_lab: the processes in any of the lab's namespaces
in_lab() { ml_lab_pids "$LABID" | wc -l; }
# SIGTERM from PR_SET_PDEATHSIG: the engine drains (PROXY_DRAIN_MS) and lingers on the bus
for _ in $(seq 150); do [ "$(in_lab)" -eq 0 ] && break; sleep 0.1; done
ok "its components died with it (PR_SET_PDEATHSIG: no process left in any of its namespaces)" \
    [ "$(in_lab)" -eq 0 ]
ok "its namespaces are still there until gc ($(ml_ns_count "$LABID"))" [ "$(ml_ns_count "$LABID")" -gt 0 ]
"$ML_BIN" lab gc >"$ML_TMP/gc.out" 2>&1
ok "mitmlab lab gc removes them" [ "$(ml_ns_count "$LABID")" -eq 0 ]
ok "and its registry entry" [ ! -e "/run/mitmlab/$LABID" ]
ml_done
