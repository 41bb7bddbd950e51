#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_detectors.sh — the issue #4 analyzers on fresh runs of baseline, kz-2019, corporate and
# mitmproxy-like: detect-chain flags every intercepted flow of clients without the national
# root and nothing on baseline; detect-fingerprint (fingerprints learned from the baseline run)
# flags kz-2019's intercepted flows at the origin and nothing on baseline; detect-path (server
# hops and first flight at the passive monitor before the gateway, against the baseline)
# flags kz-2019's intercepted flows, not its spliced ones, nothing on baseline, and localises
# the terminator at the gateway's hop; breakage and throughput (with the packet plane's own
# packets/s) produce consistent results; `mitmlab compare` with the detectors produces its
# table and its figures equal counts recomputed from events.jsonl (check_detectors.py);
# replaying a run twice gives identical verdicts and results.
set -u
. "$(dirname "$0")/lib.sh"
ml_init detectors
CHECK="python3 $ML_TOP/tests/integ/check_detectors.py"
export MITMLAB_ANALYZERS=$ML_TOP/analyzers
ALL=truth,detect-chain,detect-fingerprint,detect-path,breakage,throughput

# check_show CMD...: run a check, indent its output.
check_show() { local out rc; out=$("$@" 2>&1); rc=$?; [ -n "$out" ] && echo "$out" | sed 's/^/       /'; return $rc; }

RUNS=()
for s in baseline kz-2019 corporate mitmproxy-like; do
	if "$ML_BIN" run "$ML_TOP/scenarios/$s.yaml" --out "$ML_TMP/$s" --quiet >"$ML_TMP/$s.out" 2>&1; then
		ok "mitmlab run $s" true
		RUNS+=("$ML_TMP/$s")
	else
		ok "mitmlab run $s" false
		tail -n 5 "$ML_TMP/$s.out"
	fi
done
BASE=$ML_TMP/baseline

for r in "${RUNS[@]}"; do
	n=$(basename "$r")
	ok "$n: replay to $ALL" "$ML_BIN" replay "$r" --analyzer "$ALL" --baseline "$BASE" \
	    --out "$ML_TMP/res-$n" --quiet
	ok "$n: detect-chain" check_show $CHECK chain "$ML_TMP/res-$n" "$r" "$BASE"
	# fingerprint and path are asserted where the scenario has their vantages (a packet plane
	# with a router before the gateway); elsewhere check_detectors would only say so and pass
	case $n in baseline | kz-2019)
		ok "$n: detect-fingerprint" check_show $CHECK fingerprint "$ML_TMP/res-$n" "$r"
		ok "$n: detect-path" check_show $CHECK path "$ML_TMP/res-$n" "$r" ;;
	esac
	ok "$n: breakage and throughput" check_show $CHECK measures "$ML_TMP/res-$n" "$r"
done

if [ -d "$ML_TMP/kz-2019" ]; then
	ok "kz-2019: second replay" "$ML_BIN" replay "$ML_TMP/kz-2019" --analyzer "$ALL" \
	    --baseline "$BASE" --out "$ML_TMP/res2-kz-2019" --quiet
	ok "kz-2019: both replays identical (meta aside)" check_show $CHECK same \
	    "$ML_TMP/res-kz-2019" "$ML_TMP/res2-kz-2019" detect-chain detect-fingerprint detect-path breakage throughput
fi

# Without --baseline, compare finds the run of scenario "baseline" for {baseline}.
ok "compare ${#RUNS[@]} runs with detect-chain, detect-fingerprint and detect-path" "$ML_BIN" compare "${RUNS[@]}" \
    --detector detect-chain --detector detect-fingerprint --detector detect-path --out "$ML_TMP/cmp" --quiet
ok "compare table equals counts from events.jsonl" check_show $CHECK compare "$ML_TMP/cmp" "${RUNS[@]}"
ml_done
