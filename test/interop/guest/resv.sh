#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# resv.sh - guest test: NVMe reservations from the kernel host with nvme-cli
# against nvtcpd running guest/resv.json (namespace 1 with a ptpl_file in /tmp).
#
# Steps: connect; resv-register (CPTPL set: the PTPL file appears, Report says
# PTPL on); for Write Exclusive, Exclusive Access and Write Exclusive -
# Registrants Only: resv-acquire, resv-report (one registrant, the key, this
# host holds, the type), a dd write and read-back as the holder, resv-release
# and resv-report (no reservation); a release naming another type is refused;
# replace the key; unregister (Report: no registrant); disconnect.
#
# Environment: TRADDR, TRSVCID, SUBNQN (run-guest.sh sets them).
# On failure it writes a one-line reason to $GUEST_REASON_FILE and exits 1.
TRADDR=${TRADDR:-127.0.0.1}
TRSVCID=${TRSVCID:-4420}
SUBNQN=${SUBNQN:-nqn.2016-06.io.nvtcp:resv}
PTPL_FILE=/tmp/nvtcp-resv-ptpl.json
KEY=0xa1
KEY2=0xb2

step() { echo "=== $*"; }
fail() {
    echo "TEST-FAIL: $*"
    echo "$*" > "${GUEST_REASON_FILE:-/tmp/fail-reason}"
    nvme disconnect -n "$SUBNQN" > /dev/null 2>&1
    exit 1
}
run() { echo "+ $*"; "$@"; }

# resv-report in JSON without blanks: the checks grep "name":value.
report() {
    nvme resv-report "$ns" -n 1 -e -o json > /tmp/report.json 2>&1 || {
        cat /tmp/report.json; fail "nvme resv-report failed"; }
    tr -d ' \t\n' < /tmp/report.json > /tmp/report.flat
    cat /tmp/report.flat; echo
}
expect() {
    grep -q "$1" /tmp/report.flat || fail "resv-report: $2 (no $1)"
    echo "ok: $2"
}

step "connect"
run nvme connect -t tcp -a "$TRADDR" -s "$TRSVCID" -n "$SUBNQN" -l 20 || fail "nvme connect failed"
ctrl=""
for c in /sys/class/nvme/nvme*; do
    [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$SUBNQN" ] && ctrl=${c##*/}
done
[ -n "$ctrl" ] || fail "no controller for $SUBNQN in /sys/class/nvme"
i=0; ns=""
while [ $i -lt 100 ]; do           # the namespace node appears asynchronously
    for b in /dev/${ctrl}n1 /dev/nvme*n1; do [ -b "$b" ] && ns=$b && break; done
    [ -n "$ns" ] && break
    usleep 200000; i=$((i + 1))
done
[ -n "$ns" ] || fail "no namespace block device after connect"
echo "controller /dev/$ctrl, namespace $ns"
run nvme id-ns "$ns" > /tmp/id-ns.out || fail "nvme id-ns failed"
grep -E '^rescap' /tmp/id-ns.out || fail "id-ns shows no rescap"
grep -qE '^rescap +: 0xff' /tmp/id-ns.out || fail "rescap is not 0xff (PTPL, six types, IEKEY)"
echo "ok: id-ns rescap 0xff"

step "register (CPTPL set)"
run nvme resv-register "$ns" -n 1 --nrkey=$KEY --rrega=0 --cptpl=3 || fail "resv-register failed"
report
expect '"regctl":1' "one registrant"
expect '"ptpls":1' "PTPL on"
expect '"rtype":0' "no reservation yet"
grep -q '"ptpl": true' "$PTPL_FILE" || fail "$PTPL_FILE does not say ptpl true"
echo "ok: $PTPL_FILE written, ptpl true"

dd if=/dev/urandom of=/tmp/pattern bs=4k count=16 2>/dev/null
for t in 1 2 3; do
    step "acquire type $t"
    run nvme resv-acquire "$ns" -n 1 --crkey=$KEY --rtype=$t --racqa=0 ||
        fail "resv-acquire type $t failed"
    report
    expect "\"rtype\":$t" "type $t"
    expect '"rcsts":1' "this host holds the reservation"
    expect "\"rkey\":$((KEY))" "the registrant's key $KEY"
    grep -q '"ptpl": true' "$PTPL_FILE" && grep -q "\"rtype\": $t" "$PTPL_FILE" ||
        fail "$PTPL_FILE does not hold type $t"
    echo "ok: $PTPL_FILE holds type $t"
    dd if=/tmp/pattern of="$ns" bs=4k count=16 seek=$t oflag=direct conv=fsync 2>/dev/null ||
        fail "the holder's write failed under type $t"
    dd if="$ns" of=/tmp/readback bs=4k count=16 skip=$t iflag=direct 2>/dev/null ||
        fail "the holder's read failed under type $t"
    cmp /tmp/pattern /tmp/readback || fail "read-back differs under type $t"
    echo "ok: the holder writes and reads back under type $t"
    if nvme resv-release "$ns" -n 1 --crkey=$KEY --rtype=$((t % 6 + 1)) --rrela=0 2>/dev/null; then
        fail "a release naming another type succeeded"
    fi
    echo "ok: a release naming type $((t % 6 + 1)) is refused"
    run nvme resv-release "$ns" -n 1 --crkey=$KEY --rtype=$t --rrela=0 || fail "resv-release failed"
    report
    expect '"rtype":0' "released: no reservation"
    expect '"rcsts":0' "released: nobody holds"
done

step "replace the key, preempt itself, unregister"
run nvme resv-register "$ns" -n 1 --crkey=$KEY --nrkey=$KEY2 --rrega=2 || fail "replace failed"
report
expect "\"rkey\":$((KEY2))" "the key is replaced"
if nvme resv-acquire "$ns" -n 1 --crkey=$KEY --rtype=1 --racqa=0 2>/dev/null; then
    fail "acquire with the old key succeeded"
fi
echo "ok: acquire with the old key is refused"
run nvme resv-acquire "$ns" -n 1 --crkey=$KEY2 --rtype=1 --racqa=0 || fail "acquire failed"
run nvme resv-acquire "$ns" -n 1 --crkey=$KEY2 --prkey=$KEY2 --rtype=2 --racqa=1 ||
    fail "preempt of its own reservation (type change) failed"
report
expect '"rtype":2' "preempting itself changed the type to Exclusive Access"
dd if=/tmp/pattern of="$ns" bs=4k count=16 oflag=direct conv=fsync 2>/dev/null ||
    fail "the holder's write failed after the type change"
run nvme resv-register "$ns" -n 1 --crkey=$KEY2 --rrega=1 --cptpl=2 || fail "unregister failed"
report
expect '"regctl":0' "unregistered: no registrant"
expect '"rtype":0' "unregistered: the holder's reservation ended"
grep -q '"ptpl": false' "$PTPL_FILE" || fail "$PTPL_FILE does not say ptpl false"
echo "ok: CPTPL clear: $PTPL_FILE says ptpl false"

step "disconnect"
run nvme disconnect -n "$SUBNQN" || fail "nvme disconnect failed"
echo "resv: PASS"
