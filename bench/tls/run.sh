#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The cost of encryption: nvtcpd over plain TCP and over a TLS 1.3 secure
# channel (a SHA-256 PSK, so TLS_AES_128_GCM_SHA256), and SPDK's nvmf_tgt
# the same two ways, each target alone on core 0 (-m 0x1) serving a 1 GiB
# RAM namespace, driven over 127.0.0.1 from core 1 by SPDK's spdk_nvme_perf
# and by nvtcp-perf (nvtcp-perf alone when SPDK's programs are not there),
# for
#   4 KiB random read at QD32 and QD8, 128 KiB sequential read at QD16.
# Both targets load the same JSON configuration (SPDK's format): a keyring
# key, a plain and a TLS-only listener on two ports, a host with the PSK for
# the TLS listener and one without for the plain one, and SPDK's ssl socket
# implementation set to the 2 MiB socket buffers its posix one has by
# default (nvtcpd ignores that option: the kernel sizes its buffers).
# SPDK's ssl defaults are 4 KiB buffers, which cap its TLS throughput: the
# target spdk4k-tls runs it so. spdk_nvme_perf's own TLS sockets keep them
# (it has no option for it), so its large reads over TLS stop at what the
# 4 KiB send and 32 KiB receive buffers it sets let through, whatever the
# target.
# Each case runs on the targets in turn, the order rotating from case to
# case and round to round; one daemon serves both modes of its program,
# started when its turn comes.
#
# Per case and target: IOPS, MiB/s, average latency, the target's CPU
# (utime + stime from /proc/<pid>/stat over the run: % of a core, and per
# I/O) and its busy CPU per I/O from its own reactor accounting
# (framework_get_reactors over its RPC socket, read by the nvtcp CLI).
# Medians of ROUNDS; ratios are ratios of the medians. The last lines set
# the results against two aims: 128 KiB read over TLS at half of plain or
# more, 4 KiB QD8 over TLS at three times SPDK's IOPS or more.
#
# Environment: SPDK_DIR (a directory with SPDK's bin/nvmf_tgt and
# bin/spdk_nvme_perf; without it only nvtcpd runs, driven by nvtcp-perf),
# INITIATORS (spdk, nvtcp or both; default both when SPDK_DIR has
# spdk_nvme_perf, else nvtcp), TARGETS (default "nvtcpd-plain nvtcpd-tls
# spdk-plain spdk-tls"; also spdk4k-tls; the SPDK ones only with SPDK_DIR),
# ROUNDS (default 3), TIME (seconds per run, default 5), BUILD (release
# build dir, default /tmp/nvtcp-bench-host; MESON_ARGS adds setup options),
# PORT (the plain listener's port, default 4420 or the first free port
# above it; TLS listens on the next free one).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
BUILD=${BUILD:-/tmp/nvtcp-bench-host}
ROUNDS=${ROUNDS:-3}
TIME=${TIME:-5}
MESON_ARGS=${MESON_ARGS:-}
SPDK_DIR=${SPDK_DIR:-}
NQN=nqn.2016-06.io.spdk:cnode1
HOST_TLS=nqn.2014-08.org.nvmexpress:uuid:7e570000-0000-4000-8000-00000000000a
HOST_PLAIN=nqn.2014-08.org.nvmexpress:uuid:7e570000-0000-4000-8000-00000000000b
NVTCPD=$BUILD/app/nvtcpd/nvtcpd
NVTPERF=$BUILD/app/nvtcp-perf/nvtcp-perf
IDENTIFY=$BUILD/app/nvtcp-identify/nvtcp-identify
CLI=$BUILD/app/nvtcp/nvtcp

# label | -w | io size | queue depth
CASES=(
	"4k randread QD32|randread|4096|32"
	"4k randread QD8|randread|4096|8"
	"128k seq read QD16|read|131072|16"
)

build() {
	build_targets app/nvtcpd/nvtcpd app/nvtcp-perf/nvtcp-perf app/nvtcp-identify/nvtcp-identify \
		app/nvtcp/nvtcp
}

# Whether SPDK's nvmf_tgt can run here (its program and 2 GiB of free huge pages).
spdk_target_ready() {
	if [[ -z $SPDK_DIR ]]; then
		echo "no SPDK rows: set SPDK_DIR to a directory with SPDK's bin/nvmf_tgt and" \
			"bin/spdk_nvme_perf"
		return 1
	fi
	if [[ ! -x $SPDK_DIR/bin/nvmf_tgt ]]; then
		echo "no SPDK rows: $SPDK_DIR/bin/nvmf_tgt is missing"
		return 1
	fi
	if (($(awk '$1 == "HugePages_Free:" { print $2 }' /proc/meminfo) < 1024)); then
		echo "no SPDK rows: SPDK's programs need 2 GiB of free 2 MiB huge pages" \
			"(/proc/meminfo HugePages_Free)"
		return 1
	fi
}

# The initiators (INITIATORS, or spdk_nvme_perf when it is there) and the targets.
choose() {
	local t ini spdk=0

	if [[ -z ${INITIATORS:-} ]]; then
		INITIATORS=nvtcp
		if [[ -n $SPDK_DIR && -x $SPDK_DIR/bin/spdk_nvme_perf ]]; then
			INITIATORS="spdk nvtcp"
		fi
	fi
	for ini in $INITIATORS; do
		if [[ ! -x $(perf_prog "$ini") ]]; then
			echo "initiator $(perf_prog "$ini") is missing" >&2
			exit 1
		fi
	done
	if spdk_target_ready; then
		spdk=1
	fi
	TARGETS_RUN=()
	for t in ${TARGETS:-nvtcpd-plain nvtcpd-tls spdk-plain spdk-tls}; do
		if [[ $t == spdk* && $spdk == 0 ]]; then
			continue
		fi
		TARGETS_RUN+=("$t")
	done
}

# The program of initiator $1 (spdk or nvtcp).
perf_prog() {
	if [[ $1 == spdk ]]; then
		echo "$SPDK_DIR/bin/spdk_nvme_perf"
	else
		echo "$NVTPERF"
	fi
}

perf_name() {
	if [[ $1 == spdk ]]; then
		echo spdk_nvme_perf
	else
		echo nvtcp-perf
	fi
}

# A configured TLS PSK (NVMe TP 8011 interchange format, SHA-256, 32 random
# bytes and their CRC-32) in file $1, 0600 and without a newline: SPDK
# refuses a key file that ends with one.
write_psk() {
	python3 - "$1" <<'PY'
import base64, os, sys, zlib
key = os.urandom(32)
b64 = base64.b64encode(key + zlib.crc32(key).to_bytes(4, "little")).decode()
text = "NVMeTLSkey-1:01:%s:" % b64
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, text.encode())
os.close(fd)
PY
}

listener() {
	echo "{\"method\": \"nvmf_subsystem_add_listener\", \"params\": {\"nqn\": \"$NQN\"," \
		"\"secure_channel\": $2, \"listen_address\": {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\"," \
		"\"traddr\": \"127.0.0.1\", \"trsvcid\": \"$1\"}}}"
}

# The configuration the targets load: key file $1, plain port $2, TLS port
# $3, socket buffers of SPDK's ssl implementation $4 (bytes, or "" for its
# defaults).
write_config() {
	local sock=""

	if [[ -n $4 ]]; then
		sock='{"subsystem": "sock", "config": [{"method": "sock_impl_set_options", "params":'
		sock+=" {\"impl_name\": \"ssl\", \"recv_buf_size\": $4, \"send_buf_size\": $4}}]},"
	fi
	cat <<JSON
{"subsystems": [$sock
 {"subsystem": "keyring", "config": [
  {"method": "keyring_file_add_key", "params": {"name": "psk0", "path": "$1"}}]},
 {"subsystem": "bdev", "config": [
  {"method": "bdev_malloc_create", "params": {"name": "Disk0", "num_blocks": 2097152, "block_size": 512}}]},
 {"subsystem": "nvmf", "config": [
  {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
  {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN", "allow_any_host": false,
   "serial_number": "SPDK00000000000001", "model_number": "SPDK bdev Controller"}},
  {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$NQN", "namespace": {"bdev_name": "Disk0"}}},
  {"method": "nvmf_subsystem_add_host", "params": {"nqn": "$NQN", "host": "$HOST_TLS", "psk": "psk0"}},
  {"method": "nvmf_subsystem_add_host", "params": {"nqn": "$NQN", "host": "$HOST_PLAIN"}},
  $(listener "$2" false),
  $(listener "$3" true)]}]}
JSON
}

# The program (nvtcpd, spdk or spdk4k) of target $1.
program_of() {
	echo "${1%-*}"
}

# Start program $1 (nvtcpd, spdk or spdk4k) with both listeners; sets TGT_PID, SOCK, PROG.
start_program() {
	SOCK=$TMP/$1.sock
	if [[ $1 == nvtcpd ]]; then
		"$NVTCPD" -m 0x1 -r "$SOCK" -c "$TMP/config.json" </dev/null >"$TMP/tgt.log" 2>&1 &
		TGT_PID=$!
		wait_for "$TMP/tgt.log" "^nvtcpd: listening on 127.0.0.1:$TLS_PORT" "$TGT_PID"
	else
		spdk_start "$TMP/$1.json" "$SOCK" "$TMP/tgt.log" "$TLS_PORT"
		SPDK_VERSION=$(grep -o -m1 'SPDK v[^ ]*' "$TMP/tgt.log" || echo "SPDK (version unknown)")
	fi
	PROG=$1
}

# SIGINT: the orderly exit of both targets.
stop_program() {
	if [[ -n ${TGT_PID:-} ]]; then
		kill -INT "$TGT_PID"
		wait "$TGT_PID" || true
	fi
	TGT_PID=
	PROG=
}

# Initiator $1 in mode $2 (plain or tls) on case (-w $3, size $4, QD $5):
# prints "iops=.. mib_s=.. lat_us=..".
run_initiator() {
	local trid tls=() ini=$1
	shift

	if [[ $1 == tls ]]; then
		trid="trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$TLS_PORT subnqn:$NQN hostnqn:$HOST_TLS"
		tls=(-S ssl --psk-path "$TMP/psk")
	else
		trid="trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$PLAIN_PORT subnqn:$NQN hostnqn:$HOST_PLAIN"
	fi
	"$(perf_prog "$ini")" -q "$4" -o "$3" -w "$2" -t "$TIME" -c 0x2 "${tls[@]}" -r "$trid" \
		2>>"$TMP/perf.err" |
		awk '$1 == "Total" { printf "iops=%s mib_s=%s lat_us=%s\n", $3, $4, $5 }'
}

# One run of target $2 by initiator $3 (mode $4, case -w $5, size $6, QD $7);
# appends "iops= mib_s= lat_us= cpu= cpu_us= busy_us= others=" to $1.
measure() {
	local out=$1 target=$2 b0 b1 c0 c1 k0 k1 o0 o1 t0 t1 line rate
	shift 2
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
		echo "failed: $target, $(perf_name "$1") -w $3 -o $4 -q $5; its errors:" >&2
		tail -5 "$TMP/perf.err" >&2
		exit 1
	fi
	awk -v l="$line" -v b="$((b1 - b0))" -v rate="$rate" -v c="$((c1 - c0))" \
		-v o="$((o1 - o0 - (c1 - c0) - (k1 - k0)))" -v hz="$HZ" -v t0="$t0" -v t1="$t1" \
		-v iops="$(field "$line" iops)" 'BEGIN {
		io = iops * (t1 - t0)
		printf "%s cpu=%.1f cpu_us=%.3f busy_us=%.3f others=%.1f\n", l,
		       100 * c / hz / (t1 - t0), (io > 0 ? 1e6 * c / hz / io : 0),
		       (io > 0 ? 1e6 * b / rate / io : 0), 100 * (o < 0 ? 0 : o) / hz / (t1 - t0) }' >>"$out"
}

# Case $2 on target $1 (nvtcpd-plain, nvtcpd-tls, spdk-plain, spdk-tls), by every initiator.
target_case() {
	local label w size qd prog ini

	IFS='|' read -r label w size qd <<<"${CASES[$2]}"
	prog=$(program_of "$1")
	if [[ $prog != "${PROG:-}" ]]; then
		stop_program
		start_program "$prog"
	fi
	for ini in $INITIATORS; do
		measure "$TMP/r.$ini.$2.$1" "$1" "$ini" "${1##*-}" "$w" "$size" "$qd"
	done
}

# Each case runs on the targets in turn, the order rotating case by case and
# round by round: machine noise comes in bursts of seconds to minutes.
run_rounds() {
	local r i k n=${#TARGETS_RUN[@]}

	for ((r = 0; r < ROUNDS; r++)); do
		for ((i = 0; i < ${#CASES[@]}; i++)); do
			for ((k = 0; k < n; k++)); do
				target_case "${TARGETS_RUN[(k + r + i) % n]}" "$i"
			done
		done
	done
	stop_program
}

# The TLS session the nvtcp host gets from nvtcpd: its cipher suite.
check_cipher() {
	local out

	start_program nvtcpd
	out=$("$IDENTIFY" --psk-path "$TMP/psk" \
		-r "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$TLS_PORT subnqn:$NQN hostnqn:$HOST_TLS" \
		2>&1) || {
		echo "nvtcp-identify over TLS failed:" >&2
		echo "$out" >&2
		exit 1
	}
	CIPHER=$(grep -o -m1 'TLS 1.3 [A-Z0-9_]*' <<<"$out" || echo "TLS (suite not reported)")
	stop_program
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a != "n/a" && b != "n/a" && b > 0) printf "%.2f", a / b; else print "n/a" }'
}

# Median of field $4 of target $3 in case $2 by initiator $1, or n/a.
med() {
	if [[ -f $TMP/r.$1.$2.$3 ]]; then
		median_of "$TMP/r.$1.$2.$3" "$4"
	else
		echo n/a
	fi
}

fmtn() {
	if [[ $2 == n/a ]]; then
		echo n/a
	else
		fmt "$1" "$2"
	fi
}

# The table of initiator $1.
print_table() {
	local i t label w size qd first

	echo
	echo "initiator $(perf_name "$1"):"
	printf '%-20s %-13s %8s %8s %8s %6s %7s %7s\n' "case" "target" "IOPS" "MiB/s" "lat us" \
		"CPU %" "CPU" "busy"
	printf '%-20s %-13s %8s %8s %8s %6s %7s %7s\n' "" "" "" "" "" "" "us/IO" "us/IO"
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		IFS='|' read -r label w size qd <<<"${CASES[i]}"
		first=$label
		for t in "${TARGETS_RUN[@]}"; do
			printf '%-20s %-13s %8s %8s %8s %6s %7s %7s\n' "$first" "${t/-/ }" \
				"$(fmtn 0 "$(med "$1" "$i" "$t" iops)")" \
				"$(fmtn 1 "$(med "$1" "$i" "$t" mib_s)")" \
				"$(fmtn 1 "$(med "$1" "$i" "$t" lat_us)")" \
				"$(fmtn 0 "$(med "$1" "$i" "$t" cpu)")" \
				"$(fmtn 2 "$(med "$1" "$i" "$t" cpu_us)")" \
				"$(fmtn 2 "$(med "$1" "$i" "$t" busy_us)")"
			first=""
		done
	done
}

# Initiator $1: TLS over plain per program, nvtcpd over SPDK per mode (IOPS, CPU per I/O).
print_ratios() {
	local i label w size qd

	printf '\n%-20s %15s %15s %15s %15s\n' "ratios" "nvtcpd" "SPDK" "nvtcpd / SPDK" \
		"nvtcpd / SPDK"
	printf '%-20s %15s %15s %15s %15s\n' "(IOPS, CPU/IO)" "TLS / plain" "TLS / plain" "TLS" \
		"plain"
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		IFS='|' read -r label w size qd <<<"${CASES[i]}"
		printf '%-20s %7s %7s %7s %7s %7s %7s %7s %7s\n' "$label" \
			"$(ratio "$(med "$1" "$i" nvtcpd-tls iops)" "$(med "$1" "$i" nvtcpd-plain iops)")" \
			"$(ratio "$(med "$1" "$i" nvtcpd-tls cpu_us)" "$(med "$1" "$i" nvtcpd-plain cpu_us)")" \
			"$(ratio "$(med "$1" "$i" spdk-tls iops)" "$(med "$1" "$i" spdk-plain iops)")" \
			"$(ratio "$(med "$1" "$i" spdk-tls cpu_us)" "$(med "$1" "$i" spdk-plain cpu_us)")" \
			"$(ratio "$(med "$1" "$i" nvtcpd-tls iops)" "$(med "$1" "$i" spdk-tls iops)")" \
			"$(ratio "$(med "$1" "$i" nvtcpd-tls cpu_us)" "$(med "$1" "$i" spdk-tls cpu_us)")" \
			"$(ratio "$(med "$1" "$i" nvtcpd-plain iops)" "$(med "$1" "$i" spdk-plain iops)")" \
			"$(ratio "$(med "$1" "$i" nvtcpd-plain cpu_us)" "$(med "$1" "$i" spdk-plain cpu_us)")"
	done
}

met() {
	awk -v r="$1" -v aim="$2" 'BEGIN { print (r != "n/a" && r >= aim) ? "met" : "not met" }'
}

# Initiator $1 against the two aims (cases 2 and 1: 128 KiB QD16 and 4 KiB QD8).
print_aims() {
	local r

	r=$(ratio "$(med "$1" 2 nvtcpd-tls iops)" "$(med "$1" 2 nvtcpd-plain iops)")
	echo "$(perf_name "$1"): 128k seq read QD16 over TLS / plain, nvtcpd: $r" \
		"(aim >= 0.50: $(met "$r" 0.5))"
	if [[ " ${TARGETS_RUN[*]} " == *" spdk-tls "* ]]; then
		r=$(ratio "$(med "$1" 1 nvtcpd-tls iops)" "$(med "$1" 1 spdk-tls iops)")
		echo "$(perf_name "$1"): 4k randread QD8 over TLS, nvtcpd / SPDK: $r" \
			"(aim >= 3: $(met "$r" 3))"
	fi
	if [[ " ${TARGETS_RUN[*]} " == *" spdk4k-tls "* ]]; then
		r=$(ratio "$(med "$1" 1 nvtcpd-tls iops)" "$(med "$1" 1 spdk4k-tls iops)")
		echo "$(perf_name "$1"): 4k randread QD8 over TLS, nvtcpd / SPDK with 4 KiB ssl" \
			"buffers: $r (aim >= 3: $(met "$r" 3))"
	fi
}

main() {
	local ini

	TMP=$(mktemp -d)
	trap target_cleanup EXIT
	choose
	build
	PLAIN_PORT=$(pick_port)
	TLS_PORT=$((PLAIN_PORT + 1))
	while port_busy "$TLS_PORT"; do
		TLS_PORT=$((TLS_PORT + 1))
	done
	write_psk "$TMP/psk"
	write_config "$TMP/psk" "$PLAIN_PORT" "$TLS_PORT" $((2 << 20)) >"$TMP/config.json"
	cp "$TMP/config.json" "$TMP/spdk.json"
	write_config "$TMP/psk" "$PLAIN_PORT" "$TLS_PORT" "" >"$TMP/spdk4k.json"
	check_cipher
	echo "nvtcpd and SPDK nvmf_tgt, plain TCP vs TLS, on 127.0.0.1, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) cores, $(uname -sr), $(machine_cpu); kernel TLS:" \
		"$([[ -e /proc/net/tls_stat ]] && echo yes || echo "no (OpenSSL's record layer)")"
	echo "each target alone with -m 0x1 (core 0), 1 GiB RAM namespace; initiators -c 0x2" \
		"(core 1): $(for ini in $INITIATORS; do perf_name "$ini"; done | paste -sd' ');" \
		"release build in $BUILD"
	echo "TLS: $CIPHER, SHA-256 PSK; median of $ROUNDS rounds of ${TIME} s per case;" \
		"load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	run_rounds
	for ini in $INITIATORS; do
		print_table "$ini"
		print_ratios "$ini"
	done
	echo
	for ini in $INITIATORS; do
		print_aims "$ini"
	done
	echo
	others_summary "$TMP"/r.*
	if [[ -n ${SPDK_VERSION:-} ]]; then
		echo "SPDK: $SPDK_VERSION's nvmf_tgt at its defaults, but its ssl sockets' buffers at 2 MiB" \
			"as its posix ones' (spdk4k: at its ssl defaults, 4 KiB)."
	fi
	echo "CPU: the target process's utime + stime over the run (% of a core, us per I/O);" \
		"busy: its reactors' busy time (framework_get_reactors) per I/O."
}

main "$@"
