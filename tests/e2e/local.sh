# What a local user who is not the operator can reach in the stack (run as root, the stack gives
# each daemon its own unprivileged user): the worker's and the console's sockets are 0660 in
# directories of the daemon's user and the web server's group (2750), so a local user cannot
# speak FastCGI to them and claim HTTPS=on or a client certificate; PostgreSQL authenticates by
# peer, so a local user cannot connect as the owner or the workers' role, and the workers'
# user cannot connect as the owner; nothing that parses a request runs as root or keeps a
# capability.  And the stack starts from a checkout under a directory other users cannot pass
# (/root is 0700 on Debian), its state then in /var/lib/tsa-stack/, that directory untouched.
# The cases need root (they switch users); as another user they do not run.
# shellcheck shell=bash

# as_nobody COMMAND...: COMMAND as the user nobody, without groups.
as_nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$@"; }

local_mode() { stat -c '%a %U %G' "$1"; }

# The sockets' and their directories' modes and owners.
local_sockets() {
    local m
    m=$(local_mode "$TSA_VAR/run/tsa-fcgi")
    [[ $m == "2750 tsa www-data" ]] || bad "run/tsa-fcgi is '$m', want '2750 tsa www-data'"
    m=$(local_mode "$TSA_VAR/run/tsa-admin")
    [[ $m == "2750 tsa-admin www-data" ]] || bad "run/tsa-admin is '$m', want '2750 tsa-admin www-data'"
    m=$(local_mode "$TSA_VAR/run/tsa-fcgi/tsa.sock")
    [[ $m == "660 tsa www-data" ]] || bad "tsa.sock is '$m', want '660 tsa www-data'"
    m=$(local_mode "$TSA_VAR/run/tsa-admin/admin.sock")
    [[ $m == "660 tsa-admin www-data" ]] || bad "admin.sock is '$m', want '660 tsa-admin www-data'"
    m=$(local_mode "$TSA_VAR/softhsm")
    [[ $m == "700 tsa-signer "* ]] || bad "softhsm/ (the token and the PIN) is '$m', want 700 tsa-signer"
    m=$(local_mode "$TSA_VAR/run/tsa-signer")
    [[ $m == "2750 tsa-signer tsa" ]] || bad "run/tsa-signer is '$m', want '2750 tsa-signer tsa'"
    m=$(local_mode "$TSA_VAR/run/tsa-signer/signer.sock")
    [[ $m == "660 tsa-signer tsa" ]] || bad "signer.sock is '$m', want '660 tsa-signer tsa'"
}

# A local user cannot speak FastCGI to the worker or the console, with the request the review
# sent (HTTPS=on, SSL_CLIENT_VERIFY=SUCCESS and the administrator's public certificate).
local_fcgi() {
    local s out
    for s in "$TSA_VAR/run/tsa-fcgi/tsa.sock" "$TSA_VAR/run/tsa-admin/admin.sock"; do
        [[ -S $s ]] || bad "no socket $s"
        out=$(as_nobody env -i REQUEST_METHOD=GET DOCUMENT_URI=/admin/ HTTPS=on SSL_CLIENT_VERIFY=SUCCESS \
            SSL_CLIENT_CERT="$(cat "$TSA_VAR/pki/admin.pem")" cgi-fcgi -bind -connect "$s" </dev/null 2>&1) &&
            bad "nobody spoke FastCGI to $s: $(oneline <<<"$out")"
        grep -q 'Could not connect' <<<"$out" || bad "$s: unexpected answer to nobody: $(oneline <<<"$out")"
        echo "nobody, $s: $(oneline <<<"$out")"
    done
}

# PostgreSQL: nobody gets no role; the workers' user gets its own role only.
local_postgres() {
    local role out sock=$TSA_VAR/pg/run
    for role in tsa tsa_fcgi tsa_signer postgres; do
        out=$(as_nobody psql -X -h "$sock" -U "$role" -d tsa -tAc 'SELECT 1' 2>&1) &&
            bad "nobody connected to PostgreSQL as $role"
        grep -q 'authentication failed' <<<"$out" || bad "nobody as $role: $(oneline <<<"$out")"
    done
    out=$(setpriv --reuid=tsa --regid="$(id -g tsa)" --init-groups -- psql -X -h "$sock" -U tsa -d tsa -tAc 'SELECT 1' 2>&1) &&
        bad "the workers' user connected as the owner tsa"
    grep -q 'authentication failed' <<<"$out" || bad "tsa as tsa: $(oneline <<<"$out")"
    out=$(setpriv --reuid=tsa --regid="$(id -g tsa)" --init-groups -- psql -X -h "$sock" -U tsa_fcgi -d tsa -tAc 'SELECT current_user' 2>&1) ||
        bad "the workers' user cannot connect as tsa_fcgi: $(oneline <<<"$out")"
    [[ $out == tsa_fcgi ]] || bad "tsa as tsa_fcgi: $out"
    out=$(setpriv --reuid=tsa --regid="$(id -g tsa)" --init-groups -- psql -X -h "$sock" -U tsa_signer -d tsa -tAc 'SELECT 1' 2>&1) &&
        bad "the workers' user connected as the signer's role tsa_signer"
    grep -q 'authentication failed' <<<"$out" || bad "tsa as tsa_signer: $(oneline <<<"$out")"
}

# Who runs what: no daemon that parses a request runs as root or keeps a capability.
local_users() {
    local pid master user caps nnp web
    master=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-fcgi.pid")
    for pid in "$master" $(pgrep -P "$master"); do
        user=$(ps -o user= -p "$pid")
        caps=$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")
        nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status")
        [[ $user == tsa && $caps == 0000000000000000 && $nnp == 1 ]] ||
            bad "tsa-fcgi pid $pid: user $user, CapEff $caps, NoNewPrivs $nnp"
    done
    master=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-signer.pid")
    for pid in "$master" $(pgrep -P "$master"); do
        user=$(ps -o user= -p "$pid")
        caps=$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")
        nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status")
        [[ $user == tsa-signer && $caps == 0000000000000000 && $nnp == 1 ]] ||
            bad "tsa-signer pid $pid: user $user, CapEff $caps, NoNewPrivs $nnp"
    done
    pid=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-admin.pid")
    user=$(ps -o user= -p "$pid")
    caps=$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")
    [[ $user == tsa-admin && $caps == 0000000000000000 ]] || bad "tsa-admin: user $user, CapEff $caps"
    case $TSA_WEB in
        nginx) web=nginx ;; apache) web=apache2 ;; lighttpd) web=lighttpd ;;
    esac
    # The web server's processes that serve requests (nginx's and Apache's master stays root to
    # reopen logs and bind; lighttpd drops itself).
    pgrep -u www-data -x "$web" >/dev/null || bad "no $web process runs as www-data"
    echo "tsa-fcgi: tsa, tsa-signer: tsa-signer, tsa-admin: tsa-admin, $web: www-data"
}

# A stack whose TSA_VAR and build lie under a directory other users cannot pass (a clone under
# /root, mode 0700 on Debian) starts, grants a token, and leaves that directory's mode alone;
# its state is in /var/lib/tsa-stack/, the daemons run from copies there.
local_private_home() {
    local d home code p1 p2 rc=0
    d=$(casedir)
    chmod 700 "$d"
    mkdir "$d/build"
    cp "$BUILD/tsa-fcgi" "$BUILD/tsa-signer" "$BUILD/tsa-admin" "$BUILD/tsactl" "$d/build/"
    p1=$(free_port "$TSA_HTTP_PORT" "$TSA_HTTPS_PORT") && p2=$(free_port "$TSA_HTTP_PORT" "$TSA_HTTPS_PORT" "$p1") ||
        bad "no free loopback port"
    TSA_VAR=$d/var TSA_BUILD=$d/build TSA_HTTP_PORT=$p1 TSA_HTTPS_PORT=$p2 TSA_WORKERS=1 \
        "$STACK" start >"$d/start.log" 2>&1 || rc=$?
    home=$(readlink "$d/var" || true)
    if (( rc == 0 )); then
        openssl ts -query -data "$d/start.log" -sha256 -out "$d/q.tsq" 2>/dev/null
        code=$(curl -s -o "$d/r.tsr" -w '%{http_code}' --max-time 10 -H 'Content-Type: application/timestamp-query' \
            --data-binary @"$d/q.tsq" "http://127.0.0.1:$p1/tsa") || true
    fi
    TSA_VAR=$d/var TSA_BUILD=$d/build TSA_HTTP_PORT=$p1 TSA_HTTPS_PORT=$p2 "$STACK" stop \
        >>"$d/start.log" 2>&1 || true
    [[ $home == /var/lib/tsa-stack/* ]] && rm -rf "$home"
    (( rc == 0 )) || bad "the stack did not start under a 0700 directory: $(grep 'error:' "$d/start.log" | tail -n1)"
    [[ $home == /var/lib/tsa-stack/* ]] || bad "TSA_VAR is not a link into /var/lib/tsa-stack/ ($home)"
    [[ $(stat -c %a "$d") == 700 ]] || bad "the stack changed the mode of the directory above TSA_VAR"
    [[ $code == 200 ]] || bad "no token from the stack under a 0700 directory (HTTP $code)"
    openssl ts -reply -in "$d/r.tsr" -text 2>/dev/null | grep -q 'Status: Granted' || bad "the token was not granted"
    echo "state in $home; token granted"
}

cases_local() {
    (( $(id -u) == 0 )) || return 0
    run_case local/sockets local_sockets
    run_case local/fcgi-nobody local_fcgi
    run_case local/postgres-peer local_postgres
    run_case local/users local_users
    run_case local/private-home local_private_home
}
