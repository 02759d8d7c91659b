#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# What idle queue pairs cost nvtcpd (one reactor on core 0, interrupt mode):
#   - memory: VmRSS before and after 1,000 queue pairs at depth 128 connect
#     (10 controllers of an admin queue and 99 I/O queues, SQSIZE 127 each,
#     ICReq + Fabrics Connect + CC.EN by bench/nvmf/idle_qpairs), per queue
#     pair, against the 32 KiB aim; with SPDK_DIR set to a directory holding
#     SPDK's bin/nvmf_tgt (and free 2 MiB huge pages), the same for SPDK's
#     target with the same configuration, counting VmRSS and its huge pages;
#   - CPU (utime + stime of /proc/<pid>/stat, % of a core) over IDLE_TIME
#     seconds with no host, with the 1,000 queue pairs idle, and with one host
#     (admin + one I/O queue) connected with KATO 10 s sending a Keep Alive
#     every 3 s; the aim is under 1 % of a core.
# Each run starts a fresh nvtcpd; medians of RUNS runs are printed. The
# namespace is a 64 MiB RAM disk so that the baseline stays small; the
# queue pairs do not depend on it.
#
# Environment: BUILD (build dir, default /tmp/nvtcp-bench-host, set up as a
# release build without tests; MESON_ARGS adds setup options), RUNS (default
# 3), IDLE_TIME (seconds of CPU sampling per case, default 10), CTRLRS
# (default 10) and IO_QUEUES (per controller, default 99), PORT (default
# 4420, or the first free port above it), SPDK_DIR (unset: no peer row).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
BUILD=${BUILD:-/tmp/nvtcp-bench-host}
RUNS=${RUNS:-3}
IDLE_TIME=${IDLE_TIME:-10}
CTRLRS=${CTRLRS:-10}
IO_QUEUES=${IO_QUEUES:-99}
PORT=${PORT:-}
MESON_ARGS=${MESON_ARGS:-}
NQN=nqn.2016-06.io.nvtcp:cnode1
NVTCPD=$BUILD/app/nvtcpd/nvtcpd
IDLE=$BUILD/bench/nvmf/idle_qpairs
NQPAIRS=$((CTRLRS * (IO_QUEUES + 1)))
AIM_KIB=32
SPDK_DIR=${SPDK_DIR:-}

build() {
	build_targets app/nvtcpd/nvtcpd bench/nvmf/idle_qpairs
}

write_config() {
	cat <<EOF
{"subsystems": [
 {"subsystem": "bdev", "config": [
  {"method": "bdev_malloc_create",
   "params": {"name": "Malloc0", "num_blocks": 131072, "block_size": 512}}]},
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

# Prints "<cpu % of a core of nvtcpd> <others' % of a core on cores 0-1>" over IDLE_TIME s.
cpu_sample() {
	local c0 c1 b0 b1 t0 t1

	c0=$(cpu_ticks "$TGT_PID")
	b0=$(cores_busy)
	t0=$(now)
	sleep "$IDLE_TIME"
	c1=$(cpu_ticks "$TGT_PID")
	b1=$(cores_busy)
	t1=$(now)
	awk -v c="$((c1 - c0))" -v o="$((b1 - b0 - (c1 - c0)))" -v hz="$HZ" -v t0="$t0" \
		-v t1="$t1" 'BEGIN { printf "%.2f %.1f\n", 100 * c / hz / (t1 - t0),
				     100 * (o < 0 ? 0 : o) / hz / (t1 - t0) }'
}

cleanup() {
	if [[ -n ${HOST_PID:-} ]]; then
		kill -TERM "$HOST_PID" 2>/dev/null || true
		wait "$HOST_PID" 2>/dev/null || true
	fi
	if [[ -n ${TGT_PID:-} ]]; then
		kill -TERM "$TGT_PID" 2>/dev/null || true
		wait "$TGT_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}

one_run() {
	local rss0 rss1 rss2 cpu others rc

	TGT_PORT=$(pick_port)
	write_config "$TGT_PORT" >"$TMP/nvtcpd.json"
	"$NVTCPD" -m 0x1 -r "$TMP/nvtcpd.sock" -c "$TMP/nvtcpd.json" >"$TMP/nvtcpd.log" 2>&1 &
	TGT_PID=$!
	wait_for "$TMP/nvtcpd.log" "^nvtcpd: listening on 127.0.0.1:$TGT_PORT" "$TGT_PID"
	sleep 1
	rss0=$(rss_kib "$TGT_PID")
	read -r cpu others < <(cpu_sample)
	echo "$cpu" >>"$TMP/cpu.none"
	echo "$others" >>"$TMP/others"

	host_start -c "$CTRLRS" -q "$IO_QUEUES" -s 127 -k 0
	sleep 1
	rss1=$(rss_kib "$TGT_PID")
	read -r cpu others < <(cpu_sample)
	echo "$cpu" >>"$TMP/cpu.idle"
	echo "$others" >>"$TMP/others"
	host_stop
	sleep 1
	rss2=$(rss_kib "$TGT_PID")
	awk -v a="$rss0" -v b="$rss1" -v n="$NQPAIRS" 'BEGIN { printf "%.1f\n", (b - a) / n }' \
		>>"$TMP/per_qpair"
	echo "$rss0" >>"$TMP/rss0"
	echo "$rss1" >>"$TMP/rss1"
	echo "$rss2" >>"$TMP/rss2"

	host_start -c 1 -q 1 -s 127 -k 10000 -i 3000
	read -r cpu others < <(cpu_sample)
	echo "$cpu" >>"$TMP/cpu.ka"
	echo "$others" >>"$TMP/others"
	host_stop

	kill -TERM "$TGT_PID"
	rc=0
	wait "$TGT_PID" || rc=$?
	TGT_PID=
	echo "$rc" >>"$TMP/exit"
}

# User memory of process $1 in KiB: VmRSS and huge pages (SPDK's memory is in them).
mem_kib() {
	awk '$1 == "VmRSS:" || $1 == "HugetlbPages:" { k += $2 } END { print k }' \
		"/proc/$1/status"
}

# SPDK's nvmf_tgt with the same configuration: its memory per idle queue pair.
peer_run() {
	local m0 m1

	TGT_PORT=$(pick_port)
	write_config "$TGT_PORT" >"$TMP/peer.json"
	spdk_start "$TMP/peer.json" "$TMP/peer.sock" "$TMP/peer.log" "$TGT_PORT"
	sleep 1
	m0=$(mem_kib "$TGT_PID")
	host_start -c "$CTRLRS" -q "$IO_QUEUES" -s 127 -k 0
	sleep 1
	m1=$(mem_kib "$TGT_PID")
	host_stop
	kill -INT "$TGT_PID"
	wait "$TGT_PID" || true
	TGT_PID=
	awk -v a="$m0" -v b="$m1" -v n="$NQPAIRS" 'BEGIN { printf "%.1f\n", (b - a) / n }' \
		>>"$TMP/peer_per_qpair"
	echo "$m0 $m1" >>"$TMP/peer_mem"
}

# Whether SPDK's target can run: SPDK_DIR holds nvmf_tgt and huge pages are free.
peer_ready() {
	[[ -n $SPDK_DIR && -x $SPDK_DIR/bin/nvmf_tgt ]] &&
		(($(awk '$1 == "HugePages_Free:" { print $2 }' /proc/meminfo) > 0))
}

# The SPDK row (nvtcpd's figure: $1 KiB): measured when the peer ran, else why not.
peer_row() {
	local per

	if [[ ! -s $TMP/peer_per_qpair ]]; then
		row "  SPDK nvmf_tgt" "-" "not measured: set SPDK_DIR (with free huge pages)"
		return
	fi
	per=$(median <"$TMP/peer_per_qpair")
	row "  SPDK nvmf_tgt ($(grep -o -m1 'SPDK v[^ ]*' "$TMP/peer.log" || echo '?'))" \
		"$per KiB" "VmRSS + huge pages, same configuration; first run" \
		"$(head -1 "$TMP/peer_mem" | awk '{ print $1 " -> " $2 " KiB" }');" \
		"nvtcpd / SPDK: $(awk -v a="$1" -v b="$per" 'BEGIN { printf "%.2f", a / b }')"
}

row() {
	printf '%-46s %10s  %s\n' "$1" "$2" "${*:3}" | sed 's/ *$//'
}

aim() {
	awk -v v="$1" -v a="$2" 'BEGIN { print (v < a ? "yes" : "NO") }'
}

main() {
	local r per cpu
	TMP=$(mktemp -d)
	HOST_PID=''
	TGT_PID=''
	trap cleanup EXIT
	if (($(ulimit -n) < NQPAIRS + 256)); then
		ulimit -n $((NQPAIRS + 256))
	fi
	build
	for ((r = 0; r < RUNS; r++)); do
		one_run
		if peer_ready; then
			peer_run
		fi
	done
	echo "nvtcpd idle queue pairs on 127.0.0.1, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) cores, $(uname -sr), $(machine_cpu)"
	echo "release build in $BUILD; nvtcpd -m 0x1 (core 0, interrupt mode)," \
		"64 MiB RAM namespace; median of $RUNS runs"
	echo "$NQPAIRS queue pairs = $CTRLRS controllers x (admin + $IO_QUEUES I/O), SQSIZE 127" \
		"(depth 128), KATO 0; CPU sampled over $IDLE_TIME s"
	echo
	row "case" "median" ""
	row "----" "------" ""
	per=$(median <"$TMP/per_qpair")
	row "VmRSS per idle queue pair, depth 128" "$per KiB" \
		"aim $AIM_KIB KiB: $(aim "$per" "$AIM_KIB");" \
		"VmRSS $(median <"$TMP/rss0") -> $(median <"$TMP/rss1") KiB" \
		"($(median <"$TMP/rss2") KiB once they left)"
	peer_row "$per"
	cpu=$(median <"$TMP/cpu.none")
	row "nvtcpd CPU, no host" "$cpu %" "of a core"
	cpu=$(median <"$TMP/cpu.idle")
	row "nvtcpd CPU, $NQPAIRS idle queue pairs" "$cpu %" \
		"of a core; aim < 1 %: $(aim "$cpu" 1)"
	cpu=$(median <"$TMP/cpu.ka")
	row "nvtcpd CPU, 1 host, KATO 10 s, Keep Alive / 3 s" "$cpu %" \
		"of a core; aim < 1 %: $(aim "$cpu" 1)"
	echo
	sort -g "$TMP/others" | awk '{ v[NR] = $1 } END {
		med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "other processes on cores 0-1 while sampling: median %.1f %%, max %.1f %%",
		       med, v[NR]
		printf " of a core"
		note = " (quiet)"
		if (v[NR] > 25) note = " (quiet, with bursts)"
		if (med > 10) note = " (busy: read the numbers with care)"
		print note }'
	echo "nvtcpd exit status after SIGTERM: $(sort -u "$TMP/exit" | paste -sd ' ')"
	echo "VmRSS counts user space only; the kernel's socket buffers are not in it."
}

main "$@"
