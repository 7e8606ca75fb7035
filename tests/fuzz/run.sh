#!/usr/bin/env bash
# libFuzzer runs, each bounded in time (`make fuzz FUZZ_SECONDS=N`):
#
#   tests/fuzz/run.sh SECONDS TARGET...      e.g. tests/fuzz/run.sh 120 rfc3161
#
# For each TARGET: builds tests/fuzz/fuzz_TARGET.c with clang, -fsanitize=fuzzer,address,
# undefined, together with the library sources it needs, compiled here by clang into
# build/fuzz/ (never the gcc objects of the normal build); copies the seed corpus
# tests/fuzz/corpus/TARGET/ into a scratch directory (so the committed corpus only grows when
# someone adds to it on purpose) and the regression inputs tests/fuzz/crashes/TARGET/ too;
# runs the fuzzer (with the dictionary tests/fuzz/TARGET.dict when there is one) for SECONDS with -max_len=4096 -timeout=5 -rss_limit_mb=2048, artifacts in
# build/fuzz/artifacts/.  Prints the executions reached.  A crash, leak, timeout or
# out-of-memory input is copied into tests/fuzz/crashes/TARGET/ (replayed by `make check`
# from then on) and the run fails.
#
# Environment: CC_FUZZ (default clang), FUZZ_JOBS (parallel fuzzer processes, default 1),
# FUZZ_ARGS (more libFuzzer flags).  The scratch corpus of the last run stays in
# build/fuzz/corpus/TARGET/; to add its new units to the seeds deliberately:
#   build/fuzz/fuzz_TARGET -merge=1 tests/fuzz/corpus/TARGET build/fuzz/corpus/TARGET
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

usage() { echo "usage: tests/fuzz/run.sh SECONDS TARGET..." >&2; exit 2; }
die() { printf 'fuzz: error: %s\n' "$*" >&2; exit 1; }

(( $# >= 2 )) || usage
SECONDS_EACH=$1
shift
[[ $SECONDS_EACH =~ ^[1-9][0-9]*$ ]] || usage
(( SECONDS_EACH <= 86400 )) || die "SECONDS is at most 86400"
CC_FUZZ=${CC_FUZZ:-clang}
FUZZ_JOBS=${FUZZ_JOBS:-1}
[[ $FUZZ_JOBS =~ ^[1-9][0-9]*$ ]] || die "FUZZ_JOBS must be a positive number"
command -v "$CC_FUZZ" >/dev/null 2>&1 || die "$CC_FUZZ is missing (deploy/deps.sh installs clang)"

# The library sources each target needs, as the Makefile names them (the fewer, the faster
# the build and the clearer what is being fuzzed).
declare -A SOURCES=(
    [rfc3161]="src/util/log.c src/util/text.c src/util/hashalg.c src/asn1/der.c src/asn1/asn1.c
               src/proto/request.c src/proto/rfc3161.c"
    [verify]="src/util/log.c src/util/text.c src/util/hashalg.c src/util/bytes.c src/util/conf.c
              src/asn1/der.c src/asn1/asn1.c src/sign/signer.c src/tst/verify.c
              src/tst/verify_sd.c src/tst/verify_tstinfo.c src/tst/verify_ess.c
              src/tst/verify_chain.c"
    [soap]="src/util/log.c src/util/text.c src/util/hashalg.c src/util/bytes.c src/util/conf.c
            src/util/base64.c src/asn1/der.c src/asn1/asn1.c src/sign/signer.c
            src/proto/request.c src/util/strbuf.c src/proto/soap.c src/tst/xmltoken.c"
    [authenticode]="src/util/log.c src/util/text.c src/util/hashalg.c src/util/bytes.c
                    src/util/conf.c src/util/base64.c src/asn1/der.c src/asn1/asn1.c
                    src/sign/signer.c src/proto/request.c src/tst/tstinfo.c src/tst/cms.c
                    src/proto/authenticode.c"
    [params]="src/util/log.c src/util/text.c src/util/hashalg.c src/util/bytes.c src/util/conf.c
              src/util/base64.c src/util/strbuf.c src/asn1/der.c src/asn1/asn1.c
              src/sign/signer.c src/proto/request.c src/clock/clock.c src/policy/filters.c
              src/policy/policy.c src/policy/clients.c src/proto/soap.c src/tst/xmltoken.c
              src/proto/wsdl.c src/fcgi/params.c"
    [form]="src/util/bytes.c src/admin/form.c src/admin/csrf.c"
    [gate]="src/util/log.c src/util/text.c src/fcgi/gate.c"
    [order]="src/util/log.c src/util/text.c src/util/hashalg.c src/util/strbuf.c src/sign/order.c"
    [tlog]="src/log/merkle.c src/log/leaf.c src/log/query.c"
    [filters]="src/util/log.c src/util/text.c src/util/hashalg.c src/util/bytes.c src/util/conf.c
               src/asn1/der.c src/asn1/asn1.c src/sign/signer.c src/proto/request.c
               src/clock/clock.c src/policy/filters.c src/policy/policy.c src/util/base64.c
               src/util/strbuf.c src/tst/xmltoken.c"
)
PKGS=(gnutls libtasn1 p11-kit-1 libxml-2.0 fcgi libpq)

OUT=build/fuzz
OBJ=$OUT/obj
ART=$OUT/artifacts
mkdir -p "$OBJ" "$ART"

# The generated ASN.1 table comes from the normal build's rule.
make -s build/tsa_asn1_tab.c >/dev/null

# shellcheck disable=SC2054
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
CFLAGS_FUZZ=(-std=c11 -D_GNU_SOURCE -g -O1 "${SAN[@]}" -Wall -Wextra -Wno-unused-parameter
             -Iinclude -Ibuild)
read -r -a PKG_CFLAGS <<<"$(pkg-config --cflags "${PKGS[@]}")"
read -r -a PKG_LIBS <<<"$(pkg-config --libs "${PKGS[@]}")"

# compile SRC: the clang object of SRC under build/fuzz/obj/ (its path in OBJ_PATH), rebuilt
# when SRC or a header is newer.
compile() {
    local src=$1 obj=$OBJ/${1%.c}.o h
    OBJ_PATH=$obj
    mkdir -p "$(dirname "$obj")"
    if [[ -f $obj && $obj -nt $src ]]; then
        for h in include/*.h; do
            [[ $h -nt $obj ]] && { rm -f "$obj"; break; }
        done
    else
        rm -f "$obj"
    fi
    if [[ ! -f $obj ]]; then
        "$CC_FUZZ" "${CFLAGS_FUZZ[@]}" -fsanitize=fuzzer-no-link "${PKG_CFLAGS[@]}" \
            -c -o "$obj" "$src" || die "cannot compile $src"
    fi
}

FAILED=0
for target in "$@"; do
    [[ -n ${SOURCES[$target]:-} ]] || die "unknown target '$target' (known: ${!SOURCES[*]})"
    harness=tests/fuzz/fuzz_$target.c
    [[ -f $harness ]] || die "$harness is missing"
    crashes=tests/fuzz/crashes/$target
    mkdir -p "$crashes"

    echo "fuzz: building $OUT/fuzz_$target with $CC_FUZZ (fuzzer, address, undefined)"
    objs=()
    for src in ${SOURCES[$target]} build/tsa_asn1_tab.c; do
        compile "$src"
        objs+=("$OBJ_PATH")
    done
    "$CC_FUZZ" "${CFLAGS_FUZZ[@]}" -fsanitize=fuzzer "${PKG_CFLAGS[@]}" -o "$OUT/fuzz_$target" \
        "$harness" "${objs[@]}" "${PKG_LIBS[@]}" || die "cannot link fuzz_$target"

    # A fresh scratch corpus: the seeds and every regression input.
    corpus=$OUT/corpus/$target
    rm -rf "$corpus"
    mkdir -p "$corpus"
    find "tests/fuzz/corpus/$target" "$crashes" -maxdepth 1 -type f ! -name '.*' ! -name 'README*' \
        -exec cp -t "$corpus" {} + 2>/dev/null || true
    seeds=$(find "$corpus" -type f | wc -l)

    stamp=$OUT/.start-$target
    : >"$stamp"
    log=$OUT/fuzz_$target.log
    echo "fuzz: $target for ${SECONDS_EACH}s from $seeds seed inputs (log: $log)"
    rc=0
    extra=()
    (( FUZZ_JOBS > 1 )) && extra+=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
    [[ -f tests/fuzz/$target.dict ]] && extra+=(-dict="tests/fuzz/$target.dict")
    # shellcheck disable=SC2086
    timeout --kill-after=30 $((SECONDS_EACH + 120)) "$OUT/fuzz_$target" \
        -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=5 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$ART/$target-" "${extra[@]}" \
        ${FUZZ_ARGS:-} "$corpus" >"$log" 2>&1 || rc=$?

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{ s += $1 } END { print s + 0 }')
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | awk '{ s += $1 } END { print s + 0 }')
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1 || true)
    units=$(find "$corpus" -type f | wc -l)
    echo "fuzz: $target: $execs executions (~$rate/s), ${cov:-no coverage line}, corpus $seeds -> $units inputs, exit status $rc"

    found=()
    while IFS= read -r -d '' a; do
        found+=("$a")
    done < <(find "$ART" -maxdepth 1 -type f -newer "$stamp" \
        \( -name "$target-crash-*" -o -name "$target-leak-*" -o -name "$target-timeout-*" \
           -o -name "$target-oom-*" \) -print0)
    if (( ${#found[@]} > 0 )); then
        for a in "${found[@]}"; do
            name=${a##*/"$target"-}
            cp "$a" "$crashes/$name"
            echo "fuzz: $target: FOUND ${a##*/} -> $crashes/$name"
        done
        grep -E -m1 -A30 '^==[0-9]+==ERROR|runtime error|^SUMMARY' "$log" | sed 's/^/    /' || true
        FAILED=$((FAILED + 1))
    elif (( rc != 0 )); then
        echo "fuzz: $target: the fuzzer exited with status $rc and left no artifact; tail of $log:"
        tail -n 20 "$log" | sed 's/^/    /'
        FAILED=$((FAILED + 1))
    fi
    rm -f "$stamp"
done
(( FAILED == 0 )) || { echo "fuzz: $FAILED target(s) failed"; exit 1; }
echo "fuzz: no crash"
