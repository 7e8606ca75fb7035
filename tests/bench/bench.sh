#!/usr/bin/env bash
# The benchmark (`make bench`; README "Tests"): for each key type, on a private stack
# of its own (temporary state, free loopback ports), side by side in the same run:
#   1. raw PKCS#11 signatures per second of the signer's key (build/tsa-bench-sign, N threads),
#      measured while the stack is up but idle;
#   2. end-to-end RFC 3161 tokens per second through nginx and the tsa-fcgi workers, each token
#      recorded in PostgreSQL (wrk on loopback, one fixed `openssl ts -query -sha256 -cert`);
# then the ratio, wrk's latency percentiles, the CPU share and the CPU ms per token of each part
# of the stack, the "cpu ratio" (raw CPU per signature / CPU per whole token: the ratio an idle
# machine would show, since both runs are CPU-bound; rates move with other load, this hardly
# does), and proof
# that the answers were real: the rows added to issued_tokens against wrk's request count (a
# rejection is an HTTP 200 answer too, so only the rows tell), no non-2xx answer, one reply
# checked with `openssl ts -reply` and `openssl ts -verify`, and synchronous_commit shown on.
#
# Environment (all optional):
#   BENCH_KEYS     key types, space separated (default "rsa2048 p256"; also rsa3072, p384)
#   BENCH_SECONDS  seconds of each measurement (default 10)
#   BENCH_THREADS  threads of the raw measurement (default 2)
#   BENCH_WORKERS  tsa-fcgi worker processes (default 4)
#   BENCH_CONNS    wrk connections (default 16); BENCH_WRK_THREADS wrk threads (default 2)
#   BENCH_RAW=0    skip the raw measurement; BENCH_E2E=0 skip the end-to-end one
#   TSA_SCHEME     auto (default) | rsa-pss, as for deploy/stack/stack.sh
#   TSA_BUILD      where the programs are (default build/ at the project root)
#   KEEP=1         keep each stack's state directory (its path is printed)
# Exit status 1 when a stack does not start, a measurement fails, or a check does not hold.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
STACK=$ROOT/deploy/stack/stack.sh
BUILD=${TSA_BUILD:-$ROOT/build}
BUILD=$(realpath -m -- "$BUILD")

BENCH_KEYS=${BENCH_KEYS:-rsa2048 p256}
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_WORKERS=${BENCH_WORKERS:-4}
BENCH_CONNS=${BENCH_CONNS:-16}
BENCH_WRK_THREADS=${BENCH_WRK_THREADS:-2}
BENCH_RAW=${BENCH_RAW:-1}
BENCH_E2E=${BENCH_E2E:-1}
SCHEME=${TSA_SCHEME:-auto}

say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

for v in BENCH_SECONDS BENCH_THREADS BENCH_WORKERS BENCH_CONNS BENCH_WRK_THREADS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive whole number (got '${!v}')"
done
(( BENCH_SECONDS <= 600 )) || die "BENCH_SECONDS is at most 600"
(( BENCH_CONNS >= BENCH_WRK_THREADS )) || die "BENCH_CONNS must be at least BENCH_WRK_THREADS"
for k in $BENCH_KEYS; do
    case $k in rsa2048|rsa3072|p256|p384) ;; *) die "unknown key type '$k' in BENCH_KEYS" ;; esac
done
for c in wrk curl openssl psql ss; do
    command -v "$c" >/dev/null 2>&1 || die "$c is missing (deploy/deps.sh installs it)"
done
for b in tsa-bench-sign tsa-fcgi tsa-signer tsactl; do
    [[ -x $BUILD/$b ]] || die "$BUILD/$b is missing: run 'make all' first"
done

# ---- helpers ---------------------------------------------------------------------------------
port_free() { [[ -z $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

# free_port [EXCEPT...]: a random loopback TCP port nothing listens on.
free_port() {
    local p i e ok
    for ((i = 0; i < 200; i++)); do
        # Below the kernel's ephemeral range (32768 up): a port some outgoing connection
        # holds is not listening, so ss cannot see it, yet bind() would fail on it.
        p=$((20000 + RANDOM % 12000))
        ok=1
        for e in "$@"; do [[ $p == "$e" ]] && ok=0; done
        if (( ok )) && port_free "$p"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# psql on the current stack's socket: one unaligned value per line.
sql() { psql -X -Atq -v ON_ERROR_STOP=1 "host=$TSA_VAR/pg/run dbname=tsa user=tsa" -c "$1"; }

# cpu_ticks: "role ticks" for each part of this stack (user + system clock ticks of its main
# process and their children, summed), for the share of the CPU each used in a measurement.
# Only this stack's processes count: another stack may be running on the same machine.
cpu_ticks() {
    local -A role=()
    local f pid ppid rest
    pid=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-fcgi.pid" 2>/dev/null || true)
    [[ -n $pid ]] && role[$pid]=tsa-fcgi
    pid=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-signer.pid" 2>/dev/null || true)
    [[ -n $pid ]] && role[$pid]=tsa-signer
    pid=$(head -n1 "$TSA_VAR/pg/data/postmaster.pid" 2>/dev/null | tr -dc '0-9' || true)
    [[ -n $pid ]] && role[$pid]=postgres
    pid=$(tr -dc '0-9' <"$TSA_VAR/nginx/nginx.pid" 2>/dev/null || true)
    [[ -n $pid ]] && role[$pid]=nginx
    # wrk has exited when the second snapshot is taken: its time is in this shell's
    # children's time (cutime + cstime, fields 16 and 17), which it is the bulk of meanwhile.
    rest=$(<"/proc/$$/stat"); rest=${rest##*) }
    # shellcheck disable=SC2086
    set -- $rest
    echo "wrk $(( ${14} + ${15} ))"
    for f in /proc/[0-9]*/stat; do
        # The name is in parentheses and may hold spaces; the fields after it count from 3.
        { IFS= read -r rest <"$f"; } 2>/dev/null || continue   # it may have exited
        pid=${f#/proc/}; pid=${pid%/stat}
        rest=${rest##*) }
        # shellcheck disable=SC2086
        set -- $rest
        ppid=$2
        if [[ -n ${role[$pid]:-} ]]; then
            echo "${role[$pid]} $(( ${12} + ${13} ))"
        elif [[ -n ${role[$ppid]:-} ]]; then
            echo "${role[$ppid]} $(( ${12} + ${13} ))"
        fi
    done | awk '{ t[$1] += $2 } END { for (n in t) print n, t[n] }'
}

# cpu_share BEFORE AFTER SECONDS: "tsa-fcgi 45% tsa-signer 50% postgres 30% ..." (100% = one
# core).
cpu_share() {
    local hz
    hz=$(getconf CLK_TCK)
    awk -v hz="$hz" -v s="$3" '
        FNR == NR { b[$1] = $2; next }
        { d[$1] = $2 - b[$1] }
        END {
            n = split("tsa-fcgi tsa-signer postgres nginx wrk", order, " ")
            for (i = 1; i <= n; i++)
                if (order[i] in d)
                    printf "%s%s %.0f%%", (out++ ? ", " : ""), order[i], 100 * d[order[i]] / hz / s
            print ""
        }' "$1" "$2"
}

# cpu_per_token BEFORE AFTER ROWS: "tsa-fcgi 1.05 postgres 0.25 ... total 1.47" (CPU ms per
# recorded token of each part; all parts share the machine's cores, so these add up).
cpu_per_token() {
    local hz
    hz=$(getconf CLK_TCK)
    awk -v hz="$hz" -v n="$3" '
        FNR == NR { b[$1] = $2; next }
        { d[$1] = $2 - b[$1] }
        END {
            if (n <= 0) { print "-"; exit }
            k = split("tsa-fcgi tsa-signer postgres nginx wrk", order, " ")
            for (i = 1; i <= k; i++)
                if (order[i] in d) {
                    printf "%s %.3f ", order[i], 1000 * d[order[i]] / hz / n
                    t += d[order[i]]
                }
            printf "total %.3f\n", 1000 * t / hz / n
        }' "$1" "$2"
}

# field NAME LINE: the value of NAME=value in LINE.
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }

# ---- one key type ------------------------------------------------------------------------------
TSA_VAR=
STACK_UP=0
STACK_ENV=()   # what deploy/stack/stack.sh needs to find this stack again: start and stop alike

# Processes whose command line names this stack's state directory (tsa-fcgi, nginx, postgres).
stack_pids() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}; pid=${pid%/cmdline}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "$TSA_VAR/" && echo "$pid"
    done
    return 0
}

stop_stack() {
    local left p
    [[ -n $TSA_VAR ]] || return 0
    if (( STACK_UP )); then
        env "${STACK_ENV[@]}" "$STACK" stop >>"$TSA_VAR/bench/stack.log" 2>&1 ||
            say "stopping the stack failed (see $TSA_VAR/bench/stack.log)"
        STACK_UP=0
        # Nothing of this stack may outlive it: whatever still runs from its directory is ours.
        left=$(stack_pids)
        if [[ -n $left ]]; then
            say "still running after 'stack.sh stop', terminated: $(tr '\n' ' ' <<<"$left")"
            for p in $left; do kill -TERM "$p" 2>/dev/null || true; done
            sleep 2
            for p in $(stack_pids); do kill -KILL "$p" 2>/dev/null || true; done
        fi
    fi
    if [[ -d $TSA_VAR ]]; then
        if [[ ${KEEP:-0} == 1 ]]; then
            say "state kept in $TSA_VAR"
        else
            rm -rf "$TSA_VAR"
        fi
    fi
    TSA_VAR=
}
trap 'stop_stack' EXIT
trap 'exit 130' INT TERM

SUMMARY=()
FAILURES=0

bench_key() {
    local key=$1 http https out uri raw_line raw=- e2e=- ratio=- p50=- p90=- p99=- rows=- reqs=-
    local before after wrk_line non2xx errs inflight sync fsync cpu per_token sig_ms= cpu_ratio=-
    local syncs_before syncs_after
    local reply text failures_before=$FAILURES status

    TSA_VAR=$(mktemp -d /tmp/tsa-bench.XXXXXX) || die "mktemp failed"
    chmod 755 "$TSA_VAR"   # traversable by the postgres user and nginx's workers under root
    mkdir -p "$TSA_VAR/bench"
    out=$TSA_VAR/bench
    { http=$(free_port) && https=$(free_port "$http"); } || die "no free loopback port"

    echo
    say "==== $key: stack in $TSA_VAR on 127.0.0.1:$http ($BENCH_WORKERS workers, scheme $SCHEME)"
    # wrk is one client address: the web server's per-address limits (64 requests in
    # progress, 200 a second) raised above what it sends, so that they never shape the result.
    STACK_ENV=(TSA_VAR="$TSA_VAR" TSA_HTTP_PORT="$http" TSA_HTTPS_PORT="$https" TSA_KEY="$key"
               TSA_WORKERS="$BENCH_WORKERS" TSA_SCHEME="$SCHEME" TSA_BUILD="$BUILD"
               TSA_PER_CLIENT_CONNS=$((BENCH_CONNS + 64)) TSA_PER_CLIENT_RATE=100000)
    if ! env "${STACK_ENV[@]}" "$STACK" start >"$out/stack.log" 2>&1; then
        STACK_UP=1
        sed 's/^/    /' "$out/stack.log" | tail -n 30
        die "the stack for $key did not start"
    fi
    STACK_UP=1
    sync=$(sql 'SHOW synchronous_commit') fsync=$(sql 'SHOW fsync')
    say "PostgreSQL: synchronous_commit=$sync fsync=$fsync"
    [[ $sync == on && $fsync == on ]] || { say "FAIL: the database does not commit durably"; FAILURES=$((FAILURES + 1)); }

    # 1. Raw signing, the workers idle.
    uri="pkcs11:token=tsa;object=tsa-$key;type=private"
    if (( BENCH_RAW )); then
        say "raw: tsa-bench-sign --threads $BENCH_THREADS --seconds $BENCH_SECONDS --scheme $SCHEME '$uri'"
        if raw_line=$(timeout $((BENCH_SECONDS + 60)) "$BUILD/tsa-bench-sign" --conf "$TSA_VAR/tsa.conf" \
                --uri "$uri" --threads "$BENCH_THREADS" --seconds "$BENCH_SECONDS" --scheme "$SCHEME" \
                --digest sha256 2>"$out/raw.err"); then
            say "raw: $raw_line"
            raw=$(field raw_sign_per_sec "$raw_line")
            sig_ms=$(field cpu_ms_per_sig "$raw_line")
        else
            sed 's/^/    /' "$out/raw.err"
            say "FAIL: tsa-bench-sign failed for $key"
            FAILURES=$((FAILURES + 1))
        fi
    fi

    # 2. End to end through nginx.
    if (( BENCH_E2E )); then
        printf 'tsa benchmark %s\n' "$key" >"$out/data.txt"
        openssl ts -query -data "$out/data.txt" -sha256 -cert -out "$out/req.tsq" 2>/dev/null ||
            die "openssl ts -query failed"
        before=$(sql 'SELECT count(*) FROM issued_tokens')
        # WAL flushes (one per durable commit unless commits share one): pg_stat_wal, PG 14 up.
        syncs_before=$(sql 'SELECT wal_sync FROM pg_stat_wal' 2>/dev/null || echo -)
        cpu_ticks >"$out/cpu.before"
        say "e2e: wrk -t$BENCH_WRK_THREADS -c$BENCH_CONNS -d${BENCH_SECONDS}s --latency POST http://127.0.0.1:$http/tsa"
        if ! BENCH_BODY=$out/req.tsq BENCH_CONTENT_TYPE=application/timestamp-query timeout $((BENCH_SECONDS + 30)) wrk -t"$BENCH_WRK_THREADS" \
                -c"$BENCH_CONNS" -d"${BENCH_SECONDS}s" --timeout 10s --latency \
                -s "$HERE/post.lua" "http://127.0.0.1:$http/tsa" >"$out/wrk.out" 2>&1; then
            sed 's/^/    /' "$out/wrk.out"
            die "wrk failed for $key"
        fi
        cpu_ticks >"$out/cpu.after"
        cpu=$(cpu_share "$out/cpu.before" "$out/cpu.after" "$BENCH_SECONDS")
        grep -v '^BENCH ' "$out/wrk.out" | sed 's/^/    /'
        wrk_line=$(grep '^BENCH ' "$out/wrk.out") || die "no summary line from post.lua"
        # Requests still in flight when wrk stopped finish on the server: give them a moment.
        sleep 2
        after=$(sql 'SELECT count(*) FROM issued_tokens')
        syncs_after=$(sql 'SELECT wal_sync FROM pg_stat_wal' 2>/dev/null || echo -)
        reqs=$(field requests "$wrk_line")
        non2xx=$(field non2xx "$wrk_line")
        errs=$(( $(field connect "$wrk_line") + $(field read "$wrk_line") + $(field write "$wrk_line") + $(field timeout "$wrk_line") ))
        rows=$((after - before))
        inflight=$((rows - reqs))
        e2e=$(awk -v n="$reqs" -v us="$(field duration_us "$wrk_line")" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
        p50=$(ms "$(field p50_us "$wrk_line")") p90=$(ms "$(field p90_us "$wrk_line")") p99=$(ms "$(field p99_us "$wrk_line")")
        say "e2e: $reqs requests answered, $e2e tokens/s, latency p50 $p50 ms, p90 $p90 ms, p99 $p99 ms"
        say "e2e: CPU during the run (100% = one core): $cpu"
        per_token=$(cpu_per_token "$out/cpu.before" "$out/cpu.after" "$rows")
        say "e2e: CPU ms per token: $per_token"
        if [[ $syncs_before != - && $syncs_after != - ]] && (( after > before )); then
            say "e2e: WAL flushes per token: $(awk -v n=$((syncs_after - syncs_before)) -v t=$((after - before)) 'BEGIN { printf "%.2f", n / t }')"
        fi
        if [[ -n $sig_ms && $per_token != - ]]; then
            # What a token costs beyond its signature (the raw run's CPU per signature) is
            # the rest of the stack's work.  With the cores to itself, a ratio r allows the
            # whole token sig/r of CPU: the rest may cost sig/r - sig (0.25 sig at 0.8).
            say "e2e: $(awk -v sig="$sig_ms" -v tot="${per_token##*total }" '
                BEGIN { printf "signature %.3f ms CPU (raw run), the rest %.3f ms per token; at ratio 0.8 on an idle machine the rest may cost %.3f ms", sig, tot - sig, sig / 0.8 - sig }')"
            # Both runs CPU-bound on the same cores: the ratio an idle machine would show.
            cpu_ratio=$(awk -v sig="$sig_ms" -v tot="${per_token##*total }" 'BEGIN { printf "%.2f", sig / tot }')
            say "e2e: CPU ratio (signature / whole token, what an idle machine would show): $cpu_ratio"
        fi
        say "e2e: issued_tokens rows added: $rows (wrk counted $reqs answers; difference $inflight, at most $BENCH_CONNS may have been in flight at the end)"
        if (( non2xx != 0 || errs != 0 )); then
            say "FAIL: $non2xx non-2xx answers and $errs socket errors"
            FAILURES=$((FAILURES + 1))
        fi
        # An RFC 3161 rejection travels as HTTP 200, so wrk cannot tell it from a token: the
        # rows are what prove that every answer was a recorded token.
        if (( inflight < 0 || inflight > BENCH_CONNS )); then
            say "FAIL: rows recorded ($rows) do not match the answers ($reqs) within the $BENCH_CONNS connections in flight"
            say "the workers' errors (rejections are HTTP 200 answers):"
            grep -E ' (error|warning): ' "$TSA_VAR/log/tsa-fcgi.log" 2>/dev/null | tail -n 5 | sed 's/^/    /' || true
            FAILURES=$((FAILURES + 1))
        fi
        # One more, by hand: granted, and a token that verifies against the demo root.
        reply=$out/reply.tsr
        curl -sS --max-time 10 -o "$reply" -H 'Content-Type: application/timestamp-query' \
            --data-binary @"$out/req.tsq" "http://127.0.0.1:$http/tsa" || true
        text=$(openssl ts -reply -in "$reply" -text 2>&1) || true
        if grep -q '^Status: Granted' <<<"$text" &&
                openssl ts -verify -queryfile "$out/req.tsq" -in "$reply" -CAfile "$TSA_VAR/pki/ca.pem" \
                    -untrusted "$TSA_VAR/pki/tsa.pem" >"$out/verify.out" 2>&1; then
            say "check: a reply to the same request is granted and verifies ($(grep -m1 '^Serial number' <<<"$text"))"
        else
            head -n 20 <<<"$text"
            say "FAIL: the reply is not a granted, verifiable token"
            FAILURES=$((FAILURES + 1))
        fi
    fi
    status=ok
    (( FAILURES == failures_before )) || status=INVALID
    if [[ $raw != - && $e2e != - ]]; then
        ratio=$(awk -v a="$e2e" -v b="$raw" 'BEGIN { printf "%.2f", a / b }')
        say "$key: raw $raw sig/s, end to end $e2e tokens/s, ratio $ratio ($status)"
    fi
    SUMMARY+=("$(printf '%-8s %10s %12s %6s %9s %8s %8s %8s %9s %9s  %s' "$key" "$raw" "$e2e" "$ratio" \
        "$cpu_ratio" "$p50" "$p90" "$p99" "$reqs" "$rows" "$status")")
    stop_stack
}

say "keys: $BENCH_KEYS; $BENCH_SECONDS s per measurement; raw: $BENCH_THREADS threads; e2e: $BENCH_WORKERS workers, wrk $BENCH_WRK_THREADS threads $BENCH_CONNS connections"
for key in $BENCH_KEYS; do
    bench_key "$key"
done

echo
echo "Summary (RFC 3161 over HTTP on loopback; scheme $SCHEME, digest sha256, $BENCH_WORKERS workers, $BENCH_CONNS connections, ${BENCH_SECONDS}s; $(nproc) CPUs)"
printf '%-8s %10s %12s %6s %9s %8s %8s %8s %9s %9s  %s\n' key 'raw sig/s' 'e2e tok/s' ratio 'cpu ratio' \
    'p50 ms' 'p90 ms' 'p99 ms' answers rows checks
for line in "${SUMMARY[@]}"; do
    echo "$line"
done
if (( FAILURES > 0 )); then
    echo "bench: $FAILURES check(s) failed"
    exit 1
fi
