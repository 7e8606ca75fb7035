#!/usr/bin/env bash
# Soak: SOAK_SECONDS (default 600) of mixed valid and invalid traffic over the three protocols
# (RFC 3161 DER, SOAP/XML, Authenticode base64) at the machine's capacity, on loopback, against
# a private stack (its own state directory and free ports, like tests/e2e/run.sh).  Asserts:
#   - zero unexpected answers (so zero unexpected 5xx; a SOAP Fault's 500 for a malformed
#     envelope is the protocol's answer and expected), no worker died or was replaced;
#   - each worker's RSS, sampled every 2 s, grows less than SOAK_RSS_PCT (default 5) % from the
#     end of the warm-up (a fifth of the run, at most 60 s) to the end (mean of the last samples);
#   - tests/soak/check.py: every granted token in issued_tokens exactly once, serials unique.
#
#   tests/soak/run.sh                 (make soak; SOAK_SECONDS=45 make soak for CI)
#   SOAK_ATTACH=1 TSA_VAR=... TSA_HTTP_PORT=... tests/soak/run.sh
#                                     against a running stack (the e2e soak case)
#   SOAK_PROCS (default: 2 per core)  load generator processes (keep-alive connections)
#   TSA_WORKERS (default: 2 per core) worker processes of the private stack
# Prints the load summary, the RSS table and the checker's verdict; exit 1 on any breach.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
STACK=$ROOT/deploy/stack/stack.sh
# shellcheck source=../e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"

SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_RSS_PCT=${SOAK_RSS_PCT:-5}
CORES=$(nproc 2>/dev/null || echo 2)
SOAK_PROCS=${SOAK_PROCS:-$((CORES * 2))}
[[ $SOAK_SECONDS =~ ^[0-9]+$ ]] && (( SOAK_SECONDS >= 10 && SOAK_SECONDS <= 7200 )) ||
    { echo "soak: SOAK_SECONDS must be 10 to 7200" >&2; exit 64; }

OWN_STACK=0
if [[ ${SOAK_ATTACH:-0} == 1 ]]; then
    [[ -n ${TSA_VAR:-} && -n ${TSA_HTTP_PORT:-} ]] || { echo "soak: SOAK_ATTACH needs TSA_VAR and TSA_HTTP_PORT" >&2; exit 64; }
    OUT=$(mktemp -d "$TSA_VAR/soak.XXXXXX")
else
    OWN_STACK=1
    TSA_VAR=$(mktemp -d /tmp/tsa-soak.XXXXXX) || exit 1
    chmod 755 "$TSA_VAR"
    OUT=$TSA_VAR/soak
    mkdir -p "$OUT"
    TSA_HTTP_PORT=$(free_port) && TSA_HTTPS_PORT=$(free_port "$TSA_HTTP_PORT") ||
        { echo "soak: no free loopback port" >&2; exit 1; }
    TSA_WORKERS=${TSA_WORKERS:-$((CORES * 2))}
    # Else most answers are 429 (lib.sh).
    TSA_PER_CLIENT_RATE=${TSA_PER_CLIENT_RATE:-$LOOPBACK_LOAD_RATE}
    export TSA_VAR TSA_HTTP_PORT TSA_HTTPS_PORT TSA_WORKERS TSA_PER_CLIENT_RATE
    [[ -n ${TSA_BUILD:-} ]] && export TSA_BUILD
    cleanup() {
        "$STACK" stop >>"$OUT/stack.log" 2>&1
        if [[ ${KEEP:-0} == 1 ]]; then echo "soak: state kept in $TSA_VAR"; else rm -rf "$TSA_VAR"; fi
    }
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    echo "soak: private stack in $TSA_VAR on 127.0.0.1:$TSA_HTTP_PORT ($TSA_WORKERS workers)"
    if ! "$STACK" start >"$OUT/stack.log" 2>&1; then
        echo "FAIL soak/stack-start: $(grep 'error:' "$OUT/stack.log" | tail -n1)"
        exit 1
    fi
fi
URL=http://127.0.0.1:$TSA_HTTP_PORT/tsa

master=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-fcgi.pid")
workers_before=$(pgrep -P "$master" | sort -n | tr '\n' ' ')
[[ -n $workers_before ]] || { echo "FAIL soak: no tsa-fcgi worker running"; exit 1; }

# RSS sampler: "SECONDS PID KB" lines every 2 s while the load runs.
sample_rss() {
    local t0=$SECONDS p kb
    while [[ -e $OUT/running ]]; do
        for p in $workers_before; do
            kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || kb=
            [[ -n $kb ]] && echo "$((SECONDS - t0)) $p $kb"
        done
        sleep 2
    done >"$OUT/rss.txt"
}

echo "soak: $SOAK_SECONDS s, $SOAK_PROCS load processes against $URL (workers: $workers_before)"
touch "$OUT/running"
sample_rss &
spid=$!
python3 "$HERE/load.py" --url "$URL" --seconds "$SOAK_SECONDS" --procs "$SOAK_PROCS" \
    --mix mixed --record "$OUT/granted" >"$OUT/load.json" 2>"$OUT/load.err"
lrc=$?
rm -f "$OUT/running"
wait "$spid"

fail=0
cat "$OUT/load.json"
if (( lrc != 0 )); then
    echo "FAIL soak/answers: unexpected answers (see unexpected_samples above) $(oneline <"$OUT/load.err")"
    fail=1
else
    echo "PASS soak/answers: no unexpected answer, no unexpected 5xx"
fi

workers_after=$(pgrep -P "$master" | sort -n | tr '\n' ' ')
if [[ $workers_after != "$workers_before" ]]; then
    echo "FAIL soak/workers: workers died or were replaced ($workers_before -> $workers_after)"
    fail=1
else
    echo "PASS soak/workers: the same $(wc -w <<<"$workers_before") workers throughout"
fi

# Memory: baseline at the end of the warm-up, final = mean of the last quarter of samples.
warm=$((SOAK_SECONDS / 5)); (( warm > 60 )) && warm=60
if python3 - "$OUT/rss.txt" "$warm" "$SOAK_RSS_PCT" <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
warm, limit = int(sys.argv[2]), float(sys.argv[3])
bad = 0
for pid in sorted({p for _, p, _ in rows}):
    s = [(t, kb) for t, p, kb in rows if p == pid]
    after = [kb for t, kb in s if t >= warm]
    if len(after) < 4:
        print("  worker %d: too few samples after the warm-up" % pid)
        bad = 1
        continue
    base = after[0]
    tail = after[-max(2, len(after) // 4):]
    final = sum(tail) / len(tail)
    growth = 100.0 * (final - base) / base
    print("  worker %d: RSS %d kB at %d s (after warm-up), %.0f kB at the end (max %d kB): %+.2f %%"
          % (pid, base, warm, final, max(after), growth))
    if growth >= limit:
        bad = 1
sys.exit(bad)
PY
then
    echo "PASS soak/memory: every worker's RSS grew less than $SOAK_RSS_PCT % after the warm-up"
else
    echo "FAIL soak/memory: a worker's RSS grew $SOAK_RSS_PCT % or more after the warm-up (or too few samples)"
    fail=1
fi

if out=$(python3 "$HERE/check.py" --conf "$TSA_VAR/tsa.conf" --record "$OUT/granted" 2>&1); then
    echo "PASS soak/records: $out"
else
    echo "FAIL soak/records: $out"
    fail=1
fi
exit "$fail"
