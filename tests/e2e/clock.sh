# The clock gate (ETSI EN 319 421 7.7.2) under a simulated clock: the filter's test-only
# status_file stands in for the kernel (README, Filters).  Unsynchronised, or an error above the
# stated accuracy: timeNotAvailable and a clock-sync-lost event; recovered: granted again and a
# clock-sync-recovered event (per worker process, at its next request); a leap second announced:
# refused in the window of the configured mode.  The cases use a policy of their own, t-clock at
# position -3 of service tsa (matched by requests naming CK_OID) with a status file of their
# own; the demo's gate is checked through its own file when the stack uses one.
# shellcheck shell=bash
# The check functions are run through `eventually`, which shellcheck cannot follow:
# shellcheck disable=SC2317

CK_OID=1.3.6.1.4.1.32473.9.3
FI_TIME_NOT_AVAILABLE="the TSA's time source is not available"   # crypto/ts/ts_rsp_print.c
CK_SYNCED='unsync=0
esterror_us=1000
maxerror_us=100000
leap=none'

# ck_chain STATUS_FILE CLOCK_PARAMS_JSON_TAIL [FILTER=JSON]...: t-clock with the clock filter
# reading STATUS_FILE, e.g. ck_chain F '"leap": "stop"'.
ck_chain() {
    local file=$1 extra=$2
    shift 2
    pf_chain t-clock -3 "$CK_OID" "$CK_OID" "clock={\"status_file\": \"$file\"${extra:+, $extra}}" "$@"
}

# ck_status FILE LINE...: the status file, written whole (rename: a reader never sees half).
ck_status() {
    local f=$1
    shift
    printf '%s\n' "$@" >"$f.tmp" && mv "$f.tmp" "$f"
}

# ck_events_count SINCE KIND
ck_events_count() { tsa_psql -c "SELECT count(*) FROM events WHERE id > $1 AND kind = '$2'"; }

# ck_recovered SINCE URL OPTION...: sends pairs of requests (so that each worker gets some)
# until there are as many clock-sync-recovered events as clock-sync-lost ones since SINCE; at
# most 20 pairs.
ck_recovered() {
    local since=$1 url=$2 d i lost rec
    shift 2
    d=$(casedir)
    pf_query "$d" "$@"
    for ((i = 0; i < 20; i++)); do
        lost=$(ck_events_count "$since" clock-sync-lost)
        rec=$(ck_events_count "$since" clock-sync-recovered)
        (( lost > 0 && rec >= lost )) && return 0
        post "$url" "$d/q.tsq" "$d/r1.tsr" >/dev/null &
        post "$url" "$d/q.tsq" "$d/r2.tsr" >/dev/null &
        wait
    done
    bad "clock-sync-recovered events: $rec, clock-sync-lost: $lost (each worker that lost sync records its recovery)"
}

# The policy's own gate: unsynchronised, estimated and maximum error against the accuracy the
# token states (or max_error_ms), an unreadable status file; the events.
ck_gate() {
    local d f since ev
    d=$(casedir)
    f=$d/clock.status
    trap 'pf_drop t-clock' EXIT
    ck_status "$f" "$CK_SYNCED"
    ck_chain "$f" '"leap": "pause"'
    eventually pf_granted "$d" -sha256 -tspolicy "$CK_OID"
    pf_settle    # every worker has seen a synchronised clock: a loss is a change

    since=$(pf_last_event)
    ck_status "$f" unsync=1 esterror_us=1000 maxerror_us=100000 leap=none
    pf_refused "$d" "$FI_TIME_NOT_AVAILABLE" -sha256 -tspolicy "$CK_OID"
    ev=$(pf_events "$since" clock-sync-lost)
    [[ $ev == *unsynchronised* ]] || bad "no clock-sync-lost event saying unsynchronised: $(oneline <<<"$ev")"
    tsa_psql -c "SELECT severity || ' ' || service FROM events WHERE id > $since AND kind = 'clock-sync-lost'" |
        grep -qx 'error tsa' || bad "clock-sync-lost is not an error of service tsa"
    pf_refused "$d" "$FI_TIME_NOT_AVAILABLE" -sha256 -tspolicy "$CK_OID"

    # The limit is the accuracy the token states, 1 s by default.
    ck_status "$f" unsync=0 esterror_us=1500000 maxerror_us=1500000 leap=none
    pf_refused "$d" "$FI_TIME_NOT_AVAILABLE" -sha256 -tspolicy "$CK_OID"
    ck_status "$f" unsync=0 esterror_us=1000 maxerror_us=1000001 leap=none
    pf_refused "$d" "$FI_TIME_NOT_AVAILABLE" -sha256 -tspolicy "$CK_OID"
    ck_status "$f" "$CK_SYNCED"
    pf_granted "$d" -sha256 -tspolicy "$CK_OID"
    ck_recovered "$since" "http://127.0.0.1:$TSA_HTTP_PORT/tsa" -sha256 -tspolicy "$CK_OID"

    # A wider stated accuracy widens the limit (the accuracy filter comes after the clock).
    ck_chain "$f" '"leap": "pause"' 'accuracy={"seconds": 2}'
    ck_status "$f" unsync=0 esterror_us=1500000 maxerror_us=1500000 leap=none
    check() {
        pf_granted "$d" -sha256 -tspolicy "$CK_OID"
        [[ $(pf_field "$d" Accuracy) == '0x02 seconds, unspecified millis, unspecified micros' ]] ||
            bad "accuracy $(pf_field "$d" Accuracy), want 2 s"
    }
    eventually check
    # max_error_ms sets the limit whatever the accuracy.
    ck_chain "$f" '"leap": "pause", "max_error_ms": 100' 'accuracy={"seconds": 2}'
    ck_status "$f" unsync=0 esterror_us=150000 maxerror_us=150000 leap=none
    eventually pf_refused "$d" "$FI_TIME_NOT_AVAILABLE" -sha256 -tspolicy "$CK_OID"
    ck_status "$f" unsync=0 esterror_us=50000 maxerror_us=90000 leap=none
    pf_granted "$d" -sha256 -tspolicy "$CK_OID"

    # No status to read: no time.
    rm -f "$f"
    pf_refused "$d" "$FI_TIME_NOT_AVAILABLE" -sha256 -tspolicy "$CK_OID"
    printf 'unsync=0\nthis is not a status\n' >"$f"
    pf_refused "$d" "$FI_TIME_NOT_AVAILABLE" -sha256 -tspolicy "$CK_OID"
    ck_status "$f" "$CK_SYNCED"
    pf_granted "$d" -sha256 -tspolicy "$CK_OID"
}

# ck_leap DIR FILE granted|refused LEAP SECONDS_TO_MIDNIGHT
ck_leap() {
    local d=$1 f=$2 want=$3 leap=$4 secs=$5
    ck_status "$f" unsync=0 esterror_us=1000 maxerror_us=100000 "leap=$leap" "seconds_to_midnight=$secs"
    if [[ $want == granted ]]; then
        pf_query "$d" -sha256 -tspolicy "$CK_OID"
        pf_send "$d"
        pf_expect_granted "$d" "leap=$leap, $secs s to midnight"
    else
        pf_query "$d" -sha256 -tspolicy "$CK_OID"
        pf_send "$d"
        [[ $(<"$d/http") == 200 ]] || bad "leap=$leap, $secs s to midnight: HTTP $(<"$d/http")"
        grep -qF "Failure info: $FI_TIME_NOT_AVAILABLE" "$d/text" ||
            bad "leap=$leap, $secs s to midnight: want timeNotAvailable: $(grep -E '^(Status|Failure)' "$d/text" | oneline)"
    fi
}

# A leap second announced: `pause` refuses from 2 s before to 2 s after midnight UTC, `stop`
# through the last minute of the day and the first of the next, `none` never.
ck_leap_window() {
    local d f
    d=$(casedir)
    f=$d/clock.status
    trap 'pf_drop t-clock' EXIT
    ck_status "$f" "$CK_SYNCED"
    ck_chain "$f" '"leap": "pause"'
    eventually pf_granted "$d" -sha256 -tspolicy "$CK_OID"
    ck_leap "$d" "$f" refused insert 1
    ck_leap "$d" "$f" refused insert 2
    ck_leap "$d" "$f" refused delete 1
    ck_leap "$d" "$f" refused insert 86399     # 1 s after midnight
    ck_leap "$d" "$f" granted insert 30
    ck_leap "$d" "$f" granted insert 86370
    ck_leap "$d" "$f" granted none 1

    ck_chain "$f" '"leap": "stop"'
    eventually ck_leap "$d" "$f" refused insert 30
    ck_leap "$d" "$f" refused delete 60
    ck_leap "$d" "$f" refused insert 86370     # 30 s after midnight
    ck_leap "$d" "$f" granted insert 120
    ck_leap "$d" "$f" granted none 30

    ck_chain "$f" '"leap": "none"'
    eventually ck_leap "$d" "$f" granted insert 1
    ck_leap "$d" "$f" granted delete 86399
}

# The demo's own gate (deploy/stack/stack.sh): when the kernel clock is not synchronised the
# stack points it at $TSA_VAR/clock.status; both demo services follow that file.
ck_demo_restore() {
    [[ -f $WORK/clock.status.saved ]] && mv "$WORK/clock.status.saved" "$TSA_VAR/clock.status"
}

ck_demo() {
    local d file since tsa=http://127.0.0.1:$TSA_HTTP_PORT/tsa
    local vs=http://127.0.0.1:$TSA_HTTP_PORT/verificationserver/timestamp
    d=$(casedir)
    file=$(tsa_psql -c "SELECT coalesce(f.params->>'status_file', '') FROM policy_filters f
        JOIN policies p ON p.id = f.policy_id JOIN services s ON s.id = p.service_id
        WHERE s.name = 'tsa' AND p.name = 'default' AND f.filter = 'clock'")
    if [[ -z $file ]]; then
        echo "the demo's clock gate reads the kernel (synchronised here): ck_gate covers the gate"
        return 0
    fi
    [[ $file == "$TSA_VAR/clock.status" && -f $file ]] || bad "the demo's clock gate reads '$file', not $TSA_VAR/clock.status"
    cp -p "$file" "$WORK/clock.status.saved" || bad "cannot save $file"
    trap ck_demo_restore EXIT
    pf_granted "$d" -sha256
    pf_settle
    since=$(pf_last_event)
    ck_status "$file" unsync=1 esterror_us=1000 maxerror_us=100000 leap=none
    pf_refused "$d" "$FI_TIME_NOT_AVAILABLE" -sha256 -cert
    PF_URL=$vs pf_refused "$d" "$FI_TIME_NOT_AVAILABLE" -sha1 -cert
    (( $(ck_events_count "$since" clock-sync-lost) > 0 )) || bad "no clock-sync-lost event"
    ck_demo_restore
    pf_granted "$d" -sha256 -cert
    PF_URL=$vs pf_granted "$d" -sha1 -cert
    ck_recovered "$since" "$tsa" -sha256
}

cases_clock() {
    run_case "clock/gate-and-events" ck_gate
    run_case "clock/leap-second-window" ck_leap_window
    run_case "clock/demo-status-file" ck_demo
}
