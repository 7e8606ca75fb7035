# Connection exhaustion: one client (127.0.0.2) holds 3000 slow connections to the web server
# (the headers of a POST with Content-Length 65000, then a byte every 5 s, each opened again 2 s
# after the server closes it), more than the web server could hold without its per-client limits
# and deadlines; meanwhile every RFC 3161 request of another client (127.0.0.3), over plain
# HTTP and over HTTPS with a client certificate, must be granted within 5 s.  Behind each web
# server (TSA_WEB); about 45 s.  The attack and the client: tests/e2e/exhaustion.py.
# shellcheck shell=bash

exhaustion_slow_clients() {
    local d out failed requests p99
    d=$(casedir)
    head -c 100 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" 2>/dev/null || bad "openssl ts -query failed"
    # 3000 connections and the client's own: more than the usual 1024 descriptors.
    ulimit -n 8192 2>/dev/null || bad "cannot raise the descriptor limit to 8192 (hard limit $(ulimit -Hn))"
    python3 "$E2E_DIR/exhaustion.py" --port "$TSA_HTTP_PORT" --tls-port "$TSA_HTTPS_PORT" \
        --query "$d/q.tsq" --pki "$TSA_VAR/pki" --conns 3000 --tick 5 --ramp 8 --seconds 30 \
        >"$d/out.json" 2>"$d/err" || bad "exhaustion.py: $(oneline <"$d/err")"
    out=$(<"$d/out.json")
    echo "$out"
    requests=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client"]["requests"])' "$d/out.json")
    failed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client"]["failed"])' "$d/out.json")
    p99=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client"]["latency_ms"]["p99"])' "$d/out.json")
    (( requests >= 100 )) || bad "only $requests requests were sent: $(oneline <<<"$out")"
    (( failed == 0 )) || bad "$failed of $requests requests not granted within 5 s under 3000 slow connections (p99 $p99 ms): $(oneline <<<"$out")"
    echo "exhaustion: $requests requests granted, p99 $p99 ms"
    # And at once when the attack is over.
    out=$(post "http://127.0.0.1:$TSA_HTTP_PORT/tsa" "$d/q.tsq" "$d/r.tsr") || bad "after the attack: curl: $out"
    [[ $out == "200 application/timestamp-reply" ]] || bad "after the attack: HTTP '$out'"
    reply_text "$d/r.tsr" | grep -q '^Status: Granted' || bad "after the attack: no token"
}

cases_exhaustion() {
    run_case "exhaustion/slow-clients" exhaustion_slow_clients
}
