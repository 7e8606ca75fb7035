#!/usr/bin/env bash
# The benchmark (`make bench`; README "Tests"): for each key type, on a private stack
# of its own (temporary state, free loopback ports), side by side in the same run:
#   1. raw PKCS#11 signatures per second of the signer's key (build/tsa-bench-sign, N threads),
#      measured while the stack is up but idle;
#   2. for each protocol, end-to-end tokens per second through nginx and the tsa-fcgi workers,
#      each token recorded in PostgreSQL (wrk on loopback, tests/bench/post.lua posting one
#      fixed request to /tsa): RFC 3161 (`openssl ts -query -sha256 -cert`), SOAP/XML (the
#      Entrust timestamp-protocol-20020207 request of tests/e2e/soap.sh, SHA-256, a nonce) and
#      Authenticode (base64 of the ContentInfo carrying 256 signature bytes to countersign, as
#      tests/e2e/authenticode.sh builds it);
#   3. PostgreSQL alone (pgbench): the signing processes' statement with one of the run's RFC
#      3161 rows, in as many sessions and rows per commit as the RFC 3161 run had, so the
#      database's own CPU per token shows beside its end-to-end figure;
#   4. once per run, what one message between two processes costs the machine in CPU
#      (build/tsa-bench-hop), and so the crossings of each token: wrk, the web server, a
#      worker, a signing process, and back (the database's round trip is its batch's);
# then, for each protocol, the ratio to the raw rate, wrk's latency percentiles, the CPU share
# and the CPU ms per token of each part of the stack, the "cpu ratio" (raw CPU per signature /
# CPU per whole token: the ratio an idle machine would show, since both runs are CPU-bound;
# rates move with other load, this hardly does), and proof that the answers were real: the
# rows of that protocol added to issued_tokens against wrk's request count (a refusal is an
# HTTP 200 answer too in RFC 3161 and SOAP, so only the rows tell), no non-2xx answer, one
# reply checked (RFC 3161: `openssl ts -reply` and `openssl ts -verify`; SOAP: granted, the
# detached token verified by xmlsec1 against the demo root, digest and nonce echoed;
# Authenticode: `openssl cms -verify` against the demo root, the content the signature bytes
# sent), and synchronous_commit shown on.  The RFC 3161 lines read as they did before the
# other protocols were measured ("e2e: ..."); the others name theirs ("e2e soap: ...").
#
# Environment (all optional):
#   BENCH_KEYS     key types, space separated (default "rsa2048 rsa3072 p256"; also p384)
#   BENCH_PROTOCOLS  protocols measured end to end, space separated, in this order (default
#                  "rfc3161 soap authenticode"); one named twice is measured twice, a row each
#                  (mirrored order, "rfc3161 soap authenticode authenticode soap rfc3161",
#                  weighs a drift of the machine on each protocol alike)
#   BENCH_SECONDS  seconds of each measurement (default 10)
#   BENCH_THREADS  threads of the raw measurement (default 2)
#   BENCH_WORKERS  tsa-fcgi worker processes (default 0: tsa.conf's default, four per CPU;
#                  the log and the summary say how many ran)
#   BENCH_CONNS    wrk connections (default 16); BENCH_WRK_THREADS wrk threads (default 2)
#   BENCH_RAW=0    skip the raw measurement; BENCH_E2E=0 skip the end-to-end ones
#   BENCH_PROFILE=1  perf samples the whole machine during each end-to-end run and the log
#                  shows each process's busiest functions (perf's own cost, a few per cent,
#                  is then in that run's CPU figures)
#   TSA_SCHEME     auto (default) | rsa-pss, as for deploy/stack/stack.sh
#   TSA_FCGI_KEEP=0|1, TSA_SIGNER_PROCESSES=N  as for deploy/stack/stack.sh: kept FastCGI
#                  connections between nginx and the workers; signing processes
#   TSA_BUILD      where the programs are (default build/ at the project root)
#   KEEP=1         keep each stack's state directory (its path is printed)
# Exit status 1 when a stack does not start, a measurement fails, or a check does not hold.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
STACK=$ROOT/deploy/stack/stack.sh
BUILD=${TSA_BUILD:-$ROOT/build}
BUILD=$(realpath -m -- "$BUILD")
# soap_request and SHA256_URI: the SOAP request as the end-to-end tests send it.
# shellcheck source=../e2e/soap.sh
source "$ROOT/tests/e2e/soap.sh"

BENCH_KEYS=${BENCH_KEYS:-rsa2048 rsa3072 p256}
BENCH_PROTOCOLS=${BENCH_PROTOCOLS:-rfc3161 soap authenticode}
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_WORKERS=${BENCH_WORKERS:-0}
BENCH_CONNS=${BENCH_CONNS:-16}
BENCH_WRK_THREADS=${BENCH_WRK_THREADS:-2}
BENCH_RAW=${BENCH_RAW:-1}
BENCH_E2E=${BENCH_E2E:-1}
SCHEME=${TSA_SCHEME:-auto}

say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

for v in BENCH_SECONDS BENCH_THREADS BENCH_CONNS BENCH_WRK_THREADS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive whole number (got '${!v}')"
done
[[ $BENCH_WORKERS =~ ^(0|[1-9][0-9]*)$ ]] || die "BENCH_WORKERS must be a whole number (got '$BENCH_WORKERS')"
(( BENCH_SECONDS <= 600 )) || die "BENCH_SECONDS is at most 600"
(( BENCH_CONNS >= BENCH_WRK_THREADS )) || die "BENCH_CONNS must be at least BENCH_WRK_THREADS"
for k in $BENCH_KEYS; do
    case $k in rsa2048|rsa3072|p256|p384) ;; *) die "unknown key type '$k' in BENCH_KEYS" ;; esac
done
for p in $BENCH_PROTOCOLS; do
    case $p in rfc3161|soap|authenticode) ;; *) die "unknown protocol '$p' in BENCH_PROTOCOLS" ;; esac
done
tools=(wrk curl openssl psql ss)
[[ -z ${BENCH_PROFILE:-} ]] || tools+=(perf)
[[ " $BENCH_PROTOCOLS " == *" soap "* ]] && (( BENCH_E2E )) && tools+=(xmlsec1)
for c in "${tools[@]}"; do
    command -v "$c" >/dev/null 2>&1 || die "$c is missing (deploy/deps.sh installs it)"
done
for b in tsa-bench-sign tsa-bench-hop tsa-fcgi tsa-signer tsactl; do
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
# Only this stack's processes count: another stack may be running on the same machine.  The
# token log's integrator is tsa-log, and its PostgreSQL session (the backend of tsa.conf's
# log_database role) is counted apart from postgres as tsa-log-db.
cpu_ticks() {
    local -A role=()
    local f pid ppid rest logrole r
    pid=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-fcgi.pid" 2>/dev/null || true)
    [[ -n $pid ]] && role[$pid]=tsa-fcgi
    pid=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-signer.pid" 2>/dev/null || true)
    [[ -n $pid ]] && role[$pid]=tsa-signer
    pid=$(head -n1 "$TSA_VAR/pg/data/postmaster.pid" 2>/dev/null | tr -dc '0-9' || true)
    [[ -n $pid ]] && role[$pid]=postgres
    pid=$(tr -dc '0-9' <"$TSA_VAR/nginx/nginx.pid" 2>/dev/null || true)
    [[ -n $pid ]] && role[$pid]=nginx
    pid=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-log.pid" 2>/dev/null || true)
    [[ -n $pid ]] && role[$pid]=tsa-log
    logrole=$(sed -n 's/^log_database *=.*user=\([A-Za-z0-9_]*\).*/\1/p' "$TSA_VAR/tsa.conf" 2>/dev/null || true)
    if [[ -n $logrole ]]; then
        for pid in $(sql "SELECT pid FROM pg_stat_activity WHERE usename = '$logrole'" 2>/dev/null || true); do
            role[$pid]=tsa-log-db
        done
    fi
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
        if [[ -n ${role[$pid]:-} ]]; then r=${role[$pid]}
        elif [[ -n ${role[$ppid]:-} ]]; then r=${role[$ppid]}
        else continue
        fi
        echo "$r $(( ${12} + ${13} ))"
        # Our two programs' user time apart too (tsa-fcgi-user, tsa-signer-user): bench_floor.
        [[ $r != tsa-fcgi && $r != tsa-signer ]] || echo "$r-user ${12}"
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
            n = split("tsa-fcgi tsa-signer postgres tsa-log tsa-log-db nginx wrk", order, " ")
            for (i = 1; i <= n; i++)
                if (order[i] in d)
                    printf "%s%s %.0f%%", (out++ ? ", " : ""), order[i], 100 * d[order[i]] / hz / s
            print ""
        }' "$1" "$2"
}

# cpu_part NAME LINE: one part's CPU ms in a cpu_per_token line (empty when it has none).
cpu_part() { sed -n "s/.* $1 \([0-9.]*\).*/\1/p" <<<" $2"; }

# cpu_per_token BEFORE AFTER ROWS [PARTS]: "tsa-fcgi 1.05 postgres 0.25 ... total 1.47" (CPU ms
# per recorded token of each part; all parts share the machine's cores, so these add up).
# PARTS, the parts and their order, are every part of the stack unless given.
cpu_per_token() {
    local hz
    hz=$(getconf CLK_TCK)
    awk -v hz="$hz" -v n="$3" -v parts="${4:-tsa-fcgi tsa-signer postgres tsa-log tsa-log-db nginx wrk}" '
        FNR == NR { b[$1] = $2; next }
        { d[$1] = $2 - b[$1] }
        END {
            if (n <= 0) { print "-"; exit }
            k = split(parts, order, " ")
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
WORKERS_RAN='?'
KEY_FAILED=0   # a check of the key's own (the stack's durability, the raw run) did not hold

# summary_row KEY PROTOCOL RAW E2E RATIO CPU-RATIO CPU-MS P50 P90 P99 ANSWERS ROWS CHECKS
SUMMARY_FORMAT='%-8s %-12s %10s %12s %6s %9s %10s %8s %8s %8s %9s %9s  %s'
summary_row() {
    # shellcheck disable=SC2059
    SUMMARY+=("$(printf "$SUMMARY_FORMAT" "$@")")
}

# The protocols' requests and replies: the only place that knows one from another.
# The request goes to the same service (/tsa, its default policy) in each protocol, so that
# the protocols differ only in what the workers parse and build.

# request_make PROTOCOL KEY DIR: writes DIR/PROTOCOL.req (and what its check needs), and sets
# REQ_TYPE (the Content-Type) and REQ_ACTION (a SOAPAction header, or empty).
REQ_TYPE='' REQ_ACTION=''
request_make() {
    local proto=$1 key=$2 d=$3 digest
    printf 'tsa benchmark %s\n' "$key" >"$d/data.txt"
    REQ_ACTION=
    case $proto in
    rfc3161)
        REQ_TYPE=application/timestamp-query
        openssl ts -query -data "$d/data.txt" -sha256 -cert -out "$d/$proto.req" 2>/dev/null
        ;;
    soap)
        # As tests/e2e/soap.sh's soap_request and soap_post send it.
        # shellcheck disable=SC2089  # the quotes are the header's (SOAP 1.1 6.1.1)
        REQ_TYPE='text/xml; charset=UTF-8' REQ_ACTION='"urn:this-is-the-action-uri"'
        digest=$(openssl dgst -sha256 -binary "$d/data.txt" | openssl base64 -A) || return 1
        od -An -N4 -tu4 /dev/urandom | tr -d ' \n' >"$d/soap.nonce" || return 1
        soap_request "$d/$proto.req" "$SHA256_URI" "$digest" "$(<"$d/soap.nonce")"
        ;;
    authenticode)
        # Microsoft's request: ContentInfo { 1.3.6.1.4.1.311.3.2.1, ContentInfo { id-data,
        # [0] OCTET STRING the signature bytes } }, base64 with CR LF every 64 characters, as
        # tests/e2e/authenticode.sh's authenticode_request builds it (256 bytes: an RSA-2048
        # code signature's length).
        REQ_TYPE=application/octet-stream
        head -c 256 /dev/urandom >"$d/authenticode.sig" || return 1
        printf '%s\n' 'asn1=SEQUENCE:req' '[req]' 'type=OID:1.3.6.1.4.1.311.3.2.1' \
            'content=SEQUENCE:ci' '[ci]' 'type=OID:pkcs7-data' \
            "sig=EXPLICIT:0,FORMAT:HEX,OCTETSTRING:$(od -An -v -tx1 "$d/authenticode.sig" | tr -d ' \n')" \
            >"$d/authenticode.cnf"
        openssl asn1parse -genconf "$d/authenticode.cnf" -noout -out "$d/authenticode.der" \
            >/dev/null || return 1
        openssl base64 -in "$d/authenticode.der" | sed 's/$/\r/' >"$d/$proto.req"
        ;;
    esac
}

# reply_check PROTOCOL DIR REPLY: the reply to DIR/PROTOCOL.req is a granted token that
# verifies against the demo root; prints what it saw, returns 1 when it is not.
reply_check() {
    local proto=$1 d=$2 reply=$3 text
    case $proto in
    rfc3161)
        text=$(openssl ts -reply -in "$reply" -text 2>&1) || true
        if grep -q '^Status: Granted' <<<"$text" &&
                openssl ts -verify -queryfile "$d/$proto.req" -in "$reply" -CAfile "$TSA_VAR/pki/ca.pem" \
                    -untrusted "$TSA_VAR/pki/tsa.pem" >"$d/verify.out" 2>&1; then
            echo "a reply to the same request is granted and verifies ($(grep -m1 '^Serial number' <<<"$text"))"
            return 0
        fi
        head -n 20 <<<"$text"
        ;;
    soap)
        # The token detached from the envelope, as clients keep it (its references are
        # computed with the dsig:Signature as the root; tests/e2e/soap.sh does the same).
        sed -n 's|.*\(<dsig:Signature .*</dsig:Signature>\).*|\1|p' "$reply" >"$d/soap.token.xml"
        if grep -q '<ts:Status>granted</ts:Status>' "$reply" &&
                grep -qF "<ts:Nonce>$(<"$d/soap.nonce")</ts:Nonce>" "$d/soap.token.xml" &&
                grep -qF ">$(sed -n 's|.*<ds:DigestValue[^>]*>\([^<]*\)<.*|\1|p' "$d/$proto.req")</ds:DigestValue>" \
                    "$d/soap.token.xml" &&
                xmlsec1 --verify --id-attr:Id Object --id-attr:Id KeyInfo \
                    --trusted-pem "$TSA_VAR/pki/ca.pem" "$d/soap.token.xml" >"$d/verify.out" 2>&1; then
            echo "a reply to the same request is granted, echoes the digest and the nonce, and its token verifies ($(grep -o '<ts:SerialNumber>[0-9]*' "$d/soap.token.xml" | sed 's/<[^>]*>/serial /'))"
            return 0
        fi
        head -c 600 "$reply"; echo
        tail -n 5 "$d/verify.out" 2>/dev/null || true
        ;;
    authenticode)
        # The countersignature: SignedData over id-data whose content is the signature bytes.
        if tr -d '\r' <"$reply" | openssl base64 -d -out "$d/reply.der" &&
                openssl cms -verify -inform DER -in "$d/reply.der" -CAfile "$TSA_VAR/pki/ca.pem" \
                    -purpose any -out "$d/reply.content" >"$d/verify.out" 2>&1 &&
                cmp -s "$d/reply.content" "$d/authenticode.sig"; then
            echo "a reply to the same request is a countersignature of its signature bytes that verifies (openssl cms -verify)"
            return 0
        fi
        head -c 300 "$reply"; echo
        tail -n 5 "$d/verify.out" 2>/dev/null || true
        ;;
    esac
    return 1
}

# profile_report PERF-DATA TAG: each process's busiest functions in the run (share of that
# process's samples, kernel included), as BENCH_PROFILE asks.
profile_report() {
    local data=$1 tag=$2 comm rows
    for comm in tsa-fcgi tsa-signer postgres nginx; do
        rows=$(perf report -i "$data" --comm "$comm" --no-children --sort dso,symbol --stdio \
            -g none --percentage relative 2>/dev/null | grep -v -e '^#' -e '^$' || true)
        say "$tag: profile of $comm by library: $(awk 'NF > 2 { sub("%", "", $1); share[$2] += $1 }
            END { for (d in share) printf "%.1f%% %s\n", share[d], d }' <<<"$rows" |
            sort -rn | head -n 6 | paste -sd ',' | sed 's/,/, /g')"
        say "$tag: profile of $comm (share of its samples; dso, function):"
        head -n 12 <<<"$rows" | awk '{ printf "    %s %s %s\n", $1, $2, $4 }'
    done
}

# bench_e2e KEY PROTOCOL RAW SIG-MS: one end-to-end measurement on the current stack, its
# lines in the log and its row in the summary.
bench_e2e() {
    local key=$1 proto=$2 raw=$3 sig_ms=$4 out=$TSA_VAR/bench url e2e=- ratio=- p50=- p90=- p99=-
    local rows=- reqs=- before after wrk_line non2xx errs inflight cpu per_token user cpu_ratio=-
    local cpu_ms=- syncs_before syncs_after reply headers text failures_before=$FAILURES status tag=e2e check=check
    local ours web part
    local perf_pid=
    local counted="SELECT count(*) FROM issued_tokens WHERE protocol = '$proto'"
    # The RFC 3161 lines read as they always did: old logs stay comparable.
    [[ $proto == rfc3161 ]] || { tag="e2e $proto" check="check $proto"; }
    url=http://127.0.0.1:$(<"$out/http.port")/tsa

    request_make "$proto" "$key" "$out" || die "the $proto request could not be made"
    before=$(sql "$counted")
    # WAL flushes (one per durable commit unless commits share one): pg_stat_wal, PG 14 up.
    syncs_before=$(sql 'SELECT wal_sync FROM pg_stat_wal' 2>/dev/null || echo -)
    cpu_ticks >"$out/cpu.before"
    if [[ -n ${BENCH_PROFILE:-} ]]; then
        perf record -a -g -F 499 -o "$out/perf.data" -- sleep "$BENCH_SECONDS" >"$out/perf.log" 2>&1 &
        perf_pid=$!
    fi
    say "$tag: wrk -t$BENCH_WRK_THREADS -c$BENCH_CONNS -d${BENCH_SECONDS}s --latency POST $url"
    if ! BENCH_BODY=$out/$proto.req BENCH_CONTENT_TYPE=$REQ_TYPE BENCH_SOAPACTION=$REQ_ACTION \
            timeout $((BENCH_SECONDS + 30)) wrk -t"$BENCH_WRK_THREADS" \
            -c"$BENCH_CONNS" -d"${BENCH_SECONDS}s" --timeout 10s --latency \
            -s "$HERE/post.lua" "$url" >"$out/wrk.out" 2>&1; then
        sed 's/^/    /' "$out/wrk.out"
        die "wrk failed for $key $proto"
    fi
    cpu_ticks >"$out/cpu.after"
    [[ -z $perf_pid ]] || { wait "$perf_pid" || true; profile_report "$out/perf.data" "$tag"; }
    cpu=$(cpu_share "$out/cpu.before" "$out/cpu.after" "$BENCH_SECONDS")
    grep -v '^BENCH ' "$out/wrk.out" | sed 's/^/    /'
    wrk_line=$(grep '^BENCH ' "$out/wrk.out") || die "no summary line from post.lua"
    # Requests still in flight when wrk stopped finish on the server: give them a moment.
    sleep 2
    after=$(sql "$counted")
    syncs_after=$(sql 'SELECT wal_sync FROM pg_stat_wal' 2>/dev/null || echo -)
    reqs=$(field requests "$wrk_line")
    non2xx=$(field non2xx "$wrk_line")
    errs=$(( $(field connect "$wrk_line") + $(field read "$wrk_line") + $(field write "$wrk_line") + $(field timeout "$wrk_line") ))
    rows=$((after - before))
    inflight=$((rows - reqs))
    e2e=$(awk -v n="$reqs" -v us="$(field duration_us "$wrk_line")" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
    p50=$(ms "$(field p50_us "$wrk_line")") p90=$(ms "$(field p90_us "$wrk_line")") p99=$(ms "$(field p99_us "$wrk_line")")
    say "$tag: $reqs requests answered, $e2e tokens/s, latency p50 $p50 ms, p90 $p90 ms, p99 $p99 ms"
    say "$tag: CPU during the run (100% = one core): $cpu"
    per_token=$(cpu_per_token "$out/cpu.before" "$out/cpu.after" "$rows")
    say "$tag: CPU ms per token: $per_token"
    # The token log's share (README "Token log"): the integrator and its database session;
    # a leaf's insert and its SHA-256 are inside tsa-signer's and postgres's figures.
    if [[ $per_token == *tsa-log* ]]; then
        say "$tag: token log: $(awk -v l="$(cpu_part tsa-log "$per_token")" \
            -v d="$(cpu_part tsa-log-db "$per_token")" -v t="${per_token##*total }" '
            BEGIN { if (d == "") d = 0; printf "tsa-log %.3f + its database session %.3f = %.3f CPU ms per token, %.1f%% of the whole token", l, d, l + d, (t > 0 ? 100 * (l + d) / t : 0) }')"
    fi
    [[ $per_token != - ]] && cpu_ms=${per_token##*total }
    if [[ $syncs_before != - && $syncs_after != - ]] && (( after > before )); then
        say "$tag: WAL flushes per token: $(awk -v n=$((syncs_after - syncs_before)) -v t=$((after - before)) 'BEGIN { printf "%.2f", n / t }')"
        [[ $proto != rfc3161 ]] || E2E_ROWS_PER_COMMIT=$(awk -v n=$((syncs_after - syncs_before)) \
            -v t=$((after - before)) 'BEGIN { r = n > 0 ? int(t / n + 0.5) : 1; print r < 1 ? 1 : r }')
    fi
    [[ $proto != rfc3161 || $per_token != *postgres* ]] || E2E_PER_TOKEN=$per_token
    user=$(cpu_per_token "$out/cpu.before" "$out/cpu.after" "$rows" "tsa-fcgi-user tsa-signer-user")
    say "$tag: CPU ms per token in user space: $user (the rest of each is the kernel's)"
    [[ $proto != rfc3161 ]] || E2E_USER=$user
    if [[ -n $sig_ms && $per_token != - ]]; then
        # What a token costs beyond its signature (the raw run's CPU per signature) is
        # the rest of the stack's work.  With the cores to itself, a ratio r allows the
        # whole token sig/r of CPU: the rest may cost sig/r - sig (0.25 sig at 0.8).
        say "$tag: $(awk -v sig="$sig_ms" -v tot="$cpu_ms" '
            BEGIN { printf "signature %.3f ms CPU (raw run), the rest %.3f ms per token; at ratio 0.8 on an idle machine the rest may cost %.3f ms", sig, tot - sig, sig / 0.8 - sig }')"
        # The same split by owner: the web server's, and everything of ours (the workers, the
        # signing process beyond its signatures, PostgreSQL, the token log); wrk is the client.
        ours=$(for part in tsa-fcgi tsa-signer postgres tsa-log tsa-log-db; do
                   cpu_part "$part" "$per_token"
               done | awk -v sig="$sig_ms" '{ s += $1 } END { printf "%.3f", s - sig }')
        web=$(cpu_part nginx "$per_token")
        say "$tag: beyond the signature, wrk excluded, $(awk -v o="$ours" -v w="$web" 'BEGIN { printf "%.3f", o + w }') ms per token: the web server $web, ours $ours"
        # Each crossing wakes its reader; its CPU is in the figures of the two processes.
        [[ -z $HOP_US ]] || say "$tag: crossings: $TOKEN_CROSSINGS messages between processes per token at $HOP_US µs of CPU each: $(awk -v h="$HOP_US" -v n="$TOKEN_CROSSINGS" -v t="$cpu_ms" 'BEGIN { printf "%.3f ms, %.1f%% of the whole token", n * h / 1000, 100 * n * h / 1000 / t }')"
        # Both runs CPU-bound on the same cores: the ratio an idle machine would show.
        cpu_ratio=$(awk -v sig="$sig_ms" -v tot="$cpu_ms" 'BEGIN { printf "%.2f", sig / tot }')
        say "$tag: CPU ratio (signature / whole token, what an idle machine would show): $cpu_ratio"
    fi
    say "$tag: issued_tokens rows added: $rows (wrk counted $reqs answers; difference $inflight, at most $BENCH_CONNS may have been in flight at the end)"
    if (( non2xx != 0 || errs != 0 )); then
        say "FAIL: $non2xx non-2xx answers and $errs socket errors"
        FAILURES=$((FAILURES + 1))
    fi
    # A refusal travels as HTTP 200 in RFC 3161 and SOAP, so wrk cannot tell it from a
    # token: the rows of the protocol are what prove that every answer was a recorded token.
    if (( inflight < 0 || inflight > BENCH_CONNS )); then
        say "FAIL: rows recorded ($rows) do not match the answers ($reqs) within the $BENCH_CONNS connections in flight"
        say "the workers' errors (refusals are HTTP 200 answers):"
        grep -E ' (error|warning): ' "$TSA_VAR/log/tsa-fcgi.log" 2>/dev/null | tail -n 5 | sed 's/^/    /' || true
        FAILURES=$((FAILURES + 1))
    fi
    # One more, by hand, with the same headers as wrk's.
    reply=$out/$proto.reply
    headers=(-H "Content-Type: $REQ_TYPE")
    [[ -z $REQ_ACTION ]] || headers+=(-H "SOAPAction: $REQ_ACTION")
    curl -sS --max-time 10 -o "$reply" "${headers[@]}" --data-binary @"$out/$proto.req" "$url" || true
    if text=$(reply_check "$proto" "$out" "$reply"); then
        say "$check: $text"
    else
        printf '%s\n' "$text"
        say "FAIL: the $proto reply is not a granted, verifiable token"
        FAILURES=$((FAILURES + 1))
    fi
    status=ok
    (( FAILURES == failures_before && ! KEY_FAILED )) || status=INVALID
    if [[ $raw != - ]]; then
        ratio=$(awk -v a="$e2e" -v b="$raw" 'BEGIN { printf "%.2f", a / b }')
        if [[ $proto == rfc3161 ]]; then
            say "$key: raw $raw sig/s, end to end $e2e tokens/s, ratio $ratio ($status)"
        else
            say "$key $proto: raw $raw sig/s, end to end $e2e tokens/s, ratio $ratio ($status)"
        fi
    fi
    summary_row "$key" "$proto" "$raw" "$e2e" "$ratio" "$cpu_ratio" "$cpu_ms" "$p50" "$p90" "$p99" \
        "$reqs" "$rows" "$status"
}

# pg_ticks: the CPU clock ticks of this stack's PostgreSQL so far: the postmaster's own and
# its exited children's (reaped: cutime + cstime), and its live children's.  pgbench's
# sessions end before the second reading, so cpu_ticks (live processes only) would miss them.
pg_ticks() {
    local pm c rest t
    pm=$(head -n1 "$TSA_VAR/pg/data/postmaster.pid" | tr -dc '0-9')
    rest=$(<"/proc/$pm/stat"); rest=${rest##*) }
    # shellcheck disable=SC2086
    set -- $rest
    t=$(( ${12} + ${13} + ${14} + ${15} ))
    for c in $(ps -o pid= --ppid "$pm"); do
        { IFS= read -r rest <"/proc/$c/stat"; } 2>/dev/null || continue
        rest=${rest##*) }
        # shellcheck disable=SC2086
        set -- $rest
        t=$(( t + ${12} + ${13} ))
    done
    echo "$t"
}

# bench_pg_alone KEY: PostgreSQL alone, without the rest of the stack: the signing processes'
# statement (src/store/db.c's insert_token: the token's row and its log leaf), with the values
# of one of this run's RFC 3161 rows, run by pgbench in as many sessions as there are signing
# processes and as many rows per commit (one pipeline, one sync) as the end-to-end run made
# per WAL flush, into copies of the two tables (schema bench_floor, dropped after).  Its CPU
# per row is what the database alone costs per token on this machine: a floor under the
# postgres figure of the end-to-end run.  pgbench's own serials and imprints (numeric
# arithmetic and md5 per row) cost the database a little more than the signer's parameters.
# The raw run's CPU per signature and its user-space part are for the floor after it
# (bench_floor).
bench_pg_alone() {
    local key=$1 sig_ms=$2 sig_user_ms=$3 out=$TSA_VAR/bench rows=${E2E_ROWS_PER_COMMIT:-1}
    local sessions vals i script before after tx reloptions token request leaf pg_row
    sessions=${TSA_SIGNER_PROCESSES:-0}
    (( sessions > 0 )) || sessions=$(nproc)
    vals=$(sql "SELECT encode(t.token, 'hex') || ' ' || coalesce(encode(t.request, 'hex'), '-') || ' ' ||
        encode(coalesce(l.leaf, q.leaf), 'hex') FROM issued_tokens t
        LEFT JOIN log_leaves l ON l.serial = t.serial LEFT JOIN log_queue q ON q.serial = t.serial
        WHERE t.protocol = 'rfc3161' AND coalesce(l.leaf, q.leaf) IS NOT NULL LIMIT 1" 2>&1) ||
        { say "postgres alone: $vals"; vals=; }
    [[ -n $vals ]] || { say "postgres alone: no RFC 3161 row with its leaf to copy; skipped"; return 0; }
    read -r token request leaf <<<"$vals"
    # The request is kept only when the policy says so (NULL otherwise).
    if [[ $request == - ]]; then request=NULL; else request="'\\x$request'::bytea"; fi
    reloptions=$(sql "SELECT coalesce(array_to_string(reloptions, ', '), '') FROM pg_class
        WHERE oid = 'issued_tokens'::regclass")
    sql "DROP SCHEMA IF EXISTS bench_floor CASCADE; CREATE SCHEMA bench_floor;
        CREATE TABLE bench_floor.issued_tokens (LIKE issued_tokens INCLUDING ALL);
        CREATE TABLE bench_floor.log_queue (LIKE log_queue INCLUDING ALL);
        ${reloptions:+ALTER TABLE bench_floor.issued_tokens SET ($reloptions);}" ||
        { say "FAIL: postgres alone: the tables could not be copied"; FAILURES=$((FAILURES + 1)); return 0; }
    script=$out/pg-alone.sql
    {
        for ((i = 0; i < rows; i++)); do
            echo "\\set h$i random(1, 4611686018427387903)"
            echo "\\set l$i random(1, 4611686018427387903)"
        done
        echo '\startpipeline'
        for ((i = 0; i < rows; i++)); do
            echo "WITH t AS (INSERT INTO bench_floor.issued_tokens (serial, gen_time, service_id," \
                "policy_id, service, policy_oid, protocol, hash_alg, imprint, nonce, requester," \
                "client_identity, token, request, signer, host) VALUES (:h$i::numeric *" \
                "4611686018427387904 + :l$i, now(), 1, 1, 'bench', '1.3.6.1.4.1.99999.1'," \
                "'rfc3161', 'sha256', decode(md5(:h$i::text) || md5(:l$i::text), 'hex')," \
                "'\\x0102030405060708'::bytea, '127.0.0.1'::inet, NULL, '\\x$token'::bytea," \
                "$request, 'bench-$key', 'bench') ON CONFLICT (serial) DO NOTHING" \
                "RETURNING serial) INSERT INTO bench_floor.log_queue (serial, leaf)" \
                "SELECT serial, '\\x$leaf'::bytea FROM t;"
        done
        echo '\endpipeline'
    } >"$script"
    chmod 644 "$script"
    say "postgres alone: pgbench, ${BENCH_SECONDS}s, sessions: $sessions, rows per commit: $rows, the signing processes' statement with this run's RFC 3161 row"
    before=$(pg_ticks)
    if ! tx=$(timeout $((BENCH_SECONDS + 30)) pgbench -n -M prepared -c "$sessions" -j 1 \
            -T "$BENCH_SECONDS" -f "$script" -h "$TSA_VAR/pg/run" -U tsa tsa 2>"$out/pgbench.err" |
            awk '/actually processed/ { print $NF }') || [[ -z $tx ]] || (( tx == 0 )); then
        sed 's/^/    /' "$out/pgbench.err" | tail -n 5
        say "FAIL: postgres alone: pgbench failed"
        FAILURES=$((FAILURES + 1))
        return 0
    fi
    sleep 1   # its sessions' ends reaped by the postmaster
    after=$(pg_ticks)
    pg_row=$(awk -v d=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n=$((tx * rows)) \
        'BEGIN { printf "%.3f", 1000 * d / hz / n }')
    say "postgres alone: $((tx * rows)) rows, CPU ms per row: $pg_row (in the end-to-end run: $(cpu_part postgres "$E2E_PER_TOKEN") per token)"
    [[ -z $HOP_US || -z $sig_ms ]] || bench_floor "$sig_ms" "$pg_row" "$sig_user_ms"
    sql "DROP SCHEMA bench_floor CASCADE" || true
}

# The RFC 3161 token's floor on this machine, from the same run's figures: what no change of
# ours could take away while each token is signed, recorded durably and carried across the
# same processes.  The signature (raw run), PostgreSQL alone (its statement, without the
# rest), the web server and wrk as measured, the token log, and of the crossings (HOP_US) the
# OUR_CROSSINGS whose CPU is ours: worker -> signing process -> worker, and the worker's half
# of the web server's two (the other half is in the web server's figure).  A lower bound: the
# stack's processes wait in poll(2) and epoll, dearer than the probe's read(2).  Beyond the
# floor is what a change of ours could cut: the workers and the signing process less the
# signature and those crossings, and what PostgreSQL costs end to end beyond its statement.
# The ceiling bounds what any such change could reach: were the workers' user-space CPU and
# the signing process's beyond its signatures' (the raw run's) all gone, and PostgreSQL down
# to its statement alone, only the kernel's part of our two programs would be left of it.
bench_floor() {
    local sig_ms=$1 pg_row=$2 sig_user_ms=$3 p=$E2E_PER_TOKEN u=$E2E_USER line
    awk -v sig="$sig_ms" -v sigu="$sig_user_ms" -v pg="$pg_row" -v web="$(cpu_part nginx "$p")" \
        -v wrk="$(cpu_part wrk "$p")" -v tl="$(cpu_part tsa-log "$p")" -v tld="$(cpu_part tsa-log-db "$p")" \
        -v fcgi="$(cpu_part tsa-fcgi "$p")" -v signer="$(cpu_part tsa-signer "$p")" \
        -v pge2e="$(cpu_part postgres "$p")" -v hop="$HOP_US" -v n="$OUR_CROSSINGS" \
        -v tot="${p##*total }" -v fu="$(cpu_part tsa-fcgi-user "$u")" \
        -v su="$(cpu_part tsa-signer-user "$u")" 'BEGIN {
            cross = n * hop / 1000; log_ = tl + tld; pgx = pge2e - pg
            floor = sig + pg + web + wrk + log_ + cross
            printf "floor: signature %.3f + postgres alone %.3f + web server %.3f + wrk %.3f + token log %.3f + %d crossings %.3f = %.3f ms per RFC 3161 token, a CPU ratio of at most %.2f; ", sig, pg, web, wrk, log_, n, cross, floor, sig / floor
            printf "beyond it %.3f (whole token %.3f): the workers and the signing process %.3f, postgres beyond alone %.3f\n", tot - floor, tot, fcgi + signer - sig - cross, pgx
            if (sigu == "" || fu == "" || su == "")
                exit
            whole = tot - (fu + su - sigu) - pgx
            printf "ceiling: without the user-space CPU of the workers (%.3f) and of the signing process beyond its signatures (%.3f), and with postgres at its statement alone (%.3f less), ", fu, su - sigu, pgx
            printf "the whole token would cost %.3f ms, a CPU ratio of at most %.2f; the kernel part of the workers and the signing process left in it: %.3f\n", whole, sig / whole, fcgi - fu + signer - su - (sig - sigu) }' |
        while IFS= read -r line; do say "$line"; done
}

# How many workers tsa-fcgi started (its supervisor logs it once they are forked).
workers_started() {
    local i n
    for ((i = 0; i < 50; i++)); do
        n=$(grep -o '[0-9]* workers started' "$TSA_VAR/log/tsa-fcgi.log" | tail -n 1) || true
        [[ -z $n ]] || { echo "${n%% *}"; return; }
        sleep 0.1
    done
    echo '?'
}

bench_key() {
    local key=$1 http https out uri raw_line raw=- sig_ms='' sig_user_ms='' sync fsync proto failures_before=$FAILURES

    TSA_VAR=$(mktemp -d /tmp/tsa-bench.XXXXXX) || die "mktemp failed"
    chmod 755 "$TSA_VAR"   # traversable by the postgres user and nginx's workers under root
    mkdir -p "$TSA_VAR/bench"
    out=$TSA_VAR/bench
    { http=$(free_port) && https=$(free_port "$http"); } || die "no free loopback port"
    echo "$http" >"$out/http.port"

    echo
    say "==== $key: stack in $TSA_VAR on 127.0.0.1:$http (scheme $SCHEME)"
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
    WORKERS_RAN=$(workers_started)
    say "tsa-fcgi: $WORKERS_RAN workers"
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
            sig_ms=$(field cpu_ms_per_sig "$raw_line") sig_user_ms=$(field user_ms_per_sig "$raw_line")
        else
            sed 's/^/    /' "$out/raw.err"
            say "FAIL: tsa-bench-sign failed for $key"
            FAILURES=$((FAILURES + 1))
        fi
    fi
    KEY_FAILED=$((FAILURES - failures_before))

    # 2. End to end through nginx, each protocol on the same stack.
    if (( BENCH_E2E )); then
        E2E_ROWS_PER_COMMIT='' E2E_PER_TOKEN='' E2E_USER=''
        for proto in $BENCH_PROTOCOLS; do
            bench_e2e "$key" "$proto" "$raw" "$sig_ms"
        done
        # 3. The database alone, as the RFC 3161 run used it.
        [[ -z $E2E_PER_TOKEN ]] || bench_pg_alone "$key" "$sig_ms" "$sig_user_ms"
    else
        local status=ok
        (( ! KEY_FAILED )) || status=INVALID
        summary_row "$key" - "$raw" - - - - - - - - - "$status"
    fi
    stop_stack
}

# 4. The machine's cost of a message between two processes.  A token crosses six, none shared:
# wrk -> web server -> worker -> signing process, and back; the CPU of three is ours (bench_floor).
TOKEN_CROSSINGS=6 OUR_CROSSINGS=3 HOP_US=''
if hop_line=$("$BUILD/tsa-bench-hop" 2>&1); then
    HOP_US=$(field hop_cpu_us "$hop_line")
    say "machine: a message between two processes costs $HOP_US µs of CPU, both sides together ($hop_line)"
else
    say "FAIL: tsa-bench-hop: $hop_line"
    FAILURES=$((FAILURES + 1))
fi
say "keys: $BENCH_KEYS; $BENCH_SECONDS s per measurement; raw: $BENCH_THREADS threads; e2e: BENCH_WORKERS $BENCH_WORKERS (0: four per CPU), wrk $BENCH_WRK_THREADS threads $BENCH_CONNS connections; protocols: $BENCH_PROTOCOLS; kept FastCGI connections: ${TSA_FCGI_KEEP:-1}; signing processes: ${TSA_SIGNER_PROCESSES:-0} (0: one per CPU)"
for key in $BENCH_KEYS; do
    bench_key "$key"
done

echo
echo "Summary (over HTTP on loopback, to /tsa; scheme $SCHEME, digest sha256, $WORKERS_RAN workers, $BENCH_CONNS connections, ${BENCH_SECONDS}s; $(nproc) CPUs)"
# shellcheck disable=SC2059
printf "$SUMMARY_FORMAT\n" key protocol 'raw sig/s' 'e2e tok/s' ratio 'cpu ratio' 'cpu ms/tok' \
    'p50 ms' 'p90 ms' 'p99 ms' answers rows checks
for line in "${SUMMARY[@]}"; do
    echo "$line"
done
if (( FAILURES > 0 )); then
    echo "bench: $FAILURES check(s) failed"
    exit 1
fi
