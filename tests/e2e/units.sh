# Units and hosts (README "Units and hosts"): equivalent servers of one database, each with
# its own SoftHSM2 token, key and certificate (from the demo CA) and its own tsa-signer and
# tsa-fcgi started here, named by tsa.conf's host; one service and one policy served by all
# of them, each token signed by its own server's unit.  Sourced by tests/e2e/run.sh.
# shellcheck shell=bash

UNITS_DIR=
UNITS_SERVICE=
UNITS_GROUP=e2e-si-tsa

# The case's servers, stopped (each its own process group: a supervisor killed outright
# leaves workers), its service and units removed, the stack's units unbound again.
units_cleanup() {
    local f u
    for f in "$UNITS_DIR"/*/fcgi.pid "$UNITS_DIR"/*/signer.pid; do
        [[ -s $f ]] || continue
        kill -CONT -- "-$(<"$f")" 2>/dev/null
        kill -- "-$(<"$f")" 2>/dev/null
    done
    tsactl service remove "$UNITS_SERVICE" >/dev/null 2>&1
    for f in "$UNITS_DIR"/*/unit.pem; do
        [[ -e $f ]] || continue
        u=${f%/unit.pem}
        tsactl signer remove "e2e-unit-${u##*/}" >/dev/null 2>&1
    done
    [[ -s $UNITS_DIR/stack-units ]] && while read -r u; do
        tsactl signer set "$u" --host any >/dev/null 2>&1
    done <"$UNITS_DIR/stack-units"
}

# units_setup SERVICE: the case's directory, the cleanup, the stack's units bound to the
# stack's host (so that the case's servers do not try the stack's keys), a service with one
# policy (its unit added by units_join).
units_setup() {
    local out u
    UNITS_SERVICE=$1
    UNITS_DIR=$(casedir)
    trap units_cleanup EXIT
    tsa_psql -c "SELECT name FROM signers WHERE host IS NULL" >"$UNITS_DIR/stack-units"
    while read -r u; do
        out=$(tsactl signer set "$u" --host "$(hostname)" 2>&1) || bad "binding $u: $out"
    done <"$UNITS_DIR/stack-units"
    out=$(tsactl service add "$UNITS_SERVICE" 2>&1) || bad "service add: $out"
}

# units_join HOST: HOST's unit added to the group (on HOST: tsactl opens the key there).
units_join() {
    local out
    out=$(units_tsactl "$1" signer add "e2e-unit-$1" --uri "pkcs11:token=$1;object=unit;type=private" \
        --cert "$UNITS_DIR/$1/unit.pem" --chain "$TSA_VAR/pki/ca.pem" --host "$1" \
        --group "$UNITS_GROUP" 2>&1) || bad "signer add e2e-unit-$1: $out"
}

# units_server NAME: a token of its own (label NAME) with a P-256 key, its certificate
# (CN "e2e unit NAME", critical timeStamping EKU) and tsa.conf (host = NAME), in
# $UNITS_DIR/NAME.
units_server() {
    local name=$1 d=$UNITS_DIR/$1 module pin t
    mkdir -p "$d/tokens"
    module=$(sed -n 's/^pkcs11_module *= *//p' "$TSA_VAR/tsa.conf")
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
        "$d/tokens" >"$d/softhsm2.conf"
    pin=$(randhex 8)
    (umask 077; printf '%s\n' "$pin" >"$d/pin")
    SOFTHSM2_CONF=$d/softhsm2.conf softhsm2-util --init-token --free --label "$name" \
        --so-pin "$(randhex 8)" --pin "$pin" >/dev/null || bad "$name: softhsm2-util --init-token"
    SOFTHSM2_CONF=$d/softhsm2.conf GNUTLS_PIN=$pin p11tool --provider "$module" --login \
        --generate-privkey=ecdsa --curve=secp256r1 --label unit --id 0a \
        --outfile "$d/unit.pub" "pkcs11:token=$name" >/dev/null 2>"$d/p11tool.err" ||
        bad "$name: p11tool: $(oneline <"$d/p11tool.err")"
    t=$d/cert.tmpl
    printf '%s\n' "cn = \"e2e unit $name\"" 'organization = "TSA demo"' \
        "activation_date = \"$(date -u -d yesterday '+%Y-%m-%d %H:%M:%S')\"" \
        'expiration_days = 30' 'signing_key' 'non_repudiation' \
        'add_critical_extension = "2.5.29.37 0x300a06082b06010505070308"' >"$t"
    certtool --generate-certificate --load-pubkey "$d/unit.pub" \
        --load-ca-certificate "$TSA_VAR/pki/ca.pem" --load-ca-privkey "$TSA_VAR/pki/ca.key" \
        --template "$t" --outfile "$d/unit.pem" >/dev/null 2>"$d/certtool.err" ||
        bad "$name: certtool: $(oneline <"$d/certtool.err")"
    { grep -v -E '^(listen|signer_socket|signer_processes|pkcs11_env|pin_file|pin_env|workers|host|heartbeat_interval) *=' \
        "$TSA_VAR/tsa.conf"
      echo "pkcs11_env = SOFTHSM2_CONF=$d/softhsm2.conf"
      echo "pin_file = $d/pin"
      echo "signer_socket = $d/signer.sock"
      echo "listen = unix:$d/fcgi.sock"
      echo "workers = 1"
      echo "signer_processes = 1"
      echo "heartbeat_interval = 1"
      echo "host = $name"; } >"$d/tsa.conf"
}

# units_start NAME: its tsa-signer, then its tsa-fcgi; returns once both sockets are there.
units_start() {
    local d=$UNITS_DIR/$1 i
    setsid "$BUILD/tsa-signer" --conf "$d/tsa.conf" </dev/null >"$d/signer.log" 2>&1 3>&- &
    echo $! >"$d/signer.pid"
    for ((i = 0; i < 50; i++)); do [[ -S $d/signer.sock ]] && break; sleep 0.1; done
    [[ -S $d/signer.sock ]] || bad "$1: tsa-signer did not start: $(oneline <"$d/signer.log")"
    setsid "$BUILD/tsa-fcgi" --conf "$d/tsa.conf" </dev/null >"$d/fcgi.log" 2>&1 3>&- &
    echo $! >"$d/fcgi.pid"
    for ((i = 0; i < 50; i++)); do [[ -S $d/fcgi.sock ]] && break; sleep 0.1; done
    [[ -S $d/fcgi.sock ]] || bad "$1: tsa-fcgi did not start: $(oneline <"$d/fcgi.log")"
}

units_tsactl() { local h=$1; shift; "$BUILD/tsactl" --conf "$UNITS_DIR/$h/tsa.conf" "$@"; }

# units_stamp HOST: a token from HOST's tsa-fcgi for the units service: the signer's
# certificate in it must be HOST's, `tsactl token show` must name HOST's unit; prints the serial.
units_stamp() {
    local h=$1 d=$UNITS_DIR/$1 out serial subject i
    openssl rand 64 >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/req.tsq" 2>/dev/null || bad "openssl ts -query"
    # A server follows a configuration change within a second: the first tries may come early.
    for ((i = 0; i < 30; i++)); do
        out=$(python3 "$E2E_DIR/fcgi_client.py" --socket "$d/fcgi.sock" --body "$d/req.tsq" \
            --out "$d/resp.tsr" --service "$UNITS_SERVICE" --path "/$UNITS_SERVICE" 2>&1) || bad "$h: fcgi_client: $out"
        reply_text "$d/resp.tsr" | grep -q 'Status: Granted' && break
        sleep 0.2
    done
    reply_text "$d/resp.tsr" | grep -q 'Status: Granted' ||
        bad "$h: not granted: $(reply_text "$d/resp.tsr" | oneline)"
    openssl ts -verify -in "$d/resp.tsr" -queryfile "$d/req.tsq" -CAfile "$TSA_VAR/pki/ca.pem" \
        >/dev/null 2>&1 || bad "$h: openssl ts -verify failed"
    openssl ts -reply -in "$d/resp.tsr" -token_out -out "$d/token.der" 2>/dev/null
    subject=$(openssl pkcs7 -inform DER -in "$d/token.der" -print_certs -noout 2>/dev/null |
        sed -n 's/^subject=//p' | grep 'e2e unit' | head -n1)
    [[ $subject == *"e2e unit $h"* ]] || bad "$h: the token's signer certificate is '$subject'"
    serial=$(reply_text "$d/resp.tsr" | sed -n 's/^Serial number: //p')
    out=$(tsactl token show "$serial" 2>&1) || bad "$h: tsactl token show $serial: $out"
    grep -q "^unit: *e2e-unit-$h on $h\$" <<<"$out" ||
        bad "$h: tsactl token show says $(grep '^unit:' <<<"$out" || echo 'no unit')"
    echo "$h: token $serial signed by e2e-unit-$h ($subject)"
}

# units_health HOST OTHER...: HOST's /health is 200 and names its own unit, none of the others.
units_health() {
    local h=$1 d=$UNITS_DIR/$1 out o
    shift
    out=$(python3 "$E2E_DIR/fcgi_client.py" --socket "$d/fcgi.sock" --ops health --out "$d/health" 2>&1)
    [[ $out == 200* ]] || bad "$h: /health $out: $(oneline <"$d/health")"
    grep -q "^ok signer e2e-unit-$h:" "$d/health" || bad "$h: /health without its unit: $(oneline <"$d/health")"
    for o in "$@"; do
        ! grep -q "e2e-unit-$o" "$d/health" || bad "$h: /health reports $o's unit: $(oneline <"$d/health")"
    done
    python3 "$E2E_DIR/fcgi_client.py" --socket "$d/fcgi.sock" --ops metrics --out "$d/metrics" >/dev/null 2>&1 ||
        bad "$h: /metrics"
    grep -q "^tsa_host_info{host=\"$h\",version=\"[^\"]*\"} 1" "$d/metrics" || bad "$h: no tsa_host_info"
    grep -q "^tsa_signer_usable{signer=\"e2e-unit-$h\",host=\"$h\"} 1" "$d/metrics" ||
        bad "$h: /metrics: $(grep tsa_signer_usable "$d/metrics" | oneline)"
    grep -q "^tsa_signatures_total{signer=\"e2e-unit-$h\",host=\"$h\",result=\"ok\"} [1-9]" "$d/metrics" ||
        bad "$h: /metrics: $(grep tsa_signatures_total "$d/metrics" | oneline)"
    for o in "$@"; do
        ! grep -q "e2e-unit-$o" "$d/metrics" || bad "$h: /metrics reports $o's unit"
    done
    echo "$h: /health and /metrics judge its own unit only"
}

units_two_hosts() {
    local out h
    units_setup e2e-units
    for h in e2e-a e2e-b e2e-c; do units_server "$h"; done
    for h in e2e-a e2e-b; do units_join "$h"; done
    out=$(units_tsactl e2e-a signer add e2e-unit-dup --uri "pkcs11:token=e2e-a;object=unit;type=private" \
        --cert "$UNITS_DIR/e2e-a/unit.pem" --host e2e-a --group "$UNITS_GROUP" 2>&1) &&
        bad "a second unit of the group on e2e-a was added"
    grep -q 'bound to e2e-a already' <<<"$out" || bad "a second unit on e2e-a: $out"
    out=$(tsactl policy add e2e-units main --oid 1.3.6.1.4.1.32473.1.9 --signer e2e-unit-e2e-a 2>&1) ||
        bad "policy add: $out"
    for h in e2e-a e2e-b; do units_start "$h"; done
    for h in e2e-a e2e-b; do units_stamp "$h"; done
    units_health e2e-a e2e-b
    units_health e2e-b e2e-a

    # A third server is data: its unit joins the group, the policy is not touched.
    units_join e2e-c
    units_start e2e-c
    units_stamp e2e-c
    units_health e2e-c e2e-a e2e-b
    units_stamp e2e-a

    # A server with no unit of the group: the policy refused there, with an event; not a crash.
    out=$(units_tsactl e2e-a signer set e2e-unit-e2e-a --host e2e-z 2>&1) || bad "signer set: $out"
    events_wait "kind = 'policy-refused' AND detail LIKE '%host e2e-a,%no unit for host e2e-a%'" 1 min ||
        bad "no policy-refused event from e2e-a"
    out=$(units_tsactl e2e-a status 2>&1)
    grep -q "policy $UNITS_SERVICE/main: REFUSED" <<<"$out" || bad "tsactl status on e2e-a: $(oneline <<<"$out")"
    kill -0 "$(<"$UNITS_DIR/e2e-a/signer.pid")" && kill -0 "$(<"$UNITS_DIR/e2e-a/fcgi.pid")" ||
        bad "e2e-a's processes ended"
    units_stamp e2e-b
    out=$(units_tsactl e2e-a signer set e2e-unit-e2e-a --host e2e-a 2>&1) || bad "signer set back: $out"
    units_stamp e2e-a
    echo "a policy with no unit on e2e-a: refused there (event, tsactl status), served on e2e-b"
}

# units_status_has HOST PATTERN: `tsactl status` (from HOST's tsa.conf) has a line matching
# PATTERN within 6 s.
units_status_has() {
    local i
    for ((i = 0; i < 30; i++)); do
        units_tsactl "$1" status >"$UNITS_DIR/status" 2>&1
        grep -Eq "$2" "$UNITS_DIR/status" && return 0
        sleep 0.2
    done
    bad "tsactl status on $1 has no line '$2': $(oneline <"$UNITS_DIR/status")"
}

# The fleet: every supervisor's row (host, version, units, heartbeat every second here), a
# server SIGSTOPped marked silent after three missed heartbeats (tsactl status and the
# console's dashboard) and heard again after SIGCONT, one SIGKILLed silent, one stopped
# cleanly said so; both then removed from the fleet (tsactl server remove).
units_fleet() {
    local h out pid
    units_setup e2e-fleet
    for h in e2e-f1 e2e-f2; do units_server "$h"; units_join "$h"; done
    out=$(tsactl policy add "$UNITS_SERVICE" main --oid 1.3.6.1.4.1.32473.1.9 --signer e2e-unit-e2e-f1 2>&1) ||
        bad "policy add: $out"
    for h in e2e-f1 e2e-f2; do units_start "$h"; done
    for h in e2e-f1 e2e-f2; do
        units_status_has e2e-f1 "^server $h: ok, last heard [0-9.]+ s ago \(every 1 s\)"
        # The first beats may come before the signing process answers (it opens the key
        # first): its unit is awaited too, in a later row.
        units_status_has e2e-f1 "^  unit e2e-unit-$h: usable\$"
        grep -A3 "^server $h:" "$UNITS_DIR/status" | grep -q "^  unit e2e-unit-$h: usable\$" ||
            bad "tsactl status: $h's unit: $(grep -A3 "^server $h:" "$UNITS_DIR/status" | oneline)"
        ! grep -A3 "^server $h:" "$UNITS_DIR/status" | grep -v "e2e-unit-$h" | grep -q '^  unit e2e-unit' ||
            bad "tsactl status: $h lists another server's unit"
    done
    grep -q '^server e2e-f1: ok.*(this server)$' "$UNITS_DIR/status" || bad "e2e-f1 is not this server"
    out=$(tsa_psql -c "SELECT version FROM servers WHERE host = 'e2e-f2'")
    [[ -n $out && $out != unknown ]] || bad "e2e-f2's version: '$out'"
    echo "tsactl status lists both servers with their own units (version $out)"

    # SIGSTOP: silent once three heartbeats (1 s each) are missed; heard again after SIGCONT.
    pid=$(<"$UNITS_DIR/e2e-f2/fcgi.pid")
    kill -STOP "$pid"
    sleep 3
    units_status_has e2e-f1 '^server e2e-f2: SILENT: last heard [0-9.]+ s ago, 3 heartbeats of 1 s missed$'
    grep -q '^server e2e-f1: ok' "$UNITS_DIR/status" || bad "e2e-f1 is not ok beside a silent e2e-f2"
    grep -q '^servers: [0-9]* (1 silent)$' "$UNITS_DIR/status" || bad "$(grep '^servers:' "$UNITS_DIR/status")"
    # The console's dashboard says the same.
    out=$(console_admin_get /admin/ "$UNITS_DIR/dashboard.html") || bad "console: $out"
    [[ $out == 200 ]] || bad "the console's dashboard answered $out"
    grep -q '<td>e2e-f2</td><td class="bad">SILENT (3 heartbeats missed)' "$UNITS_DIR/dashboard.html" ||
        bad "the dashboard does not flag e2e-f2 silent"
    grep -q '<td>e2e-f1</td><td class="ok">' "$UNITS_DIR/dashboard.html" || bad "the dashboard: e2e-f1 not ok"
    grep -q '>e2e-unit-e2e-f1: usable<' "$UNITS_DIR/dashboard.html" || bad "the dashboard: no e2e-f1 unit"
    kill -CONT "$pid"
    units_status_has e2e-f1 '^server e2e-f2: ok'
    echo "e2e-f2 SIGSTOPped: silent after 3 missed heartbeats; SIGCONT: heard again"

    # SIGKILL of the supervisor: silent; a clean stop (SIGTERM): stopped, not silent.
    kill -KILL "$pid"
    sleep 3
    units_status_has e2e-f1 '^server e2e-f2: SILENT'
    kill -- "-$pid" 2>/dev/null
    kill "$(<"$UNITS_DIR/e2e-f1/fcgi.pid")"
    units_status_has e2e-f1 '^server e2e-f1: stopped [0-9.]+ s ago \(this server\)$'
    echo "e2e-f2 SIGKILLed: silent; e2e-f1 stopped cleanly: stopped"

    # Out of the fleet: a silent or stopped server is removed (with its event); a running one
    # is not (it would write its row again).
    out=$(tsactl server remove "$(hostname)" 2>&1) && bad "the running stack's server was removed"
    grep -q 'is running and heard from' <<<"$out" || bad "server remove of a running server: $out"
    out=$(tsactl --json server list 2>&1) || bad "server list: $out"
    grep -q '"host": "e2e-f2"' <<<"$out" || bad "server list without e2e-f2: $(oneline <<<"$out")"
    for h in e2e-f2 e2e-f1; do
        out=$(tsactl server remove "$h" 2>&1) || bad "server remove $h: $out"
    done
    out=$(tsactl server remove e2e-f1 2>&1) && bad "e2e-f1 removed twice"
    tsactl server list | grep -q 'e2e-f' && bad "server list still has e2e-f1 or e2e-f2"
    events_wait "kind = 'server-removed' AND detail LIKE 'server e2e-f_ removed from the fleet%'" 2 ||
        bad "no server-removed events"
    echo "tsactl server remove: e2e-f2 (silent) and e2e-f1 (stopped), not the running stack"
}

# The workers' role writes its server's row and nothing else there.
units_servers_grants() {
    local sock out
    sock=$(sed -n 's/^database *= *//p' "$TSA_VAR/tsa.conf")
    out=$(psql -X "$sock" -v ON_ERROR_STOP=1 -tAc "INSERT INTO servers (host, version, pid, state,
        started_at, heartbeat_at, heartbeat_interval, signer) VALUES ('e2e-grant', 'x', 1,
        'running', now(), now(), 5, 'answering');
        UPDATE servers SET heartbeat_at = now(), units = '[]' WHERE host = 'e2e-grant'" 2>&1) ||
        bad "the workers' role cannot write its row: $out"
    for sql in "SELECT version FROM servers" "DELETE FROM servers WHERE host = 'e2e-grant'" \
        "UPDATE servers SET host = 'e2e-other' WHERE host = 'e2e-grant'" "TRUNCATE servers"; do
        out=$(psql -X "$sock" -v ON_ERROR_STOP=1 -tAc "$sql" 2>&1) && bad "the workers' role may: $sql"
        grep -q 'permission denied' <<<"$out" || bad "$sql: $out"
    done
    tsa_psql -c "DELETE FROM servers WHERE host = 'e2e-grant'" >/dev/null
    echo "tsa_worker: insert and update of servers' rows; no SELECT of its values, no DELETE, no change of host, no TRUNCATE"
}

cases_units() {
    run_case units/two-hosts units_two_hosts
    run_case units/fleet units_fleet
    run_case units/servers-grants units_servers_grants
}
