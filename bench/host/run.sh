#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The standard NVMe/TCP table on one machine over 127.0.0.1: nvtcpd (its
# default configuration, a 1 GiB RAM namespace, one reactor on core 0)
# driven by nvtcp-perf on core 1, for
#   4 KiB random read at QD1, QD32 and QD128, 4 KiB random write at QD32,
#   128 KiB sequential read and write at QD16,
# each case RUNS times (the cases interleaved, so that a burst of noise hits
# them alike), printing medians of IOPS, MiB/s, p50 and p99 latency, the
# target's CPU (utime + stime of /proc/<pid>/stat over the run, % of a core)
# and the host's CPU per I/O (as nvtcp-perf reports it).
#
# Beside each row the raw-TCP floor: tcp_floor (bench/host/tcp_floor.c), a
# server with the target's syscall pattern and no NVMe logic on core 0 and
# its client on core 1, same queue depth and sizes, one connection as
# nvtcp-perf uses; nvtcpd's IOPS are printed as a % of the floor's.
#
# Also printed: the machine, and how much of cores 0-1 other processes used
# while the cases ran (busy ticks of /proc/stat minus our own processes').
#
# Environment: BUILD (build dir, default /tmp/nvtcp-bench-host, set up as a
# release build without tests; MESON_ARGS adds setup options), RUNS (runs
# per case, default 5), TIME (seconds per run, default 5), PORT (default
# 4420, or the first free port above it).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
BUILD=${BUILD:-/tmp/nvtcp-bench-host}
RUNS=${RUNS:-5}
TIME=${TIME:-5}
PORT=${PORT:-}
MESON_ARGS=${MESON_ARGS:-}
NQN=nqn.2016-06.io.nvtcp:cnode1
NVTCPD=$BUILD/app/nvtcpd/nvtcpd
PERF=$BUILD/app/nvtcp-perf/nvtcp-perf
FLOOR=$BUILD/bench/host/tcp_floor

# label | nvtcp-perf -w | tcp_floor -w | io size | queue depth
CASES=(
	"4k randread QD1|randread|read|4096|1"
	"4k randread QD32|randread|read|4096|32"
	"4k randread QD128|randread|read|4096|QD128"
	"4k randwrite QD32|randwrite|write|4096|32"
	"128k seq read QD16|read|read|131072|16"
	"128k seq write QD16|write|write|131072|16"
)

build() {
	build_targets app/nvtcpd/nvtcpd app/nvtcp-perf/nvtcp-perf bench/host/tcp_floor
}

# nvtcpd's default configuration (nvtcpd --help), on port $1.
write_config() {
	cat <<EOF
{"subsystems": [
 {"subsystem": "bdev", "config": [
  {"method": "bdev_malloc_create",
   "params": {"name": "Malloc0", "num_blocks": 2097152, "block_size": 512}}]},
 {"subsystem": "nvmf", "config": [
  {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
  {"method": "nvmf_create_subsystem",
   "params": {"nqn": "$NQN", "serial_number": "NVTCP0000000000001",
    "model_number": "nvtcp Controller", "allow_any_host": true}},
  {"method": "nvmf_subsystem_add_ns",
   "params": {"nqn": "$NQN", "namespace": {"bdev_name": "Malloc0"}}},
  {"method": "nvmf_subsystem_add_listener",
   "params": {"nqn": "$NQN", "listen_address": {"trtype": "TCP", "adrfam": "IPv4",
    "traddr": "127.0.0.1", "trsvcid": "$1"}}}]}]}
EOF
}

start_targets() {
	local port args=()

	port=$(pick_port)
	if [[ $port != 4420 ]]; then
		write_config "$port" >"$TMP/nvtcpd.json"
		args=(-c "$TMP/nvtcpd.json")
	fi
	"$NVTCPD" -m 0x1 -r "$TMP/nvtcpd.sock" "${args[@]}" >"$TMP/nvtcpd.log" 2>&1 &
	TGT_PID=$!
	wait_for "$TMP/nvtcpd.log" "^nvtcpd: listening on 127.0.0.1:$port" "$TGT_PID"
	TRID="trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$NQN"
	"$FLOOR" server -C 0 >"$TMP/floor.log" 2>&1 &
	FLOOR_PID=$!
	wait_for "$TMP/floor.log" "^port=" "$FLOOR_PID"
	FLOOR_PORT=$(sed -n 's/^port=//p' "$TMP/floor.log")
}

stop_targets() {
	if [[ -n ${TGT_PID:-} ]]; then
		kill -TERM "$TGT_PID" 2>/dev/null || true
		wait "$TGT_PID" || true
	fi
	if [[ -n ${FLOOR_PID:-} ]]; then
		kill -TERM "$FLOOR_PID" 2>/dev/null || true
		wait "$FLOOR_PID" || true
	fi
	TGT_PID=''
	FLOOR_PID=''
}

cleanup() {
	stop_targets
	rm -rf "$TMP"
}

# Run command "$@" while server $1 serves it; appends "<fields> srv_cpu=.. others=.." to $2.
measured() {
	local srv=$1 out=$2 c0 c1 k0 k1 b0 b1 s0 s1 t0 t1 line
	shift 2
	c0=$(cpu_ticks "$srv")
	k0=$(children_ticks)
	b0=$(cores_busy)
	s0=$(cpu_ticks "$TGT_PID")
	s0=$((s0 + $(cpu_ticks "$FLOOR_PID")))
	t0=$(now)
	if ! line=$("$@"); then
		echo "failed: $*" >&2
		exit 1
	fi
	t1=$(now)
	c1=$(cpu_ticks "$srv")
	b1=$(cores_busy)
	s1=$(cpu_ticks "$TGT_PID")
	s1=$((s1 + $(cpu_ticks "$FLOOR_PID")))
	k1=$(children_ticks)
	awk -v l="$line" -v c="$((c1 - c0))" -v o="$((b1 - b0 - (s1 - s0) - (k1 - k0)))" \
		-v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN {
		printf "%s srv_cpu=%.1f others=%.1f\n", l, 100 * c / hz / (t1 - t0),
		       100 * (o < 0 ? 0 : o) / hz / (t1 - t0) }' >>"$out"
}

run_perf() {
	local w=$1 size=$2 qd=$3

	"$PERF" -q "$qd" -o "$size" -w "$w" -t "$TIME" -c 0x2 -L --json -r "$TRID" \
		2>"$TMP/perf.err" | perf_fields
}

# nvtcp-perf -q 128 against the default queue (max_queue_depth 128: MQES 127, so 127
# commands fit) is refused instead of holding the extra I/O back as spdk_nvme_perf
# does; then QD128 runs at 127, for nvtcpd and the floor alike.
probe_qd128() {
	if "$PERF" -q 128 -o 4096 -w randread -t 1 -c 0x2 -r "$TRID" >/dev/null 2>&1; then
		QD128=128
	else
		QD128=127
	fi
}

run_floor() {
	"$FLOOR" client -p "$FLOOR_PORT" -C 1 -w "$1" -o "$2" -q "$3" -t "$TIME"
}

row() {
	printf '%-20s %7s %7s %6s %6s %6s %6s | %7s %6s %6s %6s | %8s | %6s\n' "$@"
}

main() {
	local r i label pw fw size qd n f iops fiops pct line
	TMP=$(mktemp -d)
	trap cleanup EXIT
	build
	start_targets
	probe_qd128
	echo "nvtcpd vs raw TCP on 127.0.0.1, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) cores, $(uname -sr), $(machine_cpu)"
	echo "release build in $BUILD; target (nvtcpd -m 0x1 / tcp_floor server) on core 0," \
		"load (nvtcp-perf -c 0x2 / tcp_floor client) on core 1"
	echo "median of $RUNS runs of ${TIME} s per case; load average at start:" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
	for ((r = 0; r < RUNS; r++)); do
		for ((i = 0; i < ${#CASES[@]}; i++)); do
			IFS='|' read -r label pw fw size qd <<<"${CASES[i]}"
			qd=${qd/QD128/$QD128}
			measured "$TGT_PID" "$TMP/nvt.$i" run_perf "$pw" "$size" "$qd"
			measured "$FLOOR_PID" "$TMP/floor.$i" run_floor "$fw" "$size" "$qd"
		done
	done
	echo
	row "case" "IOPS" "MiB/s" "p50" "p99" "target" "host" "floor" "floor" "floor" "floor" \
		"IOPS %" "others"
	row "" "" "" "us" "us" "CPU %" "us/IO" "IOPS" "p50 us" "srv %" "us/IO" "of floor" "% core"
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		IFS='|' read -r label pw fw size qd <<<"${CASES[i]}"
		n=$TMP/nvt.$i
		f=$TMP/floor.$i
		iops=$(median_of "$n" iops)
		fiops=$(median_of "$f" iops)
		pct=$(awk -v a="$iops" -v b="$fiops" \
			'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }')
		while read -r line; do
			field "$line" others
		done < <(cat "$n" "$f") >"$TMP/others.$i"
		row "$label" "$(fmt 0 "$iops")" "$(fmt 1 "$(median_of "$n" mib_s)")" \
			"$(fmt 1 "$(median_of "$n" p50_us)")" \
			"$(fmt 1 "$(median_of "$n" p99_us)")" \
			"$(fmt 0 "$(median_of "$n" srv_cpu)")" \
			"$(fmt 2 "$(median_of "$n" cpu_us_per_io)")" "$(fmt 0 "$fiops")" \
			"$(fmt 1 "$(median_of "$f" p50_us)")" \
			"$(fmt 0 "$(median_of "$f" srv_cpu)")" \
			"$(fmt 2 "$(median_of "$f" cpu_us_per_io)")" "$pct" \
			"$(fmt 1 "$(median <"$TMP/others.$i")")"
	done
	echo
	others_summary "$TMP"/nvt.* "$TMP"/floor.*
	if [[ $QD128 != 128 ]]; then
		echo "QD128 ran at queue depth $QD128 (nvtcpd and floor): nvtcp-perf refuses" \
			"-q 128 against the default max_queue_depth of 128 (127 commands fit)"
	fi
	echo "floor: tcp_floor, the same syscall pattern without NVMe (bench/host/tcp_floor.c):" \
		"its server's CPU % and its client's CPU us/IO;"
	echo "IOPS % of floor = nvtcpd IOPS / floor IOPS; others: what other processes used of" \
		"cores 0-1 during the case's runs"
}

main "$@"
