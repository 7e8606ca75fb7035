# Operations: the workers' database role (least privilege, schema/003_roles.sql) and the
# supervision of tsa-fcgi: a worker killed while idle is replaced at once; a worker is recycled
# after max_requests with no request lost; SIGTERM lets an in-flight request finish before the
# supervisor exits.  The last two run a tsa-fcgi instance of their own (a copy of the stack's
# tsa.conf on its own unix socket, driven by tests/e2e/fcgi_client.py with no web server), so
# the stack's workers are left alone.
# shellcheck shell=bash

SUP_CLIENT=$E2E_DIR/fcgi_client.py

# sup_workers SUPERVISOR_PID: the worker pids, sorted, on one line.
sup_workers() { pgrep -P "$1" | sort -n | tr '\n' ' ' | sed 's/ $//'; }

# sup_pgbin: the directory of psql (PATH, else the highest Debian PostgreSQL).
sup_psql() {
    local found
    if command -v psql >/dev/null 2>&1; then echo psql; return; fi
    found=(/usr/lib/postgresql/*/bin/psql)
    echo "${found[-1]}"
}

# sup_worker_sql SQL: runs SQL as the workers' own role (the `database` conninfo of tsa.conf).
sup_worker_sql() {
    local conninfo
    conninfo=$(sed -n 's/^database *= *//p' "$TSA_VAR/tsa.conf")
    "$(sup_psql)" -X -q -At -v ON_ERROR_STOP=1 -d "$conninfo" -c "$1" 2>&1
}

# sup_query DIR: a fresh RFC 3161 request in DIR/q.tsq.
sup_query() {
    head -c 64 /dev/urandom >"$1/data"
    openssl ts -query -data "$1/data" -sha256 -cert -out "$1/q.tsq" 2>/dev/null || bad "openssl ts -query failed"
}

# sup_granted DIR REPLY: the reply is Granted (openssl ts -reply).
sup_granted() {
    reply_text "$2" | grep -q '^Status: Granted' ||
        bad "not granted: $(reply_text "$2" | grep -E '^(Status|Failure)' | oneline)"
}

# ---- the database role -------------------------------------------------------------------------
supervision_roles() {
    local user out
    user=$(sed -n 's/^database *= *.*user=\([a-z_0-9]*\).*/\1/p' "$TSA_VAR/tsa.conf")
    [[ $user == tsa_fcgi ]] || bad "the workers do not connect as tsa_fcgi (database user: '${user:-none}')"
    out=$(sup_worker_sql "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user") ||
        bad "cannot connect as tsa_fcgi: $(oneline <<<"$out")"
    [[ $out == 'f|f|f' ]] || bad "tsa_fcgi has powers: $out"
    out=$(sup_worker_sql "SELECT pg_has_role('tsa_fcgi', 'tsa_worker', 'member')")
    [[ $out == t ]] || bad "tsa_fcgi is not a member of tsa_worker: $out"
    # Refused: changing or deleting the archive, reading it, the console's secrets and its
    # administrators, changing the configuration or the events, creating objects.
    local sql
    for sql in \
        "INSERT INTO issued_tokens (serial, gen_time, service, policy_oid, protocol, hash_alg, imprint, token) VALUES (1, now(), 'probe', '1.2.3', 'rfc3161', 'sha256', '\\x00', '\\x00')" \
        "UPDATE issued_tokens SET service = 'x'" \
        "DELETE FROM issued_tokens" \
        "TRUNCATE issued_tokens" \
        "SELECT count(*) FROM issued_tokens" \
        "SELECT secret FROM admin_secret" \
        "SELECT count(*) FROM administrators" \
        "UPDATE events SET detail = 'x'" \
        "DELETE FROM events" \
        "UPDATE policies SET name = name" \
        "INSERT INTO clients (service_id, name, subject, fingerprint_sha256, issuer_der, serial, certificate) VALUES (1, 'x', 'x', sha256('x'), '', '', '')" \
        "DELETE FROM signers" \
        "UPDATE config_version SET version = version" \
        "CREATE TABLE sup_probe (i int)"; do
        if out=$(sup_worker_sql "$sql"); then
            bad "allowed as tsa_fcgi: $sql"
        fi
        grep -q 'permission denied' <<<"$out" || bad "'$sql' failed for another reason: $(oneline <<<"$out")"
        echo "refused: $sql"
    done
    # Allowed: what the worker does (rolled back); the tokens are the signing process's to
    # record (its role tsa_signer, a member of tsa_issuer).
    out=$(sup_worker_sql "BEGIN;
INSERT INTO events (severity, kind, detail) VALUES ('info', 'probe', 'supervision/roles');
SELECT count(*) FROM signers, services, policies, policy_filters, clients, config_version WHERE false;
ROLLBACK;") || bad "the worker's own statements are refused: $(oneline <<<"$out")"
    echo "allowed: INSERT events, SELECT of the configuration (rolled back)"
    local sconn
    sconn=$(sed -n 's/^signer_database *= *//p' "$TSA_VAR/tsa.conf")
    [[ $sconn == *user=tsa_signer* ]] || bad "the signer does not connect as tsa_signer ($sconn)"
    out=$("$(sup_psql)" -X -q -At -v ON_ERROR_STOP=1 -d "$sconn" -c "BEGIN;
INSERT INTO issued_tokens (serial, gen_time, service, policy_oid, protocol, hash_alg, imprint, token)
    VALUES (1, now(), 'probe', '1.2.3', 'rfc3161', 'sha256', '\\x00', '\\x00');
ROLLBACK;" 2>&1) || bad "the signer's role cannot record a token: $(oneline <<<"$out")"
    for sql in "SELECT token FROM issued_tokens" "SELECT imprint, requester FROM issued_tokens" \
        "DELETE FROM issued_tokens" "UPDATE policies SET name = name"; do
        out=$("$(sup_psql)" -X -q -At -v ON_ERROR_STOP=1 -d "$sconn" -c "$sql" 2>&1) &&
            bad "allowed as tsa_signer: $sql"
        grep -q 'permission denied' <<<"$out" || bad "tsa_signer '$sql': $(oneline <<<"$out")"
    done
    echo "tsa_signer: INSERT issued_tokens allowed (and its serials, for ON CONFLICT); reading, deleting tokens and changing the configuration refused"
    # Nothing of the probe stayed.
    out=$(tsa_psql -c "SELECT count(*) FROM issued_tokens WHERE service = 'probe'") || bad "psql as owner: $out"
    [[ $out == 0 ]] || bad "the rolled-back probe token is in the archive"
}

# ---- a worker killed while idle ----------------------------------------------------------------
supervision_kill_idle() {
    local d sup before after victim i code n
    d=$(casedir)
    sup=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-fcgi.pid")
    before=$(sup_workers "$sup")
    n=$(wc -w <<<"$before")
    (( n >= 1 )) || bad "no workers under the supervisor $sup"
    victim=${before%% *}
    kill -KILL "$victim" || bad "cannot kill worker $victim"
    # Replaced at once: a new pid and the count restored within 1.5 s.
    for ((i = 0; i < 30; i++)); do
        sleep 0.05
        after=$(sup_workers "$sup")
        [[ " $after " != *" $victim "* && $(wc -w <<<"$after") == "$n" ]] && break
    done
    echo "workers: $before -> $after after $(( (i + 1) * 50 )) ms"
    [[ " $after " != *" $victim "* ]] || bad "the killed worker $victim is still listed"
    (( $(wc -w <<<"$after") == n )) || bad "worker count not restored within 1.5 s: $before -> $after"
    (( i < 30 )) || bad "not replaced within 1.5 s"
    # Requests keep succeeding.
    sup_query "$d"
    for ((i = 0; i < 10; i++)); do
        code=$(post "http://127.0.0.1:$TSA_HTTP_PORT/tsa" "$d/q.tsq" "$d/r$i.tsr") || bad "curl failed"
        [[ $code == 200\ * ]] || bad "request $i after the kill: $code"
        sup_granted "$d" "$d/r$i.tsr"
    done
    grep -q "worker $victim killed by signal 9" "$TSA_VAR/log/tsa-fcgi.log" ||
        bad "the supervisor did not log the killed worker"
}

# ---- an instance of its own ----------------------------------------------------------------------
# sup_start DIR WORKERS [EXTRA CONF LINE...]: tsa-fcgi on DIR/s.sock with a copy of tsa.conf;
# its pid in DIR/sup.pid, its log DIR/fcgi.log.
sup_start() {
    local d=$1 workers=$2 pid i
    shift 2
    grep -vE '^(listen|workers|max_requests) *=' "$TSA_VAR/tsa.conf" >"$d/tsa.conf"
    printf '%s\n' "listen = unix:$d/s.sock" "workers = $workers" "$@" >>"$d/tsa.conf"
    setsid "$BUILD/tsa-fcgi" --conf "$d/tsa.conf" </dev/null >"$d/fcgi.log" 2>&1 3>&- &
    pid=$!
    echo "$pid" >"$d/sup.pid"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || bad "tsa-fcgi exited at start: $(tail -n 3 "$d/fcgi.log" | oneline)"
        [[ -S $d/s.sock && $(sup_workers "$pid" | wc -w) == "$workers" ]] && return 0
        sleep 0.1
    done
    bad "tsa-fcgi did not start within 10 s"
}

sup_stop() {
    local pid
    pid=$(<"$1/sup.pid")
    kill -TERM "$pid" 2>/dev/null || return 0
    wait "$pid" 2>/dev/null || true
}

# sup_request DIR N: request N to the instance; the reply in DIR/rN.tsr, granted.
sup_request() {
    local d=$1 n=$2 out
    out=$(python3 "$SUP_CLIENT" --socket "$d/s.sock" --body "$d/q.tsq" --out "$d/r$n.tsr" 2>&1) ||
        bad "request $n failed: $(oneline <<<"$out")"
    [[ $out == '200 application/timestamp-reply' ]] || bad "request $n: $out"
    sup_granted "$d" "$d/r$n.tsr"
}

supervision_max_requests() {
    local d i pids=() distinct recycled
    d=$(casedir)
    sup_query "$d"
    sup_start "$d" 1 "max_requests = 5"
    SUP_DIR=$d; trap 'sup_stop "$SUP_DIR"' EXIT
    # One worker: its pid after each request; 12 requests recycle it after the 5th and the 10th.
    for ((i = 1; i <= 12; i++)); do
        sup_request "$d" "$i"
        pids+=("$(sup_workers "$(<"$d/sup.pid")")")
    done
    echo "worker after each request: ${pids[*]}"
    distinct=$(printf '%s\n' "${pids[@]}" | grep -v '^$' | sort -u | wc -l)
    recycled=$(grep -c 'recycling after 5 requests' "$d/fcgi.log")
    echo "distinct workers seen: $distinct; recycled: $recycled"
    (( recycled == 2 )) || bad "recycled $recycled times for 12 requests with max_requests = 5"
    (( distinct >= 3 )) || bad "the worker pid changed $((distinct - 1)) times, want 2"
    ! grep -qE 'killed by signal|exited with' "$d/fcgi.log" || bad "a recycled worker did not exit cleanly"
}

supervision_sigterm_inflight() {
    local d sup i cpid out
    d=$(casedir)
    sup_query "$d"
    sup_start "$d" 1
    SUP_DIR=$d; trap 'sup_stop "$SUP_DIR"' EXIT
    sup=$(<"$d/sup.pid")
    # The params and half the body, then SIGTERM, then the rest 1 s later.
    python3 "$SUP_CLIENT" --socket "$d/s.sock" --body "$d/q.tsq" --out "$d/r.tsr" \
        --split-marker "$d/half" --split-wait 1 >"$d/client.out" 2>&1 &
    cpid=$!
    for ((i = 0; i < 100; i++)); do [[ -e $d/half ]] && break; sleep 0.05; done
    [[ -e $d/half ]] || bad "the client did not send half a request"
    sleep 0.2
    kill -TERM "$sup" || bad "the supervisor is gone before SIGTERM"
    wait "$cpid" || bad "the in-flight request failed: $(oneline <"$d/client.out")"
    out=$(<"$d/client.out")
    [[ $out == '200 application/timestamp-reply' ]] || bad "in-flight request: $out"
    sup_granted "$d" "$d/r.tsr"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    echo "in-flight request answered: $out, granted and verified"
    # Then the supervisor exits.
    for ((i = 0; i < 100; i++)); do
        kill -0 "$sup" 2>/dev/null || break
        sleep 0.1
    done
    ! kill -0 "$sup" 2>/dev/null || bad "the supervisor still runs 10 s after SIGTERM"
    wait "$sup" 2>/dev/null
    echo "supervisor exited $? after the request"
    ! grep -qE 'killed by signal|did not stop' "$d/fcgi.log" || bad "a worker was killed: $(oneline <"$d/fcgi.log")"
}

# Repeated refusals a worker still holds (refusals.h: counted, written once a second) are
# written when it stops on SIGTERM: the events stand for every refusal, none is lost.
supervision_sigterm_refusals() {
    local d svc i n=10 where out
    d=$(casedir)
    sup_query "$d"
    sup_start "$d" 1
    SUP_DIR=$d; trap 'sup_stop "$SUP_DIR"' EXIT
    svc=t-sup-flush-$RANDOM
    where="kind = 'request-refused' AND service = '$svc'"
    for ((i = 0; i < n; i++)); do
        out=$(python3 "$SUP_CLIENT" --socket "$d/s.sock" --body "$d/q.tsq" --out "$d/r" \
            --service "$svc" 2>&1) || bad "request $i failed: $(oneline <<<"$out")"
        [[ $out == 404\ * ]] || bad "request $i to an unknown service: $out, want 404"
    done
    echo "written before SIGTERM: $(events_sum "$where") of $n"
    sup_stop "$d"
    (( $(events_sum "$where") == n )) ||
        bad "after SIGTERM the events stand for $(events_sum "$where") of $n refusals"
    [[ $(grep -F "service=$svc " "$d/fcgi.log" |
        sed -n 's/.* refused\( \([0-9]*\) times in [0-9]* ms\)\{0,1\}: .*/\2/p' |
        awk '{ n += ($1 == "" ? 1 : $1) } END { print n + 0 }') == "$n" ]] ||
        bad "the log lines do not stand for $n refusals: $(grep -F "service=$svc " "$d/fcgi.log" | oneline)"
}

# ---- deploy/systemd ----------------------------------------------------------------------------
# systemd-analyze verify on the units (ExecStart pointed at the built binaries: verify checks
# they exist); any complaint about them fails the case.
supervision_systemd() {
    local d out u
    command -v systemd-analyze >/dev/null 2>&1 || bad "systemd-analyze is missing (package systemd)"
    d=$(casedir)
    cp "$ROOT"/deploy/systemd/tsa-fcgi.socket "$ROOT"/deploy/systemd/*.service "$d/"
    sed -i "s#/usr/local/bin/#$BUILD/#" "$d"/*.service
    out=$(systemd-analyze verify --man=no "$d/tsa-fcgi.socket" "$d/tsa-fcgi.service" "$d/tsa-signer.service" \
        "$d/tsa-admin.service" 2>&1) ||
        bad "systemd-analyze verify failed: $(oneline <<<"$out")"
    echo "$out"
    ! grep -E 'tsa-(fcgi|signer|admin)\.(service|socket)' <<<"$out" || bad "systemd-analyze complains: $(oneline <<<"$out")"
    # What the units promise, present.
    for u in "$d/tsa-fcgi.service" "$d/tsa-signer.service" "$d/tsa-admin.service"; do
        for k in 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'PrivateTmp=yes' 'ProtectHome=yes' \
            'CapabilityBoundingSet=' 'SystemCallFilter=@system-service' 'RestrictAddressFamilies='; do
            grep -q "^$k" "$u" || bad "${u##*/} lacks $k"
        done
    done
    # Each program its own user: the console's may connect as the database's owner, the
    # workers' must not.
    grep -qx 'User=tsa' "$d/tsa-fcgi.service" || bad "tsa-fcgi.service does not run as tsa"
    grep -qx 'User=tsa-admin' "$d/tsa-admin.service" || bad "tsa-admin.service does not run as tsa-admin"
    grep -qx 'User=tsa-signer' "$d/tsa-signer.service" || bad "tsa-signer.service does not run as tsa-signer"
    # The PIN and the token are the signer's alone: the workers' unit cannot reach either.
    grep -q '^LoadCredential=pin:' "$d/tsa-signer.service" || bad "tsa-signer.service takes no PIN credential"
    grep -q '^ReadWritePaths=/var/lib/softhsm/tokens$' "$d/tsa-signer.service" || bad "tsa-signer.service: ReadWritePaths"
    ! grep -q '^LoadCredential' "$d/tsa-fcgi.service" || bad "tsa-fcgi.service takes a credential"
    ! grep -q '^ReadWritePaths' "$d/tsa-fcgi.service" || bad "tsa-fcgi.service may write somewhere"
    grep -q '^InaccessiblePaths=.*/var/lib/softhsm/tokens' "$d/tsa-fcgi.service" ||
        bad "tsa-fcgi.service does not hide the token directory"
    # The worker takes the socket systemd hands it (LISTEN_FDS, fd 3, no listen in tsa.conf):
    # systemd-socket-activate plays systemd's part.
    if command -v systemd-socket-activate >/dev/null 2>&1; then
        grep -vE '^(listen|workers|max_requests) *=' "$TSA_VAR/tsa.conf" >"$d/tsa.conf"
        echo "workers = 1" >>"$d/tsa.conf"
        sup_query "$d"
        systemd-socket-activate -l "$d/s.sock" "$BUILD/tsa-fcgi" --conf "$d/tsa.conf" </dev/null >"$d/fcgi.log" 2>&1 3>&- &
        echo $! >"$d/sup.pid"
        SUP_DIR=$d; trap 'sup_stop "$SUP_DIR"' EXIT
        for ((u = 0; u < 50; u++)); do [[ -S $d/s.sock ]] && break; sleep 0.1; done
        sup_request "$d" 1
        echo "a token through the socket-activated worker"
    fi
    # The sysusers file parses.
    if command -v systemd-sysusers >/dev/null 2>&1; then
        mkdir -p "$d/root/etc"
        : >"$d/root/etc/passwd"; : >"$d/root/etc/group"
        echo "g softhsm -" >"$d/softhsm.conf"
        out=$(systemd-sysusers --root="$d/root" "$d/softhsm.conf" "$ROOT/deploy/systemd/tsa.sysusers.conf" 2>&1) ||
            bad "systemd-sysusers: $(oneline <<<"$out")"
        grep -q '^tsa:' "$d/root/etc/passwd" || bad "systemd-sysusers made no user tsa"
        grep -q '^tsa-admin:' "$d/root/etc/passwd" || bad "systemd-sysusers made no user tsa-admin"
        grep -q '^tsa-signer:' "$d/root/etc/passwd" || bad "systemd-sysusers made no user tsa-signer"
        ! grep -q '^softhsm:.*tsa' "$d/root/etc/group" || bad "a user of the TSA is in the group softhsm"
    fi
}

# ---- deploy/softhsm/setup.sh -------------------------------------------------------------------
# In a temporary SoftHSM2 configuration: the token and the key made, the key sensitive and never
# extractable (p11tool's flags, and an export refused), the URI printed, and a second run keeps both.
supervision_softhsm() {
    local d out module flags
    d=$(casedir)
    mkdir -p "$d/tokens"
    printf '%s\n' "directories.tokendir = $d/tokens" "objectstore.backend = file" "log.level = ERROR" >"$d/softhsm2.conf"
    out=$(SOFTHSM2_CONF=$d/softhsm2.conf "$ROOT/deploy/softhsm/setup.sh" --token e2e --key e2e-key --type p256 \
        --pin-file "$d/pin" --p11kit-dir "$d/p11kit" 2>"$d/err") || bad "setup.sh failed: $(oneline <"$d/err")"
    echo "$out"; cat "$d/err"
    [[ $(head -n1 <<<"$out") == 'pkcs11:token=e2e;object=e2e-key;type=private' ]] ||
        bad "setup.sh did not print the key's URI first: $(head -n1 <<<"$out")"
    grep -q 'tsactl signer add' <<<"$out" || bad "setup.sh printed no next steps"
    [[ $(stat -c %a "$d/pin") == 600 ]] || bad "the PIN file is not 0600"
    module=$(sed -n 's/^ *pkcs11_module = //p' <<<"$out")
    flags=$(SOFTHSM2_CONF=$d/softhsm2.conf GNUTLS_PIN=$(<"$d/pin") p11tool --provider "$module" --login \
        --list-privkeys "pkcs11:token=e2e;object=e2e-key;type=private" 2>&1) || bad "p11tool: $(oneline <<<"$flags")"
    echo "$flags"
    grep -q 'Type: Private key (EC/ECDSA-SECP256R1)' <<<"$flags" || bad "no P-256 private key on the token"
    flags=$(sed -n 's/^[[:space:]]*Flags: //p' <<<"$flags")
    [[ $flags == *CKA_SENSITIVE* ]] || bad "the key is not sensitive: $flags"
    [[ $flags == *CKA_NEVER_EXTRACTABLE* && $flags != *" CKA_EXTRACTABLE"* ]] || bad "the key is extractable: $flags"
    if SOFTHSM2_CONF=$d/softhsm2.conf GNUTLS_PIN=$(<"$d/pin") p11tool --provider "$module" --login \
        --export "pkcs11:token=e2e;object=e2e-key;type=private" >"$d/export" 2>&1; then
        bad "the private key was exported"
    fi
    # Registered with p11-kit: the system's module file, or one written in --p11kit-dir.
    grep -q 'p11-kit: ' "$d/err" || bad "setup.sh said nothing about p11-kit"
    if [[ -f $d/p11kit/softhsm2.module ]]; then
        grep -q "^module: $module\$" "$d/p11kit/softhsm2.module" || bad "the p11-kit module file names another module"
    fi
    # Idempotent: the same key kept.
    out=$(SOFTHSM2_CONF=$d/softhsm2.conf "$ROOT/deploy/softhsm/setup.sh" --token e2e --key e2e-key --type p256 \
        --pin-file "$d/pin" --p11kit-dir "$d/p11kit" 2>&1) || bad "second run failed: $(oneline <<<"$out")"
    grep -q "key 'e2e-key' exists on 'e2e': kept" <<<"$out" || bad "second run did not keep the key"
    (( $(SOFTHSM2_CONF=$d/softhsm2.conf GNUTLS_PIN=$(<"$d/pin") p11tool --provider "$module" --login \
        --list-privkeys "pkcs11:token=e2e" | grep -c 'type=private') == 1 )) || bad "not exactly one key after two runs"
}

# ---- no core dumps of the processes that hold secrets ------------------------------------------
# tsa-fcgi's supervisor and workers (the PIN, the conninfo) and tsa-admin (the conninfo, the
# CSRF key) run with RLIMIT_CORE 0 (conf_protect_process, which also makes them
# non-dumpable: tests/unit/test_util.c checks that flag, which /proc does not show to root).
supervision_no_core_dumps() {
    local sup pid pids lim
    sup=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-fcgi.pid")
    pids="$sup $(sup_workers "$sup")"
    [[ -s $TSA_VAR/run/tsa-admin.pid ]] && pids+=" $(tr -dc '0-9' <"$TSA_VAR/run/tsa-admin.pid")"
    (( $(wc -w <<<"$pids") >= 3 )) || bad "no workers found ($pids)"
    for pid in $pids; do
        lim=$(grep '^Max core file size' "/proc/$pid/limits") || bad "no /proc/$pid/limits"
        echo "$pid ($(tr -d '\0' <"/proc/$pid/comm")): $lim"
        [[ $lim =~ ^Max\ core\ file\ size\ +0\ +0\ +bytes ]] ||
            bad "process $pid ($(cat "/proc/$pid/comm")) may dump core: $lim"
    done
}

# ---- the FastCGI sockets' mode ------------------------------------------------------------------
# tsa.sock and admin.sock are created 0660 (the umask around bind): only their owner and group
# (the web server's) may connect, since the FastCGI params are trusted.
supervision_socket_modes() {
    local s m
    for s in "$TSA_VAR/run/tsa-fcgi/tsa.sock" "$TSA_VAR/run/tsa-admin/admin.sock"; do
        [[ -S $s ]] || bad "no socket $s"
        m=$(stat -c %a "$s")
        echo "${s##*/}: $m"
        [[ $m == 660 ]] || bad "${s##*/} has mode $m, not 660"
    done
}

cases_supervision() {
    run_case supervision/roles supervision_roles
    run_case supervision/kill-idle supervision_kill_idle
    run_case supervision/max-requests supervision_max_requests
    run_case supervision/sigterm-inflight supervision_sigterm_inflight
    run_case supervision/sigterm-refusals supervision_sigterm_refusals
    run_case supervision/systemd supervision_systemd
    run_case supervision/softhsm supervision_softhsm
    run_case supervision/no-core-dumps supervision_no_core_dumps
    run_case supervision/socket-modes supervision_socket_modes
}
