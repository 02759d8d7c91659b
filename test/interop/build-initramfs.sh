#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# build-initramfs.sh - build the base guest image for the nvtcp interop tests, in one
# of two flavours (NVT_INTEROP_FLAVOUR, or run-guest.sh -F):
#   bookworm (default)  Debian 12 as installed here: the 6.1 kernel from /boot and
#                       the machine's busybox, nvme-cli, e2fsprogs and fio (the
#                       missing packages are installed with apt-get)
#   trixie              Debian 13: the 6.12 kernel, with NVMe in-band authentication
#                       (DH-HMAC-CHAP) and NVMe/TCP TLS, and trixie's userland
#                       (nvme-cli 2.13, tlshd, keyctl, fio, e2fsprogs, busybox).
#                       Its .debs are fetched from deb.debian.org with a private apt
#                       configuration (trixie/apt.sh) and unpacked, never installed:
#                       the machine's apt sources and dpkg database stay untouched.
#
# Produces, under $NVT_INTEROP_CACHE (default: $XDG_CACHE_HOME/nvtcp-interop, that is
# ~/.cache/nvtcp-interop; never inside the source tree), for trixie in its trixie/
# folder:
#   vmlinuz      the kernel to boot
#   base.cpio    uncompressed newc initramfs: busybox, kernel modules, nvme-cli,
#                e2fsprogs, fio (optional), /init (from guest/init), /etc/nvme/host{nqn,id}
#                (trixie adds tlshd, keyctl and /etc/tlshd.conf)
#   base.files   the image's file list (run-guest.sh reads it)
#   base.stamp   fingerprint of the inputs; the build is skipped when unchanged
# trixie also keeps there apt/ (the private apt state), debs/ (the downloaded
# packages), kernel/ (the unpacked kernel package) and packages.txt (what went in).
#
# Idempotent: installs missing host packages (bookworm: apt-get update, then install),
# downloads only what changed (trixie), rebuilds only when an input changed.
# Exit status: 0 = image ready, 1 = build error, 77 = cannot run here (packages
# missing and not installable, no kernel in /boot, trixie's archive unreachable).
# Environment knobs:
#   NVT_INTEROP_FLAVOUR=bookworm|trixie
#   KVER=6.1.0-xx-amd64   bookworm: kernel to use (default: newest /boot/vmlinuz-*)
#   WITH_FIO=0            leave fio out (saves ~60 to 80 MiB of shared libraries)
#   EXTRA_MODULES="a b"   more kernel modules to put into the image (deps included)
#   EXTRA_BINS="/usr/bin/x /usr/sbin/y"  bookworm: more host binaries (libs included)
#   EXTRA_PKGS="p q"      trixie: more packages (deps included)
#   REFRESH=1             trixie: update the package lists and download again
#   FORCE=1               rebuild even when the stamp matches
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${NVT_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nvtcp-interop}
FLAVOUR=${NVT_INTEROP_FLAVOUR:-bookworm}
WITH_FIO=${WITH_FIO:-1}
# configfs + host side (nvme-tcp) + kernel target (nvmet-tcp) + RAM-backed block
# devices for the kernel target + crc32c for header/data digests + ext4, so a
# test can put a real filesystem on a namespace.
MODULES="configfs nvme-tcp nvmet-tcp brd null_blk loop crc32c_generic crc32c-intel crct10dif_generic crc64_rocksoft_generic ext4"
MODDIRS=""
case $FLAVOUR in
    bookworm) CACHE=$ROOT ;;
    trixie)
        CACHE=$ROOT/trixie
        # In-band authentication (nvme-auth), the ".nvme" keyring (nvme-keyring) and
        # kTLS (tls), and all of the crypto the kernel may ask for during
        # DH-HMAC-CHAP (hmac, sha2, ffdhe) and kTLS (gcm(aes), chacha20poly1305).
        MODULES="$MODULES nvme-auth nvme-keyring tls"
        MODDIRS="kernel/crypto kernel/arch/x86/crypto kernel/lib/crypto"
        ;;
    *) echo "build-initramfs: unknown flavour '$FLAVOUR' (bookworm or trixie)" >&2; exit 2 ;;
esac
MODULES="$MODULES ${EXTRA_MODULES:-}"

log() { echo "build-initramfs: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
skip() { log "SKIP: $*"; exit 77; }

# need_pkgs PKG...: install the missing Debian packages of this machine, or skip
need_pkgs() {
    local p missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
    done
    [ -n "$missing" ] || return 0
    command -v apt-get > /dev/null ||
        skip "missing packages:$missing (no apt-get here; this needs Debian 12 or similar)"
    [ "$(id -u)" = 0 ] ||
        skip "missing packages:$missing; install them as root: apt-get install$missing"
    log "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    local apt_opts="-y -q --no-install-recommends -o DPkg::Lock::Timeout=900"
    # shellcheck disable=SC2086
    { apt-get update -q && apt-get install $apt_opts $missing; } ||
        skip "could not install:$missing (apt-get failed; offline or no Debian mirror?)"
}

mkdir -p "$CACHE"
exec 9> "$CACHE/.build.lock"; flock 9     # concurrent runs: one builder at a time

# --- 1. inputs: the kernel, its modules and the userland ---------------------------
# Each flavour sets KVER, VMLINUZ, MODDIR (the kernel's modules), INPUTS (what the
# image is made of, for the stamp) and BINS (the programs the tests rely on).
if [ "$FLAVOUR" = bookworm ]; then
    pkgs="qemu-system-x86 linux-image-amd64 busybox-static nvme-cli e2fsprogs cpio kmod xz-utils zstd"
    [ "$WITH_FIO" = 1 ] && pkgs="$pkgs fio"
    # shellcheck disable=SC2086
    need_pkgs $pkgs
    if [ -z "${KVER:-}" ]; then
        KVER=$(find /boot -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n 1)
    fi
    [ -n "$KVER" ] || skip "no kernel in /boot (package linux-image-amd64)"
    VMLINUZ=/boot/vmlinuz-$KVER
    [ -r "$VMLINUZ" ] || skip "cannot read $VMLINUZ"
    MODDIR=/lib/modules/$KVER
    [ -r "$MODDIR/modules.dep" ] || skip "no $MODDIR/modules.dep (modules of kernel $KVER missing)"
    BINS="/usr/sbin/nvme /sbin/mke2fs /sbin/e2fsck ${EXTRA_BINS:-}"
    [ "$WITH_FIO" = 1 ] && BINS="$BINS /usr/bin/fio"
    INPUTS="$(sha256sum < "$VMLINUZ") $(dpkg-query -W busybox-static nvme-cli e2fsprogs fio 2>/dev/null)"
    SCRIPTS="$HERE/build-initramfs.sh $HERE/guest/init"
else
    # Host tools only; the guest's packages come from trixie.
    need_pkgs qemu-system-x86 cpio kmod xz-utils zstd apt dpkg
    TAPT=$HERE/trixie/apt.sh
    export TRIXIE_APT=$CACHE/apt
    DEBS=$CACHE/debs
    mkdir -p "$DEBS"
    SEEDS="busybox-static nvme-cli libnvme1t64 ktls-utils keyutils e2fsprogs ${EXTRA_PKGS:-}"
    [ "$WITH_FIO" = 1 ] && SEEDS="$SEEDS fio"
    BINS="/usr/sbin/nvme /usr/sbin/tlshd /usr/bin/keyctl /usr/sbin/mke2fs /usr/sbin/e2fsck"
    [ "$WITH_FIO" = 1 ] && BINS="$BINS /usr/bin/fio"
    SCRIPTS="$HERE/build-initramfs.sh $HERE/guest/init $HERE/guest/tlshd.conf $HERE/trixie/resolve-debs.sh"
    # Fast path: the same scripts and knobs, and the package lists and downloads
    # unchanged since the last build: no apt-cache run at all.
    quick_stamp() {
        # shellcheck disable=SC2086
        {
            echo "$MODULES|$MODDIRS|$SEEDS|$WITH_FIO"
            cat $SCRIPTS "$TAPT"
            ls -l --time-style=+%s "$TRIXIE_APT"/lists/ "$DEBS"/ 2>/dev/null
        } | sha256sum | cut -d' ' -f1
    }
    if [ "${FORCE:-0}" != 1 ] && [ "${REFRESH:-0}" != 1 ] && [ -s "$CACHE/base.cpio" ] &&
       [ -s "$CACHE/vmlinuz" ] && [ "$(cat "$CACHE/base.quick" 2>/dev/null)" = "$(quick_stamp)" ]; then
        log "up to date: $CACHE/base.cpio ($(du -h "$CACHE/base.cpio" | cut -f1))"
        exit 0
    fi
    apt_update() {
        log "apt-get update (private trixie configuration in $TRIXIE_APT)"
        "$TAPT" apt-get update -q >&2 ||
            skip "cannot fetch trixie's package lists from deb.debian.org (offline?)"
    }
    lists=$(find "$TRIXIE_APT/lists" -maxdepth 1 -name "*_Packages*" 2>/dev/null | head -n 1 || true)
    if [ -z "$lists" ] || [ "${REFRESH:-0}" = 1 ]; then apt_update; fi
    fetch() {   # resolve the closure of SEEDS, download what is missing; 1 if that fails
        KPKG=$("$TAPT" apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6/ {print $2; exit}')
        [ -n "$KPKG" ] || die "cannot find the trixie kernel package (linux-image-amd64's dependency)"
        # shellcheck disable=SC2086
        PKGS="$KPKG $("$HERE/trixie/resolve-debs.sh" $SEEDS | sort | tr '\n' ' ')"
        local p v f need="" ; declare -A ver=()     # one apt-cache call for all versions
        # shellcheck disable=SC2086
        while read -r p v; do ver[$p]=$v; done < <("$TAPT" apt-cache show --no-all-versions $PKGS 2>/dev/null |
            awk '/^Package:/ {p = $2} /^Version:/ {print p, $2}')
        for p in $PKGS; do
            v=${ver[$p]:-}
            [ -n "$v" ] || die "package $p is not in trixie's lists"
            f=$(find "$DEBS" -maxdepth 1 -name "${p}_*.deb" | head -n 1)
            if [ -z "$f" ] || [ "$(dpkg-deb -f "$f" Version)" != "$v" ]; then
                rm -f "$DEBS/${p}_"*.deb; need="$need $p"
            fi
        done
        [ -n "$need" ] || return 0
        log "downloading:$need"
        # shellcheck disable=SC2086
        (cd "$DEBS" && "$TAPT" apt-get download -q $need >&2)
    }
    # Lists older than the archive name versions it no longer has: update, once.
    fetch || { apt_update; fetch; } || die "cannot download trixie's packages"
    pkglist=$(for p in $PKGS; do echo "$p $(dpkg-deb -f "$DEBS/${p}_"*.deb Version)"; done)
    # The kernel package, unpacked once with a modules.dep (its postinst would make one).
    KDEB=$(find "$DEBS" -maxdepth 1 -name "${KPKG}_*.deb" | head -n 1)
    KTREE=$CACHE/kernel/$(basename "$KDEB" .deb)
    if [ ! -e "$KTREE/.done" ]; then
        rm -rf "$CACHE/kernel"; mkdir -p "$KTREE"
        dpkg-deb -x "$KDEB" "$KTREE"
        depmod -b "$KTREE/usr" "$(ls "$KTREE/usr/lib/modules" | head -n 1)"
        touch "$KTREE/.done"
    fi
    KVER=$(ls "$KTREE/usr/lib/modules" | head -n 1)
    MODDIR=$KTREE/usr/lib/modules/$KVER
    VMLINUZ=$KTREE/boot/vmlinuz-$KVER
    [ -r "$VMLINUZ" ] || die "no vmlinuz in $KPKG"
    INPUTS=$pkglist
fi
command -v qemu-system-x86_64 > /dev/null || skip "no qemu-system-x86_64"

# --- 2. up to date? -----------------------------------------------------------
# shellcheck disable=SC2086
stamp=$( {
    echo "$FLAVOUR|$KVER|$MODULES|$MODDIRS|$BINS|$WITH_FIO"
    echo "$INPUTS"
    cat $SCRIPTS | sha256sum
} | sha256sum | cut -d' ' -f1)
up_to_date() {
    [ "$FLAVOUR" = trixie ] && quick_stamp > "$CACHE/base.quick"
    log "up to date: $CACHE/base.cpio ($(du -h "$CACHE/base.cpio" | cut -f1))"
    exit 0
}
if [ "${FORCE:-0}" != 1 ] && [ -s "$CACHE/base.cpio" ] && [ -s "$CACHE/vmlinuz" ] && [ -s "$CACHE/base.files" ] &&
   [ "$(cat "$CACHE/base.stamp" 2>/dev/null)" = "$stamp" ]; then
    up_to_date
fi

STAGE=$(mktemp -d "$CACHE/stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
log "staging $FLAVOUR in $STAGE (kernel $KVER)"
# Device nodes need root; without them the guest's /init reopens its console
# once devtmpfs is mounted.
mknod_dev() {
    mkdir -p "$STAGE/dev"
    mknod -m 600 "$STAGE/dev/console" c 5 1 2>/dev/null || log "note: cannot mknod (not root); the guest creates /dev itself"
    mknod -m 666 "$STAGE/dev/null" c 1 3 2>/dev/null || true
}

# --- 3. userland ------------------------------------------------------------------
if [ "$FLAVOUR" = bookworm ]; then
    # Plain (non merged-/usr) layout: every file lives at the path the host's ldd
    # reports, so the dynamic loader finds it through its default search path.
    mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc/nvme,proc,sys,dev,tmp,run,root,mnt,target,interop}
    chmod 1777 "$STAGE/tmp"
    mknod_dev
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
    cp /bin/busybox "$STAGE/bin/busybox"
    for app in $(/bin/busybox --list-full); do
        [ -e "$STAGE/$app" ] || ln -s /bin/busybox "$STAGE/$app"
    done
    for b in $BINS; do
        [ -x "$b" ] || die "missing binary $b"
        mkdir -p "$STAGE$(dirname "$b")"
        rm -f "$STAGE$b"     # may be a busybox applet link: never write through it
        cp -L "$b" "$STAGE$b"
        copy_libs "$b" "$STAGE"
    done
    cp /etc/mke2fs.conf "$STAGE/etc/mke2fs.conf"
else
    # trixie packages ship everything under /usr: the root gets the merged-/usr
    # symlinks (every ELF file's loader is /lib64/ld-linux-x86-64.so.2).
    mkdir -p "$STAGE"/usr/{bin,sbin,lib,lib64} "$STAGE"/{etc/nvme,proc,sys,dev,tmp,run,root,mnt,target,interop,var/run}
    for d in bin sbin lib lib64; do ln -s "usr/$d" "$STAGE/$d"; done
    chmod 1777 "$STAGE/tmp"
    mknod_dev
    for p in $PKGS; do
        [ "$p" = "$KPKG" ] && continue
        dpkg-deb -x "$DEBS/${p}_"*.deb "$STAGE"
    done
    for d in bin sbin lib lib64; do [ -L "$STAGE/$d" ] || die "a package replaced /$d (not merged-/usr)"; done
    # keep it small: no docs, manuals, locales, systemd units, headers, completions
    rm -rf "$STAGE"/usr/share/{doc,man,info,locale,lintian,bug,bash-completion,zsh,fish,gdb,gcc,pkgconfig} \
           "$STAGE"/usr/lib/systemd "$STAGE"/usr/lib/udev "$STAGE"/usr/lib/tmpfiles.d "$STAGE"/usr/include \
           "$STAGE"/usr/lib/x86_64-linux-gnu/gconv "$STAGE"/usr/lib/python3*
    [ -x "$STAGE/usr/bin/busybox" ] || die "no busybox in busybox-static"
    for app in $("$STAGE/usr/bin/busybox" --list-full); do   # where no real binary is
        [ -e "$STAGE/$app" ] || [ -L "$STAGE/$app" ] || ln -s /usr/bin/busybox "$STAGE/$app"
    done
    # Every program the tests rely on must find its libraries with trixie's loader
    # (checked in a chroot, which needs root).
    for b in $BINS; do
        [ -x "$STAGE$b" ] || die "missing binary $b"
        [ "$(id -u)" = 0 ] || continue
        out=$(chroot "$STAGE" /lib64/ld-linux-x86-64.so.2 --list "$b" 2>&1) || die "$b: $out"
        case $out in *"not found"*) die "$b: unresolved libraries: $(echo "$out" | grep 'not found' | tr '\n' ' ')" ;; esac
    done
    printf '127.0.0.1\tlocalhost nvme-guest\n::1\tlocalhost\n' > "$STAGE/etc/hosts"   # tlshd resolves its peer
    install -m 644 "$HERE/guest/tlshd.conf" "$STAGE/etc/tlshd.conf"
    echo "$pkglist" > "$CACHE/packages.txt"
    cp "$CACHE/packages.txt" "$STAGE/etc/interop-packages"
fi

# --- 4. kernel modules (with dependencies from modules.dep) --------------------
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
for d in $MODDIRS; do   # whole folders, each module with its closure
    while IFS= read -r line; do
        for f in ${line/:/ }; do want[$f]=1; done
    done < <(grep "^$d/" "$MODDIR/modules.dep")
done
KSTAGE=$STAGE/lib/modules/$KVER     # through the /lib symlink in a merged-/usr root
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

# --- 5. config files + /init ----------------------------------------------------
hostid=5e2d4a0c-6f1b-4b8e-9a53-0c1d2e3f4a5b       # fixed: the guest is disposable
echo "$hostid" > "$STAGE/etc/nvme/hostid"
echo "nqn.2014-08.org.nvmexpress:uuid:$hostid" > "$STAGE/etc/nvme/hostnqn"
echo "root:x:0:0:root:/root:/bin/sh" > "$STAGE/etc/passwd"
echo "root:x:0:" > "$STAGE/etc/group"
echo "$KVER" > "$STAGE/etc/interop-kver"
echo "$FLAVOUR" > "$STAGE/etc/interop-flavour"
install -m 755 "$HERE/guest/init" "$STAGE/init"

# --- 6. pack ------------------------------------------------------------------
(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | tee "$CACHE/base.files.tmp" | cpio -o -H newc -R 0:0 --quiet) > "$CACHE/base.cpio.tmp"
mv "$CACHE/base.files.tmp" "$CACHE/base.files"
mv "$CACHE/base.cpio.tmp" "$CACHE/base.cpio"
cp "$VMLINUZ" "$CACHE/vmlinuz"
echo "$stamp" > "$CACHE/base.stamp"
[ "$FLAVOUR" = trixie ] && quick_stamp > "$CACHE/base.quick"
log "built $CACHE/base.cpio ($(du -h "$CACHE/base.cpio" | cut -f1)), $FLAVOUR, kernel $KVER${pkglist:+, $(echo "$pkglist" | wc -l) trixie packages}"
