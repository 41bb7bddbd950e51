#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_run_cleanup.sh — `mitmlab run` removes everything it created also when it is cut short
# (issue #3): Ctrl-C mid-workload, a crashed interception engine, and a killed runner (whose
# leftovers `mitmlab lab gc` removes). Each case uses its own run directory; only processes
# of this test's runs are signalled, found through the lab registry entry naming that run
# directory.
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
left_procs() { local x n=0; for x in "${LABPROCS[@]}"; do [ "$(ml_starttime "${x%%:*}")" = "${x#*:}" ] && n=$((n + 1)); done; echo $n; }
kill -INT "$RUNPID"
wait_exit "$RUNPID" 60; rc=$RC
ok "SIGINT ends the run within 60 s (status $rc)" [ "$rc" = 0 ]
ok "it says it was interrupted" grep -q "interrupted: the run directory holds" "$ML_TMP/int.out"
ok "no namespace of the lab is left" [ "$(ml_ns_count "$LABID")" -eq 0 ]
ok "its registry entry is gone" [ ! -e "/run/mitmlab/$LABID" ]
ok "manifest.json and events.jsonl were written, the run end recorded" bash -c \
    "[ -s '$ML_TMP/int/manifest.json' ] && grep -q '\"t\":\"lab.run.end\"' '$ML_TMP/int/events.jsonl'"
ok "no component of the run is left (${#LABPROCS[@]} processes were in its namespaces, $(left_procs) left)" \
    [ ${#LABPROCS[@]} -gt 0 -a "$(left_procs)" -eq 0 ]

echo "-- the interception engine crashes"
start_run crash
ok "the run is up ($LABID)" [ -n "$LABID" ]
EPID=$(gw_pid "$LABID" proxy)
ok "found the engine's PID in the gateway ($EPID)" [ -n "$EPID" ]
[ -n "$EPID" ] && kill -KILL "$EPID"
wait_exit "$RUNPID" 60; rc=$RC
ok "the run ends by itself within 60 s (status $rc)" [ "$rc" = 0 ]
ok "it names the dead engine" grep -q "interception engine died" "$ML_TMP/crash.out"
ok "no namespace of the lab is left" [ "$(ml_ns_count "$LABID")" -eq 0 ]
ok "manifest.json was written" [ -s "$ML_TMP/crash/manifest.json" ]

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
