# Operations endpoints (src/fcgi/ops.c, metrics.c): GET /metrics read with Prometheus' own
# parser (python3-prometheus-client) counts exactly the granted and refused requests sent, the
# same whichever of the workers answers the scrape (the counters live in memory shared by all
# workers); GET /health is 200 with every check named, 503 while a policy's clock gate refuses
# and while PostgreSQL is stopped, 200 again after.  Everything changed is put back.
# shellcheck shell=bash
# The check functions are run through `eventually`, which shellcheck cannot follow:
# shellcheck disable=SC2317

OPS_OID=1.3.6.1.4.1.32473.9.7

# ops_get PATH OUT: GET http://127.0.0.1:$TSA_HTTP_PORT/PATH; prints "CODE CONTENT_TYPE".
ops_get() {
    curl -sS --max-time 10 -o "$2" -w '%{http_code} %{content_type}' \
        "http://127.0.0.1:$TSA_HTTP_PORT/$1"
}

# ops_flat IN OUT: the exposition parsed by prometheus_client, one `name{k="v",...} value` a
# line with the labels sorted by name; fails when the text does not parse.
ops_flat() {
    /usr/bin/python3 - "$1" "$2" <<'PY' || bad "prometheus_client cannot parse $1"
import sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
out = []
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
        out.append("%s{%s} %r" % (s.name, labels, float(s.value)))
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY
}

# ops_scrape OUT: /metrics, checked (200, the 0.0.4 content type), flattened into OUT.
ops_scrape() {
    local out
    out=$(ops_get metrics "$1.txt") || bad "curl /metrics failed: $out"
    [[ $out == "200 text/plain; version=0.0.4"* ]] || bad "/metrics answered '$out'"
    ops_flat "$1.txt" "$1"
}

# ops_value FLAT SERIES: the value (0 when absent).
ops_value() {
    awk -v s="$2" 'index($0, s " ") == 1 { v = $NF } END { printf "%d\n", v + 0 }' "$1"
}

# ops_req SERVICE PROTOCOL OUTCOME FAIL: the tsa_requests_total series.
ops_req() {
    printf 'tsa_requests_total{fail="%s",outcome="%s",protocol="%s",service="%s"}' "$4" "$3" "$2" "$1"
}

# ops_fcgi DIR NAME PARAM=VALUE...: a request straight to the stack's worker socket (what no
# web server lets through: a body past max_body, an unknown TSA_OPS); prints the Status line.
ops_fcgi() {
    local d=$1 n=$2
    shift 2
    env "$@" cgi-fcgi -bind -connect "$TSA_VAR/run/tsa-fcgi/tsa.sock" <"$d/$n.in" >"$d/$n.out" ||
        bad "cgi-fcgi failed"
    sed -n '1s/\r$//p' "$d/$n.out"
}

# The counters move by exactly what was sent, in every worker's answer.
ops_metrics_counts() {
    local d i p1 p2 out before after s k want got tsa=http://127.0.0.1:$TSA_HTTP_PORT/tsa
    d=$(casedir)
    pf_settle
    ops_scrape "$d/before"
    # 6 granted and 3 refused (sha1 is not among the demo's hashes: badAlg) RFC 3161 requests,
    # two at a time so that both workers serve some.
    for ((i = 0; i < 3; i++)); do
        mkdir -p "$d/g$i" "$d/h$i"
        pf_granted "$d/g$i" -sha256 & p1=$!
        pf_granted "$d/h$i" -sha512 & p2=$!
        { wait "$p1" && wait "$p2"; } || bad "a request was not granted"
        mkdir -p "$d/r$i"
        pf_refused "$d/r$i" "$FI_BAD_ALG" -sha1
    done
    # Refused at the HTTP level: 2 x 415, 1 x 405, 1 x 413 (straight to the worker: nginx
    # stops bodies past the same limit itself).
    printf 'x' >"$d/x"
    for i in 1 2; do
        out=$(post "$tsa" "$d/x" "$d/415.out" text/plain) || bad "curl failed"
        [[ ${out%% *} == 415 ]] || bad "text/plain answered '$out', want 415"
    done
    out=$(curl -sS -o /dev/null -w '%{http_code}' "$tsa") || bad "curl failed"
    [[ $out == 405 ]] || bad "GET /tsa answered $out, want 405"
    head -c 70000 /dev/zero >"$d/big.in"
    out=$(ops_fcgi "$d" big REQUEST_METHOD=POST CONTENT_TYPE=application/timestamp-query \
        CONTENT_LENGTH=70000 TSA_SERVICE=tsa SCRIPT_NAME=/tsa REMOTE_ADDR=127.0.0.1)
    [[ $out == "Status: 413"* ]] || bad "a 70000-byte body answered '$out', want 413"
    # A SOAP request that is not XML: a SOAP fault.
    out=$(soap_post "$tsa" "$d/x" "$d/fault.xml") || bad "curl failed"
    [[ ${out%% *} == 500 ]] || bad "non-XML SOAP answered '$out', want 500 and a fault"

    # Six scrapes, three pairs at once: whichever worker answers, the same totals.
    for ((i = 0; i < 6; i += 2)); do
        ops_scrape "$d/after$i" & p1=$!
        ops_scrape "$d/after$((i + 1))" & p2=$!
        { wait "$p1" && wait "$p2"; } || bad "a scrape failed"
    done
    for ((i = 1; i < 6; i++)); do
        cmp -s <(grep -E '^tsa_(requests_total|request_duration_seconds_count|signatures_total)' "$d/after0") \
            <(grep -E '^tsa_(requests_total|request_duration_seconds_count|signatures_total)' "$d/after$i") ||
            bad "scrapes 0 and $i differ: $(diff <(grep ^tsa_req "$d/after0") <(grep ^tsa_req "$d/after$i") | oneline)"
    done
    after=$d/after0
    before=$d/before
    for s in "$(ops_req tsa rfc3161 granted none) 6" \
             "$(ops_req tsa rfc3161 rejected badAlg) 3" \
             "$(ops_req tsa none http_415 none) 2" \
             "$(ops_req tsa none http_405 none) 1" \
             "$(ops_req tsa none http_413 none) 1" \
             "$(ops_req tsa soap soap_fault badRequest) 1" \
             'tsa_request_duration_seconds_count{protocol="rfc3161",result="granted"} 6' \
             'tsa_request_duration_seconds_count{protocol="rfc3161",result="refused"} 3' \
             'tsa_request_duration_seconds_bucket{le="+Inf",protocol="rfc3161",result="granted"} 6' \
             'tsa_request_duration_seconds_count{protocol="none",result="refused"} 4'; do
        k=${s% *}
        want=${s##* }
        got=$(( $(ops_value "$after" "$k") - $(ops_value "$before" "$k") ))
        (( got == want )) || bad "$k moved by $got, want $want"
    done
    # Every token was signed by the demo signer, and nothing else signed.
    k=$(grep -o '^tsa_signatures_total{host="[^"]*",result="ok",signer="[^"]*"}' "$after" | head -n1)
    [[ -n $k ]] || bad "no tsa_signatures_total for a signer"
    got=$(( $(ops_value "$after" "$k") - $(ops_value "$before" "$k") ))
    (( got == 6 )) || bad "$k moved by $got, want 6"
    # Nothing counted under a client's choice of label.
    ! grep -q 'service="[^"]*"' <(grep '^tsa_requests_total' "$after" | grep -v -E 'service="(tsa|verificationserver|mtls|other)"') ||
        bad "a service label that is not a configured service"
    (( $(ops_value "$after" 'tsa_workers_running{}') == TSA_WORKERS )) ||
        bad "tsa_workers_running is not $TSA_WORKERS"
    (( $(ops_value "$after" 'tsa_metrics_dropped_total{}') == 0 )) || bad "observations dropped"
}

# What the answering worker sees: database, signers, clock, workers; and the two endpoints'
# other answers (POST, an unknown TSA_OPS).
ops_health_ok() {
    local d out days k
    d=$(casedir)
    out=$(ops_get health "$d/h") || bad "curl /health failed"
    [[ ${out%% *} == 200 ]] || bad "/health answered $out: $(oneline <"$d/h")"
    [[ $(head -n1 "$d/h") == healthy ]] || bad "/health body: $(oneline <"$d/h")"
    for k in 'ok database' 'ok configuration' 'ok signer ' 'ok clock tsa/default'; do
        grep -q "^$k" "$d/h" || bad "/health does not say '$k': $(oneline <"$d/h")"
    done
    ops_scrape "$d/m"
    (( $(ops_value "$d/m" 'tsa_database_up{}') == 1 )) || bad "tsa_database_up is not 1"
    (( $(ops_value "$d/m" 'tsa_config_loaded{}') == 1 )) || bad "tsa_config_loaded is not 1"
    grep -q '^tsa_signer_usable{host="[^"]*",signer="[^"]*"} 1.0$' "$d/m" || bad "no usable signer in /metrics"
    days=$(grep -o '^tsa_signer_cert_days_left{host="[^"]*",signer="[^"]*"} [0-9.]*' "$d/m" | head -n1)
    { [[ -n $days ]] && awk '{ exit !($NF > 30) }' <<<"$days"; } ||
        bad "certificate days left: '$days'"
    grep -q '^tsa_clock_gate_ok{policy="default",service="tsa"} 1.0$' "$d/m" ||
        bad "the demo's clock gate is not 1 in /metrics"
    grep -q '^tsa_clock_synchronised{source=' "$d/m" || bad "no tsa_clock_synchronised"
    printf '' >"$d/p.in"
    out=$(ops_fcgi "$d" p REQUEST_METHOD=POST TSA_OPS=health CONTENT_LENGTH=0)
    [[ $out == "Status: 405"* ]] || bad "POST /health answered '$out', want 405"
    grep -q $'^Allow: GET, HEAD\r$' "$d/p.out" || bad "POST /health: no 'Allow: GET, HEAD' header"
    out=$(ops_fcgi "$d" p REQUEST_METHOD=GET TSA_OPS=nothing)
    [[ $out == "Status: 404"* ]] || bad "TSA_OPS=nothing answered '$out', want 404"
}

# ops_health_is CODE WHAT: every worker's /health (four at once) answers CODE and, when WHAT is
# given, says it.
ops_health_is() {
    local d i out
    d=$(casedir)
    for i in 1 2 3 4; do
        ops_get health "$d/h$i" >"$d/c$i" &
    done
    wait
    for i in 1 2 3 4; do
        out=$(<"$d/c$i")
        [[ ${out%% *} == "$1" ]] || bad "/health answered '$out', want $1: $(oneline <"$d/h$i")"
        [[ -z ${2:-} ]] || grep -q "$2" "$d/h$i" || bad "/health does not say '$2': $(oneline <"$d/h$i")"
    done
}

ops_clock_restore() {
    pf_drop t-ops
    [[ -f $WORK/ops-clock.saved ]] && mv "$WORK/ops-clock.saved" "$TSA_VAR/clock.status"
}

# A policy's clock gate refuses: 503 naming it, tsa_clock_gate_ok 0; back to 200 after.
ops_health_clock() {
    local d f demo
    d=$(casedir)
    f=$d/clock.status
    trap ops_clock_restore EXIT
    ck_status "$f" "$CK_SYNCED"
    pf_chain t-ops -4 "$OPS_OID" "$OPS_OID" "clock={\"status_file\": \"$f\"}"
    pf_settle
    eventually ops_health_is 200 '^ok clock tsa/t-ops'
    ck_status "$f" unsync=1 esterror_us=1000 maxerror_us=100000 leap=none
    ops_health_is 503 '^FAIL clock tsa/t-ops: .*unsynchronised'
    ops_scrape "$d/m"
    grep -q '^tsa_clock_gate_ok{policy="t-ops",service="tsa"} 0.0$' "$d/m" ||
        bad "tsa_clock_gate_ok of t-ops is not 0"
    # An error above the stated accuracy (1 s by default) refuses too.
    ck_status "$f" unsync=0 esterror_us=1500000 maxerror_us=1500000 leap=none
    ops_health_is 503 '^FAIL clock tsa/t-ops'
    ck_status "$f" "$CK_SYNCED"
    ops_health_is 200
    # The demo's own gate, when the stack points it at its stand-in file (clock.sh, ck_demo).
    demo=$(tsa_psql -c "SELECT coalesce(f.params->>'status_file', '') FROM policy_filters f
        JOIN policies p ON p.id = f.policy_id JOIN services s ON s.id = p.service_id
        WHERE s.name = 'tsa' AND p.name = 'default' AND f.filter = 'clock'")
    if [[ -n $demo ]]; then
        cp -p "$demo" "$WORK/ops-clock.saved" || bad "cannot save $demo"
        ck_status "$demo" unsync=1 esterror_us=1000 maxerror_us=100000 leap=none
        ops_health_is 503 '^FAIL clock tsa/default'
        mv "$WORK/ops-clock.saved" "$TSA_VAR/clock.status"
        ops_health_is 200
    fi
    ops_clock_restore
    pf_settle
    ops_health_is 200
}

ops_signer_restore() {
    [[ -f $WORK/ops-signer.uri ]] || return 0
    tsa_psql -c "UPDATE signers SET pkcs11_uri = '$(<"$WORK/ops-signer.uri")'
        WHERE id = (SELECT min(id) FROM signers)" >/dev/null
    rm -f "$WORK/ops-signer.uri"
}

# The signer's key missing from the token: 503 naming the signer, tsa_signer_usable 0; the
# URI put back: 200.
ops_health_signer() {
    local d uri
    d=$(casedir)
    uri=$(tsa_psql -c "SELECT pkcs11_uri FROM signers ORDER BY id LIMIT 1")
    [[ $uri == *object=* ]] || bad "signer URI without object: $uri"
    printf '%s' "$uri" >"$WORK/ops-signer.uri"
    trap ops_signer_restore EXIT
    tsa_psql -c "UPDATE signers SET pkcs11_uri = '${uri/object=/object=ops-no-such-}'
        WHERE id = (SELECT min(id) FROM signers)" >/dev/null || bad "cannot change the signer"
    pf_settle    # every worker has the changed signer (its requests are refused meanwhile)
    eventually ops_health_is 503 '^FAIL signer .*'
    ops_scrape "$d/m"
    grep -q '^tsa_signer_usable{host="[^"]*",signer="[^"]*"} 0.0$' "$d/m" || bad "no signer with tsa_signer_usable 0"
    ops_signer_restore
    eventually ops_health_is 200
}

# A worker SIGKILLed: what it counted stays counted, the restart is counted, the supervisor's
# replacement adds to the same totals.
ops_worker_restart() {
    local d master w i k before after
    d=$(casedir)
    mkdir -p "$d/g1" "$d/g2"
    pf_granted "$d/g1" -sha256
    ops_scrape "$d/before"
    master=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-fcgi.pid")
    w=$(pgrep -P "$master" | head -n1)
    [[ -n $w ]] || bad "no worker process"
    kill -KILL "$w" || bad "cannot kill worker $w"
    for ((i = 0; i < 30; i++)); do
        pgrep -P "$master" | grep -qx "$w" || (( $(pgrep -P "$master" | wc -l) < TSA_WORKERS )) || break
        sleep 0.2
    done
    (( $(pgrep -P "$master" | wc -l) == TSA_WORKERS )) || bad "worker $w was not replaced"
    pf_granted "$d/g2" -sha256
    ops_scrape "$d/after"
    k=$(ops_req tsa rfc3161 granted none)
    before=$(ops_value "$d/before" "$k")
    after=$(ops_value "$d/after" "$k")
    (( after == before + 1 )) || bad "$k went from $before to $after across the restart, want +1"
    k='tsa_worker_restarts_total{}'
    (( $(ops_value "$d/after" "$k") == $(ops_value "$d/before" "$k") + 1 )) ||
        bad "tsa_worker_restarts_total did not move by 1"
    (( $(ops_value "$d/after" 'tsa_workers_running{}') == TSA_WORKERS )) ||
        bad "tsa_workers_running is not $TSA_WORKERS after the restart"
}

ops_pg_restore() { "$STACK" pg-start >/dev/null 2>&1 3>&-; }

# PostgreSQL stopped: every worker's /health is 503 naming the database, /metrics still
# answers (tsa_database_up 0, the counters kept); started again: 200 within 10 s.
ops_health_database() {
    local d out i
    d=$(casedir)
    ops_health_is 200
    ops_scrape "$d/before"
    trap ops_pg_restore EXIT
    out=$("$STACK" pg-stop 2>&1 3>&-) || bad "stack.sh pg-stop: $(oneline <<<"$out")"
    ops_health_is 503 '^FAIL database'
    ops_scrape "$d/down"
    (( $(ops_value "$d/down" 'tsa_database_up{}') == 0 )) || bad "tsa_database_up is not 0"
    (( $(ops_value "$d/down" "$(ops_req tsa rfc3161 granted none)") >= \
        $(ops_value "$d/before" "$(ops_req tsa rfc3161 granted none)") )) || bad "counters lost"
    out=$("$STACK" pg-start 2>&1 3>&-) || bad "stack.sh pg-start: $(oneline <<<"$out")"
    for ((i = 0; i < 20; i++)); do
        ( ops_health_is 200 ) 3>/dev/null && break
        sleep 0.5
    done
    ops_health_is 200
    ops_scrape "$d/up"
    (( $(ops_value "$d/up" 'tsa_database_up{}') == 1 )) || bad "tsa_database_up is not 1 again"
}

cases_ops() {
    run_case "ops/metrics-counts" ops_metrics_counts
    run_case "ops/health-ok" ops_health_ok
    run_case "ops/health-clock" ops_health_clock
    run_case "ops/health-signer" ops_health_signer
    run_case "ops/worker-restart" ops_worker_restart
    run_case "ops/health-database" ops_health_database
}
