#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# build-initramfs.sh - build the base guest image for the nvtcp interop tests.
#
# Produces, under $NVT_INTEROP_CACHE (default: $XDG_CACHE_HOME/nvtcp-interop, that is
# ~/.cache/nvtcp-interop when XDG_CACHE_HOME is unset; never inside the source tree):
#   vmlinuz      the Debian kernel to boot (copied from /boot)
#   base.cpio    uncompressed newc initramfs: busybox, kernel modules, nvme-cli,
#                e2fsprogs, fio (optional), /init (from guest/init), /etc/nvme/host{nqn,id}
#   base.stamp   fingerprint of the inputs; the build is skipped when unchanged
#
# Idempotent: installs missing Debian packages (apt-get update, then install),
# rebuilds only when an input changed.
# Exit status: 0 = image ready, 1 = build error, 77 = cannot run here (packages
# missing and not installable, or no kernel in /boot).
# Environment knobs:
#   KVER=6.1.0-xx-amd64   kernel to use (default: newest /boot/vmlinuz-*)
#   WITH_FIO=0            leave fio out (saves ~80 MiB of shared libraries)
#   EXTRA_MODULES="a b"   more kernel modules to put into the image (deps included)
#   EXTRA_BINS="/usr/bin/x /usr/sbin/y"  more host binaries to copy in (libs included)
#   FORCE=1               rebuild even when the stamp matches
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${NVT_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nvtcp-interop}
WITH_FIO=${WITH_FIO:-1}
# configfs + host side (nvme-tcp) + kernel target (nvmet-tcp) + RAM-backed block
# devices for the kernel target + crc32c for header/data digests + ext4, so a
# test can put a real filesystem on a namespace.
MODULES="configfs nvme-tcp nvmet-tcp brd null_blk loop crc32c_generic crc32c-intel crct10dif_generic crc64_rocksoft_generic ext4 ${EXTRA_MODULES:-}"

log() { echo "build-initramfs: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
skip() { log "SKIP: $*"; exit 77; }

# --- 1. Debian packages -------------------------------------------------------
pkgs="qemu-system-x86 linux-image-amd64 busybox-static nvme-cli e2fsprogs cpio kmod xz-utils zstd"
[ "$WITH_FIO" = 1 ] && pkgs="$pkgs fio"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    command -v apt-get > /dev/null ||
        skip "missing packages:$missing (no apt-get here; this needs Debian 12 or similar)"
    [ "$(id -u)" = 0 ] ||
        skip "missing packages:$missing; install them as root: apt-get install$missing"
    log "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt_opts="-y -q --no-install-recommends -o DPkg::Lock::Timeout=900"
    # shellcheck disable=SC2086
    { apt-get update -q && apt-get install $apt_opts $missing; } ||
        skip "could not install:$missing (apt-get failed; offline or no Debian mirror?)"
fi

# --- 2. which kernel ----------------------------------------------------------
if [ -z "${KVER:-}" ]; then
    KVER=$(find /boot -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n 1)
fi
[ -n "$KVER" ] || skip "no kernel in /boot (package linux-image-amd64)"
[ -r "/boot/vmlinuz-$KVER" ] || skip "cannot read /boot/vmlinuz-$KVER"
MODDIR=/lib/modules/$KVER
[ -r "$MODDIR/modules.dep" ] || skip "no $MODDIR/modules.dep (modules of kernel $KVER missing)"
command -v qemu-system-x86_64 > /dev/null || skip "no qemu-system-x86_64"

# --- 3. up to date? -----------------------------------------------------------
BINS="/bin/busybox /usr/sbin/nvme /sbin/mke2fs /sbin/e2fsck ${EXTRA_BINS:-}"
[ "$WITH_FIO" = 1 ] && BINS="$BINS /usr/bin/fio"
stamp=$( {
    echo "$KVER|$MODULES|$BINS"
    cat "$HERE/build-initramfs.sh" "$HERE/guest/init" "/boot/vmlinuz-$KVER" | sha256sum
    dpkg-query -W busybox-static nvme-cli e2fsprogs fio 2>/dev/null
} | sha256sum | cut -d' ' -f1)
mkdir -p "$CACHE"
exec 9> "$CACHE/.build.lock"; flock 9     # concurrent runs: one builder at a time
if [ "${FORCE:-0}" != 1 ] && [ -s "$CACHE/base.cpio" ] && [ -s "$CACHE/vmlinuz" ] &&
   [ "$(cat "$CACHE/base.stamp" 2>/dev/null)" = "$stamp" ]; then
    log "up to date: $CACHE/base.cpio ($(du -h "$CACHE/base.cpio" | cut -f1))"
    exit 0
fi

STAGE=$(mktemp -d "$CACHE/stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
log "staging in $STAGE (kernel $KVER)"

# Plain (non merged-/usr) layout: every file lives at the path the host's ldd
# reports, so the dynamic loader finds it through its default search path.
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc/nvme,proc,sys,dev,tmp,run,root,mnt,target,interop}
chmod 1777 "$STAGE/tmp"
# Device nodes need root; without them the guest's /init reopens its console
# once devtmpfs is mounted.
mknod -m 600 "$STAGE/dev/console" c 5 1 2>/dev/null || log "note: cannot mknod (not root); the guest creates /dev itself"
mknod -m 666 "$STAGE/dev/null" c 1 3 2>/dev/null || true

# copy_libs FILE DESTROOT: copy the shared libraries FILE needs (and the loader).
copy_libs() {
    local f=$1 root=$2 lib
    # "libx.so => /path (0x..)" gives $3; the loader line "/lib64/ld-... (0x..)" gives $1
    for lib in $(ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
        [ -e "$root$lib" ] && continue
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
}

# --- 4. busybox ---------------------------------------------------------------
cp /bin/busybox "$STAGE/bin/busybox"
for app in $(/bin/busybox --list-full); do
    [ -e "$STAGE/$app" ] || ln -s /bin/busybox "$STAGE/$app"
done

# --- 5. binaries + their libraries ---------------------------------------------
for b in $BINS; do
    [ "$b" = /bin/busybox ] && continue
    [ -x "$b" ] || die "missing binary $b"
    mkdir -p "$STAGE$(dirname "$b")"
    rm -f "$STAGE$b"     # may be a busybox applet link: never write through it
    cp -L "$b" "$STAGE$b"
    copy_libs "$b" "$STAGE"
done

# --- 6. kernel modules (with dependencies from modules.dep) --------------------
# modules.dep line: "kernel/x/y.ko[.xz]: dep1.ko dep2.ko ..." (deps = full closure)
declare -A want=()
for m in $MODULES; do
    norm=$(echo "$m" | tr '-' '_')
    line=$(awk -v n="$norm" -F: '{b=$1; sub(/.*\//,"",b); sub(/\.ko.*/,"",b); gsub(/-/,"_",b); if (b==n) {print; exit}}' "$MODDIR/modules.dep")
    if [ -z "$line" ]; then
        grep -q "/$m.ko" "$MODDIR/modules.builtin" 2>/dev/null && continue  # built-in: nothing to copy
        log "warning: module $m not found, skipped"; continue
    fi
    for f in ${line/:/ }; do want[$f]=1; done
done
KSTAGE=$STAGE/lib/modules/$KVER
for f in "${!want[@]}"; do
    dst=$KSTAGE/${f%.xz}; dst=${dst%.zst}; dst=${dst%.gz}
    mkdir -p "$(dirname "$dst")"
    case $f in   # busybox insmod/modprobe cannot read compressed modules: decompress
        *.ko.xz)  xz -dc "$MODDIR/$f" > "$dst" ;;
        *.ko.zst) zstd -qdc "$MODDIR/$f" > "$dst" ;;
        *.ko.gz)  gzip -dc "$MODDIR/$f" > "$dst" ;;
        *)        cp "$MODDIR/$f" "$dst" ;;
    esac
done
cp "$MODDIR"/modules.builtin "$MODDIR"/modules.builtin.modinfo "$MODDIR"/modules.order "$KSTAGE"/
depmod -b "$STAGE" "$KVER"      # regenerate modules.dep/alias for the trimmed tree
log "modules: ${#want[@]} files"

# --- 7. config files + /init ----------------------------------------------------
hostid=5e2d4a0c-6f1b-4b8e-9a53-0c1d2e3f4a5b       # fixed: the guest is disposable
cp /etc/mke2fs.conf "$STAGE/etc/mke2fs.conf"
echo "$hostid" > "$STAGE/etc/nvme/hostid"
echo "nqn.2014-08.org.nvmexpress:uuid:$hostid" > "$STAGE/etc/nvme/hostnqn"
echo "root:x:0:0:root:/root:/bin/sh" > "$STAGE/etc/passwd"
echo "root:x:0:" > "$STAGE/etc/group"
echo "$KVER" > "$STAGE/etc/interop-kver"
install -m 755 "$HERE/guest/init" "$STAGE/init"

# --- 8. pack ------------------------------------------------------------------
(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$CACHE/base.cpio.tmp"
mv "$CACHE/base.cpio.tmp" "$CACHE/base.cpio"
cp "/boot/vmlinuz-$KVER" "$CACHE/vmlinuz"
echo "$stamp" > "$CACHE/base.stamp"
log "built $CACHE/base.cpio ($(du -h "$CACHE/base.cpio" | cut -f1)), kernel $KVER"
