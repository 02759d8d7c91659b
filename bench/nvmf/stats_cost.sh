#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The cost of statistics: nvtcpd alone on core 0 (-m 0x1), a 1 GiB RAM
# namespace, 4 KiB random read at QD128 from SPDK's spdk_nvme_perf on core 1
# (-c 0x2), with --metrics (the per namespace and per host counters and
# latency histograms on, and /metrics scraped every SCRAPE seconds during
# the run) and without. The two modes alternate run by run, the order
# swapping each round, each on a fresh nvtcpd. Per mode, medians of ROUNDS:
# IOPS, the target's busy CPU per I/O from its own reactor accounting
# (framework_get_reactors busy ticks over the I/Os) and its process CPU per
# I/O (utime + stime), and the difference on vs off.
#
# Environment: SPDK_DIR (a directory with SPDK's bin/spdk_nvme_perf; without
# it the script says so and exits 0), BUILD (release build dir, default
# /tmp/nvtcp-bench-host; MESON_ARGS adds setup options), ROUNDS (default 5),
# TIME (seconds per run, default 10), SCRAPE (seconds between scrapes,
# default 1), QUIET (the second table keeps the runs where other processes
# used less than QUIET % of a core on cores 0-1, default 15), PORT (default
# 4420, or the first free port above it).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
BUILD=${BUILD:-/tmp/nvtcp-bench-host}
ROUNDS=${ROUNDS:-5}
TIME=${TIME:-10}
SCRAPE=${SCRAPE:-1}
QUIET=${QUIET:-15}
MESON_ARGS=${MESON_ARGS:-}
SPDK_DIR=${SPDK_DIR:-}
NQN=nqn.2016-06.io.spdk:cnode1
NVTCPD=$BUILD/app/nvtcpd/nvtcpd
CLI=$BUILD/app/nvtcp/nvtcp

if [[ -z $SPDK_DIR || ! -x $SPDK_DIR/bin/spdk_nvme_perf ]]; then
	echo "skipped: set SPDK_DIR to a directory with SPDK's bin/spdk_nvme_perf"
	exit 0
fi
build_targets app/nvtcpd/nvtcpd app/nvtcp/nvtcp
TMP=$(mktemp -d /tmp/nvtcp-stats-cost.XXXXXX)
TGT_PID=
SCRAPER_PID=
cleanup() {
	if [[ -n $SCRAPER_PID ]]; then
		kill "$SCRAPER_PID" 2>/dev/null || true
	fi
	if [[ -n $TGT_PID ]]; then
		kill -INT "$TGT_PID" 2>/dev/null || true
		wait "$TGT_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

write_config() {
	cat <<JSON
{"subsystems": [
 {"subsystem": "bdev", "config": [{"method": "bdev_malloc_create",
  "params": {"name": "Disk0", "num_blocks": 2097152, "block_size": 512}}]},
 {"subsystem": "nvmf", "config": [
  {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
  {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN", "allow_any_host": true}},
  {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$NQN", "namespace": {"bdev_name": "Disk0"}}},
  {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN", "listen_address":
   {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$1"}}}]}]}
JSON
}

# Start nvtcpd in mode $1 (on, off).
start_target() {
	local port mport extra=()

	port=$(pick_port)
	if [[ $1 == on ]]; then
		mport=$(pick_port_from $((port + 1)))
		extra=(--metrics "127.0.0.1:$mport")
		METRICS_URL=http://127.0.0.1:$mport/metrics
	fi
	write_config "$port" >"$TMP/config.json"
	SOCK=$TMP/rpc.sock
	"$NVTCPD" -m 0x1 -r "$SOCK" -c "$TMP/config.json" "${extra[@]}" </dev/null \
		>"$TMP/tgt.log" 2>&1 &
	TGT_PID=$!
	wait_for "$TMP/tgt.log" "^nvtcpd: listening on 127.0.0.1:$port" "$TGT_PID"
	TRID="trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$NQN"
}

# The first free port from $1.
pick_port_from() {
	local p=$1

	while port_busy "$p"; do
		p=$((p + 1))
	done
	echo "$p"
}

stop_target() {
	kill -INT "$TGT_PID"
	wait "$TGT_PID" || true
	TGT_PID=
}

scrape_loop() {
	while true; do
		curl -sf -o /dev/null "$METRICS_URL" || echo "scrape failed" >>"$TMP/scrape.err"
		sleep "$SCRAPE"
	done
}

# One run in mode $1: appends "iops= busy_us= cpu_us= others=" to $TMP/r.$1
# (others: what processes other than nvtcpd and the initiator used of cores 0-1, % of a core).
measure() {
	local b0 b1 rate c0 c1 k0 k1 o0 o1 t0 t1 iops

	start_target "$1"
	if [[ $1 == on ]]; then
		scrape_loop &
		SCRAPER_PID=$!
	fi
	read -r b0 rate < <(reactor_busy)
	c0=$(cpu_ticks "$TGT_PID")
	k0=$(children_ticks)
	o0=$(cores_busy)
	t0=$(now)
	iops=$("$SPDK_DIR/bin/spdk_nvme_perf" -q 128 -o 4096 -w randread -t "$TIME" -c 0x2 \
		-r "$TRID" 2>>"$TMP/perf.err" | awk '$1 == "Total" { print $3 }')
	t1=$(now)
	o1=$(cores_busy)
	k1=$(children_ticks)
	c1=$(cpu_ticks "$TGT_PID")
	read -r b1 rate < <(reactor_busy)
	if [[ -n $SCRAPER_PID ]]; then
		kill "$SCRAPER_PID"
		wait "$SCRAPER_PID" 2>/dev/null || true
		SCRAPER_PID=
	fi
	stop_target
	if [[ -z $iops ]]; then
		echo "failed: spdk_nvme_perf; its errors:" >&2
		tail -5 "$TMP/perf.err" >&2
		exit 1
	fi
	awk -v iops="$iops" -v b="$((b1 - b0))" -v rate="$rate" -v c="$((c1 - c0))" \
		-v o="$((o1 - o0 - (k1 - k0)))" -v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN {
		io = iops * (t1 - t0)
		printf "iops=%s busy_us=%.4f cpu_us=%.4f others=%.1f\n", iops,
		       (io > 0 ? 1e6 * b / rate / io : 0), (io > 0 ? 1e6 * c / hz / io : 0),
		       100 * (o - c > 0 ? o - c : 0) / hz / (t1 - t0) }' >>"$TMP/r.$1"
}

diff_pct() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "n/a") printf "%+.2f %%", 100 * (a - b) / b; else print "n/a" }'
}

echo "nvtcpd stats cost: 4 KiB randread QD128, spdk_nvme_perf -c 0x2 vs nvtcpd -m 0x1," \
	"$ROUNDS rounds of $TIME s, scrapes every $SCRAPE s"
echo "machine: $(machine_cpu), $(date -u '+%Y-%m-%d %H:%M UTC')"
for ((r = 0; r < ROUNDS; r++)); do
	if ((r % 2 == 0)); then order="off on"; else order="on off"; fi
	for m in $order; do
		measure "$m"
	done
done
# The runs of files r.on and r.off whose others= is under $QUIET % of a core, into q.on and q.off.
keep_quiet() {
	local m line

	for m in on off; do
		: >"$TMP/q.$m"
		while read -r line; do
			if awk -v o="$(field "$line" others)" -v q="$QUIET" 'BEGIN { exit !(o < q) }'; then
				echo "$line" >>"$TMP/q.$m"
			fi
		done <"$TMP/r.$m"
	done
}

# The table of files $1.on and $1.off, titled $2.
table() {
	local m

	echo "$2"
	printf '%-8s %5s %10s %14s %14s\n' mode runs IOPS "busy us/IO" "cpu us/IO"
	for m in off on; do
		printf '%-8s %5s %10s %14s %14s\n' "$m" "$(wc -l <"$1.$m")" "$(median_of "$1.$m" iops)" \
			"$(median_of "$1.$m" busy_us)" "$(median_of "$1.$m" cpu_us)"
	done
	echo "on vs off: IOPS $(diff_pct "$(median_of "$1.on" iops)" "$(median_of "$1.off" iops)")," \
		"busy CPU per I/O $(diff_pct "$(median_of "$1.on" busy_us)" "$(median_of "$1.off" busy_us)")," \
		"process CPU per I/O $(diff_pct "$(median_of "$1.on" cpu_us)" "$(median_of "$1.off" cpu_us)") (aim: under 2 %)"
}

table "$TMP/r" "all runs (medians):"
keep_quiet
table "$TMP/q" "quiet runs only (other processes under $QUIET % of a core on cores 0-1):"
if [[ -s $TMP/scrape.err ]]; then
	echo "warning: $(wc -l <"$TMP/scrape.err") scrapes failed"
fi
others_summary "$TMP/r.on" "$TMP/r.off"
