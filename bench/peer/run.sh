#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nvtcpd side by side with SPDK's nvmf_tgt, each alone on core 0 with the
# same JSON configuration (SPDK's format: a 1 GiB RAM bdev of 512-byte
# blocks, or a null bdev of the same size, one subsystem, TCP at its
# defaults), driven over 127.0.0.1 from core 1 by SPDK's spdk_nvme_perf and
# by nvtcp-perf, for
#   4 KiB random read at QD1, QD32 and QD128, 4 KiB random write at QD32 and
#   QD128, 128 KiB sequential read and write at QD16, 4 KiB 70/30 random
#   read/write at QD64.
# SPDK runs twice: at its defaults and with the transport's c2h_success off
# (its fastest configuration for reads), so each case has the peer's default
# and its best. Each case runs on the three targets in turn, each started
# fresh for it, the order rotating from case to case and round to round.
#
# Per case and target: IOPS, average latency, and the target's busy CPU per
# I/O from its own reactor accounting (framework_get_reactors over its RPC
# socket, read by the nvtcp CLI: busy ticks over tick_rate); and the
# initiator's CPU per I/O (utime + stime of its process). Medians of ROUNDS.
#
# Environment: SPDK_DIR (a directory with SPDK's bin/nvmf_tgt and
# bin/spdk_nvme_perf; without it the script says so and exits 0), BUILD
# (release build dir, default /tmp/nvtcp-bench-host; MESON_ARGS adds setup
# options), ROUNDS (default 3), TIME (seconds per run, default 5), BDEVS
# (default "malloc null"), INITIATORS (default "spdk nvtcp"), PORT (default
# 4420, or the first free port above it).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
BUILD=${BUILD:-/tmp/nvtcp-bench-host}
ROUNDS=${ROUNDS:-3}
TIME=${TIME:-5}
BDEVS=${BDEVS:-malloc null}
INITIATORS=${INITIATORS:-spdk nvtcp}
MESON_ARGS=${MESON_ARGS:-}
SPDK_DIR=${SPDK_DIR:-}
NQN=nqn.2016-06.io.spdk:cnode1
NVTCPD=$BUILD/app/nvtcpd/nvtcpd
NVTPERF=$BUILD/app/nvtcp-perf/nvtcp-perf
CLI=$BUILD/app/nvtcp/nvtcp
TARGETS=(nvtcpd spdk spdk-noc2h)

# label | -w | -M (read %, or -) | io size | queue depth
CASES=(
	"4k randread QD1|randread|-|4096|1"
	"4k randread QD32|randread|-|4096|32"
	"4k randread QD128|randread|-|4096|128"
	"4k randwrite QD32|randwrite|-|4096|32"
	"4k randwrite QD128|randwrite|-|4096|128"
	"128k seq read QD16|read|-|131072|16"
	"128k seq write QD16|write|-|131072|16"
	"4k 70/30 mix QD64|randrw|70|4096|64"
)

build() {
	build_targets app/nvtcpd/nvtcpd app/nvtcp-perf/nvtcp-perf app/nvtcp/nvtcp
}

# Whether SPDK's programs are there and can run (they need free 2 MiB huge pages).
peer_ready() {
	local p

	if [[ -z $SPDK_DIR ]]; then
		echo "skipped: set SPDK_DIR to a directory with SPDK's bin/nvmf_tgt and bin/spdk_nvme_perf"
		return 1
	fi
	for p in nvmf_tgt spdk_nvme_perf; do
		if [[ ! -x $SPDK_DIR/bin/$p ]]; then
			echo "skipped: $SPDK_DIR/bin/$p is missing"
			return 1
		fi
	done
	if (($(awk '$1 == "HugePages_Free:" { print $2 }' /proc/meminfo) < 1024)); then
		echo "skipped: SPDK's programs need 2 GiB of free 2 MiB huge pages" \
			"(/proc/meminfo HugePages_Free)"
		return 1
	fi
}

# The bdev entry of kind $1 (malloc or null): 1 GiB of 512-byte blocks named Disk0.
bdev_entry() {
	local method=bdev_malloc_create

	if [[ $1 == null ]]; then
		method=bdev_null_create
	fi
	echo "{\"method\": \"$method\", \"params\": {\"name\": \"Disk0\", \"num_blocks\": 2097152, \"block_size\": 512}}"
}

# The configuration both targets load: bdev kind $1, listener on port $2,
# transport options $3 (extra JSON members, or empty).
write_config() {
	cat <<JSON
{"subsystems": [
 {"subsystem": "bdev", "config": [$(bdev_entry "$1")]},
 {"subsystem": "nvmf", "config": [
  {"method": "nvmf_create_transport", "params": {"trtype": "TCP"$3}},
  {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN", "allow_any_host": true,
   "serial_number": "SPDK00000000000001", "model_number": "SPDK bdev Controller"}},
  {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$NQN", "namespace": {"bdev_name": "Disk0"}}},
  {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN", "listen_address":
   {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$2"}}}]}]}
JSON
}

# Start target $1 (nvtcpd, spdk, spdk-noc2h) with bdev kind $2.
start_target() {
	local port extra=""

	port=$(pick_port)
	if [[ $1 == spdk-noc2h ]]; then
		extra=', "c2h_success": false'
	fi
	write_config "$2" "$port" "$extra" >"$TMP/$1.json"
	SOCK=$TMP/$1.sock
	if [[ $1 == nvtcpd ]]; then
		"$NVTCPD" -m 0x1 -r "$SOCK" -c "$TMP/$1.json" </dev/null >"$TMP/tgt.log" 2>&1 &
		TGT_PID=$!
		wait_for "$TMP/tgt.log" "^nvtcpd: listening on 127.0.0.1:$port" "$TGT_PID"
	else
		spdk_start "$TMP/$1.json" "$SOCK" "$TMP/tgt.log" "$port"
		SPDK_VERSION=$(grep -o -m1 'SPDK v[^ ]*' "$TMP/tgt.log" || echo "SPDK (version unknown)")
	fi
	TRID="trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$NQN"
}

# SIGINT: the orderly exit of both targets.
stop_target() {
	kill -INT "$TGT_PID"
	wait "$TGT_PID" || true
	TGT_PID=
}

# Initiator $1 on case (-w $2, -M $3, size $4, QD $5): prints "iops=.. lat_us=..".
run_initiator() {
	local prog=$NVTPERF mix=()

	if [[ $1 == spdk ]]; then
		prog=$SPDK_DIR/bin/spdk_nvme_perf
	fi
	if [[ $3 != - ]]; then
		mix=(-M "$3")
	fi
	"$prog" -q "$5" -o "$4" -w "$2" "${mix[@]}" -t "$TIME" -c 0x2 -r "$TRID" \
		2>>"$TMP/perf.err" | awk '$1 == "Total" { printf "iops=%s lat_us=%s\n", $3, $5 }'
}

# One run; appends "iops= lat_us= busy_us= host_us= cpu= others=" to $1.
measure() {
	local out=$1 b0 b1 c0 c1 k0 k1 o0 o1 t0 t1 line rate
	shift
	read -r b0 rate < <(reactor_busy)
	c0=$(cpu_ticks "$TGT_PID")
	k0=$(children_ticks)
	o0=$(cores_busy)
	t0=$(now)
	line=$(run_initiator "$@")
	t1=$(now)
	o1=$(cores_busy)
	k1=$(children_ticks)
	c1=$(cpu_ticks "$TGT_PID")
	read -r b1 rate < <(reactor_busy)
	if [[ -z $line ]]; then
		echo "failed: $1 initiator, case $*; its errors:" >&2
		tail -5 "$TMP/perf.err" >&2
		exit 1
	fi
	awk -v l="$line" -v b="$((b1 - b0))" -v rate="$rate" -v c="$((c1 - c0))" \
		-v k="$((k1 - k0))" -v o="$((o1 - o0 - (c1 - c0) - (k1 - k0)))" -v hz="$HZ" \
		-v t0="$t0" -v t1="$t1" -v iops="$(field "$line" iops)" 'BEGIN {
		io = iops * (t1 - t0)
		printf "%s busy_us=%.3f host_us=%.3f cpu=%.1f others=%.1f\n", l,
		       (io > 0 ? 1e6 * b / rate / io : 0), (io > 0 ? 1e6 * k / hz / io : 0),
		       100 * c / hz / (t1 - t0), 100 * (o < 0 ? 0 : o) / hz / (t1 - t0) }' >>"$out"
}

# Case $3 of every initiator on target $1 with bdev kind $2, on a fresh target.
target_case() {
	local ini label w mix size qd

	IFS='|' read -r label w mix size qd <<<"${CASES[$3]}"
	start_target "$1" "$2"
	for ini in $INITIATORS; do
		measure "$TMP/r.$2.$ini.$3.$1" "$ini" "$w" "$mix" "$size" "$qd"
	done
	stop_target
}

# Each case runs on the targets in turn, the order rotating round by round:
# machine noise comes in bursts of seconds to minutes, and hits all alike.
run_rounds() {
	local r i t k bdev

	for ((r = 0; r < ROUNDS; r++)); do
		for bdev in $BDEVS; do
			for ((i = 0; i < ${#CASES[@]}; i++)); do
				for ((k = 0; k < ${#TARGETS[@]}; k++)); do
					t=${TARGETS[(k + r + i) % ${#TARGETS[@]}]}
					target_case "$t" "$bdev" "$i"
				done
			done
		done
	done
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

row() {
	printf '%-20s %8s %7s %6s | %8s %7s %6s | %8s %6s | %5s %5s %5s %5s\n' "$@"
}

# The table of bdev kind $1 and initiator $2.
print_table() {
	local i label w mix size qd p n s b nv sv bv

	echo
	echo "bdev $1, initiator $2 (IOPS, average latency in us, target busy CPU us per I/O):"
	row "case" "nvtcpd" "lat" "busy" "SPDK" "lat" "busy" "SPDK" "busy" "IOPS" "vs" "lat" "busy"
	row "" "IOPS" "us" "us/IO" "default" "us" "us/IO" "best" "us/IO" "ratio" "best" "ratio" "ratio"
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		IFS='|' read -r label w mix size qd <<<"${CASES[i]}"
		p=$TMP/r.$1.$2.$i
		n=$(median_of "$p.nvtcpd" iops)
		s=$(median_of "$p.spdk" iops)
		b=$(median_of "$p.spdk-noc2h" iops)
		nv=$(median_of "$p.nvtcpd" busy_us)
		sv=$(median_of "$p.spdk" busy_us)
		bv=$(median_of "$p.spdk-noc2h" busy_us)
		if awk -v s="$s" -v b="$b" 'BEGIN { exit !(s >= b) }'; then
			b=$s
			bv=$sv
		fi
		row "$label" "$(fmt 0 "$n")" "$(fmt 1 "$(median_of "$p.nvtcpd" lat_us)")" \
			"$(fmt 2 "$nv")" "$(fmt 0 "$s")" "$(fmt 1 "$(median_of "$p.spdk" lat_us)")" \
			"$(fmt 2 "$sv")" "$(fmt 0 "$b")" "$(fmt 2 "$bv")" "$(ratio "$n" "$s")" \
			"$(ratio "$n" "$b")" \
			"$(ratio "$(median_of "$p.nvtcpd" lat_us)" "$(median_of "$p.spdk" lat_us)")" \
			"$(ratio "$nv" "$sv")"
	done
}

# The initiators against the same target, bdev kind $1: IOPS and their own CPU per I/O.
print_initiators() {
	local i t label w mix size qd p

	echo
	echo "initiators, bdev $1 (IOPS / initiator CPU us per I/O):"
	printf '%-20s %-11s %19s %19s %6s\n' "case" "target" "spdk_nvme_perf" "nvtcp-perf" "IOPS"
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		IFS='|' read -r label w mix size qd <<<"${CASES[i]}"
		for t in nvtcpd spdk; do
			p=$TMP/r.$1
			printf '%-20s %-11s %10s / %6s %10s / %6s %6s\n' "$label" "$t" \
				"$(fmt 0 "$(median_of "$p.spdk.$i.$t" iops)")" \
				"$(fmt 2 "$(median_of "$p.spdk.$i.$t" host_us)")" \
				"$(fmt 0 "$(median_of "$p.nvtcp.$i.$t" iops)")" \
				"$(fmt 2 "$(median_of "$p.nvtcp.$i.$t" host_us)")" \
				"$(ratio "$(median_of "$p.nvtcp.$i.$t" iops)" \
					"$(median_of "$p.spdk.$i.$t" iops)")"
			label=""
		done
	done
}

main() {
	local bdev ini
	if ! peer_ready; then
		exit 0
	fi
	TMP=$(mktemp -d)
	trap target_cleanup EXIT
	build
	echo "nvtcpd vs SPDK nvmf_tgt on 127.0.0.1, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) cores, $(uname -sr), $(machine_cpu)"
	echo "each target alone with -m 0x1 (core 0), initiators -c 0x2 (core 1); release build in" \
		"$BUILD"
	echo "median of $ROUNDS rounds of ${TIME} s per case; load average at start:" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
	run_rounds
	for bdev in $BDEVS; do
		for ini in $INITIATORS; do
			print_table "$bdev" "$ini"
		done
		if [[ $INITIATORS == *spdk* && $INITIATORS == *nvtcp* ]]; then
			print_initiators "$bdev"
		fi
	done
	echo
	others_summary "$TMP"/r.*
	echo "SPDK: $SPDK_VERSION's nvmf_tgt and spdk_nvme_perf."
	echo "SPDK default: its nvmf_tgt at its defaults; SPDK best: the faster of that and c2h_success off."
	echo "IOPS ratio, vs best, lat ratio, busy ratio: nvtcpd over SPDK (default unless 'best')."
	echo "busy: the target's reactors' busy time (framework_get_reactors) per I/O."
}

main "$@"
