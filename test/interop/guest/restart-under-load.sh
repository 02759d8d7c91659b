#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# restart-under-load.sh - guest test: nvtcpd is SIGKILLed and started again while fio
# writes and verifies through the kernel host; the host reconnects, retries what was
# in flight, and fio must finish without an error with every block verified. Needs
# the target under /extra/nvtcpd-supervisor.sh and /extra/restart-lib.sh
# (run-nvtcpd.sh with NVTCPD_SUPERVISE=1 copies both).
#
# The fio job writes FIO_SIZE once in random order (every 4 KiB block exactly once,
# each with a crc32c verify header), then reads all of it back and verifies it. Why
# that must pass across a SIGKILL of the target:
#  - a write fio saw complete was acknowledged by nvtcpd, so it reached the backing
#    file (the guest's page cache here; nvtcpd reports a volatile write cache, so an
#    acknowledgement promises durability only after a Flush, but the kill ends the
#    process, not the kernel, and the page cache stays);
#  - a command in flight at the kill fails no I/O: the host (native multipath, as
#    Debian builds it) requeues it until the controller is back, within
#    ctrl-loss-tmo, and sends it again; a write sent twice writes the same data,
#    and fio never has two writes to one block outstanding in a single pass.
# So the verify pass must find each block as fio last wrote it.
#
# Kill points, KILL_AT="w33 w66 r50": wNN = once the write phase has written NN % of
# FIO_SIZE, rNN = once the verify phase has read NN % back (counted on the
# controller's path device). The test fails if fio ends before a kill point: the
# restarts must happen under load. After each kill it waits until nvtcpd listens
# again and the host's controller is live, checks the kernel logged one more
# reconnect, then goes on.
#
# Environment (-e NAME=VALUE):
#   FIO_SIZE=64M      bytes fio writes then verifies (raise it if a kill point is missed)
#   KILL_AT="w33 w66 r50"
#   RECONNECT_DELAY=1 CTRL_LOSS_TMO=60   nvme connect -c / -l (seconds)
#   CONNECT_OPTS=""   extra options for 'nvme connect'
# On failure it writes a one-line reason to $GUEST_REASON_FILE and exits 1.
[ -r /extra/restart-lib.sh ] || {
    echo "no /extra/restart-lib.sh (run with NVTCPD_SUPERVISE=1)" > "${GUEST_REASON_FILE:-/tmp/fail-reason}"
    exit 1
}
# shellcheck source=restart-lib.sh
. /extra/restart-lib.sh
FIO_SIZE=${FIO_SIZE:-64M}
KILL_AT=${KILL_AT:-w33 w66 r50}
RECONNECT_DELAY=${RECONNECT_DELAY:-1}
CTRL_LOSS_TMO=${CTRL_LOSS_TMO:-60}
CONNECT_OPTS=${CONNECT_OPTS:-}
command -v fio > /dev/null || fail "no fio in the guest (image built with WITH_FIO=0?)"

reconnects() { dmesg | grep -c "nvme $CTRL: Successfully reconnected"; }
fio_error() { cat /tmp/fio.err /tmp/fio.out | grep -m 1 -E '^verify:|error='; }

step "connect (reconnect delay ${RECONNECT_DELAY}s, controller loss timeout ${CTRL_LOSS_TMO}s)"
# -c: retry the connection every RECONNECT_DELAY s once the target is gone;
# -l: keep retrying (and hold the I/O) for CTRL_LOSS_TMO s before failing it
# shellcheck disable=SC2086
nvt_connect -c "$RECONNECT_DELAY" -l "$CTRL_LOSS_TMO" $CONNECT_OPTS
echo "reconnect_delay $(cat "/sys/class/nvme/$CTRL/reconnect_delay") s, ctrl_loss_tmo $(cat "/sys/class/nvme/$CTRL/ctrl_loss_tmo") s"
nvt_ns_identity
ID0=$NS_ID
echo "namespace identity: $ID0"

# FIO_SIZE in 512-byte sectors, for the kill points (fio's suffixes are binary)
case $FIO_SIZE in
    *[kK]) sectors=$((${FIO_SIZE%?} * 2)) ;;
    *[mM]) sectors=$((${FIO_SIZE%?} * 2048)) ;;
    *[gG]) sectors=$((${FIO_SIZE%?} * 2097152)) ;;
    *) sectors=$((FIO_SIZE / 512)) ;;
esac
[ "$sectors" -gt 0 ] || fail "bad FIO_SIZE $FIO_SIZE"

step "fio randwrite $FIO_SIZE then verify (crc32c), nvtcpd killed at: $KILL_AT"
rd0=$(nvt_path_stat 3) wr0=$(nvt_path_stat 7)
echo "+ fio randwrite+verify on $NS (background)"
fio --name=restart-under-load --filename="$NS" --ioengine=libaio --direct=1 \
    --rw=randwrite --bs=4k --iodepth=16 --size="$FIO_SIZE" \
    --verify=crc32c --do_verify=1 --verify_fatal=1 --verify_dump=1 \
    --eta=never --output=/tmp/fio.out 2> /tmp/fio.err &
fio_pid=$!

n=0
for k in $KILL_AT; do
    case $k in
        w[0-9]*) field=7 base=$wr0 what="written" ;;
        r[0-9]*) field=3 base=$rd0 what="read back" ;;
        *) kill "$fio_pid"; fail "bad kill point '$k' in KILL_AT" ;;
    esac
    pct=${k#?}
    case $pct in *[!0-9]*) kill "$fio_pid"; fail "bad kill point '$k' in KILL_AT" ;; esac
    goal=$((sectors * pct / 100))
    while [ $(($(nvt_path_stat "$field") - base)) -lt "$goal" ]; do
        if ! kill -0 "$fio_pid" 2>/dev/null; then
            wait "$fio_pid"; st=$?
            cat /tmp/fio.out /tmp/fio.err
            # fio stops at the first verify error (verify_fatal): say that first
            [ "$st" = 0 ] || fail "fio failed (status $st) after $n nvtcpd restart(s), before kill point $k: $(fio_error)"
            fail "fio ended before kill point $k ($pct % $what): raise FIO_SIZE"
        fi
        usleep 200000
    done
    n=$((n + 1))
    before=$(reconnects)
    step "kill $n at $k: $(($(nvt_path_stat 7) - wr0)) sectors written, $(($(nvt_path_stat 3) - rd0)) read of $sectors"
    nvt_restart KILL
    # The host notices the dead connection, then reconnects every RECONNECT_DELAY s.
    i=0
    until [ "$(reconnects)" -gt "$before" ] && [ "$(cat "/sys/class/nvme/$CTRL/state")" = live ]; do
        i=$((i + 1))
        [ $i -le 300 ] || { kill "$fio_pid"; fail "host not reconnected 30 s after kill $n (state $(cat "/sys/class/nvme/$CTRL/state"))"; }
        usleep 100000
    done
    echo "host reconnected ($(reconnects) reconnect(s) so far), controller live; fio running: $(kill -0 "$fio_pid" 2>/dev/null && echo yes || echo no)"
done

step "wait for fio"
wait "$fio_pid"; st=$?
cat /tmp/fio.out /tmp/fio.err
[ "$st" = 0 ] || fail "fio failed (status $st) across $n nvtcpd restart(s): $(fio_error)"
grep -q 'err= 0' /tmp/fio.out || fail "fio reported an error"
written=$(($(nvt_path_stat 7) - wr0)) nread=$(($(nvt_path_stat 3) - rd0))
# At least everything once: requeued commands after a kill may count twice.
if [ "$written" -lt "$sectors" ] || [ "$nread" -lt "$sectors" ]; then
    fail "fio moved less than FIO_SIZE: $written sectors written, $nread read, want $sectors"
fi
echo "FIO-VERIFIED: $FIO_SIZE written and read back with crc32c verify; $written sectors written, $nread read on the path; $n SIGKILL(s) of nvtcpd"
[ "$(reconnects)" -ge "$n" ] || fail "only $(reconnects) reconnect(s) logged for $n kill(s)"

nvt_ns_identity
[ "$NS_ID" = "$ID0" ] || fail "namespace identity changed: '$NS_ID' != '$ID0'"
echo "IDENTITY-VERIFIED: unchanged after $n restart(s): $NS_ID"

step "disconnect"
nvt_disconnect
echo "ALL-STEPS-OK"
