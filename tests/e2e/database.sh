# PostgreSQL goes away and comes back: the workers answer systemFailure meanwhile, and grant
# tokens again once it is back, without being restarted.
# shellcheck shell=bash

# The master pid and the sorted pids of its worker processes.
worker_pids() {
    local pid
    pid=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-fcgi.pid")
    printf '%s:' "$pid"
    pgrep -P "$pid" | sort -n | tr '\n' ' '
}

db_down() {
    local d out
    d=$(casedir)
    worker_pids >"$WORK/db.pids"
    out=$("$STACK" pg-stop 2>&1 3>&-) || bad "stack.sh pg-stop: $(oneline <<<"$out")"
    head -c 100 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" || bad "openssl ts -query failed"
    out=$(post "$TSA_URL" "$d/q.tsq" "$d/r.tsr") || bad "curl failed: $out"
    [[ $out == "200 application/timestamp-reply" ]] || bad "HTTP answer '$out', want '200 application/timestamp-reply'"
    expect_rejected "$d/r.tsr" "$FI_SYSTEM_FAILURE"
}

db_back() {
    local d out i text=
    d=$(casedir)
    out=$("$STACK" pg-start 2>&1 3>&-) || bad "stack.sh pg-start: $(oneline <<<"$out")"
    head -c 100 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" || bad "openssl ts -query failed"
    for ((i = 0; i < 20; i++)); do
        out=$(post "$TSA_URL" "$d/q.tsq" "$d/r.tsr") || true
        if [[ $out == "200 application/timestamp-reply" ]]; then
            text=$(reply_text "$d/r.tsr")
            grep -q '^Status: Granted' <<<"$text" && break
        fi
        sleep 0.5
    done
    grep -q '^Status: Granted' <<<"$text" ||
        bad "no token 10 s after PostgreSQL came back: HTTP '$out' $(grep -E '^(Status|Failure)' <<<"$text" | oneline)"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    local before after
    before=$(<"$WORK/db.pids")
    after=$(worker_pids)
    [[ ${before%%:*} == "${after%%:*}" ]] || bad "tsa-fcgi was restarted (pid ${before%%:*} -> ${after%%:*})"
    [[ $before == "$after" ]] || bad "worker processes were replaced (before: $before; after: $after)"
}

cases_database() {
    TSA_URL=http://127.0.0.1:$TSA_HTTP_PORT/tsa
    if [[ -n ${E2E_ONLY:-} && database/down-systemFailure != $E2E_ONLY ]]; then
        return 0
    fi
    run_case "database/down-systemFailure" db_down
    # Runs whenever the first one ran: it starts PostgreSQL again.
    E2E_ONLY='' run_case "database/back-granted" db_back
}
