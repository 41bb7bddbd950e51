# SPDX-License-Identifier: BSD-2-Clause
# lib.sh — shared helpers for integration tests: unique network namespaces, veth links,
# processes started inside them (tracked by PID), assertions and cleanup by trap.
# Source it from a test script; call ml_init first. Nothing here touches the host's own
# network: every link is a veth pair between two namespaces this script created.

ML_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ML_TOP/$BUILD ;; esac
ML_BIN=$BUILD/bin/mitmlab
ML_PASS=0
ML_FAIL=0
ML_NS=()
ML_PIDS=()
declare -A ML_START=()		# PID → its start time when this script started it (ml_bg)

# ml_init NAME: unique id, temp dir, cleanup trap.
ml_init() {
	ML_ID=$(printf '%x%04x' $$ $((RANDOM)))
	ML_TMP=$(mktemp -d "/tmp/mitmlab-$1.XXXXXX")
	trap ml_cleanup EXIT
	trap 'exit 130' INT TERM
}

# ml_starttime PID: when PID started (clock ticks since boot, field 22 of /proc/PID/stat);
# empty if there is no such process or it has exited (a zombie). With the PID it names one
# process for good: a PID the kernel has handed to another process since has another start time.
ml_starttime() {
	local s
	s=$(ml_stat "$1")
	[ -n "$s" ] || return 0
	set -- $s
	[ "$1" = Z ] || echo "${20}"
}

# ml_stat PID: /proc/PID/stat from field 3 (state) on; nothing if there is no such process. The
# command name (field 2) may hold spaces and parentheses, so it is cut after its last ") ".
ml_stat() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	echo "${s##*) }"
}

# ml_lab_ns ID: the network namespaces of lab ID (they are named mlID-NODE), one a line.
ml_lab_ns() { ip netns list | awk -v p="ml$1-" 'index($1, p) == 1 { print $1 }'; }
# ml_ns_count ID: how many network namespaces lab ID has.
ml_ns_count() { ml_lab_ns "$1" | wc -l; }
# ml_lab_pids ID: the processes in any of lab ID's namespaces, one a line.
ml_lab_pids() { local ns; for ns in $(ml_lab_ns "$1"); do ip netns pids "$ns" 2>/dev/null || true; done; }

# ml_ours PID: 0 if PID is still the process ml_bg started under that PID.
ml_ours() {
	[ -n "${ML_START[$1]:-}" ] && [ "$(ml_starttime "$1")" = "${ML_START[$1]}" ]
}

# ml_track PID: stop PID at cleanup too (a process started without ml_bg).
ml_track() {
	ML_PIDS+=("$1")
	ML_START[$1]=$(ml_starttime "$1")
}

# ml_cleanup: stop the processes this test started (by PID, and only while the PID is still
# theirs), delete its namespaces and files.
ml_cleanup() {
	local p ns
	# `|| true`: a process may exit between the check and the kill, and set -e (the bench)
	# would end the clean-up there
	for p in "${ML_PIDS[@]}"; do ml_ours "$p" && { kill -TERM "$p" 2>/dev/null || true; }; done
	for p in "${ML_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do ml_ours "$p" || break; sleep 0.2; done
		ml_ours "$p" && { kill -KILL "$p" 2>/dev/null || true; }
	done
	for ns in "${ML_NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	if [ -n "${ML_KEEP:-}" ]; then echo "kept $ML_TMP"; else rm -rf "$ML_TMP"; fi
}

# ml_ns VAR SHORT: create namespace "ml<id><SHORT>" with loopback up, register it for
# cleanup and store its name in VAR (not printed: $(…) would run in a subshell and the
# registration would be lost).
ml_ns() {
	local ns="ml${ML_ID}$2"
	ML_NS+=("$ns")
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	printf -v "$1" '%s' "$ns"
}

# ml_link NS_A IF_A ADDR_A/LEN NS_B IF_B ADDR_B/LEN: a veth pair between two namespaces.
ml_link() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# ml_engine_line [ORIGIN_HOST...]: the engine tests' line, client C 10.77.1.2 ── 10.77.1.1
# gateway G 10.77.2.1 ── origin O 10.77.2.2 (plus 10.77.2.HOST for each argument): the
# namespaces, links, routes inside them and forwarding in G; sets C, G and O. Only the lab's
# own addresses: the "default" routes point at G, which has no way out.
ml_engine_line() {
	local h
	ml_ns C c; ml_ns G g; ml_ns O o
	ml_link "$C" c0 10.77.1.2/24 "$G" g0 10.77.1.1/24
	ml_link "$G" g1 10.77.2.1/24 "$O" o0 10.77.2.2/24
	for h in "$@"; do ip -n "$O" addr add "10.77.2.$h/24" dev o0; done
	ip -n "$C" route add default via 10.77.1.1
	ip -n "$O" route add default via 10.77.2.1
	ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1
}

# ml_bg NS LOGNAME CMD...: run CMD in NS in the background, log to $ML_TMP/LOGNAME.log.
ml_bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$ML_TMP/$log.log" 2>&1 &
	ML_PIDS+=($!)
	ML_LASTPID=$!
	ML_START[$!]=$(ml_starttime $!)
}

# ml_term PID [TRIES]: SIGTERM a process this test started and wait (TRIES x 0.1 s, default
# 8 s) for it to exit; 1 if it is still running.
ml_term() {
	local i
	ml_ours "$1" || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	for ((i = 0; i < ${2:-80}; i++)); do ml_ours "$1" || return 0; sleep 0.1; done
	return 1
}

# ml_wait_port NS ADDR PORT [TRIES]: wait until a TCP port accepts in NS.
ml_wait_port() {
	local i
	for ((i = 0; i < ${4:-50}; i++)); do
		if ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "timeout waiting for $2:$3 in $1" >&2
	return 1
}

# ml_wait_file FILE [TRIES]: wait until FILE exists.
ml_wait_file() {
	local i
	for ((i = 0; i < ${2:-50}; i++)); do [ -e "$1" ] && return 0; sleep 0.1; done
	echo "timeout waiting for $1" >&2
	return 1
}

# ok DESC CMD...: run an assertion; count and report it.
ok() {
	local desc=$1
	shift
	if "$@"; then
		ML_PASS=$((ML_PASS + 1)); echo "  ok   $desc"
	else
		ML_FAIL=$((ML_FAIL + 1)); echo "  FAIL $desc"
	fi
}

# ml_done: print the closing line and return the status.
ml_done() {
	echo "$ML_PASS passed, $ML_FAIL failed"
	[ "$ML_FAIL" -eq 0 ]
}

# ml_webpki DIR HOST...: a mock public web PKI with the openssl CLI: root, intermediate, and a
# leaf per "NAME[,SAN...]" argument (files DIR/NAME.pem, DIR/NAME.key, DIR/NAME.chain.pem).
ml_webpki() {
	local d=$1 spec name san
	shift
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
	    -subj "/C=XX/O=mitmlab web PKI/CN=Lab Web Root (LAB mock)" \
	    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -keyout "$d/root.key" -out "$d/root.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/C=XX/O=mitmlab web PKI/CN=Lab Web CA 1 (LAB mock)" \
	    -keyout "$d/int.key" -out "$d/int.csr" 2>/dev/null
	printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$d/int.ext"
	openssl x509 -req -in "$d/int.csr" -CA "$d/root.pem" -CAkey "$d/root.key" -CAcreateserial \
	    -days 1825 -extfile "$d/int.ext" -out "$d/int.pem" 2>/dev/null
	for spec in "$@"; do
		name=${spec%%,*}
		san=$(echo "$spec" | tr ',' '\n' | sed 's/^/DNS:/' | paste -sd, -)
		openssl req -newkey rsa:2048 -nodes -subj "/C=XX/O=Lab Origin/CN=$name" \
		    -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null
		printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nauthorityInfoAccess=OCSP;URI:http://ocsp.lab.invalid\n' "$san" >"$d/$name.ext"
		openssl x509 -req -in "$d/$name.csr" -CA "$d/int.pem" -CAkey "$d/int.key" \
		    -set_serial "0x$(openssl rand -hex 16)" -days 365 -extfile "$d/$name.ext" \
		    -out "$d/$name.pem" 2>/dev/null
		cat "$d/$name.pem" "$d/int.pem" >"$d/$name.chain.pem"
	done
}
