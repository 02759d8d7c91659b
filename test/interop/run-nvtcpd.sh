#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run-nvtcpd.sh - run a guest test, by default guest/basic-io.sh (discover, connect,
# id-ctrl, id-ns, dd, fio with verify, ext4, disconnect), with the Linux kernel's
# NVMe/TCP host against nvtcpd, the target daemon of this build, inside the interop
# guest. nvtcpd serves its embedded default: a 1 GiB RAM namespace as namespace 1 of
# nqn.2016-06.io.nvtcp:cnode1 on 127.0.0.1:4420, in interrupt mode.
#
# Usage: run-nvtcpd.sh NVTCPD [run-guest.sh options]   e.g. -q, -e DIGEST=1, -r 200
#   NVTCPD is the nvtcpd executable (build/app/nvtcpd/nvtcpd). -F trixie runs
#   the host of Debian 13's 6.12 kernel instead of Debian 12's 6.1.
#   The security tests (DH-HMAC-CHAP, TLS) have their own runner: run-sec.sh.
# Environment:
#   NVTCPD_ARGS adds arguments to nvtcpd, e.g. "-m 0x3", "--disk /tmp/d.img,256M",
#     or "-c /extra/FILE" with a configuration passed by -x FILE (and SUBNQN).
#   NVTCPD_TEST names the guest test: a file in guest/ (restart.sh) or a path
#     (default basic-io.sh).
#   NVTCPD_SUPERVISE=1 runs nvtcpd under guest/nvtcpd-supervisor.sh, which starts it
#     again when the test kills it on purpose, and copies that script and
#     guest/restart-lib.sh to /extra: for the tests that restart the target.
#   NVTCPD_HA=1 runs two nvtcpd processes on one shared device under
#     guest/nvtcpd-ha-pair.sh (A on 4420, B on 4421) and copies it and
#     guest/restart-lib.sh to /extra: for guest/ha-failover.sh; pass the nvtcp
#     RPC CLI with -x.
# Exit status: 0 = pass, 1 = fail, 77 = skipped (nvtcpd not built, or qemu or a
# /boot/vmlinuz-* kernel is missing and cannot be installed here; for trixie,
# its packages cannot be fetched).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NVTCPD=${1:-}
[ -n "$NVTCPD" ] || { echo "usage: $0 NVTCPD [run-guest.sh options]" >&2; exit 2; }
shift
[ -x "$NVTCPD" ] || { echo "run-nvtcpd: $NVTCPD is not built: SKIP" >&2; exit 77; }

# The subsystem the guest test connects to: the default configuration's, unless
# NVTCPD_ARGS gives nvtcpd another configuration (then set SUBNQN to match).
SUBNQN=${SUBNQN:-nqn.2016-06.io.nvtcp:cnode1}
TEST=${NVTCPD_TEST:-basic-io.sh}
case $TEST in
	*/*) ;;
	*) TEST=$HERE/guest/$TEST ;;
esac
CMD="./nvtcpd ${NVTCPD_ARGS:-}"
EXTRA=()
if [ "${NVTCPD_SUPERVISE:-0}" = 1 ]; then
	# exec: /init's SIGTERM at the end must reach the supervisor itself
	CMD="exec sh /extra/nvtcpd-supervisor.sh $CMD"
	EXTRA=(-x "$HERE/guest/nvtcpd-supervisor.sh" -x "$HERE/guest/restart-lib.sh")
fi
if [ "${NVTCPD_HA:-0}" = 1 ]; then
	CMD="exec sh /extra/nvtcpd-ha-pair.sh ./nvtcpd ${NVTCPD_ARGS:-}"
	EXTRA=(-x "$HERE/guest/nvtcpd-ha-pair.sh" -x "$HERE/guest/restart-lib.sh")
fi
"$HERE/run-guest.sh" -e "SUBNQN=$SUBNQN" ${EXTRA[@]+"${EXTRA[@]}"} "$@" "$NVTCPD" "$CMD" "$TEST"
rc=$?
case $rc in
	0 | 77) exit $rc ;;
	*) exit 1 ;;
esac
