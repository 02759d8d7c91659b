#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# ha-failover.sh - guest test: one namespace served by two nvtcpd processes over
# one shared block device (guest/nvtcpd-ha-pair.sh: A on HA_PORT_A, B on
# HA_PORT_B, one subsystem NQN with ANA reporting, one namespace identity,
# disjoint controller IDs, A's discovery referring to B's), used by the Linux host
# as one multipath namespace with two paths. Run by run-nvtcpd.sh with NVTCPD_HA=1
# (which copies the pair script, restart-lib.sh and, with -x, the nvtcp RPC CLI to
# /extra).
#
# Steps, one CASE-RESULT line each; a failed step ends the test:
#   ha/targets          both daemons listen and answer RPC; ANA states set:
#                       A optimized, B non-optimized
#   ha/discover         'nvme discover' on A lists the subsystem and a referral
#                       to B's discovery port
#   ha/connect-all      'nvme connect-all' through A alone reaches both: two
#                       controllers (controller IDs from A's and B's ranges), one
#                       namespace, two paths with the ANA states above in sysfs
#                       and in 'nvme list-subsys'
#   ha/io-optimized     fio (random writes with crc32c verify headers, then a
#                       verify pass) runs; only A's path device counts I/O
#   ha/move-optimized   by RPC B becomes optimized, A non-optimized; the host's
#                       paths follow, and I/O moves to B's path
#   ha/kill-active      B, the active path, is SIGKILLed while fio writes; the
#                       failover time is from the kill to the first I/O
#                       completed on A's path (A's path device polled every
#                       ~5 ms; both instants are kernel log timestamps); then A
#                       serves on and 'nvme list-subsys' shows B's path down
#   ha/verify           fio ends without an error and verifies every block: no
#                       write that was acknowledged by either target was lost
#   ha/disconnect       both controllers go away
#
# Environment (-e NAME=VALUE): FIO_SIZE=64M (must outlast the write-phase steps;
# the shared device is 256 MiB), HA_PORT_A=4420 HA_PORT_B=4421, CTRL_LOSS_TMO=60
# RECONNECT_DELAY=1 (connect-all -l / -c). Failure: a reason in $GUEST_REASON_FILE,
# exit 1.
[ -r /extra/restart-lib.sh ] && [ -x /extra/nvtcp ] || {
    echo "no /extra/restart-lib.sh or /extra/nvtcp (run-nvtcpd.sh NVTCPD_HA=1, -x nvtcp)" \
        > "${GUEST_REASON_FILE:-/tmp/fail-reason}"
    exit 1
}
# shellcheck source=restart-lib.sh
. /extra/restart-lib.sh
HA_DIR=${HA_DIR:-/run/nvtcpd-ha}
HA_PORT_A=${HA_PORT_A:-4420}
HA_PORT_B=${HA_PORT_B:-4421}
FIO_SIZE=${FIO_SIZE:-64M}
CTRL_LOSS_TMO=${CTRL_LOSS_TMO:-60}
RECONNECT_DELAY=${RECONNECT_DELAY:-1}
MIB=2048   # sectors: the I/O a path must carry to count as carrying I/O

FIO_PID="" CASE="" CASE_T0=0
now() { read -r UP _ < /proc/uptime; }   # sets UP, no fork
since() { now; awk -v a="$1" -v b="$UP" 'BEGIN { printf "%.1f", b - a }'; }
case_begin() { CASE=$1; now; CASE_T0=$UP; shift; step "$CASE: $*"; }
case_pass() { echo "CASE-RESULT: PASS $CASE ($(since "$CASE_T0")s): $*"; }
# fail (overrides restart-lib.sh's): the step's CASE-RESULT, what the host sees,
# and no fio left behind.
fail() {
    [ -n "$FIO_PID" ] && kill "$FIO_PID" 2> /dev/null
    echo "CASE-RESULT: FAIL ${CASE:-ha} ($(since "$CASE_T0")s): $*"
    echo "TEST-FAIL: $*"
    echo "${CASE:+$CASE: }$*" > "${GUEST_REASON_FILE:-/tmp/fail-reason}"
    nvme list-subsys 2>&1 | sed 's/^/list-subsys| /'
    [ -s /tmp/fio.out ] && cat /tmp/fio.out /tmp/fio.err
    exit 1
}
rpc() {  # rpc a|b METHOD [key=value...]: the nvtcp CLI on that daemon's socket
    who=$1
    shift
    /extra/nvtcp -s "$HA_DIR/$who.sock" -t 10 "$@"
}
rpc_ok() { rpc "$1" rpc_get_methods > /dev/null 2>&1; }
# io PATHDEV: IO = sectors read + written by that path device (no fork: the fast
# poll below uses it)
io() { read -r _ _ _r _ _ _ _w _ < "/sys/block/$1/stat"; IO=$((_r + _w)); }
written() { read -r _ _ _ _ _ _ _w _ < "/sys/block/$1/stat"; W=$_w; }
fio_alive() { [ -n "$FIO_PID" ] && kill -0 "$FIO_PID" 2> /dev/null; }
# wait_until SECS WHAT COMMAND...: poll COMMAND every 100 ms; fail after SECS
wait_until() {
    secs=$1 what=$2
    shift 2
    now
    end=$(awk -v u="$UP" -v s="$secs" 'BEGIN { print u + s }')
    until "$@"; do
        now
        awk -v u="$UP" -v e="$end" 'BEGIN { exit !(u > e) }' && fail "$what: not after ${secs}s"
        usleep 100000
    done
}
# grows PATHDEV BASE N: has the path device moved N sectors since BASE? fio must
# still run meanwhile (a step that needs I/O cannot pass without it).
grows() {
    io "$1"
    [ $((IO - $2)) -ge "$3" ] && return 0
    fio_alive || fail "fio ended before $1 carried $3 sectors (raise FIO_SIZE)"
    return 1
}
ana_of() { cat "/sys/block/$1/ana_state" 2> /dev/null || echo none; }
ana_is() { [ "$(ana_of "$PATH_A")" = "$1" ] && [ "$(ana_of "$PATH_B")" = "$2" ]; }
state_of() { cat "/sys/class/nvme/$1/state" 2> /dev/null || echo gone; }
kmsg_time() {  # kmsg_time TEXT: the kernel log timestamp of the line with TEXT
    dmesg | awk -v t="$1" 'index($0, t) { sub(/^\[ */, ""); sub(/\].*/, ""); v = $0 } END { print v }'
}

# ---- ha/targets ---------------------------------------------------------------
case_begin ha/targets "two nvtcpd processes on one shared device"
command -v fio > /dev/null || fail "no fio in the guest (image built with WITH_FIO=0?)"
wait_until 120 "nvtcpd B listening on $HA_PORT_B" listening "$HA_PORT_B"
for who in a b; do
    wait_until 60 "nvtcpd $who answering RPC" rpc_ok "$who"
    rpc "$who" nvmf_get_subsystems > "/tmp/subsys-$who.json" || fail "nvmf_get_subsystems on $who failed"
    grep -q "\"$SUBNQN\"" "/tmp/subsys-$who.json" || fail "$who does not export $SUBNQN"
done
echo "shared device $(cat "$HA_DIR/device"); nvtcpd A pid $(cat "$HA_DIR/a.pid") port $HA_PORT_A, B pid $(cat "$HA_DIR/b.pid") port $HA_PORT_B"
grep -E 'bdev Shared0: .* (direct|buffered) I/O' "$HA_DIR/a.log" "$HA_DIR/b.log"
for who in a b; do
    grep -q 'bdev Shared0: .*, direct I/O' "$HA_DIR/$who.log" ||
        fail "nvtcpd $who does not serve the shared device with direct I/O"
done
# Each daemon sets the state of its own listener.
set_ana() {  # set_ana a|b PORT STATE
    rpc "$1" nvmf_subsystem_listener_set_ana_state --json "{\"nqn\": \"$SUBNQN\", \"ana_state\": \"$3\",
        \"listen_address\": {\"trtype\": \"tcp\", \"adrfam\": \"IPv4\", \"traddr\": \"$TRADDR\",
        \"trsvcid\": \"$2\"}}" > /dev/null || fail "nvmf_subsystem_listener_set_ana_state $3 on $1 failed"
}
# group1_state a|b: the state of ANA group 1 through that daemon's listener
group1_state() {
    rpc "$1" nvmf_subsystem_get_listeners nqn="$SUBNQN" |
        awk '/"ana_group"/ { g = $2 + 0 } /"ana_state"/ && g == 1 { gsub(/[",]/, "", $2); print $2; exit }'
}
sa=$(group1_state a) sb=$(group1_state b)
[ "$sa" = optimized ] && [ "$sb" = non_optimized ] ||
    fail "ANA group 1: A ${sa:-not reported}, B ${sb:-not reported}; want optimized and non_optimized from the configurations"
case_pass "A (pid $(cat "$HA_DIR/a.pid"), controller IDs 1-999) and B (pid $(cat "$HA_DIR/b.pid"), 1000-1999) export $SUBNQN ns 1 from $(cat "$HA_DIR/device") with direct I/O; ANA group 1: A $sa, B $sb"

# ---- ha/discover ----------------------------------------------------------------
case_begin ha/discover "nvme discover on A"
run nvme discover -t tcp -a "$TRADDR" -s "$HA_PORT_A" > /tmp/discover.out 2>&1 ||
    { cat /tmp/discover.out; fail "nvme discover on $HA_PORT_A failed"; }
cat /tmp/discover.out
# One record per "=====Discovery Log Entry" block: subtype, trsvcid, subnqn.
awk '/^=+Discovery Log Entry/ { if (r) print r; r = "" }
     /^(subtype|trsvcid|subnqn):/ { k = $1; sub(/^[a-z]+: */, ""); r = r k $0 ";" }
     END { if (r) print r }' /tmp/discover.out > /tmp/discover.rec
cat /tmp/discover.rec
grep -q "subtype:[^;]*referral;trsvcid:$HA_PORT_B;subnqn:nqn.2014-08.org.nvmexpress.discovery;" /tmp/discover.rec ||
    fail "no discovery referral to port $HA_PORT_B in A's discovery log"
grep -q "subtype:nvme subsystem;trsvcid:$HA_PORT_A;subnqn:$SUBNQN;" /tmp/discover.rec ||
    fail "$SUBNQN on port $HA_PORT_A missing from A's discovery log"
grep -q "trsvcid:$HA_PORT_B;subnqn:$SUBNQN;" /tmp/discover.rec &&
    fail "A's discovery log lists B's port for $SUBNQN itself (it must come through the referral)"
case_pass "A's log: $SUBNQN at $HA_PORT_A and a referral to the discovery subsystem at $HA_PORT_B"

# ---- ha/connect-all --------------------------------------------------------------
case_begin ha/connect-all "nvme connect-all through A only"
run nvme connect-all -t tcp -a "$TRADDR" -s "$HA_PORT_A" -l "$CTRL_LOSS_TMO" -c "$RECONNECT_DELAY" ||
    fail "nvme connect-all through $HA_PORT_A failed"
CTRL_A="" CTRL_B=""
for c in /sys/class/nvme/nvme*; do
    [ "$(cat "$c/subsysnqn" 2> /dev/null)" = "$SUBNQN" ] || continue
    case "$(cat "$c/address"),"  in
        *"trsvcid=$HA_PORT_A,"*) CTRL_A=${c##*/} ;;
        *"trsvcid=$HA_PORT_B,"*) CTRL_B=${c##*/} ;;
    esac
done
[ -n "$CTRL_A" ] || fail "no controller of $SUBNQN at port $HA_PORT_A after connect-all"
[ -n "$CTRL_B" ] || fail "no controller of $SUBNQN at port $HA_PORT_B after connect-all (the referral was not followed)"
find_path() { for p in /sys/class/nvme/"$1"/nvme*c*n1; do [ -d "$p" ] && echo "${p##*/}" && return; done; }
have_paths() { PATH_A=$(find_path "$CTRL_A") PATH_B=$(find_path "$CTRL_B"); [ -n "$PATH_A" ] && [ -n "$PATH_B" ]; }
wait_until 20 "path devices of $CTRL_A and $CTRL_B" have_paths
HEAD=$(echo "$PATH_A" | sed 's/c[0-9]*n/n/')
[ "$HEAD" = "$(echo "$PATH_B" | sed 's/c[0-9]*n/n/')" ] ||
    fail "the paths $PATH_A and $PATH_B belong to different namespaces (no multipath namespace)"
wait_until 20 "multipath namespace /dev/$HEAD" test -b "/dev/$HEAD"
SUBSYS=/sys/class/nvme-subsystem/nvme-subsys${HEAD#nvme}
SUBSYS=${SUBSYS%n1}
nctrl=0 nns=0
for e in "$SUBSYS"/nvme*; do
    case ${e##*/} in
        nvme*[0-9]n[0-9]*) nns=$((nns + 1)) ;;
        nvme[0-9]*) nctrl=$((nctrl + 1)) ;;
    esac
done
[ "$nctrl" = 2 ] && [ "$nns" = 1 ] || fail "${SUBSYS##*/}: $nctrl controller(s), $nns namespace(s); want 2 and 1"
cid_a=$(cat "/sys/class/nvme/$CTRL_A/cntlid") cid_b=$(cat "/sys/class/nvme/$CTRL_B/cntlid")
[ "$cid_a" -ge 1 ] && [ "$cid_a" -le 999 ] || fail "A's controller ID $cid_a is outside 1-999"
[ "$cid_b" -ge 1000 ] && [ "$cid_b" -le 1999 ] || fail "B's controller ID $cid_b is outside 1000-1999"
wait_until 10 "ANA states A optimized, B non-optimized in sysfs" ana_is optimized non-optimized
run nvme list-subsys "/dev/$HEAD" > /tmp/list-subsys.out 2>&1 || fail "nvme list-subsys failed"
cat /tmp/list-subsys.out
grep -q "^ *+- $CTRL_A tcp .*trsvcid=$HA_PORT_A.* live optimized" /tmp/list-subsys.out ||
    fail "nvme list-subsys does not show $CTRL_A (port $HA_PORT_A) live optimized"
grep -q "^ *+- $CTRL_B tcp .*trsvcid=$HA_PORT_B.* live non-optimized" /tmp/list-subsys.out ||
    fail "nvme list-subsys does not show $CTRL_B (port $HA_PORT_B) live non-optimized"
case_pass "/dev/$HEAD, one namespace of ${SUBSYS##*/} with paths $PATH_A ($CTRL_A, cntlid $cid_a, port $HA_PORT_A, optimized) and $PATH_B ($CTRL_B, cntlid $cid_b, port $HA_PORT_B, non-optimized)"

# ---- ha/io-optimized --------------------------------------------------------------
case_begin ha/io-optimized "fio randwrite $FIO_SIZE then verify on /dev/$HEAD"
case $FIO_SIZE in
    *[mM]) sectors=$((${FIO_SIZE%?} * 2048)) ;;
    *[gG]) sectors=$((${FIO_SIZE%?} * 2097152)) ;;
    *) fail "FIO_SIZE must be given in M or G: $FIO_SIZE" ;;
esac
io "$PATH_A"; a0=$IO
io "$PATH_B"; b0=$IO
written "$PATH_A"; wa0=$W
written "$PATH_B"; wb0=$W
echo "+ fio randwrite+verify on /dev/$HEAD (background)"
fio --name=ha-failover --filename="/dev/$HEAD" --ioengine=libaio --direct=1 \
    --rw=randwrite --bs=4k --iodepth=16 --size="$FIO_SIZE" \
    --verify=crc32c --do_verify=1 --verify_fatal=1 --verify_dump=1 \
    --eta=never --output=/tmp/fio.out 2> /tmp/fio.err &
FIO_PID=$!
wait_until 60 "$MIB sectors through A's path $PATH_A" grows "$PATH_A" "$a0" "$MIB"
io "$PATH_A"; da=$((IO - a0))
io "$PATH_B"; db=$((IO - b0))
[ "$db" = 0 ] || fail "B's non-optimized path $PATH_B carried $db sectors while A's was optimized"
case_pass "$da sectors through $PATH_A (optimized), 0 through $PATH_B (non-optimized)"

# ---- ha/move-optimized ------------------------------------------------------------
case_begin ha/move-optimized "B optimized, A non-optimized, by RPC"
set_ana b "$HA_PORT_B" optimized
set_ana a "$HA_PORT_A" non_optimized
wait_until 30 "the host's ANA states: A non-optimized, B optimized" ana_is non-optimized optimized
now; t_ana=$(since "$CASE_T0")
# Commands already sent through A complete there; once B has carried a MiB, A
# must carry nothing more while B carries another.
io "$PATH_B"; b1=$IO
wait_until 30 "$MIB sectors through B's path $PATH_B after the move" grows "$PATH_B" "$b1" "$MIB"
io "$PATH_A"; a2=$IO
io "$PATH_B"; b2=$IO
wait_until 30 "$MIB more sectors through B's path $PATH_B" grows "$PATH_B" "$b2" "$MIB"
io "$PATH_A"
[ "$IO" = "$a2" ] || fail "A's non-optimized path $PATH_A still carried $((IO - a2)) sectors after the move"
io "$PATH_B"
case_pass "host saw the new states in ${t_ana}s; then $((IO - b2)) sectors through $PATH_B, 0 through $PATH_A"

# ---- ha/kill-active ----------------------------------------------------------------
case_begin ha/kill-active "SIGKILL nvtcpd B, the active path, while fio writes"
written "$PATH_A"; wa=$((W - wa0))
written "$PATH_B"; wb=$((W - wb0))
[ $((wa + wb)) -lt "$sectors" ] || fail "fio's write phase ended before the kill (raise FIO_SIZE)"
pid_b=$(cat "$HA_DIR/b.pid")
io "$PATH_A"; base=$IO
: > "$HA_DIR/b.expect-kill"
echo "ha-failover: SIGKILL nvtcpd B" > /dev/kmsg
kill -KILL "$pid_b" || fail "cannot SIGKILL nvtcpd B (pid $pid_b)"
# The first I/O completed on A's path: poll its counters about every 5 ms.
n=0
while :; do
    io "$PATH_A"
    [ "$IO" -gt "$base" ] && break
    n=$((n + 1))
    if [ $((n % 200)) = 0 ]; then
        fio_alive || fail "fio ended before any I/O on A's path after the kill"
        [ "$n" -le 12000 ] || fail "no I/O on A's path $PATH_A after the kill"
    fi
    usleep 5000
done
echo "ha-failover: first I/O on A's path" > /dev/kmsg
t_kill=$(kmsg_time "ha-failover: SIGKILL nvtcpd B")
t_first=$(kmsg_time "ha-failover: first I/O on A's path")
ms=$(awk -v a="$t_kill" -v b="$t_first" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
# When the host saw B's connections end: the start of its error recovery.
t_rec=$(kmsg_time "nvme $CTRL_B: starting error recovery")
rec_ms=$(awk -v a="$t_kill" -v b="$t_rec" 'BEGIN { if (b == "") print "?"; else printf "%.0f", (b - a) * 1000 }')
echo "FAILOVER-TIME: ${ms} ms from SIGKILL of B to the first I/O completed on A's path ($n polls); the host's error recovery of $CTRL_B began after ${rec_ms} ms"
dmesg | grep -E "ha-failover:|nvme" | tail -n 12
wait_until 10 "nvtcpd B reaped" test -e "$HA_DIR/b.exit"
[ "$(cat "$HA_DIR/b.exit")" = 137 ] || fail "nvtcpd B ended with status $(cat "$HA_DIR/b.exit"), want 137"
# A serves on: a MiB more through its path, its controller live.
io "$PATH_A"
wait_until 30 "$MIB sectors through A's path after the failover" grows "$PATH_A" "$IO" "$MIB"
[ "$(state_of "$CTRL_A")" = live ] || fail "A's controller $CTRL_A is $(state_of "$CTRL_A") after the failover"
b_down() { case $(state_of "$CTRL_B") in connecting | resetting | deleting | gone) return 0 ;; esac; return 1; }
wait_until 10 "B's controller $CTRL_B down" b_down
# B's path carries nothing from here on (and goes away at ctrl-loss-tmo): its
# counters now are its final ones.
written "$PATH_B"; wb_end=$W
io "$PATH_B"; iob_end=$IO
run nvme list-subsys "/dev/$HEAD" > /tmp/list-subsys.out 2>&1 || fail "nvme list-subsys failed"
cat /tmp/list-subsys.out
grep -q "^ *+- $CTRL_A tcp .*trsvcid=$HA_PORT_A.* live" /tmp/list-subsys.out ||
    fail "nvme list-subsys does not show $CTRL_A (port $HA_PORT_A) live after the failover"
if grep -q "^ *+- $CTRL_B " /tmp/list-subsys.out; then
    grep -q "^ *+- $CTRL_B tcp .*trsvcid=$HA_PORT_B.* \(connecting\|resetting\|deleting\)" /tmp/list-subsys.out ||
        fail "nvme list-subsys shows $CTRL_B (port $HA_PORT_B) neither gone nor reconnecting"
fi
echo "CASE-RESULT: PASS ha/failover-time: ${ms} ms from SIGKILL of B to the first I/O completed on A's path (error recovery began after ${rec_ms} ms)"
case_pass "B (pid $pid_b) killed after $((wa + wb)) of $sectors sectors written; first I/O on $PATH_A ${ms} ms later; $CTRL_A live and serving, $CTRL_B $(state_of "$CTRL_B")"

# ---- ha/verify ----------------------------------------------------------------------
case_begin ha/verify "fio ends and verifies every block"
wait "$FIO_PID"; st=$?
FIO_PID=""
cat /tmp/fio.out /tmp/fio.err
[ "$st" = 0 ] || fail "fio failed (status $st): $(grep -m 1 -E '^verify:|error=' /tmp/fio.out /tmp/fio.err)"
grep -q 'err= 0' /tmp/fio.out || fail "fio reported an error"
written "$PATH_A"; wa=$((W - wa0))
wb=$((wb_end - wb0))
io "$PATH_A"; ra=$((IO - a0 - wa))
rb=$((iob_end - b0 - wb))
# At least everything once: commands requeued at the kill count twice.
[ $((wa + wb)) -ge "$sectors" ] || fail "only $((wa + wb)) of $sectors sectors written"
[ $((ra + rb)) -ge "$sectors" ] || fail "only $((ra + rb)) of $sectors sectors read back"
case_pass "$FIO_SIZE written ($wa sectors via A, $wb via B) and read back with crc32c verify ($ra via A, $rb via B) across the SIGKILL of B"

# ---- ha/disconnect --------------------------------------------------------------------
case_begin ha/disconnect "both controllers"
run nvme disconnect -n "$SUBNQN" || fail "nvme disconnect -n $SUBNQN failed"
gone() { [ ! -e "/sys/class/nvme/$CTRL_A" ] && [ ! -e "/sys/class/nvme/$CTRL_B" ]; }
wait_until 10 "$CTRL_A and $CTRL_B gone" gone
case_pass "$CTRL_A and $CTRL_B removed"
echo "ALL-STEPS-OK"
