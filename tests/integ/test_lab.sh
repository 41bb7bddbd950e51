#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_lab.sh — the interactive lab: `mitmlab lab up` builds and holds the baseline lab and
# returns; `lab exec` runs commands in its nodes (exit status passed through, lab hosts file,
# MITMLAB_BUS so a lab client's results land in the recorded run); a second lab can be up at
# the same time (--max-s ends it on its own); ^C while building leaves nothing behind; `lab
# down ID` has the runner record and remove everything, and `lab down --wait S` kills a runner
# that does not end (SIGSTOPped here) and removes what it left. Only labs this test started are
# stopped (by id; the trap too).
set -u
. "$(dirname "$0")/lib.sh"
ml_init lab
LABS=()
STOPPED=	# a runner this test stopped with SIGSTOP (the forced lab down); resumed at cleanup
lab_cleanup() {
	local id
	[ -n "$STOPPED" ] && ml_ours "$STOPPED" && kill -CONT "$STOPPED" 2>/dev/null
	for id in "${LABS[@]}"; do "$ML_BIN" lab down --wait 60 "$id" >/dev/null 2>&1 || true; done
	ml_cleanup
}
trap lab_cleanup EXIT
SCN=$ML_TOP/scenarios/baseline.yaml
# registered DIR: is a lab with run directory DIR in the registry?
registered() { grep -lqs "^dir $1\$" /run/mitmlab/* 2>/dev/null; }
# running PID: the process exists and is not a zombie (its new parent may reap it later).
running() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]; }
not_running() { ! running "$1"; }

echo "-- lab up: held, returns when the lab serves"
t0=$(date +%s)
ID=$(timeout 120 "$ML_BIN" lab up "$SCN" --out "$ML_TMP/a" --quiet 2>"$ML_TMP/up.err")
rc=$?
[ -n "$ID" ] && LABS+=("$ID")
ok "lab up exits 0 within $(( $(date +%s) - t0 )) s and prints the id ($ID)" \
    bash -c "[ $rc -eq 0 ] && [[ '$ID' =~ ^[0-9a-f]+$ ]]"
[ $rc -eq 0 ] || cat "$ML_TMP/up.err"
"$ML_BIN" lab ls "$ID" >"$ML_TMP/ls.out"
ok "lab ls lists it as running and interactive" grep -q "^lab $ID .*(running, interactive)" "$ML_TMP/ls.out"
ok "lab down --help prints the usage and is not taken for a lab id" bash -c \
    "'$ML_BIN' lab down --help | grep -q '^usage: mitmlab lab' && '$ML_BIN' lab ls '$ID' | grep -q '(running'"
ok "lab ls with an unknown option is a usage error (2)" bash -c "'$ML_BIN' lab ls -x 2>/dev/null; [ \$? = 2 ]"
# baseline: 2 inside routers, gw, 3 outside routers, 4 clients, 6 origins
ok "its 16 namespaces exist ($(ml_ns_count "$ID"))" [ "$(ml_ns_count "$ID")" -eq 16 ]
GOOGLE=$(awk '$1 == "o-google" {print $3}' "$ML_TMP/ls.out")
ok "lab ls gives each node's address (o-google $GOOGLE)" [ "$GOOGLE" = 10.2.2.2 ]

echo "-- lab exec"
out=$("$ML_BIN" lab exec --lab "$ID" user-noroot -- curl -sS --max-time 10 -o /dev/null \
    -w '%{http_code} %{remote_ip}' --cacert "$ML_TMP/a/pki/web/root.pem" https://www.google.com/ 2>&1)
ok "curl in c-user-noroot reaches www.google.com by the lab's hosts file ($out)" [ "$out" = "200 $GOOGLE" ]
"$ML_BIN" lab exec --lab "$ID" gw -- sh -c 'exit 7'
ok "the command's exit status is passed through (7)" [ $? -eq 7 ]
out=$("$ML_BIN" lab exec --lab "$ID" gw -- sh -c 'echo "$MITMLAB_LAB $MITMLAB_NODE $MITMLAB_BUS"')
ok "MITMLAB_LAB/NODE/BUS are set ($out)" [ "$out" = "$ID gw ipc://$ML_TMP/a/bus.in" ]
out=$("$ML_BIN" lab exec --lab "$ID" o-google -- ip -o -4 addr show dev eth0)
ok "exec runs inside the node's namespace (o-google has $GOOGLE)" bash -c "[[ '$out' == *' $GOOGLE/24 '* ]]"
"$ML_BIN" lab exec --lab "$ID" nosuch -- true 2>"$ML_TMP/err"
rc=$?
ok "an unknown node is a usage error naming the nodes (rc $rc)" \
    bash -c "[ $rc -eq 2 ] && grep -q 'no node \"nosuch\"; its nodes: .* gw .* c-user-noroot' '$ML_TMP/err'"
"$ML_BIN" lab exec --lab "$ID" user-root -- "$ML_BIN" client --url https://vk.com/ --count 3 \
    --trust "$ML_TMP/a/pki/web/root.pem" --bus "ipc://$ML_TMP/a/bus.in" --id client.manual \
    >"$ML_TMP/client.out" 2>&1
ok "a lab client publishing to the run's bus exits 0" [ $? -eq 0 ]

echo "-- a second lab at the same time, ended by --max-s"
ID2=$(timeout 120 "$ML_BIN" lab up "$SCN" --out "$ML_TMP/b" --max-s 3 --quiet 2>"$ML_TMP/up2.err")
rc=$?
[ -n "$ID2" ] && LABS+=("$ID2")
ok "a second lab comes up while the first is held ($ID2)" bash -c "[ $rc -eq 0 ] && [ -n '$ID2' ] && [ '$ID2' != '$ID' ]"
"$ML_BIN" lab exec gw -- true 2>"$ML_TMP/err"
rc=$?
ok "exec without --lab refuses to guess between two labs (rc $rc)" \
    bash -c "[ $rc -eq 2 ] && grep -q 'labs are running; say which with --lab' '$ML_TMP/err'"
pid2=$(sed -n 's/^pid //p' "/run/mitmlab/$ID2" 2>/dev/null)
for _ in $(seq 300); do running "$pid2" || break; sleep 0.2; done
ok "--max-s 3: the second lab's runner ($pid2) ends on its own" eval '[ -n "$pid2" ] && not_running "$pid2"'
ok "its registry entry is gone" bash -c "! grep -lqs '^dir $ML_TMP/b\$' /run/mitmlab/*"
ok "its namespaces are gone ($(ml_ns_count "$ID2"))" [ "$(ml_ns_count "$ID2")" -eq 0 ]
ok "its run directory is complete (manifest.json, report.html)" \
    bash -c "[ -s '$ML_TMP/b/manifest.json' ] && [ -s '$ML_TMP/b/report.html' ]"
ok "the first lab is untouched ($(ml_ns_count "$ID") namespaces)" [ "$(ml_ns_count "$ID")" -eq 16 ]

echo "-- ^C while the lab is being built"
timeout --preserve-status -s INT 1 "$ML_BIN" lab up "$SCN" --out "$ML_TMP/c" --quiet >"$ML_TMP/c.id" 2>"$ML_TMP/c.err"
rc=$?
[ -s "$ML_TMP/c.id" ] && LABS+=("$(cat "$ML_TMP/c.id")")
for _ in $(seq 150); do registered "$ML_TMP/c" || break; sleep 0.2; done
ok "interrupted lab up exits 130 as an interrupted run does (rc $rc), says so, and leaves no registered lab behind" \
    bash -c "[ $rc -eq 130 ] && grep -Eq 'lab up: interrupted(; the runner removed| as lab .* came up)' '$ML_TMP/c.err' && ! grep -lqs '^dir $ML_TMP/c\$' /run/mitmlab/*"

echo "-- lab down"
pid=$(sed -n 's/^pid //p' "/run/mitmlab/$ID")
out=$("$ML_BIN" lab down "$ID")
rc=$?
ok "lab down $ID: stopped by its runner ($out)" bash -c "[ $rc -eq 0 ] && [[ '$out' == *'stopped by its runner'* ]]"
ok "the runner ($pid) has exited" not_running "$pid"
ok "no namespace of the lab is left ($(ml_ns_count "$ID"))" [ "$(ml_ns_count "$ID")" -eq 0 ]
ok "its registry entry is gone" [ ! -e "/run/mitmlab/$ID" ]
E=$ML_TMP/a/events.jsonl
ok "the run directory has manifest.json and the report" \
    bash -c "[ -s '$ML_TMP/a/manifest.json' ] && [ -s '$ML_TMP/a/report.json' ]"
n=$(python3 - "$E" <<'EOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
res = [e for e in evs if e.get("t") == "client.result" and e.get("src") == "client.manual"]
gaps = [e for e in evs if e.get("t") == "bus.stats"]
ok = all(r["outcome"] == "ok" and r["sni"] == "vk.com" and r["flow"].startswith("10.1.2.2:") for r in res)
print(len(res) if ok and gaps and all(not g.get("gaps") for g in gaps) else -1)
EOF
)
ok "events.jsonl recorded the lab client's 3 ok vk.com results, no sequence gaps ($n)" [ "$n" = 3 ]
ok "a held lab ended by lab down is complete, not interrupted (manifest status, lab.run.end)" python3 -c "
import json, sys
m = json.load(open('$ML_TMP/a/manifest.json'))
ends = [e for e in map(json.loads, open('$E')) if e.get('t') == 'lab.run.end']
sys.exit(0 if m['status'] == 'complete' and len(ends) == 1 and ends[0]['interrupted'] is False else 1)"
ok "manifest.json: interactive, command as typed; no scenario client ran" python3 -c "
import json, sys
m = json.load(open('$ML_TMP/a/manifest.json'))
srcs = {json.loads(l).get('src') for l in open('$E')}
sys.exit(0 if m['interactive'] is True and m['command'].startswith('mitmlab lab up $SCN')
         and not any(s and s.startswith('client.') and s != 'client.manual' for s in srcs) else 1)"
echo "-- lab down of a runner that does not end: killed, and nothing is left"
ID3=$(timeout 120 "$ML_BIN" lab up "$SCN" --out "$ML_TMP/d" --quiet 2>"$ML_TMP/up3.err")
rc=$?
[ -n "$ID3" ] && LABS+=("$ID3")
ok "another lab comes up ($ID3)" bash -c "[ $rc -eq 0 ] && [ -n '$ID3' ]"
pid3=$(sed -n 's/^pid //p' "/run/mitmlab/$ID3" 2>/dev/null)
# its components: every process in its namespaces (origins, engine, netq...)
comps=$(ml_lab_pids "$ID3" | sort -u | tr '\n' ' ')
ok "its components run in its namespaces ($(wc -w <<<"$comps") processes)" [ -n "$comps" ]
named=$(pgrep -f -- "$ML_TMP/d/" | wc -l)
ok "processes name its run directory in their arguments ($named)" [ "$named" -gt 0 ]
if [ -n "$pid3" ]; then
	ml_track "$pid3"	# the trap resumes (and ends) it only while it is ours
	STOPPED=$pid3
	kill -STOP "$pid3"
fi
out=$("$ML_BIN" lab down --wait 1 "$ID3" 2>"$ML_TMP/down3.err")
rc=$?
ok "lab down --wait 1 kills the stopped runner ($out)" \
    bash -c "[ $rc -eq 0 ] && [[ '$out' == *'did not end in time and was killed'* ]]"
ok "and says so on stderr" grep -q "did not end within 1 s; killing it" "$ML_TMP/down3.err"
for _ in $(seq 50); do running "$pid3" || break; sleep 0.2; done
ok "the runner ($pid3) is gone" eval '[ -n "$pid3" ] && not_running "$pid3"'
left=
for _ in $(seq 100); do	# the components die with it (PR_SET_PDEATHSIG)
	left=$(for p in $comps; do running "$p" && echo "$p"; done | tr '\n' ' ')
	[ -z "$left" ] && break
	sleep 0.2
done
ok "its components ended with it (still running: ${left:-none})" [ -z "$left" ]
for _ in $(seq 50); do	# and so do the bus recorder and analyzers (host namespace, run dir in argv)
	left=$(pgrep -f -- "$ML_TMP/d/" | tr '\n' ' ')
	[ -z "$left" ] && break
	sleep 0.2
done
ok "no process naming its run directory is left (${left:-none})" [ -z "$left" ]
ok "no namespace of the lab is left ($(ml_ns_count "$ID3"))" [ "$(ml_ns_count "$ID3")" -eq 0 ]
ok "its registry entry is gone" [ ! -e "/run/mitmlab/$ID3" ]
"$ML_BIN" lab down --wait x "$ID3" 2>"$ML_TMP/err"
rc=$?
ok "lab down --wait with no number is a usage error (rc $rc)" \
    bash -c "[ $rc -eq 2 ] && grep -q -- '--wait' '$ML_TMP/err'"

"$ML_BIN" lab down nosuchlab >/dev/null 2>&1
ok "lab down of an unknown id fails" [ $? -ne 0 ]
ml_done
