#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_report.sh — `mitmlab report` on a real run: the kz-2019 scenario when the interception
# engine produces proxy.forge events, else the baseline run plus a synthetic interception
# overlay (report_synth.py) for the forged-certificate and interception sections (printed as
# such). Checks the national root's SPKI SHA-256 against openssl, the OneCRL entry decoded
# back to the root's issuer and serial, the Chromium block-list file name, that tshark shows
# decrypted HTTP from capture/evidence.pcapng with no key-log option, that headless Chromium
# renders report.html (non-blank PNG, expected title), that the HTML loads nothing external,
# --format/--out, the refusal to embed "PRIVATE KEY", no PEM private key outside pki/, the
# interceptor's fingerprints against the clients' (spliced flows' upstream hellos are the
# clients'), the detection table recomputed from results/*.json and events.jsonl, and the
# compare scores from --compare FILE and RUN_DIR/compare.json.
set -u
. "$(dirname "$0")/lib.sh"
ml_init report

# run SCENARIO DIR: mitmlab run, quietly.
run() {
	"$ML_BIN" run "$ML_TOP/scenarios/$1.yaml" --out "$2" --quiet >"$2.out" 2>&1
}

KZ=0
if run kz-2019 "$ML_TMP/kz" && grep -q '"t": *"proxy.forge"' "$ML_TMP/kz/events.jsonl"; then
	RUN=$ML_TMP/kz
	KZ=1
	echo "-- on a kz-2019 run (engine available)"
else
	echo "-- kz-2019 unavailable (engine not ready: $(tail -n 1 "$ML_TMP/kz.out" 2>/dev/null)); using baseline"
	run baseline "$ML_TMP/base" || { ok "mitmlab run baseline" false; ml_done; exit 1; }
	RUN=$ML_TMP/base
fi

ok "mitmlab report RUN_DIR writes report.json, report.md, report.html" \
	"$ML_BIN" report "$RUN" >/dev/null
for f in report.json report.md report.html capture/evidence.pcapng; do
	ok "$f exists and is not empty" [ -s "$RUN/$f" ]
done
ok "report.json has schema 1" python3 -c "import json,sys; sys.exit(json.load(open('$RUN/report.json'))['schema'] != 1)"

# -- the national root: SPKI SHA-256 (hex, base64), Chromium file name, OneCRL
ROOT=$RUN/pki/national/root.pem
# jq_root A.B.0.C: a value of the root's entry in report.json.
jq_root() {
	python3 -c "import json,sys
v = json.load(open(sys.argv[1]))['national_ca']['certs'][0]
for k in sys.argv[2].split('.'): v = v[int(k)] if k.isdigit() else v[k]
print(v)" "$RUN/report.json" "$1"
}
spki_hex=$(openssl x509 -in "$ROOT" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
spki_b64=$(openssl x509 -in "$ROOT" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)
cert_hex=$(openssl x509 -in "$ROOT" -outform DER | sha256sum | cut -d' ' -f1)
ok "root SPKI SHA-256 (hex) equals openssl's" [ "$(jq_root spki_sha256)" = "$spki_hex" ]
ok "root SPKI SHA-256 (base64) equals openssl's" [ "$(jq_root spki_sha256_b64)" = "$spki_b64" ]
ok "Chromium block-list file name is the certificate's SHA-256 + .pem" \
	[ "$(jq_root chromium_blocklist_file)" = "$cert_hex.pem" ]
ok "report.html shows the SPKI hash" grep -q "$spki_hex" "$RUN/report.html"
ok "report.md shows the SPKI base64" grep -qF "$spki_b64" "$RUN/report.md"
ok "report.md and report.html name the Chromium block-list file" \
	bash -c "grep -qF '$cert_hex.pem' '$RUN/report.md' && grep -qF '$cert_hex.pem' '$RUN/report.html'"
jq_root onecrl.0.issuerName | base64 -d >"$ML_TMP/issuer.der"
openssl asn1parse -inform DER -in "$ML_TMP/issuer.der" >"$ML_TMP/issuer.txt" 2>&1
issuer_cn=$(openssl x509 -in "$ROOT" -noout -issuer -nameopt sep_multiline,sname | sed -n 's/^ *CN=//p')
ok "OneCRL issuerName parses as DER (asn1parse)" grep -q "SEQUENCE" "$ML_TMP/issuer.txt"
ok "OneCRL issuerName decodes to the root's issuer CN ($issuer_cn)" grep -qF "$issuer_cn" "$ML_TMP/issuer.txt"
# The issuer Name DER must be byte-identical to the one inside the certificate.
python3 - "$ROOT" "$ML_TMP/issuer.der" <<'EOF' && ok "OneCRL issuerName is the certificate's issuer DER" true || ok "OneCRL issuerName is the certificate's issuer DER" false
import subprocess, sys
der = subprocess.run(["openssl", "x509", "-in", sys.argv[1], "-outform", "DER"], capture_output=True).stdout
name = open(sys.argv[2], "rb").read()
sys.exit(0 if len(name) > 10 and name[0] == 0x30 and name in der else 1)
EOF
serial_report=$(jq_root onecrl.0.serialNumber | base64 -d | od -An -tx1 | tr -d ' \n' | tr a-f A-F | sed 's/^00//')
serial_cert=$(openssl x509 -in "$ROOT" -noout -serial | cut -d= -f2 | sed 's/^00//')
ok "OneCRL serialNumber decodes to the root's serial ($serial_cert)" [ "$serial_report" = "$serial_cert" ]
printf "\\x02\\x$(printf %02x "$(jq_root onecrl.0.serialNumber | base64 -d | wc -c)")" >"$ML_TMP/serial.der"
jq_root onecrl.0.serialNumber | base64 -d >>"$ML_TMP/serial.der"
ok "OneCRL serialNumber is INTEGER content (asn1parse of 02 len content)" \
	bash -c "openssl asn1parse -inform DER -in '$ML_TMP/serial.der' | grep -q 'INTEGER *:$serial_cert'"

# -- evidence.pcapng: decrypted HTTP with no key-log option
EV=$RUN/capture/evidence.pcapng
tshark -r "$EV" -Y 'http.request || http2.type == 1' -T fields -e ip.src -e ip.dst \
	-e http.host -e http2.headers.authority >"$ML_TMP/http.txt" 2>/dev/null
ok "tshark shows HTTP requests in clear from evidence.pcapng ($(wc -l <"$ML_TMP/http.txt") packets)" [ -s "$ML_TMP/http.txt" ]
if [ $KZ = 1 ]; then
	targets=$(python3 -c "import json
for l in open('$RUN/events.jsonl'):
  e=json.loads(l)
  if e['t']=='proxy.conn.open' and e['action']=='intercept' and e.get('sni'): print(e['sni'])" | sort -u)
	hit=0
	for t in $targets; do grep -qw "$t" "$ML_TMP/http.txt" && hit=1; done
	ok "decrypted requests include intercepted flows' names" [ $hit = 1 ]
fi
ok "evidence.pcapng holds no PEM private key" bash -c "! grep -qa 'PRIVATE KEY-----' '$EV'"

# -- the HTML: self-contained and rendered by headless Chromium
H=$RUN/report.html
ok "report.html loads nothing external (no src/href URL, link, script, @import)" \
	bash -c "! grep -Eqi '(src|href)=\"(https?:|//)|<link|<script|@import|url\\((https?:|//)' '$H'"
ok "report.html has print CSS" grep -q '@media print' "$H"
ok "report.html embeds SVG charts" grep -q '<svg' "$H"
if command -v chromium >/dev/null; then
	CHR=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
	    --disable-background-networking --disable-component-update --disable-sync
	    --user-data-dir="$ML_TMP/chr" --window-size=1280,2000)
	timeout 90 "${CHR[@]}" --screenshot="$ML_TMP/report.png" "file://$H" >/dev/null 2>&1
	ok "Chromium rendered a PNG (> 40 KB)" [ "$(stat -c %s "$ML_TMP/report.png" 2>/dev/null || echo 0)" -gt 40000 ]
	python3 - "$ML_TMP/report.png" <<'EOF' && ok "the PNG is not blank" true || ok "the PNG is not blank" false
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n"
i, idat = 8, b""
while i < len(d):
    n, t = struct.unpack(">I4s", d[i:i + 8])
    if t == b"IDAT":
        idat += d[i + 8:i + 8 + n]
    i += 12 + n
raw = zlib.decompress(idat)
sys.exit(0 if len(set(raw)) > 32 else 1)
EOF
	timeout 90 "${CHR[@]}" --dump-dom "file://$H" >"$ML_TMP/dom.html" 2>/dev/null
	want="mitmlab report: $([ $KZ = 1 ] && echo kz-2019 || echo baseline)"
	ok "Chromium's DOM has the title \"$want\"" grep -q "<title>$want" "$ML_TMP/dom.html"
else
	ok "chromium installed (apt-get install chromium)" false
fi

# -- one format, --out
touch "$ML_TMP/before-only"
ok "--format md --out FILE writes that file" \
	"$ML_BIN" report "$RUN" --format md --out "$ML_TMP/only.md"
ok "  ... and no report in the run directory" \
	[ -z "$(find "$RUN" -maxdepth 1 -name 'report.*' -newer "$ML_TMP/before-only")" ]
ok "  ... and it is Markdown" grep -q '^## 2. National root' "$ML_TMP/only.md"
ok "--format json --out - writes JSON to stdout" \
	bash -c "'$ML_BIN' report '$RUN' --format json --out - | python3 -c 'import json,sys; json.load(sys.stdin)'"
ok "unknown --format is a usage error (2)" bash -c "'$ML_BIN' report '$RUN' --format pdf 2>/dev/null; [ \$? = 2 ]"
ok "a missing run directory fails (1)" bash -c "'$ML_BIN' report '$ML_TMP/nope' 2>/dev/null; [ \$? = 1 ]"

# -- key material: an analyzer result that carries a PEM private key is redacted, and the
# rest of the report is still written; text that only names one ("PRIVATE KEY.example") stays
mkdir -p "$RUN/results"
printf '{"note": "-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----", "sni": "PRIVATE KEY.example", "-----BEGIN EC PRIVATE KEY-----": 1}\n' \
	>"$RUN/results/evil.json"
for f in html md json; do
	"$ML_BIN" report "$RUN" --format $f --out "$ML_TMP/evil.$f" 2>"$ML_TMP/evil.err"
	rc=$?
	if [ $f = md ]; then	# report.md shows the detection table, not the results' text
		ok "a key in an analyzer result stays out of report.md (exit $rc)" \
		    bash -c "[ $rc = 0 ] && ! grep -q 'PRIVATE KEY-----' '$ML_TMP/evil.md' && grep -q '^| evil |' '$ML_TMP/evil.md'"
		continue
	fi
	ok "a key in an analyzer result is redacted from report.$f (exit $rc)" \
	    bash -c "! grep -q 'PRIVATE KEY-----' '$ML_TMP/evil.$f' && grep -q 'redacted: this text held a PEM private key' '$ML_TMP/evil.$f' && grep -q 'PRIVATE KEY.example' '$ML_TMP/evil.$f'"
done
ok "  ... a value and a key, counted (redacted_private_keys 2)" python3 -c "import json,sys; m=json.load(open(sys.argv[1])); sys.exit(m['redacted_private_keys'] != 2)" "$ML_TMP/evil.json"
rm -f "$RUN/results/evil.json"
# an analyzer result is rendered generically
printf '{"analyzer": "demo", "detected": true, "flows": [{"flow": "a", "score": 0.9}]}\n' >"$RUN/results/demo.json"
"$ML_BIN" report "$RUN" --format html --out "$ML_TMP/demo.html"
ok "results/<analyzer>.json's raw output is in a collapsed <details> (its flows as a table)" \
	bash -c "grep -q '<details class=\"raw\"><summary>Raw output: results/demo.json' '$ML_TMP/demo.html' && grep -q '<th>score</th>' '$ML_TMP/demo.html'"
rm -f "$RUN/results/demo.json"

# -- the detection table: one row per analyzer result, its counts recomputed here from the result
# files (last verdict per flow, as compare scores) and the engine's decisions in events.jsonl,
# the same in report.json, report.md and report.html; the summary names each detector with the
# intercepted flows it flagged; no raw verdicts in report.md
python3 - "$RUN" <<'EOF' >"$ML_TMP/det.txt"
import collections, glob, html, json, os, re, sys
run = sys.argv[1]
m = json.load(open(run + "/report.json"))
inter = {}
for l in open(run + "/events.jsonl"):
    e = json.loads(l)
    if e["t"] == "proxy.conn.open" and e.get("flow"):
        inter[e["flow"]] = e.get("action") == "intercept"
known = set(inter)
for l in open(run + "/events.jsonl"):
    e = json.loads(l)
    if e["t"] == "client.result" and e.get("flow"):
        known.add(e["flow"])
want = {}
for p in glob.glob(run + "/results/*.json"):
    if p.endswith("/compare.json"):
        continue
    d = json.load(open(p))
    last = {}
    for v in d.get("verdicts", []):
        if isinstance(v.get("flow"), str) and isinstance(v.get("intercepted"), bool):
            last[v["flow"]] = v
    fl = [f for f, v in last.items() if v["intercepted"]]
    fi = [f for f in fl if inter.get(f)]
    fni = [f for f in fl if f in known and not inter.get(f)]
    name = d.get("analyzer") or os.path.basename(p)[:-5]
    want[name] = [name, d.get("role") or "—", d.get("delivery", {}).get("status") or "—",
                  str(len(last)), str(len(fl)), str(len(fi)), str(len(fni)),
                  str(len(fl) - len(fi) - len(fni)),
                  collections.Counter(last[f].get("signal") for f in fl)]
got = {r["analyzer"]: r for r in m["detection"]["table"]["rows"]}
ok_json = set(got) == set(want) and all(
    [str(got[n][k]) for k in ("flows_seen", "flagged", "flagged_intercepted",
     "flagged_not_intercepted", "flagged_unknown_flow")] == w[3:8] and
    got[n]["signals"] == dict(w[8]) for n, w in want.items())
h = open(run + "/report.html").read()
t = re.search(r'<div id="detection-table">(.*?)</div>', h, re.S)
cells = [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
         for r in re.findall(r"<tr>(.*?)</tr>", t.group(1) if t else "", re.S)]
hrows = {c[0]: c[:8] for c in cells if c}
md = open(run + "/report.md").read()
mrows = {}
for l in md.splitlines():
    c = [x.strip() for x in l.strip("|").split("|")]
    if c and c[0] in want and len(c) >= 8:
        mrows[c[0]] = c[:8]
ok_html = all(hrows.get(n) == w[:8] for n, w in want.items())
ok_md = all(mrows.get(n) == w[:8] for n, w in want.items())
said = " ".join(m["summary"])
dets = [w for w in want.values() if w[1] == "detector"]
need = [f"{w[0]} flagged {w[5]} of them" for w in dets if int(w[5]) > 0]
ok_sum = bool(dets) and all(x in said for x in need) and "analyzer result file(s)" not in said
print(len(want), ok_json, ok_html, ok_md, ok_sum, len(need), '"verdicts"' not in md)
EOF
read -r ndet djson dhtml dmd dsum nflag noraw <"$ML_TMP/det.txt"
ok "detection table in report.json: $ndet rows, counts equal the result files' last verdicts" [ "${ndet:-0}" -gt 0 -a "$djson" = True ]
ok "  ... the same rows in report.html" [ "$dhtml" = True ]
ok "  ... the same rows in report.md" [ "$dmd" = True ]
ok "the summary names the $nflag detector(s) that flagged intercepted flows, with the count" [ "${nflag:-0}" -gt 0 -a "$dsum" = True ]
ok "report.md holds no raw analyzer output" [ "$noraw" = True ]

# -- compare scores: --compare FILE, and RUN_DIR/compare.json found without it
"$ML_BIN" compare "$RUN" --detector detect-chain --out "$ML_TMP/cmp" --quiet >/dev/null 2>&1
ok "mitmlab compare wrote compare.json" [ -s "$ML_TMP/cmp/compare.json" ]
for f in md html json; do
	"$ML_BIN" report "$RUN" --compare "$ML_TMP/cmp/compare.json" --format $f --out "$ML_TMP/cmp.$f"
done
python3 - "$ML_TMP/cmp" <<'EOF' >"$ML_TMP/cmp.txt"
import html, json, re, sys
d = sys.argv[1]
rows = json.load(open(d + "/compare.json"))["rows"]
m = json.load(open(d + ".json"))
h = open(d + ".html").read()
t = re.search(r'<div id="compare-table">(.*?)</div>', h, re.S)
hr = [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
      for r in re.findall(r"<tr>(.*?)</tr>", t.group(1) if t else "", re.S)]
hr = [r for r in hr if r]
md = open(d + ".md").read().split("### Detector comparison", 1)
mr = [l for l in (md[1] if len(md) > 1 else "").split("### Breakage")[0].splitlines() if l.startswith("| ") and "---" not in l][1:]
key = lambda r: [r["detector"], r["run"], str(r["tp"]), str(r["fp"]), str(r["fn"])]
ok_h = len(hr) == len(rows) and all([r[0], r[1], r[7], r[8], r[10]] == key(x) for r, x in zip(hr, rows))
mc = [[c.strip() for c in l.strip("|").split("|")] for l in mr]
ok_m = len(mc) == len(rows) and all([r[0], r[1], r[7], r[8], r[10]] == key(x) for r, x in zip(mc, rows))
said = [s for s in m["summary"] if s.startswith("Scored against the ground truth")]
ok_s = bool(said) and all(f'{x["detector"]} precision' in said[0] for x in rows) and all(r["this_run"] for r in m["detection"]["compare_rows"])
print(len(rows), ok_h, ok_m, ok_s)
EOF
read -r ncmp chtml cmd csum <"$ML_TMP/cmp.txt"
ok "--compare FILE: report.html has one compare row per compare.json row ($ncmp)" [ "$ncmp" -ge 1 -a "$chtml" = True ]
ok "  ... and report.md too" [ "$cmd" = True ]
ok "  ... and the summary gives this run's scores" [ "$csum" = True ]
cp "$ML_TMP/cmp/compare.json" "$RUN/compare.json"
ok "RUN_DIR/compare.json is shown without --compare" bash -c "'$ML_BIN' report '$RUN' --format json --out - | python3 -c 'import json,sys; d=json.load(sys.stdin)[\"detection\"]; sys.exit(not (d[\"compare_file\"] == \"compare.json\" and len(d[\"compare_rows\"]) == $ncmp))'"
rm -f "$RUN/compare.json"
# results/compare.json (where a run's own compare goes) is shown without --compare, is not an
# analyzer's result, and gives way to --compare FILE: its rows name a detector only it holds
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [r.update(detector="only-in-results") for r in d["rows"]]; json.dump(d, open(sys.argv[2], "w"))' \
    "$ML_TMP/cmp/compare.json" "$RUN/results/compare.json"
# cmpsrc ARGS: the report's "compare_file, the compare rows' detectors, compare.json among the
# analyzers' results"
cmpsrc() { "$ML_BIN" report "$RUN" "$@" --format json --out - | python3 -c 'import json,sys; d=json.load(sys.stdin)["detection"]; print(d["compare_file"], ",".join(sorted({r["detector"] for r in d["compare_rows"]})), any(f["file"] == "compare.json" for f in d["results"]))'; }
ok "results/compare.json is shown without --compare, and not as an analyzer's result" [ "$(cmpsrc)" = "results/compare.json only-in-results False" ]
ok "--compare FILE replaces results/compare.json" [ "$(cmpsrc --compare "$ML_TMP/cmp/compare.json")" = "$ML_TMP/cmp/compare.json detect-chain False" ]
rm -f "$RUN/results/compare.json"
ok "--compare with a missing file fails (1)" bash -c "'$ML_BIN' report '$RUN' --compare '$ML_TMP/nope.json' --format md --out '$ML_TMP/x.md' 2>/dev/null; [ \$? = 1 ]"

# -- interception sections (on kz-2019, or on a synthetic overlay of the baseline run)
if [ $KZ = 0 ]; then
	cp -a "$RUN" "$ML_TMP/synth"
	python3 "$ML_TOP/tests/integ/report_synth.py" "$ML_TMP/synth"
	"$ML_BIN" report "$ML_TMP/synth" >/dev/null
	S=$ML_TMP/synth
	echo "-- interception sections on a SYNTHETIC overlay (report_synth.py)"
else
	S=$RUN
fi
python3 - "$S/report.json" <<'EOF' >"$ML_TMP/forged.txt"
import json, sys
m = json.load(open(sys.argv[1]))
s = m["forged"]["samples"]
print(len(s), len({x["sni"] for x in s}),
      all(any(r["differs"] for r in x["diff"]) for x in s),
      any(r["name"] == "key exponent" and r["forged"] == "3" and r["differs"] for x in s for r in x["diff"]),
      len(m["fingerprints"]["interceptor"]), m["hosts"]["intercepted_flows"])
EOF
read -r nsamp ndist alldiff e3 nint iflows <"$ML_TMP/forged.txt"
ok "forged samples: $nsamp, up to 5 distinct hosts" [ "$nsamp" -ge 1 -a "$nsamp" -le 5 -a "$ndist" = "$nsamp" ]
ok "every sample marks differences" [ "$alldiff" = True ]
ok "the diff shows the forged key's exponent 3" [ "$e3" = True ]
ok "interceptor's upstream fingerprint found ($nint) on $iflows intercepted flows" [ "$nint" -ge 1 -a "$iflows" -ge 1 ]
ok "report.html marks differing fields" grep -q 'class="diff"' "$S/report.html"

# -- fingerprints: an origin hello is the interceptor's only on an intercepted flow. In REDIRECT
# mode the engine also opens a spliced flow's upstream connection, and the origin then sees the
# client's own hello from the engine's address: that one is the client's.
python3 - "$S" <<'EOF' >"$ML_TMP/fp.txt"
import json, sys
run = sys.argv[1]
m = json.load(open(run + "/report.json"))
fp = m["fingerprints"]
ev = [json.loads(l) for l in open(run + "/events.jsonl")]
ups = {}
for e in ev:
    if e["t"] == "proxy.conn.open" and e.get("upstream"):
        ups.setdefault((e["upstream"]["ip"], e["upstream"]["port"]), []).append(e)
n = {"intercept": 0, "splice": 0}
for h in ev:
    if h["t"] != "origin.hello":
        continue
    c = [o for o in ups.get((h["client"]["ip"], h["client"]["port"]), []) if o["ts"] <= h["ts"]]
    act = max(c, key=lambda o: o["ts"])["action"] if c else None
    if act in n:
        n[act] += 1
inter = {g["ja3"] for g in fp["interceptor"]}
proxy = {g["ja3"] for g in fp["clients_at_proxy"]}
origin = {g["ja3"] for g in fp["clients_at_origin"]}
mirror = m["hosts"]["upstream_hello"] == "mirror"
said = [s for s in m["summary"] if "interceptor's own ClientHello" in s]
match = bool(inter & (proxy | origin))
print(n["intercept"], sum(g["count"] for g in fp["interceptor"]),
      n["splice"], sum(g["count"] for g in fp["clients_at_origin"]),
      mirror or not (inter & proxy), fp["interceptor_matches_a_client"] == match,
      bool(said) and ("matches none of" in said[0]) == (not match))
EOF
read -r hi_n hi_got hs_n hs_got noproxy mflag msent <"$ML_TMP/fp.txt"
ok "interceptor's fingerprints are exactly the $hi_n origin hellos of intercepted flows ($hi_got)" \
	[ "$hi_n" -ge 1 -a "$hi_got" = "$hi_n" ]
ok "no client JA3 seen by the engine is among the interceptor's (upstream hello not mirror)" \
	[ "$noproxy" = True ]
ok "clients_at_origin holds the spliced flows' $hs_n origin hellos ($hs_got >= $hs_n)" \
	[ "$hs_n" -ge 1 -a "$hs_got" -ge "$hs_n" ]
ok "interceptor_matches_a_client and the summary sentence agree with the groups" \
	[ "$mflag" = True -a "$msent" = True ]

# -- no PEM private key outside pki/
ok "no PEM private key in the run directory outside pki/" \
	bash -c "! grep -rlaE 'PRIVATE KEY-----' --exclude-dir=pki '$RUN' '$S'"
ml_done
