# Fault injection against the running stack, each with an asserted outcome: PostgreSQL stopped
# and restarted under load (refusals meanwhile, recovery without restarting the workers, every
# answered token recorded once), the signing key or its token missing (a clear refusal, and
# tsactl status says why), a worker killed under load (502 at the web server, the next request
# served, no answered token without its row), slow clients (slowloris) against nginx while
# normal requests keep being served promptly, and the PKCS#11 session lost under a running
# worker (the token behind `p11-kit server`, whose connection the test kills: the worker logs in
# again; an idle one is kept alive, and reopened by its keep-alive).
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

# faults_check RECORD [RESENT]: every token load.py was granted is in issued_tokens exactly
# once; RESENT: requests the web server may have sent twice (check.py --resent).
faults_check() {
    local out
    out=$(python3 "$SOAK_DIR/check.py" --conf "$TSA_VAR/tsa.conf" --record "$1" \
        --resent "${2:-0}" 2>&1) ||
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
    local d uri bad_uri restore out status i text=
    d=$(casedir)
    uri=$(tsa_psql -c "SELECT pkcs11_uri FROM signers ORDER BY id LIMIT 1")
    bad_uri=$(sed "$1" <<<"$uri")
    [[ $bad_uri != "$uri" ]] || bad "cannot derive a missing URI from $uri"
    tsa_psql -c "UPDATE signers SET pkcs11_uri = '$bad_uri' WHERE pkcs11_uri = '$uri'" ||
        bad "cannot update the signer"
    # Restored however the case ends (bad ends its subshell): the cases after it need the key.
    restore="UPDATE signers SET pkcs11_uri = '$uri' WHERE pkcs11_uri = '$bad_uri'"
    # shellcheck disable=SC2064
    trap "tsa_psql -c \"$restore\"" EXIT
    head -c 100 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" || bad "openssl ts -query failed"
    # Both workers must have reloaded: ask a few times, every answer after 3 s refused.
    sleep 3
    for ((i = 0; i < 4; i++)); do
        out=$(post "$FAULTS_URL" "$d/q.tsq" "$d/r.tsr") || bad "curl: $out"
        [[ $out == "200 application/timestamp-reply" ]] || bad "HTTP answer '$out' with the key missing"
        ( expect_rejected "$d/r.tsr" "$FI_SYSTEM_FAILURE" ) 3>"$d/why" || bad "$(<"$d/why")"
    done
    reply_text "$d/r.tsr" | grep -q 'cannot sign now' || bad "the refusal does not say the TSA cannot sign"
    status=$(tsactl status 2>&1)
    echo "$status"
    tsa_psql -c "$restore" || bad "cannot restore the signer"
    grep -q 'REFUSED' <<<"$status" || bad "tsactl status does not say the signer is refused: $(oneline <<<"$status")"
    grep -q "why: .*$2" <<<"$status" || bad "tsactl status does not say why ($2): $(oneline <<<"$status")"
    faults_granted "after the signer was restored: "
}

faults_key_missing() { faults_signer_gone 's/object=[^;]*/object=no-such-key/' 'cannot open key'; }
faults_token_missing() { faults_signer_gone 's/token=[^;]*/token=no-such-token/' 'cannot open key'; }

# ---- a worker killed under load --------------------------------------------------------------
faults_worker_killed() {
    local d lpid i w killed=0 n502 pids workers codes=502 kept=0 err=$TSA_VAR/nginx/logs/error.log
    local failed_before=0 failed
    d=$(casedir)
    # nginx answers 502 for a FastCGI peer that dies mid-request; Apache's mod_proxy_fcgi and
    # lighttpd may say 500 or 503 instead.  nginx sends a request whose kept connection
    # failed once more (fastcgi_next_upstream), so with kept connections a kill is seen in
    # its error log, the request answered by another worker.
    [[ ${TSA_WEB:-nginx} == nginx ]] || codes=500,502,503
    if [[ ${TSA_WEB:-nginx} == nginx ]] && grep -q 'fastcgi_keep_conn on' "$TSA_VAR/nginx/nginx.conf"; then
        kept=1
        failed_before=$(grep -c 'from upstream' "$err" || true)
    fi
    workers=$(faults_pids); workers=${workers#*:}
    python3 "$SOAK_DIR/load.py" --url "$FAULTS_URL" --procs 3 --requests 3000 --seconds 8 \
        --mix valid --allow-killed "$codes" --record "$d/granted" >"$d/load.json" 2>"$d/load.err" &
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
    echo "killed $killed workers; $n502 requests answered $codes"
    (( killed == 3 )) || bad "only $killed workers could be killed"
    (( n502 <= killed )) || bad "$n502 requests failed ($codes) for $killed workers killed"
    # Saturated by three clients, two workers are nearly always mid-request: a kill lands in one.
    if (( kept )); then
        sleep 1   # nginx's error log is written at once, but give it the moment
        failed=$(( $(grep -c 'from upstream' "$err" || true) - failed_before ))
        echo "nginx saw $failed requests fail on the killed workers' connections, and sent them again"
        (( failed >= 1 )) || bad "no request was in flight in any of the $killed workers killed"
    else
        (( n502 >= 1 )) || bad "no request was in flight in any of the $killed workers killed"
    fi
    (( $(faults_json "$d/load.json" granted) > 100 )) || bad "too few tokens granted around the kills"
    faults_granted "after the kills: "
    faults_check "$d/granted" "${failed:-0}"
    grep -q 'killed by signal 9' "$TSA_VAR/log/tsa-fcgi.log" || bad "the supervisor did not log the killed worker"
    pids=$(faults_pids)
    [[ $(wc -w <<<"${pids#*:}") == "$(wc -w <<<"$workers")" ]] ||
        bad "worker count not restored: $workers -> ${pids#*:}"
}

# ---- slow clients -----------------------------------------------------------------------------
faults_slowloris() {
    local d spid p99
    d=$(casedir)
    # 200 slow connections for 10 s from 127.0.0.2, each replaced when the server closes it (as
    # an attacker would); normal traffic from 127.0.0.1 spread over the attack: 200 requests at
    # 30 a second.  (From one address, the normal requests would share the attacker's
    # per-address limits: tests/e2e/exhaustion.sh.)
    python3 "$SOAK_DIR/slowloris.py" --port "$TSA_HTTP_PORT" --path /tsa --conns 200 --seconds 10 \
        --source 127.0.0.2 --reconnect >"$d/slow.json" 2>&1 &
    spid=$!
    sleep 1.5
    python3 "$SOAK_DIR/load.py" --url "$FAULTS_URL" --procs 1 --requests 200 --rate 30 --seconds 8 \
        --mix valid >"$d/load.json" 2>"$d/load.err" ||
        { kill "$spid" 2>/dev/null; bad "unexpected answers under slowloris: $(oneline <"$d/load.json") $(oneline <"$d/load.err")"; }
    kill -0 "$spid" 2>/dev/null || bad "the slow clients ended before the normal traffic did: $(oneline <"$d/slow.json")"
    wait "$spid" || bad "slowloris.py failed: $(oneline <"$d/slow.json")"
    cat "$d/slow.json" "$d/load.json"
    # Apache's mod_proxy_fcgi passes a request body on to the worker as it arrives (nginx and
    # lighttpd read it whole first), so there slow bodies hold the workers: this fails.
    (( $(faults_json "$d/load.json" requests) == 200 )) ||
        bad "only $(faults_json "$d/load.json" requests) of 200 normal requests served in 8 s during the slow-client attack (web server: ${TSA_WEB:-nginx})"
    p99=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["latency_ms"]["p99"])' "$d/load.json")
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 500 else 1)' "$p99" ||
        bad "normal requests slowed down by the slow clients: p99 $p99 ms"
    grep -q '"reconnects_refused": 0' "$d/slow.json" || bad "the slow clients could not all connect: $(oneline <"$d/slow.json")"
}

# ---- the PKCS#11 session lost -----------------------------------------------------------------
# A signing process of its own (and a worker ordering from it) whose module is
# p11-kit-client.so talking to `p11-kit server`, which exports the stack's SoftHSM2 token (as
# a network HSM's client library talks to its HSM).
# Killing the server's p11-kit-remote process drops every session and the login with it; a
# fresh one is a token that is logged out.  Requests go straight to the worker's FastCGI socket
# (cgi-fcgi, libfcgi's own client), the stack's nginx and workers untouched.

# p11-kit's own module directory (multiarch), from its pkg-config file.
P11_CLIENT=$(pkg-config --variable=p11_module_path p11-kit-1 2>/dev/null)/p11-kit-client.so

# p11_server DIR: (re)starts p11-kit server on DIR/p11.sock; its pid in DIR/server.pid.
p11_server() {
    local env
    env=$(sed -n 's/^pkcs11_env *= *SOFTHSM2_CONF=//p' "$TSA_VAR/tsa.conf")
    rm -f "$1/p11.sock"
    SOFTHSM2_CONF=$env setsid p11-kit server -f -p "$(sed -n 's/^pkcs11_module *= *//p' "$TSA_VAR/tsa.conf")" \
        -n "$1/p11.sock" "pkcs11:token=tsa" </dev/null >>"$1/server.log" 2>&1 3>&- &
    echo $! >"$1/server.pid"
    local i
    for ((i = 0; i < 50; i++)); do [[ -S $1/p11.sock ]] && return 0; sleep 0.1; done
    bad "p11-kit server did not start: $(oneline <"$1/server.log")"
}

# p11_remote DIR: the pid of the p11-kit-remote process serving the worker.
p11_remote() { pgrep -P "$(<"$1/server.pid")" -f p11-kit-remote | head -n1; }

# fcgi_timestamp DIR NAME: one RFC 3161 request straight to the worker; the reply in DIR/NAME.tsr.
fcgi_timestamp() {
    local d=$1 n=$2
    head -c 64 /dev/urandom >"$d/$n.data"
    openssl ts -query -data "$d/$n.data" -sha256 -cert -out "$d/$n.tsq" 2>/dev/null || bad "openssl ts -query failed"
    REQUEST_METHOD=POST CONTENT_TYPE=application/timestamp-query \
        CONTENT_LENGTH=$(stat -c %s "$d/$n.tsq") TSA_SERVICE=tsa SCRIPT_NAME=/tsa \
        REMOTE_ADDR=127.0.0.1 cgi-fcgi -bind -connect "$d/tsa.sock" <"$d/$n.tsq" >"$d/$n.out" ||
        bad "cgi-fcgi failed"
    python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"\r\n\r\n")
open(sys.argv[2], "wb").write(d[i + 4:])
print(d[:i].decode().split("\r\n")[0])' "$d/$n.out" "$d/$n.tsr"
}

# fcgi_granted DIR NAME WHEN
fcgi_granted() {
    local out
    out=$(fcgi_timestamp "$1" "$2")
    [[ $out == "Status: 200 OK" ]] || bad "$3: worker answered '$out'"
    reply_text "$1/$2.tsr" | grep -q '^Status: Granted' ||
        bad "$3: not granted: $(reply_text "$1/$2.tsr" | grep -E '^(Status|Failure)' | oneline)"
    ossl_verify "$1/$2.data" "$1/$2.tsr" "$1/$2.tsq" cert
}

# p11_cleanup DIR: stops the case's worker, signer, p11-kit server and its p11-kit-remote
# processes.
p11_cleanup() {
    local p
    [[ -s $1/fcgi.pid ]] && kill "$(<"$1/fcgi.pid")" 2>/dev/null
    [[ -s $1/signer.pid ]] && kill "$(<"$1/signer.pid")" 2>/dev/null
    if [[ -s $1/server.pid ]]; then
        for p in $(pgrep -P "$(<"$1/server.pid")"); do kill -KILL "$p" 2>/dev/null; done
        kill "$(<"$1/server.pid")" 2>/dev/null
    fi
    return 0
}

faults_pkcs11() {
    local d fpid wpid r i n
    d=$(casedir)
    chmod 755 "$d"
    # The case runs in a subshell: this global and the trap end with it.
    P11_CASE=$d
    trap 'p11_cleanup "$P11_CASE"' EXIT
    [[ -r $P11_CLIENT ]] || bad "$P11_CLIENT missing (Debian package p11-kit-modules)"
    p11_server "$d"
    # One signing process: one p11-kit-remote to cut, so the case knows which session it ends.
    { grep -v -E '^(pkcs11_module|pkcs11_env|listen|workers|pkcs11_keepalive|signer_socket|signer_processes) *=' "$TSA_VAR/tsa.conf"
      echo "pkcs11_module = $P11_CLIENT"
      echo "pkcs11_env = P11_KIT_SERVER_ADDRESS=unix:path=$d/p11.sock"
      echo "listen = unix:$d/tsa.sock"
      echo "signer_socket = $d/signer.sock"
      echo "workers = 1"
      echo "signer_processes = 1"
      echo "pkcs11_keepalive = 2"; } >"$d/tsa.conf"
    # The module is the signer's: the worker only orders.
    setsid "$BUILD/tsa-signer" --conf "$d/tsa.conf" </dev/null >"$d/signer.log" 2>&1 3>&- &
    echo $! >"$d/signer.pid"
    for ((i = 0; i < 50; i++)); do [[ -S $d/signer.sock ]] && break; sleep 0.1; done
    [[ -S $d/signer.sock ]] || bad "the p11-kit signer did not start: $(oneline <"$d/signer.log")"
    setsid "$BUILD/tsa-fcgi" --conf "$d/tsa.conf" </dev/null >"$d/fcgi.log" 2>&1 3>&- &
    fpid=$!
    echo "$fpid" >"$d/fcgi.pid"
    for ((i = 0; i < 50; i++)); do [[ -S $d/tsa.sock ]] && break; sleep 0.1; done
    [[ -S $d/tsa.sock ]] || bad "the p11-kit worker did not start: $(oneline <"$d/fcgi.log")"
    fcgi_granted "$d" first "through p11-kit"
    wpid=$(pgrep -P "$fpid")

    # Idle: a keep-alive signature within 2 s of idleness.
    sleep 3.5
    grep -q 'keep-alive signature$' "$d/signer.log" || bad "no keep-alive signature after 3.5 s idle: $(tail -n3 "$d/signer.log" | oneline)"

    # Sessions and login gone under the running worker: the next request is still granted.
    r=$(p11_remote "$d")
    [[ -n $r ]] || bad "no p11-kit-remote process serving the worker"
    kill -KILL "$r"
    fcgi_granted "$d" after-loss "after the session was lost"
    grep -q 'PKCS#11 session lost' "$d/signer.log" || bad "the signer did not log the lost session"
    grep -q 'logged in again' "$d/signer.log" || bad "the signer did not log in again"

    # Lost while idle: the keep-alive finds it and reopens before any client does.
    n=$(grep -c 'logged in again' "$d/signer.log")
    kill -KILL "$(p11_remote "$d")"
    sleep 3.5
    (( $(grep -c 'logged in again' "$d/signer.log") > n )) ||
        bad "the keep-alive did not reopen an idle lost session: $(tail -n3 "$d/signer.log" | oneline)"

    # The token unreachable: a clean systemFailure; back: served again, same worker process.
    r=$(p11_remote "$d")
    kill -KILL "$r" "$(<"$d/server.pid")"
    sleep 0.3
    [[ $(fcgi_timestamp "$d" down) == "Status: 200 OK" ]] || bad "no RFC 3161 answer with the token unreachable"
    ( expect_rejected "$d/down.tsr" "$FI_SYSTEM_FAILURE" ) || exit 1
    p11_server "$d"
    sleep 1.2
    fcgi_granted "$d" back "after p11-kit server came back"
    [[ $(pgrep -P "$fpid") == "$wpid" ]] || bad "the worker was replaced ($wpid -> $(pgrep -P "$fpid"))"
    grep -E 'session lost|reinitialised|logged in again|opened|keep-alive' "$d/signer.log"
}

# ---- PostgreSQL unresponsive -----------------------------------------------------------------
# A database address that accepts connections and never answers (a server hung, a host gone
# behind a stateful firewall): a worker of its own pointed at it must refuse within seconds
# (database_timeout, 5 s by default, bounds the connect), not hang until the web server gives up.
faults_pg_unresponsive() {
    local d port fpid spid i out t0 t1
    d=$(casedir)
    chmod 755 "$d"
    port=$(free_port) || bad "no free port"
    python3 -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
held = []
end = time.monotonic() + 40
s.settimeout(1)
while time.monotonic() < end:
    try:
        held.append(s.accept()[0])
    except OSError:
        pass' "$port" </dev/null >/dev/null 2>&1 3>&- &
    spid=$!
    for ((i = 0; i < 50; i++)); do port_free "$port" || break; sleep 0.1; done
    ! port_free "$port" || bad "the silent listener did not start"
    { grep -v -E '^(database|listen|workers) *=' "$TSA_VAR/tsa.conf"
      echo "database = host=127.0.0.1 port=$port dbname=tsa user=tsa"
      echo "listen = unix:$d/tsa.sock"
      echo "workers = 1"; } >"$d/tsa.conf"
    setsid "$BUILD/tsa-fcgi" --conf "$d/tsa.conf" </dev/null >"$d/fcgi.log" 2>&1 3>&- &
    fpid=$!
    P11_CASE=$d
    echo "$fpid" >"$d/fcgi.pid"
    trap 'kill "$(<"$P11_CASE/fcgi.pid")" '"$spid"' 2>/dev/null' EXIT
    for ((i = 0; i < 100; i++)); do [[ -S $d/tsa.sock ]] && break; sleep 0.1; done
    [[ -S $d/tsa.sock ]] || bad "the worker did not start: $(oneline <"$d/fcgi.log")"
    t0=$(date +%s%N)
    out=$(timeout 20 bash -c "$(declare -f fcgi_timestamp bad); fcgi_timestamp '$d' hung" 3>&1) ||
        bad "no answer within 20 s with the database unresponsive ($out)"
    t1=$(date +%s%N)
    echo "answered in $(( (t1 - t0) / 1000000 )) ms"
    [[ $out == "Status: 200 OK" ]] || bad "worker answered '$out'"
    ( expect_rejected "$d/hung.tsr" "$FI_SYSTEM_FAILURE" ) || exit 1
    (( (t1 - t0) / 1000000 < 10000 )) || bad "the refusal took $(( (t1 - t0) / 1000000 )) ms"
    grep -q 'timeout expired' "$d/fcgi.log" || bad "the worker did not log the connect timeout: $(tail -n2 "$d/fcgi.log" | oneline)"
}

# ---- slow FastCGI peers on the workers' socket ------------------------------------------------
# Four connections straight to tsa.sock, twice as many as the stack's workers, each sending a
# request a byte every 2 s: each is closed by the request deadline, 10 s after its accept,
# whatever it sends meanwhile (a per-read timeout would be renewed by every byte), and requests
# through the web server are answered promptly meanwhile (a worker takes a connection's request
# only once it is whole: src/fcgi/gate.c).
faults_fcgi_trickle() {
    local d spid p99
    d=$(casedir)
    python3 "$E2E_DIR/fcgi_stall.py" --socket "$TSA_VAR/run/tsa-fcgi/tsa.sock" --conns 4 --trickle 2 \
        --seconds 16 >"$d/stall.json" 2>"$d/stall.err" 3>&- &
    spid=$!
    sleep 1
    python3 "$SOAK_DIR/load.py" --url "$FAULTS_URL" --procs 1 --requests 150 --rate 20 --seconds 12 \
        --mix valid >"$d/load.json" 2>"$d/load.err" ||
        { kill "$spid" 2>/dev/null; bad "unexpected answers while peers trickled: $(oneline <"$d/load.json") $(oneline <"$d/load.err")"; }
    wait "$spid" || bad "fcgi_stall.py failed: $(oneline <"$d/stall.err")"
    cat "$d/stall.json" "$d/load.json"
    python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["closed_after"]
sys.exit(0 if all(x is not None and 9.5 <= x <= 12 for x in t) else 1)' "$d/stall.json" ||
        bad "trickling connections not closed 10 s after their accept: $(oneline <"$d/stall.json")"
    (( $(faults_json "$d/load.json" requests) == 150 )) ||
        bad "only $(faults_json "$d/load.json" requests) of 150 requests answered while peers trickled"
    p99=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["latency_ms"]["p99"])' "$d/load.json")
    echo "p99 of the requests served meanwhile: $p99 ms"
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 500 else 1)' "$p99" ||
        bad "requests slowed down by the trickling peers: p99 $p99 ms"
}

cases_faults() {
    FAULTS_URL=http://127.0.0.1:$TSA_HTTP_PORT/tsa
    run_case "faults/key-missing" faults_key_missing
    run_case "faults/token-missing" faults_token_missing
    run_case "faults/pg-unresponsive" faults_pg_unresponsive
    run_case "faults/pkcs11-session-lost" faults_pkcs11
    run_case "faults/slowloris" faults_slowloris
    run_case "faults/fcgi-trickle" faults_fcgi_trickle
    run_case "faults/worker-killed" faults_worker_killed
    run_case "faults/pg-restart-under-load" faults_pg_restart
}
