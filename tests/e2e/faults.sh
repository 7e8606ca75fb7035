# Fault injection against the running stack, each with an asserted outcome: PostgreSQL stopped
# and restarted under load (refusals meanwhile, recovery without restarting the workers, every
# answered token recorded once), the signing key or its token missing (a clear refusal, and
# tsactl status says why), a worker killed under load (502 at the web server, the next request
# served, no answered token without its row), slow clients (slowloris) against nginx while
# normal requests keep being served promptly, and the PKCS#11 session lost under a running
# worker (the token behind `p11-kit server`, which the test kills and restarts).
# The load comes from tests/soak/load.py, the record check from tests/soak/check.py.
# shellcheck shell=bash

SOAK_DIR=$ROOT/tests/soak

# "MASTER:WORKER WORKER ..." of the running tsa-fcgi.
faults_pids() {
    local pid
    pid=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-fcgi.pid")
    printf '%s:' "$pid"
    pgrep -P "$pid" | sort -n | tr '\n' ' '
}

# faults_json FILE KEY: one number of load.py's summary.
faults_json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# faults_granted: one fresh RFC 3161 request granted within 10 s, verified by openssl.
faults_granted() {
    local d out i text=
    d=$(casedir)
    head -c 100 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" || bad "openssl ts -query failed"
    for ((i = 0; i < 20; i++)); do
        out=$(post "$FAULTS_URL" "$d/q.tsq" "$d/r.tsr") || true
        if [[ $out == "200 application/timestamp-reply" ]]; then
            text=$(reply_text "$d/r.tsr")
            grep -q '^Status: Granted' <<<"$text" && break
        fi
        sleep 0.5
    done
    grep -q '^Status: Granted' <<<"$text" ||
        bad "${1:-}no token within 10 s: HTTP '$out' $(grep -E '^(Status|Failure)' <<<"$text" | oneline)"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
}

# faults_check RECORD: every token load.py was granted is in issued_tokens exactly once.
faults_check() {
    local out
    out=$(python3 "$SOAK_DIR/check.py" --conf "$TSA_VAR/tsa.conf" --record "$1" 2>&1) ||
        bad "record check: $(oneline <<<"$out")"
    echo "check: $out"
}

# ---- PostgreSQL stopped and restarted under load ---------------------------------------------
faults_pg_restart() {
    local d out before after granted down lpid
    d=$(casedir)
    before=$(faults_pids)
    # 600 requests at 60/s over three connections: about 10 s, PostgreSQL down from 2 s to 5 s.
    python3 "$SOAK_DIR/load.py" --url "$FAULTS_URL" --procs 3 --requests 600 --rate 60 \
        --seconds 30 --mix valid --allow-down --record "$d/granted" >"$d/load.json" 2>"$d/load.err" &
    lpid=$!
    sleep 2
    out=$("$STACK" pg-stop 2>&1 3>&-) || { kill "$lpid"; bad "stack.sh pg-stop: $(oneline <<<"$out")"; }
    sleep 3
    out=$("$STACK" pg-start 2>&1 3>&-) || { kill "$lpid"; bad "stack.sh pg-start: $(oneline <<<"$out")"; }
    wait "$lpid" || bad "unexpected answers under the database fault: $(oneline <"$d/load.json") $(oneline <"$d/load.err")"
    cat "$d/load.json"
    granted=$(faults_json "$d/load.json" granted)
    down=$(faults_json "$d/load.json" down)
    (( down > 0 )) || bad "no refusal while PostgreSQL was down (granted $granted)"
    (( granted > 0 )) || bad "nothing granted around the database fault"
    grep -q '"rfc3161 200 down"' "$d/load.json" || bad "no RFC 3161 systemFailure while PostgreSQL was down"
    grep -q '"authenticode 503 down"' "$d/load.json" || bad "no Authenticode 503 while PostgreSQL was down"
    grep -q '"soap 200 down"' "$d/load.json" || bad "no SOAP systemFailure while PostgreSQL was down"
    faults_granted "after PostgreSQL came back: "
    faults_check "$d/granted"
    after=$(faults_pids)
    [[ $before == "$after" ]] || bad "workers were restarted (before: $before; after: $after)"
}

# ---- the key or the token missing ------------------------------------------------------------
# faults_signer_gone URI-SED WANT: points the signer at a key that is not there, expects the
# refusal and tsactl status's reason, then puts the URI back and expects tokens again.
faults_signer_gone() {
    local d uri bad_uri out status i text=
    d=$(casedir)
    uri=$(tsa_psql -c "SELECT pkcs11_uri FROM signers ORDER BY id LIMIT 1")
    bad_uri=$(sed "$1" <<<"$uri")
    [[ $bad_uri != "$uri" ]] || bad "cannot derive a missing URI from $uri"
    tsa_psql -c "UPDATE signers SET pkcs11_uri = '$bad_uri' WHERE pkcs11_uri = '$uri'" ||
        bad "cannot update the signer"
    head -c 100 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" || bad "openssl ts -query failed"
    # Both workers must have reloaded: ask a few times, every answer after 3 s refused.
    sleep 3
    for ((i = 0; i < 4; i++)); do
        out=$(post "$FAULTS_URL" "$d/q.tsq" "$d/r.tsr") || bad "curl: $out"
        [[ $out == "200 application/timestamp-reply" ]] || bad "HTTP answer '$out' with the key missing"
        ( expect_rejected "$d/r.tsr" "$FI_SYSTEM_FAILURE" ) 3>"$d/why" ||
            { tsa_psql -c "UPDATE signers SET pkcs11_uri = '$uri' WHERE pkcs11_uri = '$bad_uri'"; bad "$(<"$d/why")"; }
    done
    reply_text "$d/r.tsr" | grep -q 'cannot sign now' || bad "the refusal does not say the TSA cannot sign"
    status=$(tsactl status 2>&1)
    echo "$status"
    tsa_psql -c "UPDATE signers SET pkcs11_uri = '$uri' WHERE pkcs11_uri = '$bad_uri'" ||
        bad "cannot restore the signer"
    grep -q 'REFUSED' <<<"$status" || bad "tsactl status does not say the signer is refused: $(oneline <<<"$status")"
    grep -q "why: .*$2" <<<"$status" || bad "tsactl status does not say why ($2): $(oneline <<<"$status")"
    faults_granted "after the signer was restored: "
}

faults_key_missing() { faults_signer_gone 's/object=[^;]*/object=no-such-key/' 'cannot open key'; }
faults_token_missing() { faults_signer_gone 's/token=[^;]*/token=no-such-token/' 'cannot open key'; }

# ---- a worker killed under load --------------------------------------------------------------
faults_worker_killed() {
    local d lpid i w killed=0 n502 pids workers
    d=$(casedir)
    workers=$(faults_pids); workers=${workers#*:}
    python3 "$SOAK_DIR/load.py" --url "$FAULTS_URL" --procs 3 --requests 3000 --seconds 8 \
        --mix valid --allow-502 --record "$d/granted" >"$d/load.json" 2>"$d/load.err" &
    lpid=$!
    sleep 1
    for ((i = 0; i < 3; i++)); do
        pids=$(faults_pids)
        w=$(awk '{print $1}' <<<"${pids#*:}")
        [[ -n $w ]] && kill -KILL "$w" && killed=$((killed + 1))
        sleep 1.5
    done
    wait "$lpid" || bad "unexpected answers while workers were killed: $(oneline <"$d/load.json") $(oneline <"$d/load.err")"
    cat "$d/load.json"
    n502=$(faults_json "$d/load.json" killed)
    echo "killed $killed workers; $n502 requests answered 502"
    (( killed == 3 )) || bad "only $killed workers could be killed"
    (( n502 <= killed )) || bad "$n502 requests failed with 502 for $killed workers killed"
    (( $(faults_json "$d/load.json" granted) > 100 )) || bad "too few tokens granted around the kills"
    faults_granted "after the kills: "
    faults_check "$d/granted"
    grep -q 'killed by signal 9' "$TSA_VAR/log/tsa-fcgi.log" || bad "the supervisor did not log the killed worker"
    pids=$(faults_pids)
    [[ $(wc -w <<<"${pids#*:}") == "$(wc -w <<<"$workers")" ]] ||
        bad "worker count not restored: $workers -> ${pids#*:}"
}

# ---- slow clients -----------------------------------------------------------------------------
faults_slowloris() {
    local d spid p99
    d=$(casedir)
    python3 "$SOAK_DIR/slowloris.py" --port "$TSA_HTTP_PORT" --path /tsa --conns 200 --seconds 10 \
        >"$d/slow.json" 2>&1 &
    spid=$!
    sleep 2
    # Normal traffic during the attack: 200 requests, one at a time.
    python3 "$SOAK_DIR/load.py" --url "$FAULTS_URL" --procs 1 --requests 200 --seconds 7 \
        --mix valid >"$d/load.json" 2>"$d/load.err" ||
        { kill "$spid" 2>/dev/null; bad "unexpected answers under slowloris: $(oneline <"$d/load.json") $(oneline <"$d/load.err")"; }
    kill -0 "$spid" 2>/dev/null || bad "the slow clients ended before the normal traffic did: $(oneline <"$d/slow.json")"
    wait "$spid" || bad "slowloris.py failed: $(oneline <"$d/slow.json")"
    cat "$d/slow.json" "$d/load.json"
    (( $(faults_json "$d/load.json" requests) == 200 )) || bad "not all 200 normal requests were served within 7 s"
    p99=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["latency_ms"]["p99"])' "$d/load.json")
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 500 else 1)' "$p99" ||
        bad "normal requests slowed down by the slow clients: p99 $p99 ms"
    grep -q '"opened": 200' "$d/slow.json" || bad "the slow clients could not all connect: $(oneline <"$d/slow.json")"
}

cases_faults() {
    FAULTS_URL=http://127.0.0.1:$TSA_HTTP_PORT/tsa
    run_case "faults/key-missing" faults_key_missing
    run_case "faults/token-missing" faults_token_missing
    run_case "faults/slowloris" faults_slowloris
    run_case "faults/worker-killed" faults_worker_killed
    run_case "faults/pg-restart-under-load" faults_pg_restart
}
