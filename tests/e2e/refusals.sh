# Refusals: rejections inside a TimeStampResp (HTTP 200), and HTTP-level refusals.
# shellcheck shell=bash

# OpenSSL's texts for the PKIFailureInfo bits (crypto/ts/ts_rsp_print.c).
FI_BAD_ALG='unrecognized or unsupported algorithm identifier'
FI_BAD_REQUEST='transaction not permitted or supported'
FI_BAD_DATA_FORMAT='the data submitted has the wrong format'
FI_UNACCEPTED_POLICY='the requested TSA policy is not supported by the TSA'
FI_UNACCEPTED_EXTENSION='the requested extension is not supported by the TSA'
FI_SYSTEM_FAILURE='the request cannot be handled due to system failure'

# Pieces of hand-made TimeStampReq DER (hex).
ALG_SHA256=300d06096086480165030402010500      # AlgorithmIdentifier sha256 with NULL params
ALG_UNKNOWN=300606042a030405                   # AlgorithmIdentifier 1.2.3.4.5, no params
# MessageImprint ALG DIGEST_HEX
imprint() { der 30 "$1$(der 04 "$2")"; }
nonce_der() { local h; h=$(randhex 8); der 02 "5${h:1}"; }   # positive, minimal 8-byte INTEGER
CERT_REQ=0101ff

# rejected URL REQUEST_FILE "failure text"...
rejected() {
    local url=$1 req=$2 d out
    shift 2
    d=$(casedir)
    out=$(post "$url" "$req" "$d/r.tsr") || bad "curl failed: $out"
    [[ $out == "200 application/timestamp-reply" ]] || bad "HTTP answer '$out', want '200 application/timestamp-reply'"
    expect_rejected "$d/r.tsr" "$@"
}

# rejected_hex URL HEX "failure text"...
rejected_hex() {
    local url=$1 hex=$2 d
    shift 2
    d=$(casedir)
    hex_to_file "$hex" "$d/q.tsq"
    rejected "$url" "$d/q.tsq" "$@"
}

# rejected_query URL "openssl ts -query options" "failure text"...
rejected_query() {
    local url=$1 opts=$2 d
    shift 2
    d=$(casedir)
    head -c 100 /dev/urandom >"$d/data"
    # shellcheck disable=SC2086
    openssl ts -query -data "$d/data" $opts -out "$d/q.tsq" || bad "openssl ts -query $opts failed"
    rejected "$url" "$d/q.tsq" "$@"
}

# A valid query's DER, edited: mangle URL MODE (garbage|truncated|trailing)
mangled() {
    local url=$1 mode=$2 d hex
    d=$(casedir)
    head -c 100 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/ok.tsq" || bad "openssl ts -query failed"
    hex=$(hex_of "$d/ok.tsq")
    case $mode in
        garbage)   printf 'this is not a time-stamp request\n' >"$d/q.tsq" ;;
        truncated) hex_to_file "${hex:0:${#hex}-10}" "$d/q.tsq" ;;   # 5 bytes short
        trailing)  hex_to_file "${hex}0000" "$d/q.tsq" ;;             # 2 bytes after the DER
        *) bad "mode $mode?" ;;
    esac
    rejected "$url" "$d/q.tsq" "$FI_BAD_REQUEST" "$FI_BAD_DATA_FORMAT"
}

# http_status METHOD URL WANT [CONTENT-TYPE] [BODY-BYTES]
http_status() {
    local method=$1 url=$2 want=$3 ct=${4:-application/timestamp-query} size=${5:-0} d code
    d=$(casedir)
    if [[ $method == GET ]]; then
        code=$(curl -sS --max-time 30 -o "$d/body" -w '%{http_code}' "$url") || bad "curl failed: $code"
    else
        if (( size > 0 )); then
            head -c "$size" /dev/urandom >"$d/q"
        else
            head -c 100 /dev/urandom >"$d/data"
            openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q" || bad "openssl ts -query failed"
        fi
        code=$(curl -sS --max-time 30 -o "$d/body" -w '%{http_code}' -H "Content-Type: $ct" \
            --data-binary @"$d/q" "$url") || bad "curl failed: $code"
    fi
    [[ $code == "$want" ]] || bad "HTTP $code, want $want"
}

# Repeated refusals are written when their second is up (README, Events and the log): the
# earlier cases' (truncated-der then trailing-bytes, the same failure from the same address)
# are waited out, so that a case's events and counts are its own.
refusals_settle() { sleep 1.5; }

# A rejection is an event too (request-refused, named by its failure, with the requester), so
# the console counts it among the refusals per minute; within a second of it, should an
# earlier case have been refused the same way just before (README, Events and the log).
refusal_event() {
    local url=$1 since ev
    refusals_settle
    since=$(tsa_psql -c 'SELECT coalesce(max(id), 0) FROM events')
    rejected_query "$url" "-sha1 -cert" "$FI_BAD_ALG" >/dev/null
    events_wait "id > $since AND kind = 'request-refused'" 1 min || bad "no request-refused event"
    ev=$(tsa_psql -c "SELECT severity || '|' || service || '|' || host(requester) || '|' || detail
        FROM events WHERE id > $since AND kind = 'request-refused' ORDER BY id LIMIT 1")
    [[ $ev == 'warning|tsa|127.0.0.1|rfc3161 badAlg: '* ]] || bad "request-refused event: '$ev'"
}

# The refusals per minute the console shows, summed over its 15 minutes (the dashboard).
console_refusals_shown() {
    local code
    code=$(console_admin_get /admin/ "$1")
    [[ $code == 200 ]] || bad "the console's dashboard: HTTP $code"
    grep -o 'id="refusals-[0-9]*">[0-9]*<' "$1" | sed 's/.*>\([0-9]*\)</\1/' |
        awk '{ n += $1 } END { print n + 0 }'
}

# Repeated refusals aggregated (issue 17, item 5): 500 identical ones in a burst are a few
# event rows and log lines whose counts add up to exactly 500, and the console's refusals per
# minute and the /metrics counters move by exactly 500 too.
refusals_aggregated() {
    local url=$1 n=500 d i since log lines rows shown0 shown1 k got where
    d=$(casedir)
    log=$TSA_VAR/log/tsa-fcgi.log
    head -c 100 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha1 -cert -out "$d/q.tsq" || bad "openssl ts -query failed"
    for ((i = 0; i < n; i++)); do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done >"$d/curl.conf"
    refusals_settle    # the console's count before is then complete
    since=$(tsa_psql -c 'SELECT coalesce(max(id), 0) FROM events')
    where="id > $since AND kind = 'request-refused' AND detail LIKE 'rfc3161 badAlg:%'"
    ops_scrape "$d/before"
    shown0=$(console_refusals_shown "$d/dash0") || exit 1
    lines=$(wc -l <"$log")
    SECONDS=0
    curl -sS --max-time 120 -H 'Content-Type: application/timestamp-query' --data-binary @"$d/q.tsq" \
        -w '%{http_code}\n' -K "$d/curl.conf" >"$d/codes" || bad "curl failed"
    echo "$n refusals sent in ${SECONDS}s"
    [[ $(grep -c '^200$' "$d/codes") == "$n" ]] || bad "not $n answers of 200: $(sort "$d/codes" | uniq -c | oneline)"
    events_wait "$where" "$n" || bad "the events stand for $(events_sum "$where") refusals, want $n"
    rows=$(tsa_psql -c "SELECT count(*) FROM events WHERE $where")
    echo "event rows: $rows for $n refusals"
    (( rows <= 20 )) || bad "$rows event rows for $n identical refusals"
    # The log: one line for the first, then one per second and worker with its count.
    tail -n +"$((lines + 1))" "$log" | grep -F 'from=127.0.0.1 failInfo=0: unsupported hash algorithm' |
        sed -n 's/.* refused\( \([0-9]*\) times in [0-9]* ms\)\{0,1\}: .*/\2/p' >"$d/counts"
    echo "log lines: $(wc -l <"$d/counts")"
    (( $(wc -l <"$d/counts") <= 20 )) || bad "$(wc -l <"$d/counts") log lines for $n identical refusals"
    [[ $(awk '{ n += ($1 == "" ? 1 : $1) } END { print n }' "$d/counts") == "$n" ]] ||
        bad "the log lines stand for $(awk '{ n += ($1 == "" ? 1 : $1) } END { print n }' "$d/counts") refusals, want $n"
    ops_scrape "$d/after"
    k=$(ops_req tsa rfc3161 rejected badAlg)
    got=$(( $(ops_value "$d/after" "$k") - $(ops_value "$d/before" "$k") ))
    (( got == n )) || bad "/metrics: $k moved by $got, want $n"
    shown1=$(console_refusals_shown "$d/dash1") || exit 1
    (( shown1 - shown0 == n )) || bad "the console's refusals per minute moved by $((shown1 - shown0)), want $n"
}

cases_refusals() {
    local tsa=http://127.0.0.1:$TSA_HTTP_PORT/tsa
    local vs=http://127.0.0.1:$TSA_HTTP_PORT/verificationserver/timestamp

    run_case "refusals/tsa-sha1-badAlg" rejected_query "$tsa" "-sha1 -cert" "$FI_BAD_ALG"
    run_case "refusals/vs-sha224-badAlg" rejected_query "$vs" "-sha224 -cert" "$FI_BAD_ALG"
    run_case "refusals/unknown-hash-oid-badAlg" rejected_hex "$tsa" \
        "$(der 30 "020101$(imprint "$ALG_UNKNOWN" "$(randhex 32)")$(nonce_der)$CERT_REQ")" "$FI_BAD_ALG"
    run_case "refusals/imprint-length-badDataFormat" rejected_hex "$tsa" \
        "$(der 30 "020101$(imprint "$ALG_SHA256" "$(randhex 20)")$(nonce_der)$CERT_REQ")" "$FI_BAD_DATA_FORMAT"
    run_case "refusals/version-2-badRequest" rejected_hex "$tsa" \
        "$(der 30 "020102$(imprint "$ALG_SHA256" "$(randhex 32)")$(nonce_der)$CERT_REQ")" "$FI_BAD_REQUEST"
    run_case "refusals/reqPolicy-unacceptedPolicy" rejected_query "$tsa" "-sha256 -cert -tspolicy 1.2.3.4.5" \
        "$FI_UNACCEPTED_POLICY"
    # extensions [0] IMPLICIT SEQUENCE OF Extension { 1.2.3.4.5.6, [critical,] OCTET STRING { NULL } }
    run_case "refusals/extension-unacceptedExtension" rejected_hex "$tsa" \
        "$(der 30 "020101$(imprint "$ALG_SHA256" "$(randhex 32)")$(nonce_der)$CERT_REQ$(der a0 "$(der 30 "$(der 06 2a03040506)$(der 04 0500)")")")" \
        "$FI_UNACCEPTED_EXTENSION"
    run_case "refusals/critical-extension-unacceptedExtension" rejected_hex "$tsa" \
        "$(der 30 "020101$(imprint "$ALG_SHA256" "$(randhex 32)")$(nonce_der)$CERT_REQ$(der a0 "$(der 30 "$(der 06 2a03040506)0101ff$(der 04 0500)")")")" \
        "$FI_UNACCEPTED_EXTENSION"
    run_case "refusals/garbage-body" mangled "$tsa" garbage
    run_case "refusals/truncated-der" mangled "$tsa" truncated
    run_case "refusals/trailing-bytes" mangled "$tsa" trailing
    run_case "refusals/event" refusal_event "$tsa"
    run_case "refusals/aggregated" refusals_aggregated "$tsa"

    run_case "refusals/oversize-body-413" http_status POST "$tsa" 413 application/timestamp-query 70000
    run_case "refusals/get-405" http_status GET "$tsa" 405
    run_case "refusals/text-plain-415" http_status POST "$tsa" 415 text/plain
}
