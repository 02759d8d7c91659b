#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# What the storage path costs: one nvtcpd (one reactor on core 0) serving a
# 1 GiB RAM namespace and a 1 GiB file namespace (bdev_uring_create on a
# pre-written file, O_DIRECT), driven over 127.0.0.1 by nvtcp-perf on core
# 1, for 4 KiB random read and write at QD32 and QD128 and 128 KiB
# sequential read and write at QD16, each case on both namespaces, the runs
# interleaved. Per case and namespace: IOPS, p50 and p99 latency, the
# target's CPU (% of a core, from /proc/<pid>/stat over the run) and its CPU
# per I/O; and the file's CPU per I/O over the RAM disk's. The file's data is
# in the device's cache or wherever the machine's storage puts it: read the
# I/O latency for that, and the CPU per I/O for the cost of the io_uring
# path.
#
# With SPDK_DIR set to a directory holding SPDK's bin/nvmf_tgt (and free
# 2 MiB huge pages for it), each round also runs that target on core 0 with
# SPDK's own bdev_uring on the same file, driven the same way: the peer's
# row under nvtcpd's. The targets take turns on core 0, round after round.
#
# Environment: BUILD (release build dir, default /tmp/nvtcp-bench-host),
# RUNS (default 5), TIME (seconds per run, default 5), DIR (where the file
# goes, default /var/tmp; it must support O_DIRECT to measure that path),
# PORT (default 4420, or the first free port above it), SPDK_DIR (unset: no
# peer rows).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
BUILD=${BUILD:-/tmp/nvtcp-bench-host}
RUNS=${RUNS:-5}
TIME=${TIME:-5}
DIR=${DIR:-/var/tmp}
MESON_ARGS=${MESON_ARGS:-}
SPDK_DIR=${SPDK_DIR:-}
NQN=nqn.2016-06.io.nvtcp:bench
NVTCPD=$BUILD/app/nvtcpd/nvtcpd
PERF=$BUILD/app/nvtcp-perf/nvtcp-perf

# label | nvtcp-perf -w | io size | queue depth
CASES=(
	"4k randread QD32|randread|4096|32"
	"4k randread QD128|randread|4096|127"
	"4k randwrite QD32|randwrite|4096|32"
	"4k randwrite QD128|randwrite|4096|127"
	"128k seq read QD16|read|131072|16"
	"128k seq write QD16|write|131072|16"
)
# nvtcpd's namespaces: each the one namespace of subsystem $NQN:<name>.
NAMESPACES=(RAM file)
# The rows of a case: nvtcpd's namespaces, then the peer's file if it runs.
ROWS=("${NAMESPACES[@]}")

build() {
	build_targets app/nvtcpd/nvtcpd app/nvtcp-perf/nvtcp-perf
}

# nvtcpd's configuration: both namespaces, listening on port $1.
write_config() {
	cat <<JSON
{"subsystems": [
 {"subsystem": "bdev", "config": [
  {"method": "bdev_malloc_create",
   "params": {"name": "Malloc0", "num_blocks": 262144, "block_size": 4096}},
$(file_bdev)]},
 {"subsystem": "nvmf", "config": [
  {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
$(subsystem RAM Malloc0 "$1"),
$(subsystem file File0 "$1")]}]}
JSON
}

# The peer's configuration (SPDK's format, as nvtcpd's): the file alone.
write_peer_config() {
	cat <<JSON
{"subsystems": [
 {"subsystem": "bdev", "config": [
$(file_bdev)]},
 {"subsystem": "nvmf", "config": [
  {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
$(subsystem file File0 "$1")]}]}
JSON
}

file_bdev() {
	cat <<JSON
  {"method": "bdev_uring_create",
   "params": {"name": "File0", "filename": "$FILE", "block_size": 4096}}
JSON
}

# The entries of subsystem $NQN:$1 with bdev $2 as its namespace, listening on port $3.
subsystem() {
	cat <<JSON
  {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN:$1", "allow_any_host": true}},
  {"method": "nvmf_subsystem_add_ns",
   "params": {"nqn": "$NQN:$1", "namespace": {"bdev_name": "$2"}}},
  {"method": "nvmf_subsystem_add_listener",
   "params": {"nqn": "$NQN:$1", "listen_address": {"trtype": "TCP", "adrfam": "IPv4",
    "traddr": "127.0.0.1", "trsvcid": "$3"}}}
JSON
}

# A 1 GiB file written through (not sparse: reads must reach real blocks).
make_file() {
	FILE=$DIR/nvtcp-bench-$$.img
	dd if=/dev/urandom of="$FILE" bs=1M count=1024 oflag=direct status=none
}

start_target() {
	local port

	port=$(pick_port)
	write_config "$port" >"$TMP/nvtcpd.json"
	"$NVTCPD" -m 0x1 -r "$TMP/nvtcpd.sock" -c "$TMP/nvtcpd.json" >"$TMP/nvtcpd.log" 2>&1 &
	TGT_PID=$!
	wait_for "$TMP/nvtcpd.log" "^nvtcpd: listening on 127.0.0.1:$port" "$TGT_PID"
	if ! grep -q "File0: .*direct I/O" "$TMP/nvtcpd.log"; then
		echo "note: the file is served with buffered I/O ($DIR has no O_DIRECT)"
	fi
	TRID="trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$NQN"
}

start_peer() {
	local port

	port=$(pick_port)
	write_peer_config "$port" >"$TMP/peer.json"
	spdk_start "$TMP/peer.json" "$TMP/peer.sock" "$TMP/peer.log" "$port"
	TRID="trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$NQN"
}

# Stop the target with signal $1: TERM for nvtcpd, INT for nvmf_tgt (each one's orderly exit).
stop_target() {
	kill "-$1" "$TGT_PID"
	wait "$TGT_PID" || true
	TGT_PID=
}

# Whether the peer can run: SPDK_DIR holds nvmf_tgt and huge pages are free.
peer_ready() {
	if [[ -z $SPDK_DIR ]]; then
		return 1
	fi
	if [[ ! -x $SPDK_DIR/bin/nvmf_tgt ]]; then
		echo "no peer rows: $SPDK_DIR/bin/nvmf_tgt is missing"
		return 1
	fi
	if (($(awk '$1 == "HugePages_Free:" { print $2 }' /proc/meminfo) == 0)); then
		echo "no peer rows: SPDK's nvmf_tgt needs free 2 MiB huge pages"
		return 1
	fi
}

cleanup() {
	if [[ -n ${TGT_PID:-} ]]; then
		kill -TERM "$TGT_PID" 2>/dev/null || true
		wait "$TGT_PID" || true
	fi
	rm -rf "$TMP"
	rm -f "${FILE:-}"
}

# One run of case ($2 $3 $4) on subsystem $NQN:$1; appends "<perf fields> srv_cpu= us_per_io= others=" to $5.
measure() {
	local ns=$1 w=$2 size=$3 qd=$4 out=$5 c0 c1 k0 k1 b0 b1 t0 t1 line
	c0=$(cpu_ticks "$TGT_PID")
	k0=$(children_ticks)
	b0=$(cores_busy)
	t0=$(now)
	line=$("$PERF" -q "$qd" -o "$size" -w "$w" -t "$TIME" -c 0x2 -L --json \
		-r "$TRID:$ns" 2>"$TMP/perf.err" | perf_fields)
	t1=$(now)
	c1=$(cpu_ticks "$TGT_PID")
	b1=$(cores_busy)
	k1=$(children_ticks)
	awk -v l="$line" -v c="$((c1 - c0))" -v o="$((b1 - b0 - (c1 - c0) - (k1 - k0)))" \
		-v hz="$HZ" -v t0="$t0" -v t1="$t1" -v iops="$(field "$line" iops)" 'BEGIN {
		cpu = c / hz / (t1 - t0)
		printf "%s srv_cpu=%.1f us_per_io=%.2f others=%.1f\n", l, 100 * cpu,
		       (iops > 0 ? 1e6 * cpu / iops : 0), 100 * (o < 0 ? 0 : o) / hz / (t1 - t0) }' \
		>>"$out"
}

# One round: every case on each of nvtcpd's namespaces, then on the peer's.
round() {
	local i label w size qd ns

	start_target
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		IFS='|' read -r label w size qd <<<"${CASES[i]}"
		for ns in "${NAMESPACES[@]}"; do
			measure "$ns" "$w" "$size" "$qd" "$TMP/r.$i.$ns"
		done
	done
	stop_target TERM
	if ((${#ROWS[@]} == ${#NAMESPACES[@]})); then
		return
	fi
	start_peer
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		IFS='|' read -r label w size qd <<<"${CASES[i]}"
		measure file "$w" "$size" "$qd" "$TMP/r.$i.SPDK"
	done
	stop_target INT
}

row() {
	printf '%-20s %-5s %8s %7s %7s %7s %7s | %8s\n' "$@"
}

print_case() {
	local i=$1 label=$2 nl f ram_us us ratio

	for nl in "${ROWS[@]}"; do
		f=$TMP/r.$i.$nl
		us=$(median_of "$f" us_per_io)
		if [[ $nl == RAM ]]; then
			ram_us=$us
			ratio=""
		else
			ratio=$(awk -v a="$us" -v b="$ram_us" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		fi
		row "$label" "$nl" "$(fmt 0 "$(median_of "$f" iops)")" \
			"$(fmt 1 "$(median_of "$f" p50_us)")" "$(fmt 1 "$(median_of "$f" p99_us)")" \
			"$(fmt 0 "$(median_of "$f" srv_cpu)")" "$(fmt 2 "$us")" "$ratio"
		label=""
	done
}

main() {
	local r i label w size qd
	TMP=$(mktemp -d)
	trap cleanup EXIT
	build
	make_file
	if peer_ready; then
		ROWS+=(SPDK)
	fi
	echo "nvtcpd: RAM vs file namespace on 127.0.0.1, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) cores, $(uname -sr), $(machine_cpu); file on" \
		"$(df --output=source "$DIR" | tail -1) ($(findmnt -no FSTYPE -T "$DIR" | head -1))"
	echo "release build in $BUILD; target -m 0x1 on core 0, nvtcp-perf -c 0x2 on core 1;" \
		"median of $RUNS runs of ${TIME} s per case"
	for ((r = 0; r < RUNS; r++)); do
		round
	done
	echo
	row "case" "ns" "IOPS" "p50" "p99" "target" "target" "CPU/IO"
	row "" "" "" "us" "us" "CPU %" "us/IO" "vs RAM"
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		IFS='|' read -r label w size qd <<<"${CASES[i]}"
		print_case "$i" "$label"
	done
	echo
	others_summary "$TMP"/r.*
	echo "CPU/IO vs RAM: the row's target CPU per I/O over nvtcpd's RAM namespace's"
	if [[ ${ROWS[*]} == *SPDK* ]]; then
		echo "SPDK: SPDK's nvmf_tgt ($(grep -o -m1 'SPDK v[^ ]*' "$TMP/peer.log" || true))" \
			"on core 0 serving the same file through its bdev_uring, polling"
	fi
}

main "$@"
