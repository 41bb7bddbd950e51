#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# run.sh — `make bench` (issue #7): mitmlab side by side with sslsplit, mitmproxy (mitmdump,
# transparent) and Squid ssl-bump, plus direct and plain-relay rows, in one netns lab:
#
#   client ns 10.88.1.2 ── 10.88.1.1 gateway ns 10.88.2.1 ── origin ns 10.88.2.2 (nginx)
#   (h2load, cpu 0)        REDIRECT :443 → :8443, the proxy pinned to cpu 1      (cpu 0)
#
# Per row: new TLS 1.3 handshakes/s (h2load, one request per connection, full handshakes on both
# legs: h2load runs with noresume.so so it never offers a session), proxy CPU-s per 1000
# handshakes, bulk MB/s (1 MiB GETs), proxy CPU-s per GB, peak RSS, added latency (p50/p99 of a
# new connection + GET); medians of REPS repetitions. CPU = utime+stime of the proxy's process
# tree from /proc before/after; peak RSS = VmHWM summed over the tree. Extras: mitmlab with a
# cold cache (distinct SNI), kz2019 forging rate and first-connection latency, RSS per idle
# intercepted connection at IDLE_N connections, netq packets/s, `openssl speed`. Row "resume":
# mitmlab with --upstream-resume against a second nginx server (10.88.2.3, resume.bench.lab)
# that issues TLS 1.3 session tickets (the main one has ssl_session_tickets off, as the issue's
# peers were measured); besides the row's figures, the share of upstream legs resumed (from the
# proxy's closing "upstream sessions" log line, warm-up included).
# Environment: QUICK=1 (about 2½ min, without pubsus and pubinstr; the full run 11–15 min, with the machine's load), OUT=DIR (default
#   bench/results/<UTC stamp>), BUILD.
#   ROWS="direct relay mitmlab resume pubpair pubsus pubinstr anfeed sslsplit squid mitmproxy latpair latload cold kz kz2 idle churn netq":
#        run only these rows (default: these). Row "bus" is not among them: the sequential rows
#        mitmlab-rec and mitmlab-bus (the recorder alone, then with the analyzers; about 1.5
#        min) split the publishing cost from the analyzers' but drift ±10%, so pubpair is the
#        target's figure; ROWS="mitmlab bus" compares them with the engine alone. E.g.
#        ROWS="idle" for the memory figure alone,
#        ROWS="latpair latload" for latency alone. "latpair" interleaves direct connections (origin
#        port 4443, not redirected) with intercepted ones (port 443) in one loop, one connection at
#        a time on an otherwise idle lab (zero load), so both halves of the ratio see the same
#        machine load. "latload" is issue #7's condition, a new connection at moderate load: an
#        h2load burst through the proxy (600 handshakes QUICK, 1500 full, -c 16) measures its intercepted
#        handshake capacity C; then `mitmlab client --rate R` (open-loop, R = 0.5 C rounded, at
#        least 20/s; measured by the first variant and used for latload-ref too; LL_RATE=R fixes it)
#        runs segments of 2 s of arrivals (2R connections each), direct and intercepted
#        alternating D I I D D I … (LL_SEGS per side: 3 QUICK, 5 full). Each successful connection
#        is one sample, t_total_us (connect + TLS 1.3 + GET + full response); failures are counted,
#        not sampled. Per side: pooled p50/p99 (p999 from 1000 samples), and the median of the
#        segments' p50/p99 as a check; the proxy's CPU and run-queue wait per segment. Each
#        segment's samples (µs) go to OUT/latload-samples.json. Also per side: the load
#        generator's cost (the client's CPU per connection from its client.summary cpu_us, and
#        core 0's busy share from /proc/stat: client and origin share that core, and the client
#        checks one more certificate through the proxy). "pubpair" alternates the engine
#        alone with the engine publishing to a bus recorder with every analyzer attached, REPS
#        pairs of handshake bursts, bulk runs and 2 s of open-loop arrivals at one rate for both
#        halves (PUB_RATE, default half the engine's first burst), and reports the median
#        per-pair ratios. The burst's hs/s includes the analyzers slowing the load generator
#        they share core 0 with; the equal-load CPU per connection is the engine's own cost.
#        "pubsus" holds the load that pubpair's burst only starts: the same two halves, SUS_REPS
#        pairs (2 QUICK, 4 full) of closed-loop handshakes (h2load, -c 16), as many as the
#        engine alone serves in SUS_SECS seconds (4 QUICK, 10 full) in a first burst. That is
#        long enough for the consumers' deferral (at most 2 s behind, then the normal
#        scheduling class) to be a small part of the window, and what they still spend on core
#        0 after it is counted against it too ("held" hs/s: connections over the window plus
#        that CPU time, as the load generator's core is what limits the burst).
#        "anfeed" splits pubpair's analyzers' figure: the engine's four events of ANFEED_N
#        connections (3000 QUICK, 10000 full; tests/bench/anfeed.py, 2,000/s from core 1) go to
#        a recorder with every analyzer attached on core 0, and each one's CPU per connection
#        is read from /proc/PID/schedstat (REPS times, medians).
#        "pubinstr" counts what pubpair's CPU time cannot resolve: the engine's instructions per
#        intercepted connection alone and with the bus and every analyzer attached (valgrind's
#        cachegrind, the slope between 50 and 250 handshakes, PI_REPS 1 QUICK, 2 full).
#   REF_BIN=PATH: a second mitmlab binary (e.g. before a change) measured in the same run as
#        rows "relay-ref", "mitmlab-ref", "latpair-ref", "latload-ref", "idle-ref",
#        "mitmlab-cold-ref" and "mitmlab-kz2019-ref", next to the
#        current build's ("latload-ref" runs the reference proxy; the load generator is the current build).
#   RPS=1: receive packet steering on every veth end to the core of its namespace's processes
#        (an experiment; see NOTES "Ninth session": it raised the proxy's CPU per handshake
#        about ×1.3 and slowed the direct path too).
#   WRAP="CMD ARGS": prefix for the mitmlab proxy rows (profiling only, e.g. WRAP="heaptrack -o
#        /tmp/h"); the figures of a wrapped run include the wrapper and are not the proxy's.
#   LAT_N, PAIR_N, IDLE_N, CHURN_N: override the latency sample counts, idle connection count and the
#        number of connections of the churn (RSS growth) row.
set -eu
. "$(dirname "$0")/../integ/lib.sh"
HERE=$ML_TOP/tests/bench
QUICK=${QUICK:-}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$ML_TOP/bench/results/$STAMP}
case $OUT in /*) ;; *) OUT=$ML_TOP/$OUT ;; esac
if [ -n "$QUICK" ] && [ "$QUICK" != 0 ]; then
	SUS_REPS=${SUS_REPS:-2}; SUS_SECS=${SUS_SECS:-4}
	REPS=3; HS_N=600; HS_SECS=1.5; BULK_N=100; LAT_N=${LAT_N:-60}; COLD_N=300; KZ_N=64; IDLE_N=${IDLE_N:-2000}; T=25
	CHURN_N=${CHURN_N:-5000}; PAIR_N=${PAIR_N:-200}; LL_SEGS=3; LL_CAP_N=600
	ANFEED_N=${ANFEED_N:-2000}; PI_N1=50; PI_N2=250; PI_REPS=1
else
	SUS_REPS=${SUS_REPS:-4}; SUS_SECS=${SUS_SECS:-10}
	QUICK=; REPS=5; HS_N=3000; HS_SECS=6; BULK_N=600; LAT_N=${LAT_N:-300}; COLD_N=1000; KZ_N=200; IDLE_N=${IDLE_N:-10000}; T=60
	CHURN_N=${CHURN_N:-100000}; PAIR_N=${PAIR_N:-500}; LL_SEGS=5; LL_CAP_N=1500
	ANFEED_N=${ANFEED_N:-10000}; PI_N1=50; PI_N2=250; PI_REPS=2
fi
# QUICK leaves out pubinstr (about 25 s under valgrind for one rep; its figure has moved by
# less than 0.5% between full runs) and pubsus (about 40 s; QUICK's two 4 s pairs are within
# its noise): ROWS naming them runs them in QUICK too
ALL_ROWS="direct relay mitmlab resume pubpair pubsus pubinstr anfeed sslsplit squid mitmproxy latpair latload cold kz kz2 idle churn netq"
QUICK_SKIPS=
if [ -n "$QUICK" ] && [ -z "${ROWS:-}" ]; then
	QUICK_SKIPS="pubsus pubinstr"; ROWS=" $ALL_ROWS "
	for q in $QUICK_SKIPS; do ROWS=${ROWS/ $q / }; done
fi
ROWS=" ${ROWS:-$ALL_ROWS} "
ROWS=${ROWS//,/ }
want() { [[ $ROWS == *" $1 "* ]]; }
# PARTS="hs bulk lat": which measurements the load rows take (default all three)
PARTS=" ${PARTS:-hs bulk lat} "
part() { [[ $PARTS == *" $1 "* ]]; }
REF_BIN=${REF_BIN:-}
[ -z "${LL_RATE:-}" ] || [[ $LL_RATE =~ ^[1-9][0-9]*$ ]] || { echo "bench: LL_RATE must be a whole number of connections per second" >&2; exit 1; }
[[ $SUS_REPS =~ ^[1-9][0-9]*$ && $SUS_SECS =~ ^[1-9][0-9]?$ ]] && [ "$SUS_SECS" -le 60 ] ||
	{ echo "bench: SUS_REPS must be a whole number and SUS_SECS one of 1 to 60 seconds" >&2; exit 1; }
[ -z "${PUB_RATE:-}" ] || [[ $PUB_RATE =~ ^[1-9][0-9]*$ ]] || { echo "bench: PUB_RATE must be a whole number of connections per second" >&2; exit 1; }
if [ -n "$REF_BIN" ]; then case $REF_BIN in /*) ;; *) REF_BIN=$ML_TOP/$REF_BIN ;; esac; [ -x "$REF_BIN" ] || { echo "bench: REF_BIN $REF_BIN is not executable" >&2; exit 1; }; fi
HS_C=16       # concurrent h2load clients for the handshake rate
BULK_C=4      # concurrent connections for bulk
PCPU=1        # the proxy's core; client and origin share core 0
ulimit -n 65536 2>/dev/null || ulimit -n 20000
mkdir -p "$OUT"
log() { echo "bench: $(date +%T) $*" >&2; }

# ---- packages (idempotent: only what is missing) ----
declare -A NA=()
need=()
for p in nginx nghttp2-client sslsplit mitmproxy squid-openssl python3 iptables valgrind; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	avail=()
	for p in "${need[@]}"; do
		if apt-cache show "$p" >/dev/null 2>&1; then avail+=("$p"); else NA[$p]="package $p not in Debian 12's archive"; fi
	done
	# Debian's maintainer scripts would start nginx (:80) and squid (:3128) in the host's own
	# namespace: processes this bench did not start. policy-rc.d (exit 101) forbids service
	# starts for the install; one already there is the host's and is left alone.
	prc=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		prc=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\n# mitmlab bench: no service starts while it installs\nexit 101\n' >"$prc"
		chmod 755 "$prc"
	fi
	[ ${#avail[@]} -gt 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${avail[@]}" >/dev/null ||
	    log "apt-get install failed for some of: ${avail[*]}"
	[ -z "$prc" ] || rm -f "$prc"
fi
command -v h2load >/dev/null && command -v nginx >/dev/null || { echo "bench: h2load and nginx are required" >&2; exit 1; }

ml_init bench
NSHOSTS=()
bench_cleanup() {
	iptables_off 2>/dev/null || true
	for d in "${NSHOSTS[@]}"; do rm -rf "$d"; done
	ml_cleanup
}
trap bench_cleanup EXIT
chmod 755 "$ML_TMP"

# ---- lab ----
ml_ns C c; ml_ns G g; ml_ns O o
ml_link "$C" c0 10.88.1.2/24 "$G" g0 10.88.1.1/24
ml_link "$G" g1 10.88.2.1/24 "$O" o0 10.88.2.2/24
ip -n "$C" route add default via 10.88.1.1
ip -n "$O" addr add 10.88.2.3/24 dev o0
ip -n "$O" route add default via 10.88.2.1
ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1
# RPS=1 (an experiment, off by default): receive packet steering on each veth end to the core
# of the namespace's processes (client and origin 0, gateway 1), so that a packet's receiving
# TCP work runs on the receiver's core, as on separate machines; by default veth runs it on the
# sender's core, which charges the receivers' work to the proxy
if [ "${RPS:-0}" = 1 ]; then
	for d in "$C c0 1" "$O o0 1" "$G g0 2" "$G g1 2"; do
		set -- $d
		ip netns exec "$1" sh -c "echo $3 >/sys/class/net/$2/queues/rx-0/rps_cpus" ||
		    { echo "bench: RPS=1: cannot set rps_cpus on $2" >&2; exit 1; }
	done
fi
OIP=10.88.2.2
HOST=www.bench.lab
RIP=10.88.2.3            # the nginx server that issues session tickets (row "resume")
RHOST=resume.bench.lab
# names for h2load (ip netns exec bind-mounts /etc/netns/NS/hosts over /etc/hosts)
for ns in "$C" "$G"; do
	mkdir -p "/etc/netns/$ns"; NSHOSTS+=("/etc/netns/$ns")
	printf '127.0.0.1 localhost\n%s %s bench.lab\n%s %s\n' "$OIP" "$HOST" "$RIP" "$RHOST" >"/etc/netns/$ns/hosts"
done
cp "/etc/netns/$G/hosts" "$ML_TMP/hosts"
iptables_on() { ip netns exec "$G" iptables -t nat -A PREROUTING -i g0 -p tcp --dport 443 -j REDIRECT --to-ports 8443; }
iptables_off() {	# G is unset when the bench stops before its lab exists
	[ -n "${G:-}" ] || return 0
	ip netns exec "$G" iptables -t nat -D PREROUTING -i g0 -p tcp --dport 443 -j REDIRECT --to-ports 8443
}

# ECDSA P-256 web PKI: root → leaf for the origin (*.bench.lab), and the interceptors' CA
W=$ML_TMP/web; mkdir -p "$W"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/O=mitmlab bench/CN=Bench Web Root (LAB mock)" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$W/root.key" -out "$W/root.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=Lab Origin/CN=$HOST" \
    -keyout "$W/leaf.key" -out "$W/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:*.bench.lab,DNS:bench.lab\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' "$HOST" >"$W/leaf.ext"
openssl x509 -req -in "$W/leaf.csr" -CA "$W/root.pem" -CAkey "$W/root.key" -set_serial 0x$(openssl rand -hex 16) \
    -days 365 -extfile "$W/leaf.ext" -out "$W/leaf.pem" 2>/dev/null
"$ML_BIN" ca init --out "$ML_TMP/ca" --profile plain --seed 7 >/dev/null       # ECDSA P-256
"$ML_BIN" ca init --out "$ML_TMP/kzca" --profile kz-2019 --seed 7 >/dev/null
ICA=$ML_TMP/ca/issuer.pem; IKEY=$ML_TMP/ca/issuer.key
openssl ecparam -name prime256v1 -genkey -noout -out "$ML_TMP/leafkey.pem" 2>/dev/null   # sslsplit -K

# origin: nginx, TLS 1.3 only, one worker on core 0
D=$ML_TMP/www; mkdir -p "$D" "$ML_TMP/nginx"
echo "hello from the bench origin" >"$D/index.html"
head -c 1048576 /dev/urandom >"$D/1m.bin"
cat >"$ML_TMP/nginx.conf" <<NG
user root;
worker_processes 1;
worker_cpu_affinity 01;
worker_rlimit_nofile 65536;
pid $ML_TMP/nginx.pid;
error_log $ML_TMP/nginx-error.log warn;
events { worker_connections 30000; }
http {
  access_log off;
  client_body_temp_path $ML_TMP/nginx/body; proxy_temp_path $ML_TMP/nginx/proxy;
  fastcgi_temp_path $ML_TMP/nginx/fcgi; uwsgi_temp_path $ML_TMP/nginx/uwsgi; scgi_temp_path $ML_TMP/nginx/scgi;
  types { application/octet-stream bin; text/html html; }
  sendfile on; keepalive_requests 100000; client_header_timeout 600s; keepalive_timeout 600s;
  server {
    listen $OIP:443 ssl; listen $OIP:4443 ssl; listen $OIP:80;
    ssl_certificate $W/leaf.pem; ssl_certificate_key $W/leaf.key;
    ssl_protocols TLSv1.3; ssl_ecdh_curve X25519:prime256v1; ssl_session_tickets off; ssl_session_cache off;
    root $D;
  }
  server {
    listen $RIP:443 ssl;
    ssl_certificate $W/leaf.pem; ssl_certificate_key $W/leaf.key;
    ssl_protocols TLSv1.3; ssl_ecdh_curve X25519:prime256v1; ssl_session_tickets on; ssl_session_cache off;
    root $D;
  }
}
NG
ml_bg "$O" nginx taskset -c 0 nginx -e "$ML_TMP/nginx-error.log" -c "$ML_TMP/nginx.conf" -g "daemon off;"
ml_wait_port "$O" $OIP 443
ml_wait_port "$O" $RIP 443

# ---- measurement helpers ----
# h2load with noresume.so: it would otherwise resume each client's first TLS session on its
# later connections wherever the server issues tickets (the proxies do), and the rows measure
# full handshakes on both legs (mitmlab's rows check it from the engine's log)
cc -shared -fPIC -O2 -Wall -o "$ML_TMP/noresume.so" "$HERE/noresume.c" -lssl -ldl ||
	{ echo "bench: cannot build tests/bench/noresume.c" >&2; exit 1; }
H2LOAD="env LD_PRELOAD=$ML_TMP/noresume.so h2load"
procstat() { python3 "$HERE/procstat.py" "$1"; }
# core0_idle: clock ticks core 0 (the client's and the origin's) has been idle so far, idle and
# iowait from /proc/stat, or nothing if unreadable. Its busy ticks are not used: they are
# sampled at the tick, and a load of bursts shorter than a tick, which an idle core's stopped
# tick never sees, comes out at about half of what it is (26-36% in direct segments that were
# 59-65% busy by idle time); idle time is kept exactly on a tickless kernel. The sum is bash's:
# mawk prints 2^31 and more in %g.
core0_idle() { local i w; read -r i w < <(awk '$1 == "cpu0" { print $5, $6 }' /proc/stat) && [[ $i =~ ^[0-9]+$ && $w =~ ^[0-9]+$ ]] && echo $((i + w)); }
# h2 NAME ARGS...: run h2load in the client (core 0) for at most H2_DEADLINE seconds (default
# T), keep its output in $ML_TMP/NAME.h2
h2() {
	local n=$1; shift
	ip netns exec "$C" timeout "${H2_DEADLINE:-$T}" taskset -c 0 $H2LOAD --h1 "$@" >"$ML_TMP/$n.h2" 2>&1 || true
}
# h2parse FILE: "seconds bytes succeeded"
h2parse() {
	local f=$1 s b ok
	s=$(sed -n 's/^finished in \([0-9.]*\)\(m\?s\),.*/\1 \2/p' "$f" | awk '{print ($2=="ms") ? $1/1000 : $1}')
	b=$(sed -n 's/^traffic: .*(\([0-9]*\)) total.*/\1/p' "$f")
	ok=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$f")
	echo "${s:-0} ${b:-0} ${ok:-0}"
}
# h2count FILE SECS MAX: how many handshakes take about SECS seconds at the rate of the h2load
# run in FILE, within [100, MAX] (MAX when it has no rate)
h2count() {
	h2parse "$1" | awk -v t="$2" -v max="$3" \
	    '{ n = ($1 > 0) ? int($3 / $1 * t) : max; if (n < 100) n = 100; if (n > max) n = max; print n }'
}
RES=$ML_TMP/rows.jsonl; : >"$RES"
# measure ROW PID: handshakes, bulk and latency, REPS times; appends JSON lines to $RES
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
cpu_of() { if [ "$1" = 0 ]; then echo 0; else procstat "$1" | cut -d' ' -f1; fi; }
measure() {
	local row=$1 pid=$2 r c0 c1 st s b ok n
	# handshakes per repetition: about HS_SECS seconds at the warm-up's rate, within [100, HS_N]
	n=$(h2count "$ML_TMP/$row-warm.h2" "$HS_SECS" "$HS_N")
	for ((r = 1; r <= REPS; r++)); do
		# one request per connection: every connection is a new full TLS 1.3 handshake on both legs
		if part hs; then
			c0=$(cpu_of "$pid")
			h2 "$row-hs$r" -n "$n" -c "$HS_C" -H 'Connection: close' "https://$HOST/"
			c1=$(cpu_of "$pid")
			read -r s b ok <<<"$(h2parse "$ML_TMP/$row-hs$r.h2")"
			echo "{\"row\":\"$row\",\"kind\":\"hs\",\"rep\":$r,\"secs\":$s,\"ok\":$ok,\"n\":$n,\"cpu\":$(sub "$c1" "$c0")}" >>"$RES"
		fi
		if part bulk; then
			c0=$(cpu_of "$pid")
			h2 "$row-bulk$r" -n "$BULK_N" -c "$BULK_C" "https://$HOST/1m.bin"
			c1=$(cpu_of "$pid")
			read -r s b ok <<<"$(h2parse "$ML_TMP/$row-bulk$r.h2")"
			echo "{\"row\":\"$row\",\"kind\":\"bulk\",\"rep\":$r,\"secs\":$s,\"bytes\":$b,\"ok\":$ok,\"n\":$BULK_N,\"cpu\":$(sub "$c1" "$c0")}" >>"$RES"
		fi
		if part lat; then
			st=$(ip netns exec "$C" timeout $T taskset -c 0 python3 "$HERE/client.py" lat $OIP "$HOST" "$LAT_N" || echo '{}')
			[ -n "$st" ] || st='{}'
			echo "{\"row\":\"$row\",\"kind\":\"lat\",\"rep\":$r,\"r\":$st}" >>"$RES"
		fi
	done
	if [ "$pid" != 0 ]; then
		st=$(procstat "$pid")
		echo "{\"row\":\"$row\",\"kind\":\"mem\",\"hwm_kib\":$(echo "$st" | cut -d' ' -f2),\"procs\":$(echo "$st" | cut -d' ' -f4)}" >>"$RES"
	fi
}
na() { echo "{\"row\":\"$1\",\"kind\":\"na\",\"why\":$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$2")}" >>"$RES"; log "$1: not measured: $2"; }
# desc PID: the processes below PID (a WRAP tool's child is the proxy itself)
desc() { local p; for p in $(pgrep -P "$1"); do echo "$p"; desc "$p"; done; }
# stop PID: end a row's process tree. The proxy (the process of the tree running $ML_BIN or
# $REF_BIN; else PID itself) gets TERM first and 5 s, so that a WRAP tool (strace, heaptrack,
# perf) can write out what it collected once its child has exited; then TERM, and 2 s later
# KILL, whatever of the tree is left. A PID is signalled only while it still has the start time
# it had when the tree was listed, so a PID reused by another process is never hit.
stop() {
	local p exe main=$1 bins=" " left
	local -A st=()
	for p in "$1" $(desc "$1"); do st[$p]=$(ml_starttime "$p"); done
	for p in "$ML_BIN" "$REF_BIN"; do [ -n "$p" ] && bins+="$(readlink -f "$p") "; done
	for p in "${!st[@]}"; do
		exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
		[[ $bins == *" $exe "* ]] && main=$p
	done
	same() { [ -n "${st[$1]}" ] && [ "$(ml_starttime "$1")" = "${st[$1]}" ]; }
	same "$main" && { kill -TERM "$main" 2>/dev/null || true; }	# it may exit meanwhile (set -e)
	for _ in $(seq 50); do
		left=; for p in "${!st[@]}"; do same "$p" && left=1; done
		[ -n "$left" ] || break; sleep 0.1
	done
	for p in "${!st[@]}"; do same "$p" && { kill -TERM "$p" 2>/dev/null || true; }; done
	for _ in $(seq 20); do
		left=; for p in "${!st[@]}"; do same "$p" && left=1; done
		[ -n "$left" ] || break; sleep 0.1
	done
	for p in "${!st[@]}"; do same "$p" && { kill -KILL "$p" 2>/dev/null || true; }; done
	wait "$1" 2>/dev/null || true
}
# warm ROW: a few connections through the proxy (cert cache warm, check it works); 0 if ok
warm() {
	h2 "$1-warm" -n 40 -c "$HS_C" -H 'Connection: close' "https://$HOST/"
	read -r s b ok <<<"$(h2parse "$ML_TMP/$1-warm.h2")"
	[ "${ok:-0}" -ge 36 ]
}
PSTART=
# start_proxy ROW NAME CMD...: run the proxy in the gateway on core PCPU, wait for :8443
start_proxy() {
	local row=$1 ; shift
	ml_bg "$G" "$row" taskset -c $PCPU "$@"
	PSTART=$ML_LASTPID
	ml_wait_port "$G" 127.0.0.1 8443 150 || { stop "$PSTART"; return 1; }
}
# run_row ROW CMD...: start, warm, measure, stop
run_row() {
	local row=$1; shift
	log "row $row"
	if ! start_proxy "$row" "$@"; then na "$row" "did not start: $(tail -n 3 "$ML_TMP/$row.log" | tr '\n' ' ')"; return 0; fi
	if ! warm "$row"; then na "$row" "no traffic through it: $(grep -m1 -i 'error\|fail' "$ML_TMP/$row-warm.h2" "$ML_TMP/$row.log" | head -c 200)"; stop "$PSTART"; return 0; fi
	measure "$row" "$PSTART"
	stop "$PSTART"
	engine_counts "$row"
}
# engine_counts ROW: from a mitmlab row's closing log lines, summed over its workers, JSON
# lines for summarize.py: how many client-leg handshakes resumed a session ("client
# handshakes", every worker) and, with --upstream-resume, what the upstream legs did with the
# sessions they offered ("upstream sessions"; a resume row without that line is "na"). Other
# rows print nothing.
engine_counts() {
	python3 - "$ML_TMP/$1.log" "$1" >>"$RES" <<'PY' || true
import json, re, sys
log = open(sys.argv[1]).read()
n = r = 0
for m in re.finditer(r"client handshakes: (\d+) completed, (\d+) resumed a session", log):
    n += int(m.group(1)); r += int(m.group(2))
if n:
    print(json.dumps({"row": sys.argv[2], "kind": "client_legs", "completed": n, "resumed": r}))
t = [0, 0, 0, 0, 0]
for m in re.finditer(r"upstream sessions: (\d+) intercepted upstream handshakes, (\d+) offered a session, "
                     r"(\d+) resumed, (\d+) not resumed \(full handshake\), (\d+) unusable", log):
    t = [a + int(b) for a, b in zip(t, m.groups())]
if t[0]:
    print(json.dumps({"row": sys.argv[2], "kind": "resumed", "upstream_handshakes": t[0], "offered": t[1],
                      "resumed": t[2], "refused": t[3], "unusable": t[4]}))
elif sys.argv[2].startswith("resume"):	# the --upstream-resume row must have said
    why = "no upstream sessions line in the proxy log"
    print(json.dumps({"row": sys.argv[2] + "-resumed", "kind": "na", "why": why}))
    print(f"bench: {sys.argv[2]}-resumed: not measured: {why}", file=sys.stderr)
PY
}

# ---- openssl speed (one core) ----
SP=$ML_TMP/speed.txt; : >"$SP"
if want mitmlab || want sslsplit; then
log "openssl speed"
{ taskset -c $PCPU openssl speed -seconds 1 ecdhx25519 2>/dev/null | grep -i 'X25519' | tail -1
  taskset -c $PCPU openssl speed -seconds 1 ecdsap256 2>/dev/null | grep -i 'nistp256' | tail -1
  taskset -c $PCPU openssl speed -seconds 1 -evp aes-128-gcm -bytes 16384 2>/dev/null | grep -i 'aes-128-gcm' | tail -1; } >"$SP" || true
fi

# ---- rows ----
if want direct; then
	log "row direct"
	warm direct || true
	measure direct 0
fi
iptables_on
MLARGS=(--listen 0.0.0.0:8443 --workers 1 --allow-upstream 10.88.2.0/24 --default intercept --max-conns 100000 --idle-timeout 600000)
MLICPT=(--ca "$ML_TMP/ca" --profile mitmproxy --upstream-cafile "$W/root.pem" --upstream-verify on)
# VARIANTS: "ROWSUFFIX BINARY" for the current build and, with REF_BIN, the reference build
VARIANTS=("|$ML_BIN")
[ -n "$REF_BIN" ] && VARIANTS+=("-ref|$REF_BIN")
if want relay; then
	for v in "${VARIANTS[@]}"; do run_row "relay${v%%|*}" "${v#*|}" proxy --listen 0.0.0.0:8443 --workers 1 --default splice --allow-upstream 10.88.2.0/24; done
fi
WRAP=${WRAP:-}
if want mitmlab; then
	for v in "${VARIANTS[@]}"; do run_row "mitmlab${v%%|*}" $WRAP "${v#*|}" proxy "${MLARGS[@]}" "${MLICPT[@]}"; done
fi
# resume: the same engine with --upstream-resume against the server that issues tickets
# (HOST and OIP point there for this row only); the fraction resumed from the proxy's log
# (engine_counts, called by run_row)
if want resume; then
	for v in "${VARIANTS[@]}"; do
		row="resume${v%%|*}"
		HOST=$RHOST OIP=$RIP run_row "$row" $WRAP "${v#*|}" proxy "${MLARGS[@]}" "${MLICPT[@]}" --upstream-resume
	done
fi
# mitmlab-bus: the same engine publishing to a bus recorder with every bus analyzer attached
# (truth, throughput, detect-chain, detect-fingerprint, breakage, detect-path), as a scenario
# runs them; recorder and analyzers share core 0 with the client and origin, as in a lab.
# start_analyzers IN OUT: every bus analyzer in the gateway on core 0, subscribed to OUT and
# publishing to IN, as a scenario runs them; their PIDs are appended to ANPIDS
ANPIDS=()
AN_NAMES=(truth throughput detect-chain detect-fingerprint breakage detect-path)
start_analyzers() {
	local a van
	for a in "${AN_NAMES[@]}"; do
		van=$(python3 -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["vantages"]))' "$ML_TOP/analyzers/$a/analyzer.json")
		ml_bg "$G" "an-$a" env MITMLAB_ANALYZER_SUB="$2" MITMLAB_ANALYZER_PUB="$1" \
		    MITMLAB_ANALYZER_NAME="$a" MITMLAB_ANALYZER_VANTAGES="$van" taskset -c 0 "$BUILD/analyzers/$a"
		ANPIDS+=("$ML_LASTPID")
	done
}
# consumers_start NAME: a bus recorder (to $ML_TMP/NAME-events.jsonl) and every analyzer, in
# the gateway on core 0, as a scenario runs them; sets CIN (the bus input, for --bus), RECPID
# and ANPIDS
consumers_start() {
	CNAME=$1; CIN=ipc://$ML_TMP/$1.in
	ml_bg "$G" "$1-rec" taskset -c 0 "$ML_BIN" bus --in "$CIN" --out "ipc://$ML_TMP/$1.out" \
	    --record "$ML_TMP/$1-events.jsonl"
	RECPID=$ML_LASTPID
	ANPIDS=(); start_analyzers "$CIN" "ipc://$ML_TMP/$1.out"
	sleep 1
}
# consumers_stop: ALIVE = how many of the analyzers were still running; then stop them all;
# BEHIND = how many times the recorder and the analyzers fell 2 s behind and left the idle
# scheduling class (bgsched.h: from the recorder's bus.stats and the analyzers' logs): their
# work was then no longer only in the time the lab left idle
consumers_stop() {
	local p
	ALIVE=0; for p in "${ANPIDS[@]}"; do ml_ours "$p" && ALIVE=$((ALIVE + 1)); done
	for p in "${ANPIDS[@]}" "$RECPID"; do stop "$p"; done
	BEHIND=$({ grep -o '"background":{"enabled":[a-z]*,"boosts":[0-9]*' "$ML_TMP/$CNAME-events.jsonl" \
	    2>/dev/null | tail -1 | sed 's/.*"boosts"://'; grep -ho 'fell behind the feed [0-9]*' \
	    "$ML_TMP"/an-*.log 2>/dev/null | sed 's/.* //'; } | awk '{ n += $1 } END { print n + 0 }')
}
# ticks PID...: CPU clock ticks (utime + stime) used so far by these processes
ticks() { local p t=0 s; for p in "$@"; do s=$(ml_stat "$p"); [ -n "$s" ] || continue; set -- $s; t=$((t + ${12} + ${13})); done; echo $t; }
# quiet PID...: wait (at most 10 s) until these processes use less than 2 ticks in 0.3 s: the
# analyzers and recorder work through a handshake burst's events after the burst, on core 0
# with the client and origin, which would slow the next part's load generator, not the engine.
# QUIET_CAPPED=1 when it stopped at 10 s with them still busy.
QUIET_CAPPED=0
quiet() { local a b i; QUIET_CAPPED=0; a=$(ticks "$@"); for ((i = 0; i < 33; i++)); do sleep 0.3; b=$(ticks "$@"); [ $((b - a)) -lt 2 ] && return 0; a=$b; done; QUIET_CAPPED=1; return 0; }
# schedns PID...: nanoseconds on CPU so far of these processes, every thread of each (ZeroMQ's
# I/O threads too): the sum of /proc/PID/task/*/schedstat (/proc/PID/schedstat is the main
# thread's alone; ticks are too coarse for a burst's share of the analyzers' time). A thread
# that has exited is no longer counted, so it is for long-lived threads, as the consumers' are.
schedns() { local p t=0 v f; for p in "$@"; do for f in /proc/"$p"/task/*/schedstat; do read -r v _ 2>/dev/null <"$f" || continue; t=$((t + v)); done; done; echo $t; }
# zmqns PID: nanoseconds on CPU so far of PID's ZeroMQ background threads (ZMQbg/IO/N, which
# send the events, and ZMQbg/Reaper; user and kernel time): what publishing costs beyond the
# user-space instructions pubinstr counts
zmqns() { local t c v n=0; for t in /proc/"$1"/task/*; do read -r c 2>/dev/null <"$t/comm" || continue; [[ $c == ZMQbg* ]] || continue; read -r v _ 2>/dev/null <"$t/schedstat" && n=$((n + v)); done; echo $n; }
# halves R: the order of pair R's halves, "none" (the engine alone) and "rec" (publishing to
# the consumers), alternating which goes first so that drift in the machine cancels
halves() { if (($1 % 2)); then echo "none rec"; else echo "rec none"; fi; }
# half_start ROW HALF: the engine for one half of a pair, warmed ("rec": with --bus $CIN);
# 1 (and an "na" line) when it did not start
half_start() {
	local extra=(); [ "$2" = rec ] && extra=(--bus "$CIN")
	start_proxy "$1" "$ML_BIN" proxy "${MLARGS[@]}" "${MLICPT[@]}" "${extra[@]}" || { na "$1" "did not start"; return 1; }
	warm "$1" || true
}
# pubpair: the engine alone against the engine with the bus recorder and every analyzer
# attached, in alternation (REPS pairs) so that both halves see the same machine load
if want pubpair; then
	log "pubpair ($REPS pairs: the engine alone and with the bus recorder and every analyzer)"
	consumers_start pub
	for ((r = 1; r <= REPS; r++)); do
		for half in $(halves $r); do
			row=pub-$half
			half_start "$row" $half || continue
			a0=$(schedns "${ANPIDS[@]}"); q0=$(schedns "$RECPID"); z0=$(zmqns "$PSTART")
			c0=$(cpu_of "$PSTART")
			h2 "$row-hs$r" -n "$HS_N" -c "$HS_C" -H 'Connection: close' "https://$HOST/"
			c1=$(cpu_of "$PSTART"); z1=$(zmqns "$PSTART")
			read -r s b ok <<<"$(h2parse "$ML_TMP/$row-hs$r.h2")"
			# bulk too: the same 1 MiB GETs as the load rows, on the same proxy, once the
			# analyzers have worked through the burst's events (both halves wait alike);
			# what the analyzers and the recorder spent on the burst is measured up to here
			quiet "${ANPIDS[@]}" "$RECPID"
			a1=$(schedns "${ANPIDS[@]}"); q1=$(schedns "$RECPID")
			echo "{\"row\":\"$row\",\"kind\":\"pub\",\"rep\":$r,\"secs\":$s,\"ok\":$ok,\"cpu\":$(sub "$c1" "$c0"),\"an_ns\":$((a1 - a0)),\"rec_ns\":$((q1 - q0)),\"zmq_ns\":$((z1 - z0))}" >>"$RES"
			c0=$(cpu_of "$PSTART")
			h2 "$row-bulk$r" -n "$BULK_N" -c "$BULK_C" "https://$HOST/1m.bin"
			c1=$(cpu_of "$PSTART")
			read -r s b ok <<<"$(h2parse "$ML_TMP/$row-bulk$r.h2")"
			echo "{\"row\":\"$row\",\"kind\":\"pubbulk\",\"rep\":$r,\"secs\":$s,\"bytes\":$b,\"ok\":$ok,\"cpu\":$(sub "$c1" "$c0")}" >>"$RES"
			# and at one offered load for both halves (open loop, PUB_RATE/s for 2 s: half
			# the first burst of the engine alone): the burst's hs/s also counts the
			# analyzers slowing the load generator on core 0, this the engine's own cost
			[ -n "${PUB_RATE:-}" ] || PUB_RATE=$(h2parse "$ML_TMP/pub-none-hs1.h2" | awk \
			    '{ r = ($1 > 0) ? int($3 / $1 / 2 + 0.5) : 200; if (r < 20) r = 20; print r }')
			quiet "${ANPIDS[@]}" "$RECPID"
			c0=$(cpu_of "$PSTART"); rc=0
			ip netns exec "$C" timeout -k 5 30 taskset -c 0 "$ML_BIN" client --url "https://$HOST/" \
			    --connect "$HOST=$OIP:443" --rate "$PUB_RATE" --count $((2 * PUB_RATE)) --concurrency 256 \
			    --http 1.1 --trust "$ML_TMP/ca/root.pem" --results --timeout-ms 5000 --duration-ms 8000 \
			    >"$ML_TMP/$row-rate$r.jsonl" 2>"$ML_TMP/$row-rate$r.err" || rc=$?
			c1=$(cpu_of "$PSTART")
			ok=$(grep '"t":"client.result"' "$ML_TMP/$row-rate$r.jsonl" | grep -c '"outcome":"ok"' || true)
			echo "{\"row\":\"$row\",\"kind\":\"pubrate\",\"rep\":$r,\"rate\":$PUB_RATE,\"rc\":$rc,\"ok\":${ok:-0},\"cpu\":$(sub "$c1" "$c0")}" >>"$RES"
			stop "$PSTART"
			engine_counts "$row"
		done
	done
	consumers_stop
	echo "{\"row\":\"pub-rec\",\"kind\":\"pubinfo\",\"analyzers\":${#ANPIDS[@]},\"alive\":$ALIVE,\"behind\":$BEHIND}" >>"$RES"
fi
# pubsus: pubpair's two halves under a held closed-loop load (see the header). Per half: the
# window's connections and seconds, the engine's CPU, what the analyzers and the
# recorder spent on core 0 during the window and after it until they are quiet (the work they
# deferred), and how long that catch-up took. The "none" half's consumers receive nothing,
# so both halves wait for them alike.
if want pubsus; then
	log "pubsus ($SUS_REPS pairs of about $SUS_SECS s of closed-loop handshakes: the engine alone and with the bus recorder and every analyzer)"
	consumers_start sus
	# one count for every window, about SUS_SECS s at the engine alone's rate (Debian 12's
	# h2load 1.52 does not end a -D run of connections that close: nghttp2 issue 2250)
	SUS_N=0
	if half_start sus-cal none; then
		h2 sus-cal -n 600 -c "$HS_C" -H 'Connection: close' "https://$HOST/"
		stop "$PSTART"
		read -r s b ok <<<"$(h2parse "$ML_TMP/sus-cal.h2")"
		# at most 30,000 (the proxy's 100,000 connections and the h2load deadline's margin)
		[ "$ok" -lt 100 ] || SUS_N=$(h2count "$ML_TMP/sus-cal.h2" "$SUS_SECS" 30000)
	fi
	[ "$SUS_N" -ge 100 ] || { na pubsus "the engine alone did not serve a calibration burst"; SUS_REPS=0; }
	for ((r = 1; r <= SUS_REPS; r++)); do
		for half in $(halves $r); do
			row=sus-$half
			half_start "$row" $half || continue
			quiet "${ANPIDS[@]}" "$RECPID"
			c0=$(cpu_of "$PSTART"); a0=$(schedns "${ANPIDS[@]}"); q0=$(schedns "$RECPID")
			# its own deadline: the attached half may run well past SUS_SECS
			H2_DEADLINE=$((3 * SUS_SECS + 10)) h2 "$row-hs$r" -n "$SUS_N" -c "$HS_C" \
			    -H 'Connection: close' "https://$HOST/"
			# the consumers first: what they spend from here on is their catch-up
			a1=$(schedns "${ANPIDS[@]}"); q1=$(schedns "$RECPID"); t0=$(date +%s%N)
			c1=$(cpu_of "$PSTART")
			quiet "${ANPIDS[@]}" "$RECPID"
			t1=$(date +%s%N); a2=$(schedns "${ANPIDS[@]}"); q2=$(schedns "$RECPID")
			read -r s b ok <<<"$(h2parse "$ML_TMP/$row-hs$r.h2")"
			echo "{\"row\":\"$row\",\"kind\":\"sus\",\"rep\":$r,\"secs\":$s,\"ok\":$ok,\"cpu\":$(sub "$c1" "$c0"),\"an_ns\":$((a1 - a0)),\"rec_ns\":$((q1 - q0)),\"after_ns\":$((a2 - a1 + q2 - q1)),\"quiet_ns\":$((t1 - t0)),\"quiet_capped\":$QUIET_CAPPED}" >>"$RES"
			stop "$PSTART"
		done
	done
	consumers_stop
	echo "{\"row\":\"sus-rec\",\"kind\":\"susinfo\",\"analyzers\":${#ANPIDS[@]},\"alive\":$ALIVE,\"behind\":$BEHIND,\"secs\":$SUS_SECS,\"n\":$SUS_N}" >>"$RES"
fi
# pubinstr: pubpair's two halves again, counting the engine's instructions instead of its CPU
# time, which on this shared VM drifts ±10% between pairs (it has no hardware counters):
# the proxy runs under valgrind's cachegrind (no cache simulation; every thread of the
# process, ZeroMQ's I/O thread included) for a warm-up and then PI_N1 or PI_N2 handshakes
# (h2load, one request per connection, as the burst), and instructions per connection are the
# slope (Ir(PI_N2) − Ir(PI_N1)) / (PI_N2 − PI_N1), so start-up, warm-up and exit cancel. Under
# valgrind OpenSSL picks the code paths for the CPU valgrind emulates, so the absolute count
# is not the native one; the ratio of the halves is the engine's added work with the bus and
# every analyzer attached, which CPU time cannot resolve to within a few percent here. The
# cachegrind files go to OUT (pi-HALF-N-REP.cg; `cg_diff` of two shows where the difference is).
for q in $QUICK_SKIPS; do na "$q" "left out of QUICK runs (ROWS=\"... $q\" runs it; full runs always do)"; done
if want pubinstr; then
	if ! command -v valgrind >/dev/null; then
		na pubinstr "valgrind is not installed (the bench installs it from Debian; see above)"
	else
		log "pubinstr (cachegrind, $PI_REPS rep(s) of $PI_N1 and $PI_N2 handshakes per half)"
		consumers_start pi
		for ((r = 1; r <= PI_REPS; r++)); do
			for half in none rec; do
				for n in $PI_N1 $PI_N2; do
					row=pi-$half-$n-$r; cg=$ML_TMP/$row.cg
					extra=(); [ $half = rec ] && extra=(--bus "$CIN")
					start_proxy "$row" valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$cg" \
					    "$ML_BIN" proxy "${MLARGS[@]}" "${MLICPT[@]}" "${extra[@]}" || { na "$row" "did not start under valgrind"; continue; }
					warm "$row" || true
					h2 "$row-hs" -n "$n" -c 4 -H 'Connection: close' "https://$HOST/"
					read -r s b ok <<<"$(h2parse "$ML_TMP/$row-hs.h2")"
					stop "$PSTART"
					ir=$(sed -n 's/^summary: \([0-9]*\).*/\1/p' "$cg" 2>/dev/null | head -n 1)
					cp "$cg" "$OUT/" 2>/dev/null || true	# per function: cg_diff, cg_annotate
					echo "{\"row\":\"pi-$half\",\"kind\":\"pubinstr\",\"rep\":$r,\"n\":$n,\"ok\":${ok:-0},\"ir\":${ir:-0}}" >>"$RES"
				done
			done
		done
		consumers_stop
		echo "{\"row\":\"pi-rec\",\"kind\":\"pubinstrinfo\",\"analyzers\":${#ANPIDS[@]},\"alive\":$ALIVE}" >>"$RES"
	fi
fi
# anfeed: what each analyzer and the recorder spend per intercepted connection, fed the
# engine's four events of each (proxy.forge with both PEMs; tests/bench/anfeed.py, ANFEED_N connections at 2,000/s from
# core 1) with no load generator on core 0: pubpair's "analyzers" figure split per analyzer
if want anfeed; then
	ANFEED_RATE=2000
	log "anfeed: $ANFEED_N connections' events to the recorder and ${#AN_NAMES[@]} analyzers"
	for ((r = 1; r <= REPS; r++)); do
		rm -f "$ML_TMP/feed-events.jsonl"
		consumers_start feed
		declare -A ns0=(); for p in "${ANPIDS[@]}" "$RECPID"; do ns0[$p]=$(schedns "$p"); done
		sent=$(ip netns exec "$G" timeout -k 5 90 taskset -c 1 /usr/bin/python3 "$HERE/anfeed.py" \
		    --in "$CIN" --count "$ANFEED_N" --rate "$ANFEED_RATE" --pem "$W/leaf.pem" 2>"$ML_TMP/anfeed.err") || sent=0
		quiet "${ANPIDS[@]}" "$RECPID"
		an="" i=0
		for p in "${ANPIDS[@]}"; do
			an="$an${an:+,}\"${AN_NAMES[$i]}\":$(($(schedns "$p") - ns0[$p]))"; i=$((i + 1))
		done
		rec_ns=$(($(schedns "$RECPID") - ns0[$RECPID]))
		consumers_stop
		# the fed events only (the analyzers' results and bus.stats are recorded too)
		recorded=$(grep -c '^{"v":1,"t":"proxy\.' "$ML_TMP/feed-events.jsonl" 2>/dev/null || echo 0)
		echo "{\"row\":\"anfeed\",\"kind\":\"anfeed\",\"rep\":$r,\"conns\":$ANFEED_N,\"rate\":$ANFEED_RATE,\"sent\":${sent:-0},\"recorded\":$recorded,\"alive\":$ALIVE,\"rec_ns\":$rec_ns,\"an_ns\":{$an}}" >>"$RES"
	done
fi
if want bus; then
	BUSIN=ipc://$ML_TMP/bus.in; BUSOUT=ipc://$ML_TMP/bus.out
	# first the recorder alone (what every run has), to split the publishing cost from the
	# analyzers' (row mitmlab-rec)
	ml_bg "$G" busrec taskset -c 0 "$ML_BIN" bus --in "$BUSIN" --out "$BUSOUT" --record "$ML_TMP/rec-events.jsonl"
	RECPID=$ML_LASTPID
	sleep 1
	run_row mitmlab-rec $WRAP "$ML_BIN" proxy "${MLARGS[@]}" "${MLICPT[@]}" --bus "$BUSIN"
	stop "$RECPID"
	consumers_start bus
	run_row mitmlab-bus $WRAP "$ML_BIN" proxy "${MLARGS[@]}" "${MLICPT[@]}" --bus "$CIN"
	consumers_stop
	nev=$(grep -c '"t":"proxy.conn.open"' "$ML_TMP/bus-events.jsonl" 2>/dev/null || echo 0)
	echo "{\"row\":\"mitmlab-bus\",\"kind\":\"bus\",\"analyzers\":${#ANPIDS[@]},\"alive\":$ALIVE,\"conn_open_events\":$nev}" >>"$RES"
	log "mitmlab-bus: $nev proxy.conn.open events recorded, $ALIVE of ${#ANPIDS[@]} analyzers alive at the end"
fi
if ! want sslsplit; then :
elif command -v sslsplit >/dev/null; then
	run_row sslsplit sslsplit -k "$IKEY" -c "$ICA" -K "$ML_TMP/leafkey.pem" https 0.0.0.0 8443
else na sslsplit "${NA[sslsplit]:-sslsplit not installed}"; fi
if ! want squid; then :
elif command -v squid >/dev/null && [ -x /usr/lib/squid/security_file_certgen ]; then
	SQ=$ML_TMP/squid; mkdir -p "$SQ"; cp "$ICA" "$SQ/ca.pem"; cp "$IKEY" "$SQ/ca.key"; cp "$W/root.pem" "$SQ/root.pem"; cp "$ML_TMP/hosts" "$SQ/hosts"
	/usr/lib/squid/security_file_certgen -c -s "$SQ/ssl_db" -M 16MB >/dev/null
	chown -R proxy:proxy "$SQ" 2>/dev/null || true
	cat >"$SQ/squid.conf" <<SQC
http_port 127.0.0.1:3128
https_port 0.0.0.0:8443 intercept ssl-bump tls-cert=$SQ/ca.pem tls-key=$SQ/ca.key generate-host-certificates=on dynamic_cert_mem_cache_size=16MB
sslcrtd_program /usr/lib/squid/security_file_certgen -s $SQ/ssl_db -M 16MB
sslcrtd_children 5 startup=1 idle=1
acl step1 at_step SslBump1
ssl_bump peek step1
ssl_bump bump all
tls_outgoing_options cafile=$SQ/root.pem
http_access allow all
cache deny all
cache_mem 8 MB
access_log none
cache_store_log none
cache_log $SQ/cache.log
pid_filename $SQ/squid.pid
coredump_dir $SQ
hosts_file $SQ/hosts
dns_nameservers 127.0.0.1
shutdown_lifetime 1 seconds
max_filedescriptors 65536
SQC
	run_row squid squid -N -f "$SQ/squid.conf"
else na squid "${NA[squid-openssl]:-squid-openssl not installed}"; fi
if ! want mitmproxy; then :
elif command -v mitmdump >/dev/null; then
	MP=$ML_TMP/mitmproxy; mkdir -p "$MP"; cat "$IKEY" "$ICA" >"$MP/mitmproxy-ca.pem"
	run_row mitmproxy mitmdump -q --mode transparent --listen-port 8443 --set confdir="$MP" \
	    --set ssl_verify_upstream_trusted_ca="$W/root.pem" --set connection_strategy=eager
else na mitmproxy "${NA[mitmproxy]:-mitmproxy not installed}"; fi

# ---- latency, paired: direct (port 4443, not redirected) and intercepted (443) interleaved ----
if want latpair; then
	for v in "${VARIANTS[@]}"; do
		row="latpair${v%%|*}"
		log "row $row ($PAIR_N pairs x $REPS)"
		start_proxy "$row" $WRAP "${v#*|}" proxy "${MLARGS[@]}" "${MLICPT[@]}" || { na "$row" "did not start"; continue; }
		warm "$row" || true
		for ((r = 1; r <= REPS; r++)); do
			read -r c0 _ _ _ w0 n0 <<<"$(procstat "$PSTART")"
			st=$(ip netns exec "$C" timeout 120 taskset -c 0 python3 "$HERE/client.py" pair $OIP "$HOST" "$PAIR_N" || echo '{}')
			read -r c1 _ _ _ w1 n1 <<<"$(procstat "$PSTART")"
			[ -n "$st" ] || st='{}'
			# runq_ms: time the proxy's threads were runnable but waiting for a CPU (other load)
			echo "{\"row\":\"$row\",\"kind\":\"pair\",\"rep\":$r,\"runq_ms\":$(sub "$w1" "$w0"),\"slices\":$((n1 - n0)),\"cpu\":$(sub "$c1" "$c0"),\"r\":$st}" >>"$RES"
		done
		stop "$PSTART"
	done
fi

# ---- latency at moderate load (issue #7's condition): open-loop arrivals at half the capacity ----
# R = 50% of the intercepted handshakes/s of an h2load burst through this proxy (at least 20/s);
# then LL_SEGS segments per side of 2 s of arrivals at R (K = 2R connections each), direct
# (port 4443) and intercepted (443) in the order D I I D D I …; each connection is one sample
# (t_total_us: connect + TLS 1.3 + GET + full response). The load generator is the current
# build's `mitmlab client` in both variants, so only the proxy differs.
if want latload; then
	for v in "${VARIANTS[@]}"; do
		row="latload${v%%|*}"
		log "row $row ($LL_SEGS segments per side)"
		start_proxy "$row" $WRAP "${v#*|}" proxy "${MLARGS[@]}" "${MLICPT[@]}" || { na "$row" "did not start"; continue; }
		warm "$row" || true
		h2 "$row-cap" -n "$LL_CAP_N" -c "$HS_C" -H 'Connection: close' "https://$HOST/"
		read -r s b ok <<<"$(h2parse "$ML_TMP/$row-cap.h2")"
		cap=$(awk -v s="$s" -v ok="$ok" 'BEGIN { printf "%.1f", (s > 0) ? ok / s : 0 }')
		if [ "${ok:-0}" -lt $((LL_CAP_N * 9 / 10)) ]; then
			na "$row" "capacity burst: $ok of $LL_CAP_N handshakes succeeded"; stop "$PSTART"; continue
		fi
		# one offered load for every variant: the first variant's (or LL_RATE), so that latload
		# and latload-ref compare at the same rate; the burst varies ±40% between rows here
		[ -n "${LL_RATE:-}" ] || LL_RATE=$(awk -v c="$cap" 'BEGIN { r = int(c / 2 + 0.5); if (r < 20) r = 20; print r }')
		rate=$LL_RATE
		log "$row: capacity $cap hs/s ($ok in ${s}s), offered load $rate/s"
		man=$ML_TMP/$row-segs.jsonl; : >"$man"
		for ((i = 0; i < 2 * LL_SEGS; i++)); do
			case $((i % 4)) in 0|3) side=direct port=4443 ;; *) side=proxy port=443 ;; esac
			f=$ML_TMP/$row-seg$i-$side.jsonl
			read -r c0 _ _ _ w0 n0 <<<"$(procstat "$PSTART")"
			i0=$(core0_idle || true)
			t0=$(date +%s.%N); rc=0
			ip netns exec "$C" timeout -k 5 15 taskset -c 0 "$ML_BIN" client --url "https://$HOST:$port/" \
			    --connect "$HOST=$OIP:$port" --rate "$rate" --count $((2 * rate)) --concurrency 256 --http 1.1 \
			    --trust "$W/root.pem" --trust "$ML_TMP/ca/root.pem" --results --summary --timeout-ms 5000 \
			    --duration-ms 8000 >"$f" 2>"$f.err" || rc=$?
			t1=$(date +%s.%N)
			i1=$(core0_idle || true)
			read -r c1 _ _ _ w1 n1 <<<"$(procstat "$PSTART")"
			echo "{\"seg\":$i,\"side\":\"$side\",\"file\":\"$f\",\"count\":$((2 * rate)),\"rc\":$rc,\"wall_s\":$(sub "$t1" "$t0"),\"cpu\":$(sub "$c1" "$c0"),\"runq_ms\":$(sub "$w1" "$w0"),\"slices\":$((n1 - n0)),\"core0_idle_ticks\":$([ -n "$i0" ] && [ -n "$i1" ] && echo $((i1 - i0)) || echo null)}" >>"$man"
		done
		stop "$PSTART"
		python3 "$HERE/latload.py" "$man" "$OUT/$row-samples.json" "$row" "$rate" "$cap" "$LL_CAP_N" "$ok" "$s" >>"$RES" ||
		    na "$row" "latload.py failed"
	done
fi

# ---- mitmlab extras: cold cache (distinct SNI), kz2019 forging, idle connections, churn ----
# cold and kz: each variant is a fresh proxy, so its cache starts empty for the same names.
# cold_row ROW N KIND PROXY-COMMAND...: N connections to distinct names (client.py cold KIND)
cold_row() {
	local row=$1 n=$2 kind=$3 c0 c1 st p0 p1 fill=0 i
	shift 3
	start_proxy "$row" "$@" || return 0
	# kz: let the key pool fill before the clock starts. Its one generator thread (the engine
	# pinned to one core) needs about 150 ms of CPU per RSA-2048 key here, with a wide spread,
	# so a fixed wait (3 s until the fifteenth session) left 19–20 of the 32 keys made and the
	# row's figure depended on how many more it had to make. Full means the generators
	# stopped: the proxy's CPU time stops rising (under 20 ms in 0.5 s), bounded at 30 s
	# (fill_s -1: it was still generating).
	if [ "$kind" = kz ]; then
		p0=$(procstat "$PSTART" | cut -d' ' -f1)
		fill=-1
		for i in $(seq 60); do
			sleep 0.5
			p1=$(procstat "$PSTART" | cut -d' ' -f1)
			if awk -v a="$p0" -v b="$p1" 'BEGIN { exit !(b - a < 0.02) }'; then
				fill=$(awk -v i="$i" 'BEGIN { printf "%.1f", i * 0.5 }')
				break
			fi
			p0=$p1
		done
	fi
	c0=$(procstat "$PSTART" | cut -d' ' -f1)
	st=$(ip netns exec "$C" timeout 120 taskset -c 0 python3 "$HERE/client.py" cold $OIP bench.lab "$n" 4 "$kind" || echo '{}')
	c1=$(procstat "$PSTART" | cut -d' ' -f1)
	echo "{\"row\":\"$row\",\"kind\":\"cold\",\"cpu\":$(sub "$c1" "$c0"),\"fill_s\":$fill,\"r\":$st}" >>"$RES"
	stop "$PSTART"
}
if want cold; then
	for v in "${VARIANTS[@]}"; do
		log "mitmlab cold cache${v%%|*}"
		cold_row "mitmlab-cold${v%%|*}" "$COLD_N" c "${v#*|}" proxy "${MLARGS[@]}" "${MLICPT[@]}"
	done
fi
if want kz; then
	for v in "${VARIANTS[@]}"; do
		log "mitmlab kz2019 forging${v%%|*}"
		cold_row "mitmlab-kz2019${v%%|*}" "$KZ_N" kz "${v#*|}" proxy "${MLARGS[@]}" \
		    --ca "$ML_TMP/kzca" --profile kz2019 --upstream-cafile "$W/root.pem"
	done
fi
# kz2: the kz row with the engine allowed on both cores, as a lab runs it (not pinned), so it
# starts a key-generator thread per core (--keygen-threads' default): what a second thread
# adds once the pool is empty. Core 0 also runs the client and origin, so the engine's CPU
# here is not one core's: summarize.py reports this row's rate and latency, not its CPU.
if want kz2; then
	log "mitmlab kz2019 forging, the engine on cores 0 and 1"
	PCPU=0,1 cold_row "mitmlab-kz2019-2cores" "$KZ_N" kz "$ML_BIN" proxy "${MLARGS[@]}" \
	    --ca "$ML_TMP/kzca" --profile kz2019 --upstream-cafile "$W/root.pem"
fi
if want idle; then
for v in "${VARIANTS[@]}"; do
	row="idle${v%%|*}"
	log "mitmlab idle connections ($IDLE_N, $row)"
	start_proxy "mitmlab-$row" $WRAP "${v#*|}" proxy "${MLARGS[@]}" "${MLICPT[@]}" || { na "$row" "did not start"; continue; }
	warm "mitmlab-$row" || true
	r0=$(procstat "$PSTART" | cut -d' ' -f3)
	rm -f "$ML_TMP/idle.ready"
	ip netns exec "$C" bash -c "ulimit -n 65536; exec timeout 300 taskset -c 0 python3 '$HERE/client.py' idle $OIP $HOST $IDLE_N 240 '$ML_TMP/idle.ready'" >"$ML_TMP/idle.log" 2>&1 &
	IDLEPID=$!; ml_track "$IDLEPID"
	for _ in $(seq 2400); do [ -s "$ML_TMP/idle.ready" ] && break; kill -0 $IDLEPID 2>/dev/null || break; sleep 0.1; done
	sleep 2
	r1=$(procstat "$PSTART" | cut -d' ' -f3)
	nopen=$(cat "$ML_TMP/idle.ready" 2>/dev/null || echo 0)
	echo "{\"row\":\"$row\",\"kind\":\"idle\",\"conns\":${nopen:-0},\"rss0_kib\":$r0,\"rss1_kib\":$r1}" >>"$RES"
	stop "$IDLEPID"
	# after the idle clients are gone: how much of the peak the process gave back
	sleep 2
	r2=$(procstat "$PSTART" | cut -d' ' -f3)
	echo "{\"row\":\"$row\",\"kind\":\"idle-after\",\"rss2_kib\":$r2}" >>"$RES"
	stop "$PSTART"
done
fi
# churn: CHURN_N short intercepted connections in 5 equal steps; RSS after each step (no growth
# wanted once the allocator has warmed up)
if want churn; then
for v in "${VARIANTS[@]}"; do
	row="churn${v%%|*}"
	log "mitmlab churn ($CHURN_N connections, $row)"
	start_proxy "mitmlab-$row" $WRAP "${v#*|}" proxy "${MLARGS[@]}" "${MLICPT[@]}" || { na "$row" "did not start"; continue; }
	warm "mitmlab-$row" || true
	rs="$(procstat "$PSTART" | cut -d' ' -f3)"; okt=0
	for i in 1 2 3 4 5; do
		ip netns exec "$C" timeout 300 taskset -c 0 $H2LOAD --h1 -n $((CHURN_N / 5)) -c "$HS_C" -H 'Connection: close' "https://$HOST/" >"$ML_TMP/$row-$i.h2" 2>&1 || true
		read -r s b ok <<<"$(h2parse "$ML_TMP/$row-$i.h2")"; okt=$((okt + ${ok:-0}))
		rs="$rs,$(procstat "$PSTART" | cut -d' ' -f3)"
	done
	echo "{\"row\":\"$row\",\"kind\":\"churn\",\"n\":$CHURN_N,\"ok\":$okt,\"rss_kib\":[$rs]}" >>"$RES"
	stop "$PSTART"
	engine_counts "mitmlab-$row"
done
fi
iptables_off

# ---- packet plane: netq packets/s under a bounded bulk load (plain HTTP, MSS-sized packets) ----
if want netq; then
log "netq packets/s"
ml_bg "$G" bus "$ML_BIN" bus --in "ipc://$ML_TMP/bus.in" --out "ipc://$ML_TMP/bus.out" --record "$ML_TMP/events.jsonl"
BUSPID=$ML_LASTPID
ml_bg "$G" netq taskset -c $PCPU "$ML_BIN" netq --bus "ipc://$ML_TMP/bus.in" --install-rules --stats-ms 500 --ports 80
NETQPID=$ML_LASTPID
for _ in $(seq 50); do ip netns exec "$G" iptables -t mangle -S MITMLAB_NETQ 2>/dev/null | grep -q NFQUEUE && break; sleep 0.1; done
sleep 0.5
ip -n "$O" link set o0 gso_max_size 1500 2>/dev/null || true
ip netns exec "$O" ethtool -K o0 tso off gso off >/dev/null 2>&1 || true
c0=$(procstat "$NETQPID" | cut -d' ' -f1)
h2 netq-bulk -n "$BULK_N" -c 1 "http://$OIP/1m.bin"
c1=$(procstat "$NETQPID" | cut -d' ' -f1)
read -r s b ok <<<"$(h2parse "$ML_TMP/netq-bulk.h2")"
sleep 1.2
stop "$NETQPID"; ip netns exec "$G" "$ML_BIN" netq --remove-rules 2>/dev/null || true
sleep 0.3; stop "$BUSPID"
echo "{\"row\":\"netq\",\"kind\":\"netq\",\"secs\":$s,\"bytes\":$b,\"cpu\":$(sub "$c1" "$c0"),\"events\":\"$ML_TMP/events.jsonl\"}" >>"$RES"

fi

# ---- summary ----
cp "$RES" "$OUT/raw.jsonl"
python3 "$HERE/summarize.py" "$RES" "$SP" "$OUT" "${QUICK:+quick}" "$REPS" "$HS_C" "$BULK_C"
