#!/usr/bin/env bash
# Every test tier, as `make check` runs them once everything is built:
#   1. unit tests: build/tests/unit/test_* (Check; each prints its own summary)
#   2. fuzz corpus and crash replays: build/tests/fuzz/replay_X tests/fuzz/corpus/X tests/fuzz/crashes/X
#   3. end to end: tests/e2e/run.sh (its own stack on free loopback ports), once behind each web
#      server of TSA_E2E_WEBS (default "nginx apache lighttpd"); each line of a pass is
#      prefixed with its server ("[apache] FAIL ...") and the passes' counts add up
#   4. the cluster: tests/cluster/run.sh (network namespaces of its own; plain pass only)
# Keeps going after a failure; the last line is exactly "N passed, N failed"; exit 1 if any
# failed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${TSA_BUILD:-$ROOT/build}
cd "$ROOT" || exit 1

PASSED=0
FAILED=0
OUT=$(mktemp /tmp/tsa-run-all.XXXXXX)
trap 'rm -f "$OUT"' EXIT

banner() { printf '\n==== %s\n' "$*"; }

# ---- 1. unit tests -------------------------------------------------------------------------------
banner "unit tests"
shopt -s nullglob
units=0
for t in "$BUILD"/tests/unit/test_*; do
    [[ -f $t && -x $t && $t != *.o ]] || continue
    units=$((units + 1))
    echo "-- ${t#"$ROOT"/}"
    "$t" 2>&1 | tee "$OUT"
    rc=${PIPESTATUS[0]}
    # Check: "NN%: Checks: A, Failures: B, Errors: C"
    line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$OUT" | tail -n1)
    if [[ $line =~ Checks:\ ([0-9]+),\ Failures:\ ([0-9]+),\ Errors:\ ([0-9]+) ]]; then
        checks=${BASH_REMATCH[1]} failures=${BASH_REMATCH[2]} errors=${BASH_REMATCH[3]}
        PASSED=$((PASSED + checks - failures - errors))
        FAILED=$((FAILED + failures + errors))
        if (( rc != 0 && failures + errors == 0 )); then
            echo "FAIL ${t##*/}: exit status $rc with no failed check"
            FAILED=$((FAILED + 1))
        fi
    else
        if (( rc == 0 )); then
            PASSED=$((PASSED + 1))
        else
            echo "FAIL ${t##*/}: exit status $rc and no Check summary"
            FAILED=$((FAILED + 1))
        fi
    fi
done
(( units > 0 )) || echo "(no unit test binaries in ${BUILD#"$ROOT"/}/tests/unit)"

# ---- 2. fuzz replays -------------------------------------------------------------------------------
banner "fuzz corpus and crash replays"
replays=0
for r in "$BUILD"/tests/fuzz/replay_*; do
    [[ -f $r && -x $r && $r != *.o ]] || continue
    target=${r##*/replay_}
    dirs=()
    for d in tests/fuzz/corpus/$target tests/fuzz/crashes/$target; do
        [[ -d $d ]] && dirs+=("$d")
    done
    if (( ${#dirs[@]} == 0 )); then
        echo "SKIP replay_$target: no tests/fuzz/corpus/$target or tests/fuzz/crashes/$target"
        continue
    fi
    replays=$((replays + 1))
    if "$r" "${dirs[@]}"; then
        echo "PASS replay_$target"
        PASSED=$((PASSED + 1))
    else
        echo "FAIL replay_$target: exit status $?"
        FAILED=$((FAILED + 1))
    fi
done
(( replays > 0 )) || echo "(no fuzz replays run)"

# ---- 3. end to end -------------------------------------------------------------------------------
# A sanitizer build (TSA_SANITIZE, set by make check SANITIZE=1): the stack's programs (tsa-fcgi
# and its workers, tsactl, tsa-admin) log every ASan, LSan or UBSan report into a directory of
# their own, and each report fails the pass: otherwise a worker dying under ASan would only
# look like a 502 to the case that hit it.
sanitizer_reports() {
    local web=$1 dir=$2 f
    for f in "$dir"/*; do
        [[ -f $f && -s $f ]] || continue
        echo "FAIL e2e[$web]/sanitizer: ${f##*/}"
        grep -E -m1 -A25 'ERROR|runtime error|SUMMARY' "$f" | sed 's/^/    /'
        FAILED=$((FAILED + 1))
    done
    rm -rf "$dir"
}

for web in ${TSA_E2E_WEBS:-nginx apache lighttpd}; do
    banner "end to end behind $web"
    san_dir= san_env=()
    if [[ -n ${TSA_SANITIZE:-} ]]; then
        san_dir=$(mktemp -d /tmp/tsa-sanitizer.XXXXXX) && chmod 1777 "$san_dir"
        # ASan holds freed memory in its quarantine (256 MB), so a worker's RSS grows by
        # design: the soak's RSS bound is the plain pass's; here LSan, at each program's exit,
        # is the leak check.
        san_env=("ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$san_dir/asan"
                 "UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$san_dir/ubsan"
                 "SOAK_RSS_PCT=${SOAK_RSS_PCT_SANITIZE:-1000}")
    fi
    env "${san_env[@]}" TSA_WEB="$web" "$ROOT/tests/e2e/run.sh" 2>&1 | sed -u "s/^/[$web] /" | tee "$OUT"
    rc=${PIPESTATUS[0]}
    [[ -n $san_dir ]] && sanitizer_reports "$web" "$san_dir"
    line=$(grep -E "^\[$web\] [0-9]+ passed, [0-9]+ failed$" "$OUT" | tail -n1)
    if [[ $line =~ \]\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        PASSED=$((PASSED + BASH_REMATCH[1]))
        FAILED=$((FAILED + BASH_REMATCH[2]))
        if (( rc != 0 && BASH_REMATCH[2] == 0 )); then
            echo "FAIL e2e[$web]: exit status $rc with no failed case"
            FAILED=$((FAILED + 1))
        fi
    else
        echo "FAIL e2e[$web]: exit status $rc and no summary line"
        FAILED=$((FAILED + 1))
    fi
done

# ---- 4. the cluster ---------------------------------------------------------------------------------
# Once, in the plain pass only: its faults are about hosts and the database, not memory errors,
# and eight hosts on this machine under a sanitizer would measure the sanitizer.
if [[ -n ${TSA_SANITIZE:-} ]]; then
    banner "the cluster: in the plain pass only"
else
    banner "the cluster (tests/cluster/run.sh)"
    "$ROOT/tests/cluster/run.sh" 2>&1 | tee "$OUT"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT" | tail -n1)
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        PASSED=$((PASSED + BASH_REMATCH[1]))
        FAILED=$((FAILED + BASH_REMATCH[2]))
        if (( rc != 0 && BASH_REMATCH[2] == 0 )); then
            echo "FAIL cluster: exit status $rc with no failed case"
            FAILED=$((FAILED + 1))
        fi
    else
        echo "FAIL cluster: exit status $rc and no summary line"
        FAILED=$((FAILED + 1))
    fi
fi

echo
echo "$PASSED passed, $FAILED failed"
(( FAILED == 0 ))
