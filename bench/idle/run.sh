#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# How idle nvtcpd is (one reactor on core 0, interrupt mode, its default):
# CPU (utime + stime of /proc/<pid>/stat, and the scheduler's runtime of
# /proc/<pid>/task/*/schedstat, which is exact where the ticks are sampled)
# and wakeups (voluntary context switches of its threads) per second, over
# IDLE_TIME seconds, for:
#   - no host;
#   - HOSTS idle hosts with keep alive on, as Linux hosts (KATO 5 s, a Keep
#     Alive every 2.5 s, each host at its own phase): one controller each,
#     admin queue and one I/O queue (bench/nvmf/idle_qpairs);
#   - 1,000 idle queue pairs (10 controllers x (admin + 99 I/O), KATO 0).
# Aims: under 0.1 % of a core with no host, under 0.3 % with the idle hosts;
# the aims are checked here, in the table, never in tests. Each run starts a
# fresh nvtcpd; medians of RUNS runs.
#
# Environment: BUILD (build dir, default /tmp/nvtcp-bench-host, set up as a
# release build without tests; MESON_ARGS adds setup options), RUNS (default
# 3), IDLE_TIME (seconds per sample, default 10), HOSTS (default 100), PORT
# (default 4420, or the first free port above it).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
BUILD=${BUILD:-/tmp/nvtcp-bench-host}
RUNS=${RUNS:-3}
IDLE_TIME=${IDLE_TIME:-10}
HOSTS=${HOSTS:-100}
PORT=${PORT:-}
MESON_ARGS=${MESON_ARGS:-}
NQN=nqn.2016-06.io.nvtcp:cnode1
NVTCPD=$BUILD/app/nvtcpd/nvtcpd
IDLE=$BUILD/bench/nvmf/idle_qpairs

write_config() {
	cat <<EOF2
{"subsystems": [
 {"subsystem": "bdev", "config": [
  {"method": "bdev_malloc_create",
   "params": {"name": "Malloc0", "num_blocks": 131072, "block_size": 512}}]},
 {"subsystem": "nvmf", "config": [
  {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
  {"method": "nvmf_create_subsystem",
   "params": {"nqn": "$NQN", "allow_any_host": true}},
  {"method": "nvmf_subsystem_add_ns",
   "params": {"nqn": "$NQN", "namespace": {"bdev_name": "Malloc0"}}},
  {"method": "nvmf_subsystem_add_listener",
   "params": {"nqn": "$NQN", "listen_address": {"trtype": "TCP", "adrfam": "IPv4",
    "traddr": "127.0.0.1", "trsvcid": "$1"}}}]}]}
EOF2
}

# "<voluntary switches> <runtime ns> <utime+stime ticks>" of all threads of process $1.
snapshot() {
	local t s=0 r=0

	for t in /proc/"$1"/task/*; do
		s=$((s + $(awk '$1 == "voluntary_ctxt_switches:" { print $2 }' "$t/status")))
		r=$((r + $(cut -d' ' -f1 "$t/schedstat")))
	done
	echo "$s $r $(cpu_ticks "$1")"
}

# Appends "cpu=<schedstat %> ticks=<utime+stime %> wakeups=<per s> others=<%>" to file $1.
sample() {
	local s0 r0 c0 s1 r1 c1 b0 b1 t0 t1

	read -r s0 r0 c0 < <(snapshot "$TGT_PID")
	b0=$(cores_busy)
	t0=$(now)
	sleep "$IDLE_TIME"
	read -r s1 r1 c1 < <(snapshot "$TGT_PID")
	b1=$(cores_busy)
	t1=$(now)
	awk -v s=$((s1 - s0)) -v r=$((r1 - r0)) -v c=$((c1 - c0)) -v b=$((b1 - b0)) \
		-v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN {
		d = t1 - t0; o = b - c
		printf "cpu=%.3f ticks=%.2f wakeups=%.1f others=%.1f\n", 100 * r / 1e9 / d,
		       100 * c / hz / d, s / d, 100 * (o < 0 ? 0 : o) / hz / d }' >>"$1"
}

cleanup() {
	if [[ -n ${HOST_PID:-} ]]; then
		kill -TERM "$HOST_PID" 2>/dev/null || true
		wait "$HOST_PID" 2>/dev/null || true
	fi
	target_cleanup
}

one_run() {
	TGT_PORT=$(pick_port)
	write_config "$TGT_PORT" >"$TMP/nvtcpd.json"
	"$NVTCPD" -m 0x1 -r "$TMP/nvtcpd.sock" -c "$TMP/nvtcpd.json" >"$TMP/nvtcpd.log" 2>&1 &
	TGT_PID=$!
	wait_for "$TMP/nvtcpd.log" "^nvtcpd: listening on 127.0.0.1:$TGT_PORT" "$TGT_PID"
	sleep 1
	sample "$TMP/none"

	host_start -c "$HOSTS" -q 1 -s 127 -k 5000 -i 2500
	sleep 1
	sample "$TMP/hosts"
	host_stop

	host_start -c 10 -q 99 -s 127 -k 0
	sleep 1
	sample "$TMP/qpairs"
	host_stop

	kill -TERM "$TGT_PID"
	wait "$TGT_PID" || echo "nvtcpd exit status $? after SIGTERM" >&2
	TGT_PID=
}

row() {
	printf '%-44s %9s %9s %10s %8s  %s\n' "$@" | sed 's/ *$//'
}

# The table row of case file $1, labelled $2, with aim $3 (% of a core, or "-").
case_row() {
	local cpu aim="-" ok=""

	cpu=$(median_of "$1" cpu)
	if [[ $3 != - ]]; then
		aim="< $3 %"
		ok=$(awk -v v="$cpu" -v a="$3" 'BEGIN { print (v < a ? "yes" : "NO") }')
	fi
	row "$2" "$cpu" "$(median_of "$1" ticks)" "$(median_of "$1" wakeups)" "$aim" "$ok"
}

main() {
	local r

	TMP=$(mktemp -d)
	HOST_PID=''
	TGT_PID=''
	trap cleanup EXIT
	if (($(ulimit -n) < 1300)); then
		ulimit -n 1300
	fi
	build_targets app/nvtcpd/nvtcpd bench/nvmf/idle_qpairs
	for ((r = 0; r < RUNS; r++)); do
		one_run
	done
	echo "nvtcpd idle on 127.0.0.1, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) cores, $(uname -sr), $(machine_cpu); load average at the end:" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "release build in $BUILD; nvtcpd -m 0x1 (core 0, interrupt mode); median of $RUNS" \
		"runs of $IDLE_TIME s per case"
	echo
	row "case" "CPU %" "CPU %" "wakeups" "aim" "met"
	row "" "schedstat" "ticks" "per s" "" ""
	case_row "$TMP/none" "no host" 0.1
	case_row "$TMP/hosts" "$HOSTS idle hosts, KATO 5 s, Keep Alive / 2.5 s" 0.3
	case_row "$TMP/qpairs" "1,000 idle queue pairs (10 x 100), KATO 0" -
	echo
	others_summary "$TMP/none" "$TMP/hosts" "$TMP/qpairs" | sed 's/during the runs/while sampling/'
	echo "CPU %: of one core; schedstat: the scheduler's runtime of nvtcpd's threads;" \
		"ticks: utime + stime (sampled at $HZ Hz);"
	echo "wakeups: voluntary context switches of nvtcpd's threads (each a sleep that ended)"
}

main "$@"
