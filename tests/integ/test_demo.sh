#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_demo.sh — `make demo`'s script (the README's first command) runs and shows what it
# promises: the run's summary, one real certificate next to its kz2019 forgery (Qaznet
# chain, RSA e=3), the report and the run directory. It once failed on a Python type error
# that nothing else ran into.
set -u
. "$(dirname "$0")/lib.sh"
ml_init demo
DEMO_OUT=$ML_TMP/run BUILD=$BUILD bash "$ML_TOP/tests/integ/demo.sh" >"$ML_TMP/demo.out" 2>&1
rc=$?
ok "demo.sh exits 0 (rc $rc)" [ $rc -eq 0 ]
[ $rc -eq 0 ] || tail -n 20 "$ML_TMP/demo.out"
ok "it prints the run summary" grep -q "^== kz-2019: .* events, 0 sequence gaps" "$ML_TMP/demo.out"
ok "it shows the origin's real certificate" grep -q -- "--- the origin's real certificate" "$ML_TMP/demo.out"
ok "and the forgery: issued by the mock national chain, RSA-2048 with exponent 3" python3 - "$ML_TMP/demo.out" <<'PY'
import sys
t = open(sys.argv[1]).read()
forged = t.split("--- the certificate the interceptor forged", 1)[1] if "interceptor forged" in t else ""
sys.exit(0 if "Security Certificate" in forged and "(2048 bit)" in forged and "Exponent: 3 " in forged else 1)
PY
ok "it says where the report and the run directory are" bash -c \
    "grep -q '^report: $ML_TMP/run/report.html' '$ML_TMP/demo.out' && grep -q '^run directory: $ML_TMP/run' '$ML_TMP/demo.out' && [ -s '$ML_TMP/run/report.html' ]"
ml_done
