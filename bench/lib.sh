#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Shell helpers the benchmark scripts share: medians, the CPU of processes
# and cores from /proc, ports, waiting for a server, nvtcp-perf's JSON
# summary. Sourced, not run.

# shellcheck disable=SC2034 # used by the scripts that source this file
HZ=$(getconf CLK_TCK)

# Build ninja targets "$@" in $BUILD, first set up from $SRC as a release
# build without tests ($MESON_ARGS adds setup options).
build_targets() {
	if [[ ! -f $BUILD/build.ninja ]]; then
		# shellcheck disable=SC2086
		meson setup "$BUILD" "$SRC" --buildtype=release -Dtests=false ${MESON_ARGS:-} >/dev/null
	fi
	ninja -C "$BUILD" "$@" >/dev/null
}

# The median of the numbers on stdin.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "n/a"; exit }
		if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 }
	}'
}

# The value of key=value field $2 in line $1.
field() {
	tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'
}

# The median of field $2 over the lines of file $1.
median_of() {
	local line
	while read -r line; do
		field "$line" "$2"
	done <"$1" | median
}

# Number $2 with $1 decimals.
fmt() {
	printf "%.${1}f" "$2"
}

# utime + stime of process $1, in clock ticks.
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# utime + stime of this shell's waited-for children, in ticks.
children_ticks() {
	sed 's/.*) //' "/proc/$$/stat" | awk '{ print $14 + $15 }'
}

# Busy clock ticks of cores 0 and 1, whoever used them (/proc/stat).
cores_busy() {
	awk '$1 == "cpu0" || $1 == "cpu1" { b += $2 + $3 + $4 + $7 + $8 + $9 }
	     END { print b }' /proc/stat
}

rss_kib() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

machine_cpu() {
	awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo
}

now() {
	date +%s.%N
}

port_busy() {
	ss -Hltn "sport = :$1" | grep -q .
}

# $PORT if set (it must be free), else the first free port from 4420.
pick_port() {
	local p=${PORT:-4420}

	while port_busy "$p"; do
		if [[ -n ${PORT:-} ]]; then
			echo "port $PORT is busy" >&2
			exit 1
		fi
		p=$((p + 1))
	done
	echo "$p"
}

# Wait up to 60 s until file $1 has a line matching $2 (or process $3 died).
wait_for() {
	local i

	for ((i = 0; i < 600; i++)); do
		if grep -q "$2" "$1" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$3" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "startup failed:" >&2
	cat "$1" >&2
	exit 1
}

# Start SPDK's nvmf_tgt ($SPDK_DIR) on core 0 with config $1, RPC socket $2
# and log $3, listening on 127.0.0.1 port $4; sets TGT_PID once it listens.
spdk_start() {
	"$SPDK_DIR/bin/nvmf_tgt" -m 0x1 -r "$2" -c "$1" </dev/null >"$3" 2>&1 &
	TGT_PID=$!
	wait_for "$3" "Listening on 127.0.0.1 port $4" "$TGT_PID"
}

# nvtcp-perf's JSON summary as "iops=.. mib_s=.. p50_us=.. p99_us=.. cpu_us_per_io=..".
perf_fields() {
	awk '
	/"total":/ { t = $0; sub(/.*"total": \{/, "", t) }
	/"cpu_us_per_io":/ { c = $0; sub(/.*"cpu_us_per_io": /, "", c); sub(/[,}].*/, "", c) }
	END {
		n = split(t, kv, /, /)
		for (i = 1; i <= n; i++) {
			split(kv[i], p, /": /)
			k = p[1]; v = p[2]
			gsub(/[" {}]/, "", k); gsub(/[}]/, "", v)
			m[k] = v
		}
		printf "iops=%s mib_s=%s p50_us=%s p99_us=%s cpu_us_per_io=%s\n",
		       m["iops"], m["mib_per_s"], m["p50_us"], m["p99_us"], c
	}'
}

# What other processes used of cores 0-1, from the "others=" fields in files "$@".
others_summary() {
	local line
	cat "$@" | while read -r line; do field "$line" others; done | sort -g |
		awk '{ v[NR] = $1 } END {
		med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "other processes on cores 0-1 during the runs: median %.1f %%, max %.1f %%",
		       med, v[NR]
		printf " of a core"
		note = " (quiet)"
		if (v[NR] > 25) note = " (quiet, with bursts)"
		if (med > 10) note = " (busy: read the numbers with care)"
		print note }'
}

# On exit: SIGKILL the target of $TGT_PID if it still runs, remove $TMP.
target_cleanup() {
	if [[ -n ${TGT_PID:-} ]]; then
		kill -KILL "$TGT_PID" 2>/dev/null || true
		wait "$TGT_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}

# "<busy ticks of all reactors> <tick_rate>" of the target on $SOCK (through $CLI).
reactor_busy() {
	"$CLI" -s "$SOCK" -t 10 framework_get_reactors | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(sum(x["busy"] for x in r["reactors"]), r["tick_rate"])'
}

# The idle hosts of bench/nvmf/idle_qpairs ($IDLE) against the target on
# $TGT_PORT, subsystem $NQN, its log in $TMP/host.log, its pid in HOST_PID.
# host_start: start it with arguments "$@" and wait until its queue pairs are up.
host_start() {
	"$IDLE" -p "$TGT_PORT" -n "$NQN" "$@" >"$TMP/host.log" 2>&1 &
	HOST_PID=$!
	wait_for "$TMP/host.log" "^connected=" "$HOST_PID"
}

# Stop the host; fails if it had already exited (the target dropped a connection).
host_stop() {
	local rc=0

	if ! kill -0 "$HOST_PID" 2>/dev/null; then
		echo "idle_qpairs ended early:" >&2
		cat "$TMP/host.log" >&2
		rc=1
	fi
	kill -TERM "$HOST_PID" 2>/dev/null || true
	wait "$HOST_PID" || rc=1
	HOST_PID=
	return $rc
}
