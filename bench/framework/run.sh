#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Benchmark the run-to-completion framework with fw_bench on a release build
# and print one table of medians:
#   - messages/s between two reactors, streamed and ping-pong
#   - event round trip between two reactors, median and p99
#   - CPU of an idle app, polling against interrupt mode, from the utime +
#     stime of /proc/<pid>/stat, and the reactors' sleeps per second
#
# Environment: BUILD (build dir, default /tmp/nvtcp-bench-build), RUNS (runs
# per case, default 5), TIME (seconds per throughput/latency run, default 3),
# IDLE_TIME (seconds of CPU sampling per idle run, default 5).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
BUILD=${BUILD:-/tmp/nvtcp-bench-build}
RUNS=${RUNS:-5}
TIME=${TIME:-3}
IDLE_TIME=${IDLE_TIME:-5}
BENCH=$BUILD/bench/framework/fw_bench

build() {
	build_targets bench/framework/fw_bench
}

# Run fw_bench $RUNS times with the given arguments into $TMP/runs.
runs() {
	local i
	: >"$TMP/runs"
	for ((i = 0; i < RUNS; i++)); do
		"$BENCH" "$@" -t "$TIME" >>"$TMP/runs"
	done
}

# One idle run: prints "<cpu % of the whole process> <sleeps/s> <awake %> <others' cpu %>".
idle_once() {
	local pid t0 t1 c0 c1 b0 b1 line
	"$BENCH" -M idle -t $((IDLE_TIME + 1)) "$@" >"$TMP/idle.out" &
	pid=$!
	sleep 0.5
	c0=$(cpu_ticks "$pid")
	b0=$(cores_busy)
	t0=$(now)
	sleep "$IDLE_TIME"
	c1=$(cpu_ticks "$pid")
	b1=$(cores_busy)
	t1=$(now)
	wait "$pid"
	line=$(cat "$TMP/idle.out")
	awk -v c="$((c1 - c0))" -v o="$((b1 - b0 - (c1 - c0)))" -v hz="$HZ" -v t0="$t0" \
		-v t1="$t1" -v s="$(field "$line" sleeps_per_s)" \
		-v a="$(field "$line" asleep_pct)" \
		'BEGIN { printf "%.2f %s %.2f %.2f\n", 100 * c / hz / (t1 - t0), s, 100 - a,
			 100 * (o < 0 ? 0 : o) / hz / (t1 - t0) }'
}

# Idle case $1 (label) with $2 reactors and the remaining fw_bench arguments.
idle_case() {
	local label=$1 nreactors=$2 i cpu sleeps awake others
	shift 2
	: >"$TMP/cpu"
	: >"$TMP/sleeps"
	: >"$TMP/awake"
	: >"$TMP/others"
	for ((i = 0; i < RUNS; i++)); do
		read -r cpu sleeps awake others < <(idle_once "$@")
		echo "$cpu" >>"$TMP/cpu"
		echo "$sleeps" >>"$TMP/sleeps"
		echo "$awake" >>"$TMP/awake"
		echo "$others" >>"$TMP/others"
	done
	cpu=$(median <"$TMP/cpu")
	sleeps=$(median <"$TMP/sleeps")
	awake=$(median <"$TMP/awake")
	others=$(median <"$TMP/others")
	row "idle CPU, $label, $nreactors reactor(s)" \
		"$(awk -v c="$cpu" -v n="$nreactors" 'BEGIN { printf "%.2f", c / n }')" \
		"% of a core per reactor ($cpu % process; reactors awake $awake %;" \
		"other processes: $others % of a core on cores 0-1)"
	if [[ $label == interrupt ]]; then
		row "reactor sleeps/s, interrupt, $nreactors reactor(s)" "$sleeps" "all reactors together"
	fi
	echo "$cpu $nreactors $others" >>"$TMP/idle.$label"
}

# A table row: case, value, then notes.
row() {
	printf '%-44s %14s  %s\n' "$1" "$2" "${*:3}"
}

main() {
	local stream pp rt med p99
	TMP=$(mktemp -d)
	trap 'rm -rf "$TMP"' EXIT
	build
	echo "fw_bench: release build in $BUILD, reactors on cores 0-1; median of $RUNS runs"
	echo "(messages and events: ${TIME} s per run, polling mode;" \
		"idle: ${IDLE_TIME} s of CPU sampling per run)"
	echo
	row "case" "median" ""
	row "----" "------" ""
	runs -M stream --polling
	stream=$(median_of "$TMP/runs" msgs_per_s)
	row "messages/s, stream core 0 -> core 1" "$stream" "msg/s"
	runs -M pingpong --polling
	pp=$(median_of "$TMP/runs" msgs_per_s)
	rt=$(median_of "$TMP/runs" roundtrips_per_s)
	row "messages/s, ping-pong core 0 <-> core 1" "$pp" "msg/s ($rt round trips/s)"
	runs -M latency --polling
	med=$(median_of "$TMP/runs" median_ns)
	p99=$(median_of "$TMP/runs" p99_ns)
	row "event round trip core 0 -> 1 -> 0, median" "$med" "ns"
	row "event round trip core 0 -> 1 -> 0, p99" "$p99" "ns"
	idle_case polling 1 -m 0x1 --polling
	idle_case polling 2 -m 0x3 --polling
	idle_case interrupt 1 -m 0x1
	idle_case interrupt 2 -m 0x3
	echo
	awk '{ if ($1 / $2 >= 1) bad = 1 } END {
		printf "interrupt mode under 1%% of a core per reactor: %s\n", bad ? "NO" : "yes" }' \
		"$TMP/idle.interrupt"
	awk '{ if ($1 / $2 < 90) bad = 1; if ($3 > 5) busy = 1 } END {
		printf "polling mode about 100%% of a core per reactor (>= 90%%): %s%s\n", bad ? "NO" : "yes",
		       bad && busy ? " (other processes were using cores 0-1 too)" : "" }' \
		"$TMP/idle.polling"
}

main "$@"
