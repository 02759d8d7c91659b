#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# An RBD namespace beside the librbd floor. A throw-away single-node Ceph
# cluster (test/common/ceph_cluster.py: one monitor, one bluestore OSD on a
# sparse file, pool size 1) holds one image of IMAGE_MIB (default 2 GiB),
# written through first so that reads reach data. Each case runs twice in a
# row, round after round:
#   floor   bench/rbd/rbd_floor on core 0 (taskset, librbd's threads
#           included): librbd's asynchronous API straight on the image
#   nvtcpd  nvtcpd on core 0 (taskset -c 0 and -m 0x1, librbd's threads
#           included) serving the image through bdev_rbd_register_cluster
#           and bdev_rbd_create from an SPDK-format configuration, driven
#           over 127.0.0.1 by nvtcp-perf, also on core 0 (it sleeps while
#           it waits; its CPU is not nvtcpd's). SPDK's spdk_nvme_perf when
#           SPDK_DIR holds bin/spdk_nvme_perf: on core 1, as it polls a
#           whole core, beside the cluster it then slows down
# for 4 KiB random read and write at QD32 and QD128 (127: what one nvtcpd
# queue takes, the floor alike) and 128 KiB sequential read and write at
# QD16. Per case, medians of ROUNDS: IOPS and CPU per I/O of the floor (its
# process, getrusage) and of nvtcpd (/proc/<pid>/stat over the run, divided
# by the I/Os), the OSD's CPU per I/O beside each, and nvtcpd over the floor.
# The monitor and the OSD are pinned to core 1 in every row: the cluster's
# CPU bounds the IOPS on this machine, and both rows get the same.
#
# Environment: BUILD (release build dir, default /tmp/nvtcp-bench-host;
# MESON_ARGS adds setup options), ROUNDS (default 3), TIME (seconds per run,
# default 10), IMAGE_MIB (default 2048), PORT (default 4420, or the first
# free port above it), SPDK_DIR (unset: nvtcp-perf drives nvtcpd),
# NVTCPD_ARGS (more nvtcpd options), ONLY (an extended regex: only the cases
# whose label matches).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
BUILD=${BUILD:-/tmp/nvtcp-bench-host}
ROUNDS=${ROUNDS:-3}
TIME=${TIME:-10}
IMAGE_MIB=${IMAGE_MIB:-2048}
MESON_ARGS=${MESON_ARGS:-}
SPDK_DIR=${SPDK_DIR:-}
NVTCPD_ARGS=${NVTCPD_ARGS:-}
ONLY=${ONLY:-}
NQN=nqn.2016-06.io.nvtcp:rbd
IMAGE=nvtcp-bench
NVTCPD=$BUILD/app/nvtcpd/nvtcpd
PERF=$BUILD/app/nvtcp-perf/nvtcp-perf
FLOOR=$BUILD/bench/rbd/rbd_floor
CLUSTER=$SRC/test/common/ceph_cluster.py

# label | -w | io size | queue depth
CASES=(
	"4k randread QD32|randread|4096|32"
	"4k randread QD128|randread|4096|127"
	"4k randwrite QD32|randwrite|4096|32"
	"4k randwrite QD128|randwrite|4096|127"
	"128k seq read QD16|read|131072|16"
	"128k seq write QD16|write|131072|16"
)
ROWS=(floor)

# Keep only the cases ONLY matches.
select_cases() {
	local c kept=()

	[[ -z $ONLY ]] && return 0
	for c in "${CASES[@]}"; do
		[[ ${c%%|*} =~ $ONLY ]] && kept+=("$c")
	done
	CASES=("${kept[@]}")
}

cleanup() {
	if [[ -n ${TGT_PID:-} ]]; then
		kill -TERM "$TGT_PID" 2>/dev/null || true
		wait "$TGT_PID" || true
	fi
	if [[ -f ${TMP:-}/ceph/ceph.conf ]]; then
		python3 "$CLUSTER" stop "$TMP/ceph" >/dev/null || true
	fi
	rm -rf "${TMP:-}"
}

start_cluster() {
	local out

	if ! out=$(python3 "$CLUSTER" start "$TMP/ceph" 2>"$TMP/ceph.err"); then
		cat "$TMP/ceph.err" >&2
		exit 1
	fi
	CONF=$(field "$(tr '\n' ' ' <<<"$out")" conf)
	KEYRING=$(field "$(tr '\n' ' ' <<<"$out")" keyring)
	OSD_PID=$(cat "$TMP/ceph/run/osd.0.daemon.pid")
	MON_PID=$(cat "$TMP/ceph/run/mon.a.daemon.pid")
	CLUSTER_START=$(field "$(tr '\n' ' ' <<<"$out")" start_seconds)
	# The cluster gets core 1 to itself in every row, so that the floor and
	# nvtcpd face the same Ceph: its CPU is what bounds the IOPS here.
	taskset -a -p 2 "$OSD_PID" >/dev/null
	taskset -a -p 2 "$MON_PID" >/dev/null
	rbd -c "$CONF" create --size "${IMAGE_MIB}M" "rbd/$IMAGE"
	rbd -c "$CONF" bench --io-type write --io-size 4M --io-threads 4 \
		--io-total "${IMAGE_MIB}M" --io-pattern seq "rbd/$IMAGE" >/dev/null
}

# Whether this nvtcpd has the rbd module (it is built when librbd is found).
nvtcpd_has_rbd() {
	[[ -x $NVTCPD ]] && grep -q bdev_rbd_register_cluster "$NVTCPD"
}

write_config() {
	cat <<JSON
{"subsystems": [
 {"subsystem": "bdev", "config": [
  {"method": "bdev_rbd_register_cluster",
   "params": {"name": "bench_cluster", "user_id": "admin", "config_file": "$CONF",
    "key_file": "$KEYRING"}},
  {"method": "bdev_rbd_create",
   "params": {"name": "Rbd0", "pool_name": "rbd", "rbd_name": "$IMAGE", "block_size": 4096,
    "cluster_name": "bench_cluster"}}]},
 {"subsystem": "nvmf", "config": [
  {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
  {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN", "allow_any_host": true}},
  {"method": "nvmf_subsystem_add_ns",
   "params": {"nqn": "$NQN", "namespace": {"bdev_name": "Rbd0"}}},
  {"method": "nvmf_subsystem_add_listener",
   "params": {"nqn": "$NQN", "listen_address": {"trtype": "TCP", "adrfam": "IPv4",
    "traddr": "127.0.0.1", "trsvcid": "$1"}}}]}]}
JSON
}

start_target() {
	local port

	port=$(pick_port)
	write_config "$port" >"$TMP/nvtcpd.json"
	# shellcheck disable=SC2086 # options, split on purpose
	taskset -c 0 "$NVTCPD" -m 0x1 -r "$TMP/nvtcpd.sock" -c "$TMP/nvtcpd.json" $NVTCPD_ARGS \
		>"$TMP/nvtcpd.log" 2>&1 &
	TGT_PID=$!
	wait_for "$TMP/nvtcpd.log" "^nvtcpd: listening on 127.0.0.1:$port" "$TGT_PID"
	TRID="trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$NQN"
}

stop_target() {
	kill -TERM "$TGT_PID"
	wait "$TGT_PID" || true
	TGT_PID=
}

# "iops=.." of one host run of case ($1 $2 $3) against $TRID.
host_run() {
	local w=$1 size=$2 qd=$3

	if [[ -n $SPDK_DIR && -x $SPDK_DIR/bin/spdk_nvme_perf ]]; then
		"$SPDK_DIR/bin/spdk_nvme_perf" -q "$qd" -o "$size" -w "$w" -t "$TIME" -c 0x2 \
			-r "$TRID" 2>>"$TMP/perf.err" | awk '$1 == "Total" { print "iops=" $3 }'
	else
		"$PERF" -q "$qd" -o "$size" -w "$w" -t "$TIME" -c 0x1 --json -r "$TRID" \
			2>>"$TMP/perf.err" | perf_fields
	fi
}

# Ticks of the monitor and the OSD together, and of the OSD alone.
cluster_ticks() {
	echo "$(($(cpu_ticks "$OSD_PID") + $(cpu_ticks "$MON_PID"))) $(cpu_ticks "$OSD_PID")"
}

# Appends "iops= us_per_io= osd_us_per_io= others=" to $1: $2 the client's
# line, $3 its CPU per I/O (empty: from the line; a target's, whose ticks
# follow, always from them), then the ticks of the
# target (0 for the floor), the cluster (as cluster_ticks), the shell's
# children and cores 0-1 before and after, and the times of the run.
record() {
	local out=$1 line=$2 us=$3

	shift 3
	# A target's CPU comes from its ticks (c0, c1), never from the host's line.
	[[ $1 == 0 && $2 == 0 ]] || us=-
	awk -v iops="$(field "$line" iops)" -v us="${us:-$(field "$line" cpu_us_per_io)}" \
		-v c0="$1" -v c1="$2" -v m0="$3" -v o0="$4" -v m1="$5" -v o1="$6" \
		-v k0="$7" -v k1="$8" -v b0="$9" -v b1="${10}" -v t0="${11}" -v t1="${12}" \
		-v hz="$HZ" 'BEGIN {
		ios = iops * (t1 - t0)
		if (us == "-") us = ios > 0 ? 1e6 * (c1 - c0) / hz / ios : 0
		others = (b1 - b0) - (c1 - c0) - (m1 - m0) - (k1 - k0)
		printf "iops=%s us_per_io=%.2f osd_us_per_io=%.2f others=%.1f\n", iops, us,
		       (ios > 0 ? 1e6 * (o1 - o0) / hz / ios : 0),
		       100 * (others < 0 ? 0 : others) / hz / (t1 - t0) }' >>"$out"
}

# One floor run of case ($1 $2 $3), appended to $4.
measure_floor() {
	local w=$1 size=$2 qd=$3 out=$4 m0 m1 k0 k1 b0 b1 t0 t1 line

	m0=$(cluster_ticks)
	k0=$(children_ticks)
	b0=$(cores_busy)
	t0=$(now)
	line=$(taskset -c 0 "$FLOOR" -c "$CONF" -n "$IMAGE" -q "$qd" -o "$size" -w "$w" -t "$TIME")
	t1=$(now)
	b1=$(cores_busy)
	k1=$(children_ticks)
	m1=$(cluster_ticks)
	# shellcheck disable=SC2086 # the cluster's two numbers
	record "$out" "$line" "" 0 0 $m0 $m1 "$k0" "$k1" "$b0" "$b1" "$t0" "$t1"
}

# One run through nvtcpd: its CPU over the host's run, over the I/Os.
measure_nvtcpd() {
	local w=$1 size=$2 qd=$3 out=$4 c0 c1 m0 m1 k0 k1 b0 b1 t0 t1 line

	c0=$(cpu_ticks "$TGT_PID")
	m0=$(cluster_ticks)
	k0=$(children_ticks)
	b0=$(cores_busy)
	t0=$(now)
	line=$(host_run "$w" "$size" "$qd")
	t1=$(now)
	b1=$(cores_busy)
	k1=$(children_ticks)
	m1=$(cluster_ticks)
	c1=$(cpu_ticks "$TGT_PID")
	# shellcheck disable=SC2086 # the cluster's two numbers
	record "$out" "$line" "" "$c0" "$c1" $m0 $m1 "$k0" "$k1" "$b0" "$b1" "$t0" "$t1"
}

# One round: every case on the floor, then through nvtcpd, one after the other.
round() {
	local i label w size qd

	if [[ ${ROWS[*]} == *nvtcpd* ]]; then
		start_target
	fi
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		IFS='|' read -r label w size qd <<<"${CASES[i]}"
		measure_floor "$w" "$size" "$qd" "$TMP/r.$i.floor"
		if [[ ${ROWS[*]} == *nvtcpd* ]]; then
			measure_nvtcpd "$w" "$size" "$qd" "$TMP/r.$i.nvtcpd"
		fi
	done
	if [[ ${ROWS[*]} == *nvtcpd* ]]; then
		stop_target
	fi
}

# The table's line of case $1 ($2): the floor, nvtcpd when it ran, the ratios.
print_case() {
	local i=$1 label=$2 fl_i fl_u fl_o nv_i nv_u nv_o

	fl_i=$(median_of "$TMP/r.$i.floor" iops)
	fl_u=$(median_of "$TMP/r.$i.floor" us_per_io)
	fl_o=$(median_of "$TMP/r.$i.floor" osd_us_per_io)
	if [[ ${ROWS[*]} != *nvtcpd* ]]; then
		printf '| %s | %s | %s | %s | | | | | |\n' "$label" "$(fmt 0 "$fl_i")" \
			"$(fmt 1 "$fl_u")" "$(fmt 1 "$fl_o")"
		return
	fi
	nv_i=$(median_of "$TMP/r.$i.nvtcpd" iops)
	nv_u=$(median_of "$TMP/r.$i.nvtcpd" us_per_io)
	nv_o=$(median_of "$TMP/r.$i.nvtcpd" osd_us_per_io)
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(fmt 0 "$fl_i")" \
		"$(fmt 1 "$fl_u")" "$(fmt 1 "$fl_o")" "$(fmt 0 "$nv_i")" "$(fmt 1 "$nv_u")" \
		"$(fmt 1 "$nv_o")" "$(awk -v a="$nv_i" -v b="$fl_i" 'BEGIN { printf "%.2f", a / b }')" \
		"$(awk -v a="$nv_u" -v b="$fl_u" 'BEGIN { printf "%.2f", a / b }')"
}

main() {
	local r i label w size qd host=nvtcp-perf host_core=0

	select_cases
	TMP=$(mktemp -d /tmp/nvtcp-bench-rbd.XXXXXX)
	trap cleanup EXIT
	if ! python3 -c "import sys; sys.path.insert(0, '$SRC/test/common');
import ceph_cluster; ceph_cluster.require_ceph()" 2>"$TMP/why"; then
		echo "skipped: $(tail -n 1 "$TMP/why")"
		exit 0
	fi
	build_targets app/nvtcpd/nvtcpd app/nvtcp-perf/nvtcp-perf
	if [[ ! -x $FLOOR ]]; then
		build_targets bench/rbd/rbd_floor 2>/dev/null ||
			{ echo "skipped: no librbd to build bench/rbd/rbd_floor (librbd-dev)"; exit 0; }
	fi
	if nvtcpd_has_rbd; then
		ROWS+=(nvtcpd)
	else
		echo "no nvtcpd rows: this nvtcpd has no rbd module (built without librbd)"
	fi
	if [[ -n $SPDK_DIR && -x $SPDK_DIR/bin/spdk_nvme_perf ]]; then
		host="SPDK's spdk_nvme_perf" host_core=1
	fi
	start_cluster
	echo "librbd floor and nvtcpd's RBD namespace, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) cores, $(uname -sr), $(machine_cpu); Ceph" \
		"$(ceph --version | awk '{ print $3 }'), one monitor and one bluestore OSD on a" \
		"sparse file (cluster up in ${CLUSTER_START} s), image of $IMAGE_MIB MiB written first"
	echo "release build in $BUILD; floor and nvtcpd${NVTCPD_ARGS:+ ($NVTCPD_ARGS)} on core 0 (taskset), $host on core $host_core;" \
		"the monitor and the OSD on core 1; median of $ROUNDS rounds of ${TIME} s"
	for ((r = 0; r < ROUNDS; r++)); do
		round
	done
	echo
	echo "| case | floor IOPS | floor CPU us/IO | OSD us/IO | nvtcpd IOPS | nvtcpd CPU us/IO |" \
		"OSD us/IO | IOPS nvtcpd/floor | CPU/IO nvtcpd/floor |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		IFS='|' read -r label w size qd <<<"${CASES[i]}"
		print_case "$i" "$label"
	done
	echo
	others_summary "$TMP"/r.*
	echo "CPU us/IO: the process's user + system time over its I/Os (librbd's threads" \
		"included); OSD us/IO: the OSD's, over the same I/Os"
}

main "$@"
