#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# trixie/resolve-debs.sh SEED... - print the trixie packages SEED needs (Depends +
# Pre-Depends, first alternative, recursively), leaving out what an initramfs with
# busybox as PID 1 never needs (maintainer-script tooling, systemd, python...).
# Uses trixie/apt.sh (the private apt configuration), so its lists must exist.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SKIP=" debconf cdebconf adduser dpkg passwd login login.defs base-passwd init-system-helpers
 systemd systemd-standalone-sysusers opensysusers libsystemd-shared python3 python3-minimal
 python3.13 python3.13-minimal libpython3-stdlib libpython3.13-minimal libpython3.13-stdlib
 tzdata tar mount uuid-runtime media-types mime-support netbase readline-common sensible-utils
 perl-base debianutils coreutils util-linux bash dash gcc-14-base libtirpc-common libaudit-common
 libsemanage-common "
SKIP=" $(echo $SKIP) "
declare -A seen=()
level=("$@")
while [ ${#level[@]} -gt 0 ]; do      # breadth first, one apt-cache call per level
    for p in "${level[@]}"; do seen[$p]=1; echo "$p"; done
    # "Pkg" header lines start in column 0; "  Depends: x", " |Depends: x" (an
    # alternative: the next line is its fallback, not needed), "<virtual>" skipped
    deps=$("$HERE/apt.sh" apt-cache depends --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances "${level[@]}" 2>/dev/null |
        awk '/^[^ ]/ { skip = 0; next }
             /^ *\|?(Pre)?Depends:/ { alt = ($1 ~ /^\|/); d = $2;
                 if (!skip && d !~ /^</) print d; skip = alt; next }' | sort -u)
    level=()
    for d in $deps; do
        case "$SKIP" in *" $d "*) continue ;; esac
        [ -z "${seen[$d]:-}" ] && { seen[$d]=1; level+=("$d"); }
    done
    for d in ${level[@]+"${level[@]}"}; do seen[$d]=; done
done
