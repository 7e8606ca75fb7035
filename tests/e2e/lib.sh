# Helpers for the end-to-end tests; sourced by tests/e2e/run.sh.
# shellcheck shell=bash

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
STACK=$ROOT/deploy/stack/stack.sh
BUILD=${TSA_BUILD:-$ROOT/build}
shopt -s extglob

# The soak and fault loads come from 127.0.0.1 at full speed: the stacks of run.sh and of the
# soak raise the web server's per-address request rate (TSA_PER_CLIENT_RATE, 200/s by default)
# above it.
LOOPBACK_LOAD_RATE=100000

PASSED=0
FAILED=0

# ---- reporting -------------------------------------------------------------------------------
# run_case NAME COMMAND...: runs COMMAND in a subshell, its output into a log file; the case
# fails when COMMAND fails; `bad WHY` ends it with a reason.  E2E_ONLY (a glob) selects cases.
run_case() {
    local name=$1 log why rc
    shift
    if [[ -n ${E2E_ONLY:-} && $name != $E2E_ONLY ]]; then
        return 0
    fi
    log=$WORK/log/${name//\//_}.log
    why=$( ( "$@" ) 3>&1 >"$log" 2>&1 ) && rc=0 || rc=$?
    if (( rc == 0 )); then
        echo "PASS $name"
        PASSED=$((PASSED + 1))
    else
        [[ -n $why ]] || why="exit status $rc (log: $log)"
        echo "FAIL $name: $why"
        FAILED=$((FAILED + 1))
    fi
}

bad() {
    printf '%s' "$*" >&3
    exit 1
}

# A fresh directory for one case, readable by the stack's daemons (their own users when the
# tests run as root: a clock status file here is read by the workers).
casedir() {
    local d
    d=$(mktemp -d "$WORK/case.XXXXXX") && chmod 755 "$d" && echo "$d"
}

# ---- ports -----------------------------------------------------------------------------------
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

# ---- bytes -----------------------------------------------------------------------------------
hex_of() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# hex_to_file HEX FILE
hex_to_file() {
    local hex=$1 out=$2 esc
    esc=$(sed 's/../\\x&/g' <<<"$hex")
    # shellcheck disable=SC2059
    printf "$esc" >"$out"
}

randhex() { od -An -N"$1" -v -tx1 /dev/urandom | tr -d ' \n'; }

# der_len N: the DER length octets (hex) for N content bytes.
der_len() {
    local n=$1
    if (( n < 128 )); then printf '%02x' "$n"
    elif (( n < 256 )); then printf '81%02x' "$n"
    else printf '82%04x' "$n"
    fi
}

# der TAG CONTENT: one TLV (all hex).
der() { printf '%s%s%s' "$1" "$(der_len $((${#2} / 2)))" "$2"; }

# ---- HTTP and tools --------------------------------------------------------------------------
# post URL INFILE OUTFILE [CONTENT-TYPE]: prints "CODE CONTENT_TYPE".
post() {
    curl -sS --max-time 30 -o "$3" -w '%{http_code} %{content_type}' \
        -H "Content-Type: ${4:-application/timestamp-query}" --data-binary @"$2" "$1"
}

reply_text() { openssl ts -reply -in "$1" -text 2>&1; }

tsactl() { "$BUILD/tsactl" --conf "$TSA_VAR/tsa.conf" "$@"; }

# psql on the stack's database as its owner (admin_database of tsa.conf, else database: the
# workers' role may read and insert only), unaligned, stopping on errors.
tsa_psql() {
    local conninfo bin=psql found
    conninfo=$(sed -n 's/^admin_database *= *//p' "$TSA_VAR/tsa.conf")
    [[ -n $conninfo ]] || conninfo=$(sed -n 's/^database *= *//p' "$TSA_VAR/tsa.conf")
    if ! command -v psql >/dev/null 2>&1; then
        found=(/usr/lib/postgresql/*/bin/psql)
        bin=${found[-1]}
    fi
    "$bin" -X -q -At -v ON_ERROR_STOP=1 -d "$conninfo" "$@"
}

# events_sum WHERE: how many events the rows matching WHERE stand for (a row aggregates
# `count` repeated refusals).
events_sum() { tsa_psql -c "SELECT coalesce(sum(count), 0) FROM events WHERE $1"; }

# events_wait WHERE WANT [min]: waits (at most 5 s) until the rows matching WHERE stand for
# WANT events (with min: at least WANT); a repeated refusal reaches the table within a second
# of it (README, Events and the log), and an earlier case's may still arrive.
events_wait() {
    local i n
    for ((i = 0; i < 50; i++)); do
        n=$(events_sum "$1") || return 1
        [[ $n == "$2" ]] && return 0
        [[ ${3:-} == min ]] && (( n >= $2 )) && return 0
        sleep 0.1
    done
    echo "events where $1: $n, want ${3:+at least }$2" >&2
    return 1
}

# digest ALG FILE: the hex digest.
digest() { openssl dgst "-$1" -r "$2" | cut -d' ' -f1; }

# One line of a text, for the reasons printed by FAIL.
oneline() { tr '\n' ' ' | sed 's/  */ /g; s/ $//' | cut -c1-300; }

# expect_rejected REPLYFILE "failure text"...: the reply is a rejection with one of the texts
# and carries no token.
expect_rejected() {
    local r=$1 text
    shift
    text=$(reply_text "$r") || bad "openssl cannot parse the reply: $(oneline <<<"$text")"
    grep -q '^Status: Rejected' <<<"$text" ||
        bad "not rejected: $(grep -E '^(Status|Failure)' <<<"$text" | oneline)"
    local t found=0
    for t in "$@"; do
        grep -qF "Failure info: $t" <<<"$text" && found=1
    done
    (( found )) || bad "failure info is not '$*': $(grep -E '^(Status|Failure)' <<<"$text" | oneline)"
    # No TimeStampToken: OpenSSL prints "TST info: Not included." and the body holds no
    # id-signedData (1.2.840.113549.1.7.2).
    grep -A1 '^TST info:' <<<"$text" | grep -q 'Not included' || bad "a rejection carries a token"
    [[ $(hex_of "$r") != *06092a864886f70d010702* ]] || bad "a rejection carries signed data"
}

# ossl_verify DATA REPLY QUERY cert|no-cert: OpenSSL's verification of a granted reply: the
# signature, the chain to the demo root with the critical timeStamping EKU, the imprint and
# (with QUERY) the nonce.  `openssl ts -verify` (PKCS7_signatureVerify) cannot check RSASSA-PSS
# signatures (openssl/openssl#7904), so with TSA_SCHEME=rsa-pss the signature and chain go
# through `openssl cms -verify -purpose timestampsign` and the imprint is compared by hand.
ossl_verify() {
    local data=$1 reply=$2 query=$3 cert=$4 out untrusted=()
    [[ $cert == cert ]] || untrusted=(-untrusted "$TSA_VAR/pki/tsa.pem")
    if [[ ${TSA_SCHEME:-auto} != rsa-pss ]]; then
        out=$(openssl ts -verify -data "$data" -in "$reply" -CAfile "$TSA_VAR/pki/ca.pem" "${untrusted[@]}" 2>&1) ||
            bad "openssl ts -verify -data: $(oneline <<<"$out")"
        if [[ -n $query ]]; then
            out=$(openssl ts -verify -queryfile "$query" -in "$reply" -CAfile "$TSA_VAR/pki/ca.pem" "${untrusted[@]}" 2>&1) ||
                bad "openssl ts -verify -queryfile: $(oneline <<<"$out")"
        fi
        return 0
    fi
    local dir=${reply%/*} certfile=() text alg want got
    [[ $cert == cert ]] || certfile=(-certfile "$TSA_VAR/pki/tsa.pem")
    openssl ts -reply -in "$reply" -token_out -out "$dir/pss-token.der" 2>/dev/null || bad "openssl ts -reply -token_out failed"
    out=$(openssl cms -verify -inform DER -in "$dir/pss-token.der" -CAfile "$TSA_VAR/pki/ca.pem" \
        "${certfile[@]}" -purpose timestampsign -out /dev/null 2>&1) || bad "openssl cms -verify: $(oneline <<<"$out")"
    text=$(reply_text "$reply")
    alg=$(sed -n 's/^Hash Algorithm: //p' <<<"$text")
    want=$(digest "$alg" "$data")
    got=$(sed -n '/^Message data:/,/^Serial number:/p' <<<"$text" | grep -E '^ +[0-9a-f]{4} - ' | cut -c12-58 | tr -d ' \n-')
    [[ -n $want && $got == "$want" ]] || bad "imprint in the token ($got) is not the data's $alg ($want)"
}
