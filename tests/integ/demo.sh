#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# demo.sh — `make demo`: run the kz-2019 scenario and show what a researcher looks at first:
# the summary, one original certificate next to its forgery, and where the run directory is.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
cd "$top"
out=${DEMO_OUT:-runs/kz-2019-demo-$(date -u +%Y%m%dT%H%M%SZ)}	# DEMO_OUT: for the test
"$BUILD/bin/mitmlab" run scenarios/kz-2019.yaml --out "$out"
python3 - "$out/events.jsonl" <<'PY'
import json, subprocess, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
f = next((e for e in ev if e["t"] == "proxy.forge" and not e.get("cache_hit")), None)
if f is None:
    sys.exit("no forged certificate recorded")
def show(title, pem):
    out = subprocess.run(["openssl", "x509", "-noout", "-subject", "-issuer", "-serial",
                          "-dates", "-ext", "subjectAltName"], input=pem,
                         capture_output=True, text=True).stdout
    bits = subprocess.run(["openssl", "x509", "-noout", "-text"], input=pem,
                          capture_output=True, text=True).stdout
    key = [l.strip() for l in bits.splitlines() if "Public-Key" in l or "Exponent" in l]
    print(f"--- {title}\n{out}{'; '.join(key)}\n")
print(f"\nOne intercepted flow ({f['flow']}), profile {f['profile']}:\n")
show("the origin's real certificate", f["orig_pem"])
show("the certificate the interceptor forged", f["forged_pem"])
PY
case $out in /*) ;; *) out=$top/$out ;; esac
echo "run directory: $out"
echo "  events: $out/events.jsonl   captures + keylog: $out/capture/   certificates: $out/pki/"
if [ -e "$out/report.html" ]; then
	echo "report: $out/report.html   (also report.md, report.json; capture/evidence.pcapng carries the TLS secrets)"
fi
