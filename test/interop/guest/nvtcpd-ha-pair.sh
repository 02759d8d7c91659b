#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# nvtcpd-ha-pair.sh - guest side (busybox sh): two nvtcpd processes, A and B,
# exporting one namespace of one subsystem over one shared block device, for the
# multipath and failover tests (guest/ha-failover.sh). The target command of
# run-nvtcpd.sh with NVTCPD_HA=1:
#   exec sh /extra/nvtcpd-ha-pair.sh ./nvtcpd [nvtcpd options]
#
# The backing: a sparse file in /tmp (HA_DISK_SIZE) attached to a loop device.
# The initramfs root refuses O_DIRECT, a block device does not: both daemons open
# /dev/loopN with O_DIRECT (no page cache of their own), as they would open a
# shared LUN. Each daemon gets an SPDK-format configuration, $HA_DIR/a.json and
# b.json:
#   - bdev_uring_create on the loop device (one bdev name on both);
#   - SUBNQN with "ana_reporting": true, one serial and model number, and
#     disjoint controller ID ranges (A 1-999, B 1000-1999): the host refuses a
#     second controller with an ID it already has in the subsystem;
#   - namespace 1 with the same NGUID, UUID and EUI-64 and ANA group 1 on both:
#     the host joins the two paths into one multipath namespace by them;
#   - the discovery subsystem and SUBNQN listening on the daemon's own port
#     (A HA_PORT_A, B HA_PORT_B), and on A a discovery referral to B's port.
# ANA group 1 starts optimized through A's listener (the default) and
# non-optimized through B's (nvmf_subsystem_listener_set_ana_state in B's
# configuration, as save_config writes a state that is not optimized).
#
# Files in $HA_DIR (/run/nvtcpd-ha) the test uses:
#   a.sock b.sock      the daemons' JSON-RPC sockets (-r)
#   a.pid  b.pid       their pids
#   a.exit b.exit      their exit status, once they ended
#   a.expect-kill ...  created by the test before it kills that daemon on purpose
# A daemon that ends without its expect-kill file (a crash, an ASan report, an
# exit of its own) ends this script with the daemon's status (1 for 0), so the
# guest's /init fails the run with "target died during the test". SIGTERM from
# /init at the end is forwarded to the daemons still running; the script exits
# with the first non-zero status among them (0 after clean shutdowns).
#
# HA_CONFIG_ONLY=1 writes the two configurations and exits (HA_LOOP names the
# device then): a way to read them without a guest.
HA_DIR=${HA_DIR:-/run/nvtcpd-ha}
HA_PORT_A=${HA_PORT_A:-4420}
HA_PORT_B=${HA_PORT_B:-4421}
HA_DISK=${HA_DISK:-/tmp/nvtcp-ha.img}
HA_DISK_SIZE_MB=${HA_DISK_SIZE_MB:-256}
TRADDR=${TRADDR:-127.0.0.1}
SUBNQN=${SUBNQN:-nqn.2016-06.io.nvtcp:ha1}
# The namespace's identity, the same on both targets.
HA_NGUID=${HA_NGUID:-4E5654435048410000000000000000A1}
HA_UUID=${HA_UUID:-4e565443-5048-4100-8000-0000000000a1}
HA_EUI64=${HA_EUI64:-4E565443504841A1}
DISC_NQN=nqn.2014-08.org.nvmexpress.discovery

say() { echo "ha-pair: $*"; }
mkdir -p "$HA_DIR" || exit 1
rm -f "$HA_DIR"/*.pid "$HA_DIR"/*.exit "$HA_DIR"/*.expect-kill "$HA_DIR"/*.sock

addr() {  # addr PORT: an SPDK listen_address object
    printf '{"trtype": "TCP", "adrfam": "IPv4", "traddr": "%s", "trsvcid": "%s"}' "$TRADDR" "$1"
}

config() {  # config PORT MIN_CNTLID MAX_CNTLID REFERRAL_PORT|"" DEVICE ANA_STATE
    cat <<EOF
{
  "subsystems": [
    {
      "subsystem": "bdev",
      "config": [
        {"method": "bdev_uring_create", "params": {"name": "Shared0", "filename": "$5", "block_size": 512}}
      ]
    },
    {
      "subsystem": "nvmf",
      "config": [
        {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
EOF
    [ -n "$4" ] && cat <<EOF
        {"method": "nvmf_discovery_add_referral", "params": {"address": $(addr "$4"), "secure_channel": false}},
EOF
    cat <<EOF
        {"method": "nvmf_create_subsystem", "params": {"nqn": "$SUBNQN", "allow_any_host": true,
          "serial_number": "NVTCPHA00000001", "model_number": "nvtcpd shared namespace",
          "max_namespaces": 32, "min_cntlid": $2, "max_cntlid": $3, "ana_reporting": true}},
        {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$SUBNQN", "namespace": {"nsid": 1,
          "bdev_name": "Shared0", "nguid": "$HA_NGUID", "uuid": "$HA_UUID", "eui64": "$HA_EUI64",
          "anagrpid": 1}}},
        {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$DISC_NQN",
          "listen_address": $(addr "$1"), "secure_channel": false}},
        {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$SUBNQN",
          "listen_address": $(addr "$1"), "secure_channel": false}}$([ "$6" = optimized ] || printf ',
        {"method": "nvmf_subsystem_listener_set_ana_state", "params": {"nqn": "%s",
          "listen_address": %s, "ana_state": "%s", "anagrpid": 1}}' "$SUBNQN" "$(addr "$1")" "$6")
      ]
    }
  ]
}
EOF
}

if [ "${HA_CONFIG_ONLY:-0}" = 1 ]; then
    dev=${HA_LOOP:-/dev/loop0}
else
    # A fresh zeroed file each run: the test's data starts from nothing.
    rm -f "$HA_DISK"
    dd if=/dev/zero of="$HA_DISK" bs=1M count=0 seek="$HA_DISK_SIZE_MB" 2> /dev/null ||
        { say "cannot create $HA_DISK"; exit 1; }
    modprobe loop 2> /dev/null
    dev=""
    for d in /dev/loop0 /dev/loop1 /dev/loop2 /dev/loop3; do
        [ -b "$d" ] && losetup "$d" "$HA_DISK" 2> /dev/null && dev=$d && break
    done
    [ -n "$dev" ] || { say "cannot attach $HA_DISK to a loop device (no loop module?)"; exit 1; }
    say "shared backing: $dev over $HA_DISK (${HA_DISK_SIZE_MB} MiB)"
    echo "$dev" > "$HA_DIR/device"
fi
config "$HA_PORT_A" 1 999 "$HA_PORT_B" "$dev" optimized > "$HA_DIR/a.json" || exit 1
config "$HA_PORT_B" 1000 1999 "" "$dev" non_optimized > "$HA_DIR/b.json" || exit 1
[ "${HA_CONFIG_ONLY:-0}" = 1 ] && { say "wrote $HA_DIR/a.json and $HA_DIR/b.json"; exit 0; }
[ $# -gt 0 ] || { say "usage: $0 NVTCPD [ARGS...]"; exit 2; }

# start NAME NVTCPD [ARGS...]: run the daemon in a subshell that records its pid
# and then its exit status (written to a temporary name, then renamed: a reader
# never sees half a file). Its output goes to NAME.log, shown live prefixed.
TAILS=""
start() {
    name=$1
    shift
    : > "$HA_DIR/$name.log"
    (
        "$@" -c "$HA_DIR/$name.json" -r "$HA_DIR/$name.sock" > "$HA_DIR/$name.log" 2>&1 < /dev/null &
        pid=$!
        echo "$pid" > "$HA_DIR/$name.pid"
        wait "$pid"
        echo $? > "$HA_DIR/$name.exit.tmp" && mv "$HA_DIR/$name.exit.tmp" "$HA_DIR/$name.exit"
    ) &
    tail -n +1 -f "$HA_DIR/$name.log" 2> /dev/null | awk -v n="$name" '{ print "[" n "] " $0; fflush() }' &
    TAILS="$TAILS $!"
    i=0
    until [ -s "$HA_DIR/$name.pid" ] || [ $i -ge 100 ]; do usleep 10000; i=$((i + 1)); done
    say "started nvtcpd $name (pid $(cat "$HA_DIR/$name.pid")): $*"
}

stop=0
trap 'stop=1' TERM INT
start a "$@"
start b "$@"

# Watch both until /init's SIGTERM; a daemon that ends unasked ends the run.
rc=0
while [ "$stop" = 0 ]; do
    for n in a b; do
        [ -e "$HA_DIR/$n.exit" ] && [ ! -e "$HA_DIR/$n.seen" ] || continue
        : > "$HA_DIR/$n.seen"
        st=$(cat "$HA_DIR/$n.exit")
        if [ -e "$HA_DIR/$n.expect-kill" ]; then
            say "nvtcpd $n ended with status $st, as the test asked"
        else
            say "nvtcpd $n ended on its own with status $st"
            [ "$st" = 0 ] && st=1
            rc=$st
            stop=1
        fi
    done
    [ "$stop" = 0 ] && usleep 100000
done

# Stop what still runs (SIGTERM: an orderly shutdown, status 0), then report.
for n in a b; do
    [ -e "$HA_DIR/$n.exit" ] || kill -TERM "$(cat "$HA_DIR/$n.pid")" 2> /dev/null
done
for n in a b; do
    i=0
    until [ -e "$HA_DIR/$n.exit" ] || [ $i -ge 100 ]; do usleep 100000; i=$((i + 1)); done
    if [ ! -e "$HA_DIR/$n.exit" ]; then
        say "nvtcpd $n still running 10 s after SIGTERM: SIGKILL"
        kill -KILL "$(cat "$HA_DIR/$n.pid")" 2> /dev/null
        [ "$rc" = 0 ] && rc=1
        continue
    fi
    [ -e "$HA_DIR/$n.seen" ] && continue
    st=$(cat "$HA_DIR/$n.exit")
    say "nvtcpd $n stopped with status $st"
    [ "$rc" = 0 ] && rc=$st
done
usleep 300000   # the last lines of the logs
# shellcheck disable=SC2086 # a list of pids
kill $TAILS 2> /dev/null
losetup -d "$(cat "$HA_DIR/device")" 2> /dev/null
exit "$rc"
