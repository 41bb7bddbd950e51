#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_analyzers.sh — the analyzer harness end to end: record the baseline scenario (and
# kz-2019, scored only when its run holds proxy.* events, i.e. once the interception engine
# is in the build), replay it twice to truth + example-py and require identical results,
# check that the client-vantage example never received a proxy.* or lab.truth.* event, and
# check `mitmlab compare` (example-py and the tshark-ja3 capture tool) against counts
# computed independently from events.jsonl (check_analyzers.py).
set -u
. "$(dirname "$0")/lib.sh"
ml_init analyzers
CHECK="python3 $ML_TOP/tests/integ/check_analyzers.py"
export MITMLAB_ANALYZERS=$ML_TOP/analyzers

# check_quiet CMD...: run a check; print its output only when it fails.
check_quiet() { local out; out=$("$@" 2>&1) && return 0; echo "$out" | sed 's/^/       /'; return 1; }

RUNS=()
for s in baseline kz-2019; do
	if "$ML_BIN" run "$ML_TOP/scenarios/$s.yaml" --out "$ML_TMP/$s" --quiet >"$ML_TMP/$s.out" 2>&1; then
		ok "mitmlab run $s" true
	elif [ "$s" = kz-2019 ]; then
		echo "  note: kz-2019 did not run (engine not in this build?): $(tail -n 1 "$ML_TMP/$s.out")"
		continue
	else
		ok "mitmlab run $s" false; tail -n 5 "$ML_TMP/$s.out"; continue
	fi
	if [ "$s" = kz-2019 ] && ! grep -q '"t":"proxy.conn.open"' "$ML_TMP/$s/events.jsonl"; then
		echo "  note: kz-2019 recorded no proxy.conn.open (engine not in this build); not scored"
		continue
	fi
	RUNS+=("$ML_TMP/$s")
done

for r in "${RUNS[@]}"; do
	n=$(basename "$r")
	ok "$n: replay 1 (truth, example-py)" \
	    "$ML_BIN" replay "$r" --analyzer truth --analyzer example-py --out "$ML_TMP/rep1-$n" --quiet
	ok "$n: replay 2" "$ML_BIN" replay "$r" --analyzer truth,example-py --out "$ML_TMP/rep2-$n" --quiet
	ok "$n: both replays give identical results (meta aside)" \
	    check_quiet $CHECK same "$ML_TMP/rep1-$n" "$ML_TMP/rep2-$n"
	ok "$n: example-py (client vantage) saw no proxy.* / lab.truth.* event" \
	    check_quiet $CHECK isolation "$ML_TMP/rep1-$n"
	# truth declares the two topics it reads: its feed carries those and lab.run.*, nothing
	# else of its vantages (proxy.forge, proxy.conn.close, lab.truth.*, client.summary ...)
	ok "$n: truth was fed only its declared topics" python3 -c "
import json,sys
r=json.load(open('$ML_TMP/rep1-$n/truth.json'))
want=sum(1 for l in open('$r/events.jsonl') if json.loads(l)['t'] in ('proxy.conn.open','client.result','lab.run.start','lab.run.end'))
offered=r['delivery']['events']
print('       took', r['result']['events'], 'of', offered, 'offered; want', want)
sys.exit(0 if r['result']['events']==want and offered>want else 1)"
	ok "$n: truth gave one verdict per client connection, and counted those without a flow id" python3 -c "
import json,sys
r=json.load(open('$ML_TMP/rep1-$n/truth.json'))
cr=[json.loads(l) for l in open('$r/events.jsonl') if '\"client.result\"' in l]
n=len({e['flow'] for e in cr} - {None})  # s_client runs have no flow id
nf=sum(1 for e in cr if e.get('flow') is None)
sys.exit(0 if len(r['verdicts'])==n and r['delivery']['status']=='ok' and r['result']['summary']['client_results_without_flow']==nf else 1)"
done

# A detector that asks for ground truth is refused before it starts.
mkdir -p "$ML_TMP/an/cheat"
echo '{"name":"cheat","vantages":["client","proxy"],"command":["true"]}' >"$ML_TMP/an/cheat/analyzer.json"
if [ ${#RUNS[@]} -gt 0 ]; then
	MITMLAB_ANALYZERS="$ML_TMP/an:$MITMLAB_ANALYZERS" "$ML_BIN" replay "${RUNS[0]}" --analyzer cheat \
	    --out "$ML_TMP/cheat" >"$ML_TMP/cheat.out" 2>&1
	ok "a detector declaring the proxy vantage is refused" grep -q 'only an analyzer with "role": "truth"' "$ML_TMP/cheat.out"
fi

# Raw analyzers for the cases below (Python, ZeroMQ only, no SDK): what the harness must
# withstand is exactly what the SDK would not send.
mkdir -p "$ML_TMP/an/lib"
cat >"$ML_TMP/an/lib/rawan.py" <<'PY'
import json, os, time, zmq
ctx = zmq.Context()
def connect(*topics):
    """The analyzer's publisher (after the harness's subscription) and its feed."""
    pub = ctx.socket(zmq.XPUB); pub.setsockopt(zmq.XPUB_NODROP, 1)
    pub.connect(os.environ["MITMLAB_ANALYZER_PUB"]); pub.poll(5000); pub.recv()
    sub = ctx.socket(zmq.SUB)
    for p in topics: sub.setsockopt_string(zmq.SUBSCRIBE, p)
    sub.connect(os.environ["MITMLAB_ANALYZER_SUB"])
    return pub, sub
seq = {}
def send(pub, topic, src, body):
    body = dict(body, v=1, t=topic, ts=time.time_ns(), src=src, seq=seq.setdefault(src, 0))
    seq[src] += 1
    pub.send_multipart([topic.encode(), json.dumps(body).encode()])
PY
export PYTHONPATH="$ML_TMP/an/lib${PYTHONPATH:+:$PYTHONPATH}"

# A hostile detector cannot speak for another analyzer or inject events: it publishes
# verdicts as truth (after truth's own, where "the last one counts"), a client.result, a
# malformed verdict of its own and a flood of verdicts (the harness keeps a bounded number).
# Truth's verdicts and the run's replay must not change, and the detector's own counts say
# what was dropped.
mkdir -p "$ML_TMP/an/evil"
echo '{"name":"evil","role":"detector","vantages":["client"],"command":["/usr/bin/python3","{dir}/evil.py"]}' \
    >"$ML_TMP/an/evil/analyzer.json"
cat >"$ML_TMP/an/evil/evil.py" <<'PY'
import json, time
import rawan
pub, sub = rawan.connect("lab.run.", "client.result")
def send(topic, src, body): rawan.send(pub, topic, src, body)
flows = []
while True:
    t, b = sub.recv_multipart(); ev = json.loads(b)
    if t == b"client.result" and ev.get("flow"): flows.append(ev["flow"])
    if t == b"lab.run.end": break
for f in flows:
    send("analysis.verdict", "analyzer.evil", {"flow": f, "intercepted": True, "confidence": 1, "signal": "all", "evidence": {}})
send("analysis.verdict", "analyzer.evil", {"flow": flows[0], "intercepted": 1, "confidence": 1, "signal": "bad", "evidence": {}})
time.sleep(0.5)
for f in flows:
    send("analysis.verdict", "analyzer.truth", {"flow": f, "intercepted": True, "confidence": 1, "signal": "forged", "evidence": {}})
send("client.result", "client.x", {"flow": "10.9.9.9:1>10.9.9.8:443", "outcome": "ok"})
for i in range(30000):          # a flood of verdicts for flows that do not exist
    send("analysis.verdict", "analyzer.evil", {"flow": "flood-%d" % i, "intercepted": True, "confidence": 1, "signal": "flood", "evidence": {}})
send("analysis.result", "analyzer.evil", {"analyzer": "evil", "complete": True})
time.sleep(1)
PY
if [ ${#RUNS[@]} -gt 0 ]; then
	r=${RUNS[${#RUNS[@]}-1]}
	MITMLAB_ANALYZERS="$ML_TMP/an:$MITMLAB_ANALYZERS" "$ML_BIN" replay "$r" --analyzer truth,evil \
	    --out "$ML_TMP/evil" --quiet >"$ML_TMP/evil.out" 2>&1
	ok "a detector publishing as truth does not change truth's verdicts" python3 -c "
import json,sys
a=json.load(open('$ML_TMP/evil/truth.json')); b=json.load(open('$ML_TMP/rep1-$(basename "$r")/truth.json'))
e=json.load(open('$ML_TMP/evil/evil.json'))
if any(v.get('signal')=='forged' for v in a['verdicts']): sys.exit('forged verdict filed under truth')
if a['verdicts']!=b['verdicts']: sys.exit('truth verdicts differ')
d=e['delivery']; print('       evil:', len(e['verdicts']), 'verdicts, delivery', d)
sys.exit(0 if d['spoofed']>=2 and d['invalid']>=2 and all(v['intercepted'] is True for v in e['verdicts']) and
    len(e['verdicts'])==4*d['events']+10000 and d['excess']>0 else 1)"
fi

# A detector that sends huge messages (three 100 MB frames) does not grow the harness: its
# input takes nothing over 4 MiB (the peer is cut off at the frame's header). The replay's own
# peak RSS (VmHWM, not its children's) is sampled while it runs: about 11 MB, against 110 MB
# and more when a frame is read whole.
mkdir -p "$ML_TMP/an/huge"
echo '{"name":"huge","role":"detector","vantages":["client"],"command":["/usr/bin/python3","{dir}/huge.py"]}' \
    >"$ML_TMP/an/huge/analyzer.json"
cat >"$ML_TMP/an/huge/huge.py" <<'PY'
import time
import rawan
pub, sub = rawan.connect("lab.run.")
while sub.recv_multipart()[0] != b"lab.run.end":
    pass
big = b"x" * (100 << 20)
for _ in range(3):
    pub.send_multipart([b"analysis.verdict", big])
del big
time.sleep(1)
rawan.send(pub, "analysis.result", "analyzer.huge", {"analyzer": "huge", "complete": True})
time.sleep(1)
PY
if [ ${#RUNS[@]} -gt 0 ]; then
	MITMLAB_ANALYZERS="$ML_TMP/an:$MITMLAB_ANALYZERS" "$ML_BIN" replay "${RUNS[0]}" --analyzer huge \
	    --out "$ML_TMP/huge" --quiet >"$ML_TMP/huge.out" 2>&1 &
	hpid=$!
	hwm=0
	for _ in $(seq 600); do		# at most 60 s
		k=$(awk '/^VmHWM:/ {print $2}' "/proc/$hpid/status" 2>/dev/null) || k=
		[ -n "$k" ] && [ "$k" -gt "$hwm" ] && hwm=$k
		kill -0 "$hpid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$hpid"
	ok "an analyzer's 100 MB messages do not reach the harness (replay peak RSS ${hwm} KiB)" \
	    test "$hwm" -gt 0 -a "$hwm" -lt 61440
fi

# A detector stopped before it finished (its wait ran out; it answers SIGTERM with a result
# saying complete: false) is "incomplete" in compare, not "ok", and has no baseline rate.
mkdir -p "$ML_TMP/an/slow"
echo '{"name":"slow","role":"detector","vantages":["client"],"command":["/usr/bin/python3","{dir}/slow.py"]}' \
    >"$ML_TMP/an/slow/analyzer.json"
cat >"$ML_TMP/an/slow/slow.py" <<'PY'
import signal, sys, time
import rawan
pub, sub = rawan.connect("lab.run.")
def stop(*_):
    rawan.send(pub, "analysis.result", "analyzer.slow", {"analyzer": "slow", "complete": False})
    time.sleep(0.5); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while sub.recv_multipart()[0] != b"lab.run.end": pass
time.sleep(60)
PY
if [ ${#RUNS[@]} -gt 0 ]; then
	MITMLAB_ANALYZERS="$ML_TMP/an:$MITMLAB_ANALYZERS" MITMLAB_HARNESS_WAIT_MS=1000 \
	    "$ML_BIN" compare "${RUNS[0]}" --detector slow --out "$ML_TMP/cmpslow" --quiet >/dev/null 2>&1
	ok "a detector stopped before its end is incomplete, with no baseline rate" python3 -c "
import json,sys
d=json.load(open('$ML_TMP/cmpslow/compare.json'))
print('       ', [r['status'] for r in d['rows']], d['baseline_fpr'])
sys.exit(0 if [r['status'] for r in d['rows']]==['incomplete'] and d['baseline_fpr'].get('slow', 0) is None else 1)"
fi

# An analyzer that is a wrapper (sh -c) ignoring SIGTERM: its child stops with it.
SLEEPARG=37.$$
mkdir -p "$ML_TMP/an/wrapper"
printf '{"name":"wrapper","role":"detector","vantages":["client"],"command":["sh","-c","trap \x27\x27 TERM; sleep %s; true"]}\n' \
    "$SLEEPARG" >"$ML_TMP/an/wrapper/analyzer.json"
if [ ${#RUNS[@]} -gt 0 ]; then
	MITMLAB_ANALYZERS="$ML_TMP/an:$MITMLAB_ANALYZERS" MITMLAB_HARNESS_READY_MS=1000 \
	    MITMLAB_HARNESS_WAIT_MS=500 "$ML_BIN" replay "${RUNS[0]}" --analyzer wrapper,truth \
	    --out "$ML_TMP/wrapper" --quiet >/dev/null 2>&1
	left=$(pgrep -fx "sleep $SLEEPARG" || true)
	[ -z "$left" ] || kill -KILL $left 2>/dev/null	# ours (the unique argument); TERM is ignored
	ok "a wrapper analyzer's child is stopped with it (left: ${left:-none})" [ -z "$left" ]
fi

# A dead analyzer does not stall the replay; its result file says so.
mkdir -p "$ML_TMP/an/dead"
echo '{"name":"dead","vantages":["client"],"command":["false"]}' >"$ML_TMP/an/dead/analyzer.json"
if [ ${#RUNS[@]} -gt 0 ]; then
	start=$(date +%s)
	MITMLAB_ANALYZERS="$ML_TMP/an:$MITMLAB_ANALYZERS" MITMLAB_HARNESS_READY_MS=3000 \
	    "$ML_BIN" replay "${RUNS[0]}" --analyzer dead,truth --out "$ML_TMP/dead" --quiet >/dev/null 2>&1
	took=$(( $(date +%s) - start ))
	ok "a dead analyzer costs at most its ready wait (${took}s)" [ "$took" -le 8 ]
	ok "the dead analyzer's result says not-ready, truth still ok" python3 -c "
import json,sys
d=json.load(open('$ML_TMP/dead/dead.json')); t=json.load(open('$ML_TMP/dead/truth.json'))
sys.exit(0 if d['delivery']['status']=='not-ready' and t['delivery']['status']=='ok' else 1)"
fi

if [ ${#RUNS[@]} -gt 0 ]; then
	ok "compare ${#RUNS[@]} run(s): example-py, tshark-ja3" "$ML_BIN" compare "${RUNS[@]}" \
	    --detector example-py --detector tshark-ja3 --out "$ML_TMP/cmp" --quiet
	ok "compare figures match counts from events.jsonl" check_quiet $CHECK compare "$ML_TMP/cmp" "${RUNS[@]}"
	"$ML_BIN" compare "${RUNS[@]}" --detector example-py,tshark-ja3 --out "$ML_TMP/cmp2" --quiet
	ok "compare is deterministic (compare.json and compare.csv identical)" \
	    cmp -s "$ML_TMP/cmp/compare.json" "$ML_TMP/cmp2/compare.json"
	ok "compare.csv identical" cmp -s "$ML_TMP/cmp/compare.csv" "$ML_TMP/cmp2/compare.csv"
	# Two run directories of one name, and a name with a comma: each gets its own results
	# directory, and the CSV quotes the comma.
	b=$(basename "${RUNS[0]}")
	mkdir -p "$ML_TMP/elsewhere"
	ln -sfn "${RUNS[0]}" "$ML_TMP/elsewhere/$b"
	ln -sfn "${RUNS[0]}" "$ML_TMP/comma,run"
	"$ML_BIN" compare "${RUNS[0]}" "$ML_TMP/elsewhere/$b" "$ML_TMP/comma,run" --detector example-py \
	    --out "$ML_TMP/cmp3" --quiet >/dev/null 2>&1
	ok "runs of one name get results/$b and results/$b-2; the CSV quotes a comma" python3 -c "
import csv,json,os,sys
d=json.load(open('$ML_TMP/cmp3/compare.json'))
runs=[r['run'] for r in d['runs']]
rows=list(csv.DictReader(open('$ML_TMP/cmp3/compare.csv')))
print('       runs', runs, 'csv runs', [r['run'] for r in rows])
ok = runs==['$b','$b-2','comma,run'] and [r['run'] for r in rows]==runs and \
    all(os.path.isfile('$ML_TMP/cmp3/results/%s/truth.json' % r) for r in runs) and \
    not [f for f in os.listdir('$ML_TMP/cmp3') if '.tmp' in f]
sys.exit(0 if ok else 1)"
	if [ ${#RUNS[@]} -gt 1 ]; then
		ok "kz-2019: tshark-ja3 finds intercepted flows (recall > 0)" python3 -c "
import json,sys
d=json.load(open('$ML_TMP/cmp/compare.json'))
r=[x for x in d['rows'] if x['detector']=='tshark-ja3' and x['scenario']=='kz-2019']
sys.exit(0 if r and r[0]['tp']>0 else 1)"
	fi
fi
ml_done
