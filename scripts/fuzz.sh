#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Long runs of the libFuzzer harnesses of test/fuzz (README.md, "Fuzzing").
#
#   scripts/fuzz.sh [-t SECONDS] [-j JOBS] [-c DIR] [harness ...]
#
# Sets up and builds the clang fuzz tree when needed (NVT_FUZZ_BUILD, default
# build-fuzz), then runs each named harness (default: all) for SECONDS
# (default 600) with JOBS processes sharing one working corpus: DIR/<harness>
# with -c (kept, so that a later run goes on from it), else a temporary one.
# The tree's seeds (test/fuzz/corpus/<harness>) and dictionary are read, never
# written. A process that finds a crash, leak, timeout or out-of-memory is
# restarted for the time left; one input per distinct finding (its failure
# line and first frame in lib/ or module/) goes to test/fuzz/regress/<harness>/,
# where the test suite replays it; all of them stay in a directory it names.
# Ends with one line per harness: executions, coverage (cov, ft), corpus size
# and findings. Exits 1 when anything was found, 2 on bad usage or setup.
# Installs nothing: without clang and libFuzzer it says what to install.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

ALL=(fuzz_tcp_stream fuzz_nvmf_cmd fuzz_jsonrpc fuzz_config fuzz_auth)
B=${NVT_FUZZ_BUILD:-build-fuzz}
secs=600 jobs=1 keep=""

usage() {
    echo "usage: scripts/fuzz.sh [-t SECONDS] [-j JOBS] [-c DIR] [harness ...]" >&2
    echo "harnesses: ${ALL[*]}" >&2
    exit 2
}

while getopts "t:j:c:h" opt; do
    case $opt in
        t) secs=$OPTARG ;;
        j) jobs=$OPTARG ;;
        c) keep=$OPTARG ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[[ $secs =~ ^[1-9][0-9]*$ && $jobs =~ ^[1-9][0-9]*$ ]] || usage
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${ALL[@]}")
for h in "${harnesses[@]}"; do
    [[ " ${ALL[*]} " == *" $h "* ]] || { echo "fuzz.sh: no harness '$h'" >&2; usage; }
done

# clang able to link a libFuzzer harness, or a message naming what to install.
check_clang() {
    local probe
    probe=$(mktemp -d) || return 1
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return d == NULL && n; }' \
        > "$probe/probe.c"
    if ! command -v clang > /dev/null ||
        ! clang -fsanitize=fuzzer "$probe/probe.c" -o "$probe/probe" > /dev/null 2>&1; then
        rm -rf "$probe"
        echo "fuzz.sh: clang with libFuzzer is needed; install it with scripts/deps.sh fuzz" \
            "(as root), or apt-get install clang libclang-rt-14-dev" >&2
        return 1
    fi
    rm -rf "$probe"
}

build_tree() {
    if [ ! -f "$B/build.ninja" ]; then
        CC=clang meson setup "$B" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
            --buildtype=debugoptimized -Dtests=false > "$B.setup.log" 2>&1 ||
            { cat "$B.setup.log" >&2; echo "fuzz.sh: meson setup of $B failed" >&2; return 1; }
    fi
    ninja -C "$B" -j "${NVT_BUILD_JOBS:-2}" > "$B.build.log" 2>&1 ||
        { tail -n 40 "$B.build.log" >&2; echo "fuzz.sh: build failed ($B.build.log)" >&2; return 1; }
}

# The largest input each harness is given.
max_len() {
    case $1 in
        fuzz_jsonrpc) echo 4096 ;;
        *) echo 16384 ;;
    esac
}

# An input that fails while libFuzzer loads the corpora (it names the artifact
# after the input's SHA-1): taken out of the working corpus, where another
# worker may have taken it already; false when it is a seed of the tree (or
# the process failed without naming an input: its set-up).
drop_from_work() {
    local h=$1 work=$2 log=$3 unit sha f
    unit=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n1)
    sha=${unit##*-}
    [ -n "$unit" ] || return 1
    for f in "test/fuzz/corpus/$h"/*; do
        [ "$(sha1sum < "$f" | cut -d' ' -f1)" != "$sha" ] || return 1
    done
    for f in "$work"/*; do
        [ -f "$f" ] && [ "$(sha1sum < "$f" | cut -d' ' -f1)" = "$sha" ] && rm -f "$f"
    done
    return 0
}

# One process after another for the time left; each stops at its first finding.
worker() {
    local h=$1 w=$2 work=$3 art=$4 end=$5 n=0 left log
    while left=$((end - $(date +%s))); [ "$left" -gt 0 ]; do
        n=$((n + 1))
        log=$art/w$w-$n.log
        # The JSON harnesses' temporary directory is left behind by a crash: keep it here.
        TMPDIR=$art/tmp "$B/test/fuzz/$h" -max_total_time="$left" -timeout=30 -max_len="$(max_len "$h")" \
            -dict=test/fuzz/nvme_tcp.dict -print_final_stats=1 -artifact_prefix="$art/" \
            "$work" "test/fuzz/corpus/$h" > "$log" 2>&1 && break
        # An input that fails while loading: out of the working corpus, or, a seed of
        # the tree, the end of this worker (restarting would only fail again).
        grep -q INITED "$log" || drop_from_work "$h" "$work" "$log" || {
            echo "fuzz.sh: $h: a seed of test/fuzz/corpus/$h, or the set-up, fails ($log)" >&2
            break
        }
    done
}

# What tells one finding from another: the failure line and the first frame of ours.
signature() {
    local line frame
    line=$(grep -m1 -E '^(fuzz: |SUMMARY: )' "$1" | sed -E 's/\b[0-9]+\b/N/g')
    frame=$(grep -E '^ +#[0-9]+ 0x[0-9a-f]+ in [a-z_]+ .*/(lib|module)/' "$1" | head -n1 |
        sed -E 's/.* in ([a-z_0-9]+) .*/\1/')
    echo "$line $frame"
}

# Copy one input per new finding into test/fuzz/regress/<harness>/; prints how many.
save_findings() {
    local h=$1 art=$2 log unit sig dest saved=0
    local -A seen=()
    for log in "$art"/w*.log; do
        unit=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n1)
        [ -n "$unit" ] && [ -f "$unit" ] || continue
        [[ $(basename "$unit") == slow-unit-* ]] && continue
        sig=$(signature "$log")
        [ -z "${seen[$sig]:-}" ] || continue
        seen[$sig]=1
        dest=test/fuzz/regress/$h/$(basename "$unit")
        if [ ! -f "$dest" ]; then
            mkdir -p "test/fuzz/regress/$h"
            cp "$unit" "$dest"
            saved=$((saved + 1))
            echo "fuzz.sh: $h: new finding ($sig): $dest" >&2
        fi
    done
    echo "$saved"
}

# One summary line from the workers' logs.
summarize() {
    local h=$1 art=$2 work=$3 saved=$4 execs cov ft corp found
    execs=$(grep -hE '^stat::number_of_executed_units:' "$art"/w*.log | awk '{s += $2} END {print s + 0}')
    cov=$(grep -hoE ' cov: [0-9]+' "$art"/w*.log | awk '{if ($2 > m) m = $2} END {print m + 0}')
    ft=$(grep -hoE ' ft: [0-9]+' "$art"/w*.log | awk '{if ($2 > m) m = $2} END {print m + 0}')
    corp=$(grep -hoE ' corp: [0-9]+' "$art"/w*.log | awk '{if ($2 > m) m = $2} END {print m + 0}')
    found=$(find "$art" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o \
        -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
    printf '%s: %s executions (%s/s), cov %s ft %s, corpus %s inputs (%s new), %s findings (%s new in test/fuzz/regress/%s)\n' \
        "$h" "$execs" "$((execs / secs))" "$cov" "$ft" "$corp" "$(find "$work" -type f | wc -l)" \
        "$found" "$saved" "$h"
}

# Whether the workers found anything.
found_any() {
    find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o \
        -name 'oom-*' \) | grep -q .
}

check_clang || exit 2
build_tree || exit 2
summaries=() rc=0
for h in "${harnesses[@]}"; do
    if [ -n "$keep" ]; then
        work=$keep/$h
    else
        work=$(mktemp -d "${TMPDIR:-/tmp}/nvtcp-fuzz-$h.XXXXXX")
    fi
    art=$(mktemp -d "${TMPDIR:-/tmp}/nvtcp-fuzz-findings-$h.XXXXXX")
    mkdir -p "$work" "$art/tmp"
    echo "fuzz.sh: $h for ${secs}s with $jobs job(s), corpus $work" >&2
    end=$(($(date +%s) + secs))
    for w in $(seq 1 "$jobs"); do
        worker "$h" "$w" "$work" "$art" "$end" &
    done
    wait
    saved=$(save_findings "$h" "$art")
    summaries+=("$(summarize "$h" "$art" "$work" "$saved")")
    ! found_any "$art" || rc=1
    [ -n "$keep" ] || rm -rf "$work"
    if found_any "$art"; then
        echo "fuzz.sh: $h: every finding, with its log, stays in $art" >&2
    else
        rm -rf "$art"
    fi
done
printf '%s\n' "${summaries[@]}"
exit $rc
