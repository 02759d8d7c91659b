#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# spdk_host_test.sh NVTCPD - SPDK's host (spdk_nvme_perf) against nvtcpd with
# DH-HMAC-CHAP (--dhchap-key, --dhchap-ctrlr-key) and over TLS 1.3
# (-S ssl --psk-path), with SHA-256 and SHA-384 PSKs and both together; a
# wrong secret and a wrong PSK are refused. nvtcpd is configured as an SPDK
# user would: keyring_file_add_key, nvmf_subsystem_add_host with keys, a
# secure-channel listener.
#
# SPDK_DIR names a directory with SPDK's bin/spdk_nvme_perf (and the
# libraries it needs installed); without it the test is skipped (exit 77).
# Exit 0 pass, 1 fail, 77 skipped.
set -uo pipefail

NVTCPD=${1:-}
[ -x "$NVTCPD" ] || { echo "usage: $0 NVTCPD (built)" >&2; exit 77; }
PERF=${SPDK_DIR:+$SPDK_DIR/bin/spdk_nvme_perf}
if [ -z "$PERF" ] || [ ! -x "$PERF" ]; then
    echo "spdk_host_test: SPDK_DIR does not name SPDK's tools: skipped"
    exit 77
fi
if ! "$PERF" --help > /dev/null 2>&1; then
    echo "spdk_host_test: $PERF does not run here (its libraries?): skipped"
    exit 77
fi

D=$(mktemp -d /tmp/nvtcp-spdk-host-XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2> /dev/null
    rm -rf "$D"
}
trap cleanup EXIT

SUBNQN=nqn.2016-06.io.nvtcp:spdk-host
HOST1=nqn.2014-08.org.nvmexpress:uuid:c0000000-0000-4000-8000-000000000001
HOST2=nqn.2014-08.org.nvmexpress:uuid:c0000000-0000-4000-8000-000000000002
# SPDK reads key files without a trailing newline only.
key() { (umask 077 && printf '%s' "$2" > "$D/$1"); }
key dh1 'DHHC-1:01:dpb2pzQnxgXoNkZMXQnGlcn4s9VFqaLvvXShthBKayKBJpd2:'
key dhc 'DHHC-1:00:RZJVkkcxLxJ85s/3xN7QVEGxQTK6NeommKL0qDxSgGkOl2Oc:'
key dhwrong 'DHHC-1:01:MtOZIg7LIav/ZFxS1zjF/C6PY5L64zchhflbwapSj9S8GT8T:'
key psk1 'NVMeTLSkey-1:01:iajUQmtfxzm5o92+nfo95k1uXTDFN0GHGlDfFb3ZamaBIyw5:'
key psk2 'NVMeTLSkey-1:02:ix/xyaCE0gihbjjQhPZ3Rnt+FmcLvUQVRRGEkj/v067JUoh27rrT/bZhNQF0y+5XltriSA==:'
key pskwrong 'NVMeTLSkey-1:01:eYMqc9DSqO2Xs1Ilaa/9XTEBgEGQe9Fz8bfeyqAvgcYm5Z5J:'

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PLAIN=$(free_port)
TLS=$(free_port)
ks() { printf '{"method":"keyring_file_add_key","params":{"name":"%s","path":"%s/%s"}}' "$1" "$D" "$1"; }
host() { printf '{"method":"nvmf_subsystem_add_host","params":{"nqn":"%s","host":"%s",%s}}' "$SUBNQN" "$1" "$2"; }
lis() {
    printf '{"method":"nvmf_subsystem_add_listener","params":{"nqn":"%s","secure_channel":%s,' "$SUBNQN" "$2"
    printf '"listen_address":{"trtype":"TCP","adrfam":"IPv4","traddr":"127.0.0.1","trsvcid":"%s"}}}' "$1"
}
cat > "$D/nvtcpd.json" << EOF
{"subsystems":[
 {"subsystem":"keyring","config":[$(ks dh1),$(ks dhc),$(ks psk1),$(ks psk2)]},
 {"subsystem":"bdev","config":[{"method":"bdev_malloc_create","params":{"name":"Malloc0","num_blocks":65536,"block_size":512}}]},
 {"subsystem":"nvmf","config":[
  {"method":"nvmf_create_transport","params":{"trtype":"TCP"}},
  {"method":"nvmf_create_subsystem","params":{"nqn":"$SUBNQN"}},
  {"method":"nvmf_subsystem_add_ns","params":{"nqn":"$SUBNQN","namespace":{"bdev_name":"Malloc0","nsid":1}}},
  $(host "$HOST1" '"psk":"psk1","dhchap_key":"dh1","dhchap_ctrlr_key":"dhc"'),
  $(host "$HOST2" '"psk":"psk2"'),
  $(lis "$PLAIN" false),
  $(lis "$TLS" true)]}]}
EOF
"$NVTCPD" -m 0x1 -r "$D/nvtcpd.sock" -c "$D/nvtcpd.json" > "$D/nvtcpd.log" 2>&1 &
PID=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$D/nvtcpd.log" && break
    kill -0 "$PID" 2> /dev/null || { cat "$D/nvtcpd.log"; echo "FAIL: nvtcpd exited"; exit 1; }
    sleep 0.1
done

fails=0
perf() { # NAME EXPECT(ok|refused) PORT HOSTNQN [spdk_nvme_perf options]
    local name=$1 expect=$2 port=$3 hostnqn=$4 out rc
    shift 4
    out=$(timeout 60 "$PERF" -c 0x2 -q 16 -o 4096 -w randrw -M 50 -t 2 \
        -r "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$SUBNQN hostnqn:$hostnqn" \
        "$@" 2>&1)
    rc=$?
    if [ "$expect" = ok ] && [ $rc -eq 0 ] && grep -q '^Total' <<< "$out"; then
        echo "PASS $name: $(grep '^Total' <<< "$out" | awk '{print $3 " IOPS"}')"
    elif [ "$expect" = refused ] && ! grep -q '^Total' <<< "$out"; then
        echo "PASS $name: refused"
    else
        echo "FAIL $name (exit $rc):"
        tail -n 5 <<< "$out"
        fails=$((fails + 1))
    fi
}
perf "DH-HMAC-CHAP bidirectional + TLS SHA-256" ok "$TLS" "$HOST1" \
    -S ssl --psk-path "$D/psk1" --dhchap-key "$D/dh1" --dhchap-ctrlr-key "$D/dhc"
perf "TLS SHA-384" ok "$TLS" "$HOST2" -S ssl --psk-path "$D/psk2"
perf "wrong PSK" refused "$TLS" "$HOST2" -S ssl --psk-path "$D/pskwrong"
perf "plaintext on the TLS listener" refused "$TLS" "$HOST2"
perf "wrong DH-HMAC-CHAP secret" refused "$TLS" "$HOST1" \
    -S ssl --psk-path "$D/psk1" --dhchap-key "$D/dhwrong"
perf "a PSK host over plain TCP" refused "$PLAIN" "$HOST1" --dhchap-key "$D/dh1"

kill -TERM "$PID"
wait "$PID"
rc=$?
PID=
if [ $rc -ne 0 ] || grep -q 'Sanitizer\|runtime error' "$D/nvtcpd.log"; then
    echo "FAIL: nvtcpd did not exit cleanly (status $rc)"
    tail -n 20 "$D/nvtcpd.log"
    fails=$((fails + 1))
fi
[ $fails -eq 0 ] && { echo "PASSED"; exit 0; }
echo "FAILED: $fails case(s)"
exit 1
