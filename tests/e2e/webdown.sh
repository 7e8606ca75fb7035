# No worker behind the web server: with tsa-fcgi stopped (no socket) and then with a stale
# socket file nobody listens on, the web server answers 502 or 503 at once (well within 2 s,
# never a hang), on the plain-HTTP and the HTTPS service; the worker started again, tokens are
# granted again.  Stops the worker: runs among the last suites (tests/e2e/run.sh E2E_LAST).
# shellcheck shell=bash

# webdown_stack FUNCTION: one function of deploy/stack/stack.sh on this test's stack.
webdown_stack() { bash -c 'source "$1"; "$2"' webdown "$STACK" "$1" 2>&1; }

# webdown_expect WHAT: POST /tsa and the HTTPS service both answer 502/503 within 2 s.
webdown_expect() {
    local d=$1 what=$2 out
    out=$(curl -s -o "$d/r" -w '%{http_code} %{time_total}' --max-time 10 -X POST \
        -H 'Content-Type: application/timestamp-query' --data-binary @"$d/q.tsq" \
        "http://127.0.0.1:$TSA_HTTP_PORT/tsa") || true
    echo "$what, /tsa: $out"
    [[ $out == 50[23]\ * ]] || bad "$what: /tsa answered '$out', want 502 or 503"
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 2 else 1)' "${out#* }" ||
        bad "$what: /tsa took ${out#* } s"
    out=$(curl -s -o "$d/r" -w '%{http_code} %{time_total}' --max-time 10 --cacert "$TSA_VAR/pki/ca.pem" \
        --cert "$TSA_VAR/pki/client.pem" --key "$TSA_VAR/pki/client.key" \
        -H 'Content-Type: application/timestamp-query' --data-binary @"$d/q.tsq" \
        "https://127.0.0.1:$TSA_HTTPS_PORT/") || true
    echo "$what, HTTPS: $out"
    [[ $out == 50[23]\ * ]] || bad "$what: the HTTPS service answered '$out', want 502 or 503"
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 2 else 1)' "${out#* }" ||
        bad "$what: the HTTPS service took ${out#* } s"
}

webdown_no_worker() {
    local d out sock=$TSA_VAR/run/tsa-fcgi/tsa.sock rc=0
    d=$(casedir)
    printf 'webdown\n' >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" 2>/dev/null || bad "openssl ts -query failed"
    out=$(webdown_stack worker_stop) || bad "stopping tsa-fcgi failed: $(oneline <<<"$out")"
    rm -f "$sock"
    (webdown_expect "$d" "no socket") || rc=1
    # A socket file bound but never listened on: connect() is refused.
    if (( rc == 0 )); then
        python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$sock" ||
            bad "cannot make a stale socket"
        chmod 666 "$sock"
        (webdown_expect "$d" "stale socket") || rc=1
        rm -f "$sock"
    fi
    out=$(webdown_stack worker_start) || bad "tsa-fcgi did not start again: $(oneline <<<"$out")"
    # Served again (waited for even after a failure, so that the suites after this one find a
    # web server that has taken the worker back).
    local i code=
    for ((i = 0; i < 50; i++)); do
        code=$(post "http://127.0.0.1:$TSA_HTTP_PORT/tsa" "$d/q.tsq" "$d/r.tsr") || true
        [[ $code == 200\ * ]] && reply_text "$d/r.tsr" | grep -q '^Status: Granted' && break
        sleep 0.2
    done
    (( rc == 0 )) || exit 1
    (( i < 50 )) || bad "not granted again after the worker came back: '$code'"
}

cases_webdown() {
    run_case webdown/no-worker webdown_no_worker
}
