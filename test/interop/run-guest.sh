#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run-guest.sh - boot a throw-away QEMU (TCG) guest with a Debian kernel, start an
# NVMe/TCP target inside it, and run a test script that uses the kernel NVMe/TCP
# host driver against it over the guest's own loopback (127.0.0.1). No NIC exists.
# Two flavours of guest (-F): bookworm, Debian 12's 6.1 kernel and the tools
# installed here; trixie, Debian 13's 6.12 kernel and userland, with NVMe in-band
# authentication (DH-HMAC-CHAP) and NVMe/TCP TLS (nvme-cli 2.13, tlshd, keyctl).
#
# Usage:
#   run-guest.sh [options] TARGET_PATH TARGET_CMD TEST_SCRIPT
#
#   TARGET_PATH  file or directory copied to /target in the guest ("-" = nothing).
#                Shared libraries of every ELF file in it are copied in (ldd).
#   TARGET_CMD   shell command line run in /target to start the target ("" = none),
#                e.g. './nvtcpd -p 4420'. Its output is shown prefixed "target| ".
#                It may keep running (a daemon: it must not crash or exit non-zero
#                during the test; then gets SIGTERM) or configure something and exit 0.
#   TEST_SCRIPT  POSIX sh script run in the guest once TARGET port is listening.
#                Exit 0 = pass. To give a reason for failure, write one line to
#                "$GUEST_REASON_FILE". It sees TRADDR, TRSVCID, SUBNQN, TARGET_PID,
#                TARGET_LOG and every -e variable.
# Options:
#   -F FLAVOUR     bookworm (default, or $NVT_INTEROP_FLAVOUR) or trixie
#   -e NAME=VALUE  export to target and test (repeatable). Defaults exported:
#                  TRADDR=127.0.0.1 TRSVCID=<port> SUBNQN=nqn.2024-01.io.example:nvtcp-interop
#   -x PATH        extra file/dir copied to /extra (ELF libs included; repeatable)
#   -p PORT        TCP port the target listens on; the test waits for it (4420; 0 = no wait)
#   -w SECS        guest: how long to wait for the port (120)
#   -t SECS        guest: timeout for the test script (600)
#   -T SECS        host: timeout for the whole VM run (900)
#   -m "MODS"      extra kernel modules to modprobe at boot (nvme-tcp is always loaded)
#   -M MiB         guest memory (2048);  -S N  guest CPUs (2)
#   -l FILE        save the serial console log there (default: <cache>/runs/<time>.log)
#   -q             quiet: don't echo the console, only the result
#   -v             verbose kernel console (loglevel=7 instead of quiet)
#   -r N           print the first N nvme trace events of the host driver (every
#                  command sent and completion seen) after the test (0 = off)
# Environment: NVT_INTEROP_CACHE (default $XDG_CACHE_HOME/nvtcp-interop, that is
#   ~/.cache/nvtcp-interop; the trixie image in its trixie/), QEMU_CPU (default max), QEMU_EXTRA (more qemu arguments,
#   word-split), and the knobs of build-initramfs.sh (KVER, WITH_FIO, ...).
# Exit status: 0 = GUEST-RESULT: PASS, 1 = FAIL / timeout / no result, 2 = usage error,
#   77 = cannot run on this machine (no qemu or kernel, and not installable; for
#   trixie: its packages cannot be fetched).
# With -q, the lines "CASE-RESULT: ..." a test prints (one per case) are shown too.
#
# Example (validation against the kernel's own target; run-kernel-nvmet.sh does this):
#   ./run-guest.sh kernel-target.sh 'sh ./kernel-target.sh' guest/basic-io.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${NVT_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nvtcp-interop}
export NVT_INTEROP_CACHE=$CACHE

usage() { sed -n '4,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
die() { echo "run-guest: $*" >&2; exit 2; }

FLAVOUR=${NVT_INTEROP_FLAVOUR:-bookworm}
PORT=4420 WAIT=120 TEST_TIMEOUT=600 HOST_TIMEOUT=900 MODS="" MEM=2048 CPUS=2 LOG="" QUIET=0 KCON=quiet TRACE=0
ENVS=() EXTRAS=()
while getopts "F:e:x:p:w:t:T:m:M:S:l:qvr:h" o; do
    case $o in
        F) FLAVOUR=$OPTARG ;;
        e) [[ $OPTARG =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "-e wants NAME=VALUE"; ENVS+=("$OPTARG") ;;
        x) EXTRAS+=("$OPTARG") ;;
        p) PORT=$OPTARG ;;  w) WAIT=$OPTARG ;;  t) TEST_TIMEOUT=$OPTARG ;;
        T) HOST_TIMEOUT=$OPTARG ;;  m) MODS=$OPTARG ;;  M) MEM=$OPTARG ;;  S) CPUS=$OPTARG ;;
        l) LOG=$OPTARG ;;  q) QUIET=1 ;;  v) KCON=loglevel=7 ;;  r) TRACE=$OPTARG ;;  *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 3 ] || usage
TARGET_PATH=$1 TARGET_CMD=$2 TEST_SCRIPT=$3
[ "$TARGET_PATH" = - ] || [ -e "$TARGET_PATH" ] || die "no such target path: $TARGET_PATH"
[ -r "$TEST_SCRIPT" ] || die "cannot read test script: $TEST_SCRIPT"
case $FLAVOUR in
    bookworm) IMG=$CACHE ;;
    trixie) IMG=$CACHE/trixie ;;
    *) die "unknown flavour '$FLAVOUR' (bookworm or trixie)" ;;
esac
export NVT_INTEROP_FLAVOUR=$FLAVOUR

# No-op when the base image is up to date; 77 passes through (cannot run here).
brc=0
"$HERE/build-initramfs.sh" || brc=$?
case $brc in
    0) ;;
    77) echo "run-guest: SKIP (see build-initramfs message above)" >&2; exit 77 ;;
    *) echo "run-guest: GUEST-RESULT: FAIL cannot build the guest image (status $brc)" >&2; exit 1 ;;
esac

mkdir -p "$CACHE/runs"
RUN=$(mktemp -d "$CACHE/runs/run.XXXXXX")
cleanup() { rm -rf "$RUN"; }
trap cleanup EXIT
[ -n "$LOG" ] || LOG=$CACHE/runs/$(date +%Y%m%d-%H%M%S)-$$.log

# ---- per-run overlay: appended to the base cpio (later entries win) ----------
O=$RUN/overlay
mkdir -p "$O/target" "$O/extra" "$O/interop" "$O/var/tmp"
# nvtcpd serves RPC on /var/tmp/spdk.sock by default, as SPDK does.
chmod 1777 "$O/var/tmp"

# A library the base image already has (by name) is not copied: the base's is
# the one its own programs were built for (trixie's glibc is newer than this
# machine's, and runs programs built here too). In the trixie image (merged /usr:
# /lib -> usr/lib) the others go to their /usr path: a cpio entry "lib/..." would
# make the kernel's unpacker replace the /lib symlink by a directory.
copy_libs() {   # copy_libs FILE: the libraries an ELF file needs that the base lacks
    local lib dst
    ldd "$1" 2>/dev/null | sed -n "/not found/s|^|run-guest: warning: $1: |p" >&2
    for lib in $(ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
        dst=$lib
        if [ "$FLAVOUR" = trixie ]; then
            case $lib in /lib/* | /lib64/* | /bin/* | /sbin/*) dst=/usr$lib ;; esac
        fi
        grep -qxF ".$dst" "$IMG/base.files" && continue
        grep -q "/${lib##*/}\$" "$IMG/base.files" && continue
        mkdir -p "$O$(dirname "$dst")"
        [ -e "$O$dst" ] || cp -L "$lib" "$O$dst"
    done
}
add_tree() {    # add_tree SRC DESTDIR
    if [ -d "$1" ]; then cp -a "$1/." "$2/"; else cp -a "$1" "$2/"; fi
    while IFS= read -r -d '' f; do
        if [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ]; then copy_libs "$f"; fi
    done < <(find "$2" -type f -print0)
}
[ "$TARGET_PATH" = - ] || add_tree "$TARGET_PATH" "$O/target"
for x in ${EXTRAS[@]+"${EXTRAS[@]}"}; do add_tree "$x" "$O/extra"; done
cp "$TEST_SCRIPT" "$O/interop/test.sh"

q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }   # single-quote for sh
{
    echo "TARGET_CMD=$(q "$TARGET_CMD")"
    echo "WAIT_PORT=$(q "$PORT")"
    echo "TARGET_WAIT=$(q "$WAIT")"
    echo "TEST_TIMEOUT=$(q "$TEST_TIMEOUT")"
    echo "BOOT_MODULES=$(q "$MODS")"
    echo "TRACE=$(q "$TRACE")"
} > "$O/interop/config"
{
    echo "TRADDR=127.0.0.1"
    echo "TRSVCID=$(q "$PORT")"
    echo "SUBNQN=nqn.2024-01.io.example:nvtcp-interop"
    for kv in ${ENVS[@]+"${ENVS[@]}"}; do echo "${kv%%=*}=$(q "${kv#*=}")"; done
} > "$O/interop/env"

(cd "$O" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$RUN/overlay.cpio"
cat "$IMG/base.cpio" "$RUN/overlay.cpio" > "$RUN/initrd.cpio"

# ---- boot ---------------------------------------------------------------------
# -nodefaults + -nic none: no network card at all (no user-mode networking);
# the only network is the guest kernel's loopback.
QEMU=(qemu-system-x86_64 -accel tcg -machine pc -cpu "${QEMU_CPU:-max}" -m "$MEM" -smp "$CPUS"
      -nodefaults -no-user-config -nic none -display none -serial stdio -no-reboot
      -kernel "$IMG/vmlinuz" -initrd "$RUN/initrd.cpio"
      -append "console=ttyS0 $KCON panic=-1 mitigations=off")
# shellcheck disable=SC2206
QEMU+=(${QEMU_EXTRA:-})
# The guest kernel under TCG now and then panics while it boots (seen: an int3
# Oops in sched_clock_cpu as static keys are patched with two CPUs), before
# /init runs: that is the emulator's, not a test result, so such a boot is
# tried once more. A panic after /init said "up" is a result like any other.
boot_failed_early() {
    tr -d '\r' < "$LOG" | grep -aq 'Kernel panic' &&
        ! tr -d '\r' < "$LOG" | grep -aq '^\[guest [0-9.]*s\] kernel .* up '
}
start=$(date +%s.%N)
for attempt in 1 2; do
    echo "run-guest: booting $FLAVOUR (log: $LOG, host timeout ${HOST_TIMEOUT}s)" >&2
    set +e
    if [ "$QUIET" = 1 ]; then
        timeout -k 10 "$HOST_TIMEOUT" "${QEMU[@]}" < /dev/null > "$LOG" 2>&1
        qrc=$?
    else
        timeout -k 10 "$HOST_TIMEOUT" "${QEMU[@]}" < /dev/null 2>&1 | tee "$LOG"
        qrc=${PIPESTATUS[0]}
    fi
    set -e
    if [ "$attempt" = 1 ] && boot_failed_early; then
        cp "$LOG" "$LOG.boot-panic"
        echo "run-guest: the guest kernel panicked before /init ran (kept in $LOG.boot-panic): booting again" >&2
        continue
    fi
    break
done
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

[ "$QUIET" = 1 ] && { tr -d '\r' < "$LOG" | grep -a '^CASE-RESULT: ' | sed 's/^/run-guest: /' >&2 || true; }
result=$(tr -d '\r' < "$LOG" | grep -a '^GUEST-RESULT: ' | tail -n 1 || true)
if [ -z "$result" ]; then
    [ "$qrc" = 124 ] && result="GUEST-RESULT: FAIL host timeout after ${HOST_TIMEOUT}s" ||
        result="GUEST-RESULT: FAIL no result line (qemu exit status $qrc)"
fi
echo "run-guest: $result (wall ${secs}s, log $LOG)" >&2
[ "$result" = "GUEST-RESULT: PASS" ]
