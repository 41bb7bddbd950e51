#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_scenarios.sh — run every shipped scenario (or those named in $SCENARIOS) with its
# default workload and assert its expected observables from events.jsonl (check_run.py).
# Each run builds and removes its own lab; the run directories go to a temp dir.
set -u
. "$(dirname "$0")/lib.sh"
ml_init scenarios
SCENARIOS=${SCENARIOS:-"baseline kz-2019 vendor-block corporate mitmproxy-like isca-2024 kz-2020 dst-target"}
for s in $SCENARIOS; do
	echo "-- scenario $s"
	start=$(date +%s)
	if ! "$ML_BIN" run "$ML_TOP/scenarios/$s.yaml" --out "$ML_TMP/$s" --quiet >"$ML_TMP/$s.out" 2>&1; then
		ok "mitmlab run $s completes" false
		tail -n 20 "$ML_TMP/$s.out"
		continue
	fi
	took=$(( $(date +%s) - start ))
	ok "mitmlab run $s completes (${took}s)" true
	ok "$s finishes in under 60 s" [ "$took" -lt 60 ]
	if python3 "$ML_TOP/tests/integ/check_run.py" "$ML_TMP/$s" >"$ML_TMP/$s.check" 2>&1; then
		ok "$s: expected observables ($(tail -n 1 "$ML_TMP/$s.check"))" true
	else
		ok "$s: expected observables" false
		grep -v '^  ok' "$ML_TMP/$s.check"
	fi
done
ml_done
