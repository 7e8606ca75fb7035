#!/usr/bin/env bash
# The local stack: SoftHSM2 token, demo PKI, private PostgreSQL cluster, the signing process
# tsa-signer, tsa-fcgi workers (and tsa-admin when built) and a web server in front (nginx, Apache httpd or lighttpd), all on
# loopback, all state under $TSA_VAR.
#
#   stack.sh start     bring everything up in the background; returns when /tsa answers
#   stack.sh stop      stop everything (idempotent)
#   stack.sh restart   stop, then start (picks up rebuilt programs)
#   stack.sh run       start, print URLs and example commands, wait for Ctrl-C/SIGTERM, stop
#   stack.sh status    what runs, and the URLs (exit status 3 when something is stopped)
#   stack.sh pg-stop | pg-start   helpers (used by the tests): stop/start PostgreSQL only
#
# Environment:
#   TSA_VAR         state directory (default: var/ at the project root)
#   TSA_HTTP_PORT   HTTP port on 127.0.0.1 (default 8080)
#   TSA_HTTPS_PORT  HTTPS port on 127.0.0.1 with required client certificates (default 8443)
#   TSA_WEB         nginx (default) | apache | lighttpd: the web server in front
#   TSA_WORKERS     tsa-fcgi worker processes (default 0: tsa.conf's default, four per CPU)
#   TSA_SIGNER_PROCESSES  tsa-signer's signing processes (default 0: one per CPU)
#   TSA_DATABASE_WAIT     tsa.conf's database_wait, seconds a token waits for PostgreSQL
#                         (default 10)
#   TSA_KEY         rsa2048 (default) | rsa3072 | p256 | p384: the TSA key on the token
#   TSA_SCHEME      auto (default) | rsa-pss
#   TSA_BUILD       where tsa-fcgi and tsactl are (default: build/ at the project root)
#   TSA_PER_CLIENT_CONNS  requests one client address may have in progress at once (default 64)
#   TSA_PER_CLIENT_RATE   requests one client address may start per second (default 200)
#   TSA_FCGI_KEEP   1 (default): nginx keeps its connections to the workers (fastcgi_keep_conn)
#   TSA_BATCH_WAIT  tsa.conf's batch_wait: µs a signing round waits for busy workers (default 500)
#
# Who runs what.  Run as root, the stack gives each daemon the unprivileged user a production
# host gives it: PostgreSQL runs as postgres, tsa-signer as tsa-signer, tsa-log as tsa-log, tsa-fcgi as tsa,
# tsa-admin as tsa-admin (made here as system users when missing), the web server's workers as
# www-data; nothing that parses a request runs as root or can read the token or the PIN.  Run as another user, everything runs as that user.
#
# Where the state lives.  Everything is under $TSA_VAR, which the daemons' users must be able
# to reach.  When a directory above it lets other users pass (/tmp/x, /srv/tsa, a checkout
# under /home/alice of mode 0755) it is used as it is; when one does not (a checkout under
# /root, mode 0700 on Debian), $TSA_VAR is made a symbolic link to /var/lib/tsa-stack/ID (ID
# names the checkout), so the newcomer's first command works and the stack never changes the
# permissions of a directory it did not make.  Inside: pki/ (root's, the demo keys 0600),
# softhsm/ (the token and the PIN: tsa-signer's, 0700), pg/ (postgres's), run/ (the stack's
# pid and scratch files) with run/tsa-fcgi/ and run/tsa-admin/ (each daemon's socket, 0660, in
# a directory of its user and the web server's group, 2750) and run/tsa-signer/ (the signer's
# socket, in a directory of its user and the workers' group, 2750), bin/ (the copies of the
# daemons' programs they run from: the build may lie where their users cannot pass), log/,
# and the web server's.
# PostgreSQL listens on its unix socket only and authenticates by peer: the stack's caller
# (root, or the user running it) as the owner tsa, the workers' or the signer's role, the user
# tsa as the workers' role tsa_fcgi and the log's readers' tsa_log_read, tsa-log as the
# integrator's role tsa_log, tsa-signer as the signer's role tsa_signer, the user
# tsa-admin as the owner; nobody else.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

TSA_VAR=${TSA_VAR:-$ROOT/var}
TSA_HTTP_PORT=${TSA_HTTP_PORT:-8080}
TSA_HTTPS_PORT=${TSA_HTTPS_PORT:-8443}
TSA_WORKERS=${TSA_WORKERS:-0}
TSA_SIGNER_PROCESSES=${TSA_SIGNER_PROCESSES:-0}
TSA_FCGI_KEEP=${TSA_FCGI_KEEP:-1}
TSA_BATCH_WAIT=${TSA_BATCH_WAIT:-500}
TSA_DATABASE_WAIT=${TSA_DATABASE_WAIT:-10}
TSA_KEY=${TSA_KEY:-rsa2048}
TSA_SCHEME=${TSA_SCHEME:-auto}
TSA_BUILD=${TSA_BUILD:-$ROOT/build}
TSA_WEB=${TSA_WEB:-nginx}
MAX_BODY=65536
# Per-client limits of the web server (the README's "Connection limits").
TSA_PER_CLIENT_CONNS=${TSA_PER_CLIENT_CONNS:-64}
TSA_PER_CLIENT_RATE=${TSA_PER_CLIENT_RATE:-200}
[[ $TSA_PER_CLIENT_CONNS =~ ^[1-9][0-9]*$ && $TSA_PER_CLIENT_RATE =~ ^[1-9][0-9]*$ ]] ||
    { printf 'stack: error: TSA_PER_CLIENT_CONNS and TSA_PER_CLIENT_RATE must be positive numbers\n' >&2; exit 1; }

# The daemons started here must not inherit a caller's pipes (a caller reading one, e.g. a
# $(...) capture, would wait for them forever).
exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-

log()  { printf 'stack: %s\n' "$*" >&2; }
die()  { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

# state_home: makes $TSA_VAR reachable by the daemons' users (see "Where the state lives").
state_home() {
    local var parent id home
    var=$(realpath -m -- "$TSA_VAR")
    (( IS_ROOT )) || { mkdir -p "$var"; TSA_VAR=$var; return 0; }
    if [[ -L $TSA_VAR ]]; then
        TSA_VAR=$var
        mkdir -p "$TSA_VAR"
        return 0
    fi
    parent=$(dirname -- "$var")
    mkdir -p "$parent"
    if setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups test -x "$parent" 2>/dev/null; then
        mkdir -p "$var"
        chmod go+rx "$var"
        TSA_VAR=$var
        return 0
    fi
    [[ -e $var ]] && die "$var cannot be reached by the daemons' users ($parent lets no other user pass) and is not a link the stack made: stop the stack, remove $var and start again (its state then lives in /var/lib/tsa-stack/), or set TSA_VAR"
    id=$(printf '%s' "$var" | sha256sum | cut -c1-16)
    home=/var/lib/tsa-stack/$id
    mkdir -p "$home"
    chmod 755 /var/lib/tsa-stack "$home"
    ln -s "$home" "$var"
    log "$parent lets no other user pass: the stack's state lives in $home ($var links to it)"
    TSA_VAR=$home
}
state_home
TSA_BUILD=$(realpath -m -- "$TSA_BUILD")

case $TSA_KEY in
    rsa2048) KEY_GEN=(--generate-privkey=rsa --bits=2048);         KEY_ID=01 ;;
    rsa3072) KEY_GEN=(--generate-privkey=rsa --bits=3072);         KEY_ID=02 ;;
    p256)    KEY_GEN=(--generate-privkey=ecdsa --curve=secp256r1); KEY_ID=03 ;;
    p384)    KEY_GEN=(--generate-privkey=ecdsa --curve=secp384r1); KEY_ID=04 ;;
    *) die "TSA_KEY must be rsa2048, rsa3072, p256 or p384 (got '$TSA_KEY')" ;;
esac
case $TSA_SCHEME in
    auto) ;;
    rsa-pss) [[ $TSA_KEY == rsa* ]] || die "TSA_SCHEME=rsa-pss needs an RSA key (TSA_KEY=$TSA_KEY)" ;;
    *) die "TSA_SCHEME must be auto or rsa-pss (got '$TSA_SCHEME')" ;;
esac
case $TSA_WEB in
    nginx|apache|lighttpd) ;;
    *) die "TSA_WEB must be nginx, apache or lighttpd (got '$TSA_WEB')" ;;
esac
for p in "$TSA_HTTP_PORT" "$TSA_HTTPS_PORT" "$TSA_WORKERS" "$TSA_SIGNER_PROCESSES" "$TSA_DATABASE_WAIT" "$TSA_FCGI_KEEP" "$TSA_BATCH_WAIT"; do
    [[ $p =~ ^[0-9]+$ ]] ||
        die "TSA_HTTP_PORT, TSA_HTTPS_PORT, TSA_WORKERS, TSA_SIGNER_PROCESSES, TSA_DATABASE_WAIT, TSA_FCGI_KEEP and TSA_BATCH_WAIT must be numbers"
done

# ---- paths -------------------------------------------------------------------------------------
HSM_DIR=$TSA_VAR/softhsm
export SOFTHSM2_CONF=$HSM_DIR/softhsm2.conf
PIN_FILE=$HSM_DIR/pin
PKI=$TSA_VAR/pki
PG_DIR=$TSA_VAR/pg
PGDATA=$PG_DIR/data
PG_RUN=$PG_DIR/run
PG_LOG=$PG_DIR/log
RUN=$TSA_VAR/run
FCGI_RUN=$RUN/tsa-fcgi
ADMIN_RUN=$RUN/tsa-admin
SIGNER_RUN=$RUN/tsa-signer
LOGDIR=$TSA_VAR/log
NGX=$TSA_VAR/nginx
APACHE=$TSA_VAR/apache
LIGHTTPD=$TSA_VAR/lighttpd
CONF=$TSA_VAR/tsa.conf
SOCKET=$FCGI_RUN/tsa.sock
WORKER_PID=$RUN/tsa-fcgi.pid
WORKER_LOG=$LOGDIR/tsa-fcgi.log
WORKER_ROLE=tsa_fcgi
SIGNER_SOCKET=$SIGNER_RUN/signer.sock
SIGNER_PID=$RUN/tsa-signer.pid
SIGNER_LOG=$LOGDIR/tsa-signer.log
SIGNER_ROLE=tsa_signer
LOG_PID=$RUN/tsa-log.pid
LOG_LOG=$LOGDIR/tsa-log.log
LOG_ROLE=tsa_log
LOG_READ_ROLE=tsa_log_read
ADMIN_SOCKET=$ADMIN_RUN/admin.sock
ADMIN_PID=$RUN/tsa-admin.pid
ADMIN_LOG=$LOGDIR/tsa-admin.log
TSA_URL=http://127.0.0.1:$TSA_HTTP_PORT/tsa
MTLS_URL=https://127.0.0.1:$TSA_HTTPS_PORT/
VS_URL=http://127.0.0.1:$TSA_HTTP_PORT/verificationserver/timestamp

# The daemons' users (see "Who runs what"); the caller's own when not root.
if (( IS_ROOT )); then
    WORKER_USER=tsa
    SIGNER_USER=tsa-signer
    LOG_USER=tsa-log
    ADMIN_USER=tsa-admin
    WEB_USER=www-data
else
    WORKER_USER=$(id -un)
    SIGNER_USER=$WORKER_USER
    LOG_USER=$WORKER_USER
    ADMIN_USER=$WORKER_USER
    WEB_USER=$WORKER_USER
fi

# A unix socket path must fit in sun_path (108 bytes with the terminating NUL).
for s in "$SOCKET" "$ADMIN_SOCKET" "$SIGNER_SOCKET" "$PG_RUN/.s.PGSQL.5432"; do
    (( ${#s} <= 107 )) || die "TSA_VAR is too deep: the socket path $s is longer than 107 bytes"
done

find_module() {
    local m
    for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
        [[ -e $m ]] && { echo "$m"; return 0; }
    done
    return 1
}

find_pgbin() {
    # The highest PostgreSQL major version installed (Debian: /usr/lib/postgresql/N/bin).
    local d
    d=$(for d in /usr/lib/postgresql/*/bin; do [[ -x $d/initdb ]] && echo "$d"; done | sort -V | tail -n1 || true)
    if [[ -z $d ]] && command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir)
        [[ -x $d/initdb ]] || d=
    fi
    [[ -n $d ]] && echo "$d"
}

# Random hex of N bytes.
randhex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# Is the process PID alive and is its command line containing WORD?
alive() {
    local pid=$1 word=$2
    [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$word"
}

readpid() { [[ -s $1 ]] && tr -dc '0-9' <"$1" || true; }

port_in_use() {
    [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

ports_free() {
    port_in_use "$TSA_HTTP_PORT" && die "127.0.0.1:$TSA_HTTP_PORT is already in use (set TSA_HTTP_PORT)"
    port_in_use "$TSA_HTTPS_PORT" && die "127.0.0.1:$TSA_HTTPS_PORT is already in use (set TSA_HTTPS_PORT)"
    return 0
}

# ---- users ------------------------------------------------------------------------------------
# The daemons' system users (root only): tsa (the workers; in the group of the SoftHSM2 tokens
# when the package made one) and tsa-admin (the console), as deploy/systemd/tsa.sysusers.conf
# makes them in production.
AS_WORKER=()
AS_SIGNER=()
AS_LOG=()
AS_ADMIN=()
users_setup() {
    (( IS_ROOT )) || return 0
    local u
    id www-data >/dev/null 2>&1 || die "running as root needs the 'www-data' system user (Debian's base-passwd)"
    for u in "$WORKER_USER" "$SIGNER_USER" "$LOG_USER" "$ADMIN_USER"; do
        id "$u" >/dev/null 2>&1 && continue
        log "adding the system user $u"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --comment "Time-stamping authority ($u)" "$u" ||
            die "useradd $u failed"
    done
    # tsa-log orders tree heads from the signer's socket, which the workers' group reaches.
    id -nG "$LOG_USER" | tr ' ' '\n' | grep -qx "$(id -gn "$WORKER_USER")" ||
        usermod -a -G "$(id -gn "$WORKER_USER")" "$LOG_USER" || die "usermod $LOG_USER failed"
    # The prefix that starts a daemon as its user, with no capability left and no way back
    # (setpriv execs in place: the pid stays the daemon's own).
    AS_WORKER=(setpriv --reuid="$WORKER_USER" --regid="$(id -g "$WORKER_USER")" --init-groups
        --inh-caps=-all --bounding-set=-all --no-new-privs --)
    AS_SIGNER=(setpriv --reuid="$SIGNER_USER" --regid="$(id -g "$SIGNER_USER")" --init-groups
        --inh-caps=-all --bounding-set=-all --no-new-privs --)
    AS_LOG=(setpriv --reuid="$LOG_USER" --regid="$(id -g "$LOG_USER")" --init-groups
        --inh-caps=-all --bounding-set=-all --no-new-privs --)
    AS_ADMIN=(setpriv --reuid="$ADMIN_USER" --regid="$(id -g "$ADMIN_USER")" --init-groups
        --inh-caps=-all --bounding-set=-all --no-new-privs --)
}

# daemon_binary NAME: the path the daemon NAME is started from.  As root, a copy in
# $TSA_VAR/bin (refreshed when the build changed): the build may lie where the daemons' users
# cannot pass (a checkout under /root), and $TSA_VAR is where they can.
daemon_binary() {
    local src=$TSA_BUILD/$1 dst=$TSA_VAR/bin/$1
    if (( ! IS_ROOT )); then
        echo "$src"
        return 0
    fi
    mkdir -p "$TSA_VAR/bin"
    chmod 755 "$TSA_VAR/bin"
    if ! cmp -s "$src" "$dst"; then
        cp "$src" "$dst.new" && chmod 755 "$dst.new" && mv "$dst.new" "$dst" ||
            die "cannot copy $src to $dst"
    fi
    echo "$dst"
}

# own_dir DIR USER GROUP MODE: DIR made, with that owner and mode (the owner only when root).
own_dir() {
    mkdir -p "$1"
    (( IS_ROOT )) && chown "$2:$3" "$1"
    chmod "$4" "$1"
}

# ---- a. SoftHSM2 -----------------------------------------------------------------------------
MODULE=
softhsm_setup() {
    MODULE=$(find_module) || die "libsofthsm2.so not found (install softhsm2: deploy/deps.sh)"
    mkdir -p "$HSM_DIR/tokens"
    chmod 700 "$HSM_DIR"
    chmod 644 "$SOFTHSM2_CONF" 2>/dev/null || true
    local conf
    conf=$(printf '%s\n' \
        "# Written by deploy/stack/stack.sh" \
        "directories.tokendir = $HSM_DIR/tokens" \
        "objectstore.backend = file" \
        "log.level = ERROR" \
        "slots.removable = false")
    [[ -f $SOFTHSM2_CONF && $(<"$SOFTHSM2_CONF") == "$conf" ]] || echo "$conf" >"$SOFTHSM2_CONF"

    if softhsm2-util --show-slots 2>/dev/null | grep -Eq '^[[:space:]]*Label:[[:space:]]+tsa[[:space:]]*$'; then
        if [[ -s $PIN_FILE ]]; then
            return 0
        fi
        log "token 'tsa' exists but $PIN_FILE is missing: re-initialising the token"
        rm -rf "$HSM_DIR/tokens"
        mkdir -p "$HSM_DIR/tokens"
    fi
    log "initialising SoftHSM2 token 'tsa'"
    local so_pin pin
    so_pin=$(randhex 16)
    pin=$(randhex 16)
    (umask 077; printf '%s\n' "$pin" >"$PIN_FILE")
    chmod 600 "$PIN_FILE"
    softhsm2-util --init-token --free --label tsa --so-pin "$so_pin" --pin "$pin" >/dev/null ||
        die "softhsm2-util --init-token failed"
}

# The token and the PIN belong to the signing process's user alone (root's p11tool calls make
# files too): the workers can neither read the PIN nor open the token.
softhsm_own() {
    (( IS_ROOT )) && chown -R "$SIGNER_USER:" "$HSM_DIR"
    chmod 700 "$HSM_DIR"
    chmod 600 "$PIN_FILE"
}

p11() {
    GNUTLS_PIN=$(tr -d '\r\n' <"$PIN_FILE") p11tool --provider "$MODULE" "$@"
}

# ---- b. demo PKI -----------------------------------------------------------------------------
# Software keys (the two CAs, the client and administrator certificates): PKCS#8 PEM, 0600.
gen_soft_key() {
    (umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null) ||
        die "openssl genpkey failed for $1"
}

yesterday() { date -u -d yesterday '+%Y-%m-%d %H:%M:%S'; }

# issue CERT_OUT TEMPLATE_TEXT (--load-privkey KEY | --load-pubkey PUB) CA_CERT CA_KEY
issue() {
    local out=$1 tmpl=$2 keyopt=$3 key=$4 ca=$5 cakey=$6 t
    t=$(mktemp "$PKI/.tmpl.XXXXXX")
    printf '%s\n' "$tmpl" >"$t"
    if ! certtool --generate-certificate "$keyopt" "$key" --load-ca-certificate "$ca" \
            --load-ca-privkey "$cakey" --template "$t" --outfile "$out.tmp" >/dev/null 2>"$t.err"; then
        cat "$t.err" >&2; rm -f "$t" "$t.err" "$out.tmp"
        die "certtool failed to issue $out"
    fi
    rm -f "$t" "$t.err"
    mv "$out.tmp" "$out"
}

self_signed() {
    local out=$1 tmpl=$2 key=$3 t
    t=$(mktemp "$PKI/.tmpl.XXXXXX")
    printf '%s\n' "$tmpl" >"$t"
    if ! certtool --generate-self-signed --load-privkey "$key" --template "$t" \
            --outfile "$out.tmp" >/dev/null 2>"$t.err"; then
        cat "$t.err" >&2; rm -f "$t" "$t.err" "$out.tmp"
        die "certtool failed to make $out"
    fi
    rm -f "$t" "$t.err"
    mv "$out.tmp" "$out"
}

# Does CERT chain to CA, not expire within 30 days?
cert_ok() {
    local cert=$1 ca=$2
    [[ -s $cert && -s $ca ]] || return 1
    openssl verify -CAfile "$ca" "$cert" >/dev/null 2>&1 || return 1
    openssl x509 -in "$cert" -noout -checkend 2592000 >/dev/null 2>&1
}

pubkey_fp() { openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | openssl dgst -sha256 -r | cut -d' ' -f1; }
cert_pubkey_fp() { openssl x509 -in "$1" -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null | openssl dgst -sha256 -r | cut -d' ' -f1; }

pki_setup() {
    mkdir -p "$PKI"
    chmod 755 "$PKI"
    local now_minus_1d
    now_minus_1d=$(yesterday)

    # Root CA of the TSA chain.
    if ! [[ -s $PKI/ca.pem && -s $PKI/ca.key ]] || ! cert_ok "$PKI/ca.pem" "$PKI/ca.pem"; then
        log "making the demo root CA ($PKI/ca.pem)"
        gen_soft_key "$PKI/ca.key"
        self_signed "$PKI/ca.pem" "$(printf '%s\n' \
            'cn = "TSA demo root CA"' 'organization = "TSA demo"' \
            "activation_date = \"$now_minus_1d\"" 'expiration_days = 3650' \
            'ca' 'path_len = 1' 'cert_signing_key' 'crl_signing_key')" "$PKI/ca.key"
    fi

    # The TSA key, generated on the token (never extractable), one object per key type.
    local label=tsa-$TSA_KEY pub=$PKI/tsa-$TSA_KEY.pub.pem cert=$PKI/tsa-$TSA_KEY.pem
    if p11 --login --list-privkeys "pkcs11:token=tsa;object=$label;type=private" 2>/dev/null |
            grep -q 'type=private'; then
        p11 --login --export-pubkey "pkcs11:token=tsa;object=$label;type=public" \
            --outfile "$pub.tmp" >/dev/null 2>&1 || die "p11tool could not export the public key of $label"
        mv "$pub.tmp" "$pub"
    else
        log "generating the TSA key $label on the token (${KEY_GEN[*]})"
        p11 --login "${KEY_GEN[@]}" --label "$label" --id "$KEY_ID" --outfile "$pub.tmp" \
            "pkcs11:token=tsa" >/dev/null 2>"$pub.err" || { cat "$pub.err" >&2; die "p11tool key generation failed"; }
        rm -f "$pub.err"
        mv "$pub.tmp" "$pub"
    fi
    # The token log's key (README "Token log"): its own, never a unit's; no certificate, its
    # public key (pki/log.pub.pem) is what auditors are given.
    if p11 --login --list-privkeys "pkcs11:token=tsa;object=tsa-log;type=private" 2>/dev/null |
            grep -q 'type=private'; then
        [[ -s $PKI/log.pub.pem ]] || p11 --login --export-pubkey "pkcs11:token=tsa;object=tsa-log;type=public" \
            --outfile "$PKI/log.pub.pem" >/dev/null 2>&1 || die "p11tool could not export the log key"
    else
        log "generating the token log's key tsa-log on the token (ECDSA P-256)"
        p11 --login --generate-privkey=ecdsa --curve=secp256r1 --label tsa-log --id 10 \
            --outfile "$PKI/log.pub.pem" "pkcs11:token=tsa" >/dev/null 2>&1 ||
            die "p11tool could not generate the log key"
    fi
    chmod 644 "$PKI/log.pub.pem"
    if ! cert_ok "$cert" "$PKI/ca.pem" || [[ $(pubkey_fp "$pub") != "$(cert_pubkey_fp "$cert")" ]]; then
        log "issuing the TSA certificate $cert"
        # certtool's time_stamping_key would write a non-critical extendedKeyUsage; RFC 3161
        # (2.3) wants it critical, so the extension is written by hand: SEQUENCE { id-kp-timeStamping }.
        issue "$cert" "$(printf '%s\n' \
            "cn = \"${TSA_UNIT_CN:-TSA demo time-stamping unit ($TSA_KEY)}\"" 'organization = "TSA demo"' \
            "activation_date = \"$now_minus_1d\"" 'expiration_days = 1095' \
            'signing_key' 'non_repudiation' \
            'add_critical_extension = "2.5.29.37 0x300a06082b06010505070308"')" \
            --load-pubkey "$pub" "$PKI/ca.pem" "$PKI/ca.key"
        openssl x509 -in "$cert" -noout -text | grep -q 'Extended Key Usage: critical' ||
            die "$cert: extendedKeyUsage is not critical"
    fi
    cmp -s "$cert" "$PKI/tsa.pem" || cp "$cert" "$PKI/tsa.pem"
    cat "$PKI/tsa.pem" "$PKI/ca.pem" >"$PKI/chain.pem.tmp"
    if cmp -s "$PKI/chain.pem.tmp" "$PKI/chain.pem"; then
        rm -f "$PKI/chain.pem.tmp"
    else
        mv "$PKI/chain.pem.tmp" "$PKI/chain.pem"
    fi

    # The web server's HTTPS certificate (software key), for 127.0.0.1 and localhost.
    if ! [[ -s $PKI/server.key ]] || ! cert_ok "$PKI/server.pem" "$PKI/ca.pem"; then
        log "issuing the HTTPS server certificate $PKI/server.pem"
        [[ -s $PKI/server.key ]] || gen_soft_key "$PKI/server.key"
        issue "$PKI/server.pem" "$(printf '%s\n' \
            'cn = "127.0.0.1"' 'organization = "TSA demo"' \
            'ip_address = "127.0.0.1"' 'dns_name = "localhost"' \
            "activation_date = \"$now_minus_1d\"" 'expiration_days = 825' \
            'signing_key' 'tls_www_server')" \
            --load-privkey "$PKI/server.key" "$PKI/ca.pem" "$PKI/ca.key"
    fi
    cat "$PKI/server.pem" "$PKI/ca.pem" >"$PKI/server-chain.pem.tmp"
    if cmp -s "$PKI/server-chain.pem.tmp" "$PKI/server-chain.pem"; then
        rm -f "$PKI/server-chain.pem.tmp"
    else
        mv "$PKI/server-chain.pem.tmp" "$PKI/server-chain.pem"
    fi
    # The web server's workers run as www-data when the stack runs as root: they read the
    # certificate, the key is read by the master (nginx, Apache) or before dropping
    # privileges (lighttpd).

    # The client CA and its certificates, for the mutual-TLS endpoint and the administrator.
    if ! [[ -s $PKI/client-ca.pem && -s $PKI/client-ca.key ]] || ! cert_ok "$PKI/client-ca.pem" "$PKI/client-ca.pem"; then
        log "making the demo client CA ($PKI/client-ca.pem)"
        gen_soft_key "$PKI/client-ca.key"
        self_signed "$PKI/client-ca.pem" "$(printf '%s\n' \
            'cn = "TSA demo client CA"' 'organization = "TSA demo"' \
            "activation_date = \"$now_minus_1d\"" 'expiration_days = 3650' \
            'ca' 'path_len = 0' 'cert_signing_key' 'crl_signing_key')" "$PKI/client-ca.key"
    fi
    local who cn
    for who in client admin; do
        [[ $who == client ]] && cn="TSA demo client" || cn="TSA demo administrator"
        if ! [[ -s $PKI/$who.key ]] || ! cert_ok "$PKI/$who.pem" "$PKI/client-ca.pem"; then
            log "issuing $PKI/$who.pem"
            [[ -s $PKI/$who.key ]] || gen_soft_key "$PKI/$who.key"
            issue "$PKI/$who.pem" "$(printf '%s\n' \
                "cn = \"$cn\"" 'organization = "TSA demo"' \
                "activation_date = \"$now_minus_1d\"" 'expiration_days = 1095' \
                'signing_key' 'tls_www_client')" \
                --load-privkey "$PKI/$who.key" "$PKI/client-ca.pem" "$PKI/client-ca.key"
        fi
    done
}

# ---- c. PostgreSQL ---------------------------------------------------------------------------
PGBIN=
as_pg() {
    if (( IS_ROOT )); then
        # From /: the caller's directory may not be readable by postgres.
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Every directory from / down to DIR must be traversable by the postgres user.
check_traversable() {
    local dir=$1 d=
    local IFS=/
    for part in $dir; do
        [[ -z $part ]] && continue
        d=$d/$part
        runuser -u postgres -- test -x "$d" ||
            die "$d is not traversable by the postgres user (initdb and postgres refuse to run as root, so the stack runs them as postgres): chmod o+x $d, or set TSA_VAR to a directory under a traversable path"
    done
}

pg_prepare() {
    PGBIN=$(find_pgbin) || true
    [[ -n $PGBIN ]] || die "PostgreSQL server binaries not found (install postgresql: deploy/deps.sh)"
    mkdir -p "$PGDATA" "$PG_RUN" "$PG_LOG"
    if (( IS_ROOT )); then
        id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (package postgresql)"
        chmod 755 "$PG_DIR"
        chown postgres: "$PG_DIR" "$PG_RUN" "$PG_LOG"
        [[ $(stat -c %U "$PGDATA") == postgres ]] || chown -R postgres: "$PGDATA"
        check_traversable "$PG_RUN"
    fi
    chmod 700 "$PGDATA"
}

# Peer authentication on the unix socket only (listen_addresses is empty): each local user
# reaches only its roles (see "Who runs what"), anyone else is refused whatever the socket's
# mode (0777, as Debian's own clusters: peer is the gate).  Rewritten at every start, so a
# running cluster reloads it and an older stack's trust is replaced.
pg_auth() {
    local hba ident caller
    caller=$(id -un)
    hba=$(printf '%s\n' "# Written by deploy/stack/stack.sh at every start." \
        "local all all peer map=tsa-stack")
    ident=$(printf '%s\n' "# Written by deploy/stack/stack.sh at every start: OS user -> role." \
        "tsa-stack $caller tsa" \
        "tsa-stack $caller $WORKER_ROLE" \
        "tsa-stack $caller $SIGNER_ROLE" \
        "tsa-stack $caller $LOG_ROLE" \
        "tsa-stack $caller $LOG_READ_ROLE")
    if (( IS_ROOT )); then
        ident+=$'\n'"tsa-stack $WORKER_USER $WORKER_ROLE"$'\n'"tsa-stack $SIGNER_USER $SIGNER_ROLE"
        ident+=$'\n'"tsa-stack $LOG_USER $LOG_ROLE"$'\n'"tsa-stack $WORKER_USER $LOG_READ_ROLE"
        ident+=$'\n'"tsa-stack $ADMIN_USER tsa"
    fi
    local changed=0
    if [[ ! -f $PGDATA/pg_hba.conf || $(<"$PGDATA/pg_hba.conf") != "$hba" ]]; then
        as_pg tee "$PGDATA/pg_hba.conf" <<<"$hba" >/dev/null
        changed=1
    fi
    if [[ ! -f $PGDATA/pg_ident.conf || $(<"$PGDATA/pg_ident.conf") != "$ident" ]]; then
        as_pg tee "$PGDATA/pg_ident.conf" <<<"$ident" >/dev/null
        changed=1
    fi
    if (( changed )) && pg_running; then
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" reload >/dev/null
    fi
    return 0
}

pg_running() {
    [[ -f $PGDATA/PG_VERSION ]] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

pg_start() {
    pg_prepare
    if [[ ! -f $PGDATA/PG_VERSION ]]; then
        log "initdb $PGDATA"
        as_pg "$PGBIN/initdb" -D "$PGDATA" --auth-local=peer --auth-host=reject -U tsa -E UTF8 --locale=C \
            >"$PG_LOG/initdb.log" 2>&1 || { cat "$PG_LOG/initdb.log" >&2; die "initdb failed"; }
    fi
    local extra
    extra=$(printf '%s\n' \
        "# Written by deploy/stack/stack.sh at every start; included from postgresql.conf." \
        "listen_addresses = ''" \
        "unix_socket_directories = '$PG_RUN'" \
        "unix_socket_permissions = 0777" \
        "synchronous_commit = on" \
        "fsync = on" \
        "max_connections = 200" \
        "logging_collector = off" \
        "log_min_messages = warning" \
        "log_line_prefix = '%m [%p] %q%u@%d '")
    if [[ ! -f $PGDATA/tsa-stack.conf || $(<"$PGDATA/tsa-stack.conf") != "$extra" ]]; then
        as_pg tee "$PGDATA/tsa-stack.conf" <<<"$extra" >/dev/null
    fi
    pg_auth
    grep -q "^include_if_exists = 'tsa-stack.conf'" "$PGDATA/postgresql.conf" ||
        as_pg tee -a "$PGDATA/postgresql.conf" <<<"include_if_exists = 'tsa-stack.conf'" >/dev/null
    if ! pg_running; then
        log "starting PostgreSQL (socket in $PG_RUN)"
        # Its own session: a Ctrl-C in the terminal reaches the stack script, which stops it.
        local pfx=()
        (( IS_ROOT )) && pfx=(runuser -u postgres --)
        (cd / && setsid -w "${pfx[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PG_LOG/postgresql.log" -w -t 60 start \
            >/dev/null) || { tail -n 20 "$PG_LOG/postgresql.log" >&2; die "PostgreSQL did not start"; }
    fi
}

pg_stop() {
    PGBIN=$(find_pgbin) || true
    [[ -n $PGBIN && -f $PGDATA/PG_VERSION ]] || return 0
    if pg_running; then
        log "stopping PostgreSQL"
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null
    fi
}

psql_tsa() {
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -U tsa "$@"
}

pg_create_db() {
    if [[ $(psql_tsa -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'tsa'") != 1 ]]; then
        log "creating database tsa"
        psql_tsa -d postgres -c "CREATE DATABASE tsa" >/dev/null
    fi
}

# ---- d. tsa.conf, migrate, seed ----------------------------------------------------------------
write_conf() {
    mkdir -p "$RUN" "$LOGDIR"
    chmod 755 "$RUN"
    own_dir "$FCGI_RUN" "$WORKER_USER" "$WEB_USER" 2750
    own_dir "$ADMIN_RUN" "$ADMIN_USER" "$WEB_USER" 2750
    # The signer's socket: its user's, reachable by the workers' group (and root's tsactl).
    own_dir "$SIGNER_RUN" "$SIGNER_USER" "$(id -gn "$WORKER_USER")" 2750
    local conf
    # The workers connect as $WORKER_ROLE, a member of the least-privilege role tsa_worker
    # (schema 003); tsa-signer as $SIGNER_ROLE, a member of tsa_issuer (schema 008), the
    # only role that records tokens; tsactl and tsa-admin as the owner, tsa.  The PIN file
    # is named here, but only the signer's user can read it.
    conf=$(printf '%s\n' \
        "# Written by deploy/stack/stack.sh; read by tsa-fcgi, tsa-signer, tsa-admin and tsactl." \
        "database = host=$PG_RUN dbname=tsa user=$WORKER_ROLE" \
        "signer_database = host=$PG_RUN dbname=tsa user=$SIGNER_ROLE" \
        "admin_database = host=$PG_RUN dbname=tsa user=tsa" \
        "log_database = host=$PG_RUN dbname=tsa user=$LOG_ROLE" \
        "log_reader_database = host=$PG_RUN dbname=tsa user=$LOG_READ_ROLE" \
        "log_key = pkcs11:token=tsa;object=tsa-log;type=private" \
        "log_user = $LOG_USER" \
        "signer_socket = $SIGNER_SOCKET" \
        "pkcs11_module = $MODULE" \
        "pkcs11_env = SOFTHSM2_CONF=$SOFTHSM2_CONF" \
        "pin_file = $PIN_FILE" \
        "listen = unix:$SOCKET" \
        "admin_listen = unix:$ADMIN_SOCKET" \
        "workers = $TSA_WORKERS" \
        "signer_processes = $TSA_SIGNER_PROCESSES" \
        "batch_wait = $TSA_BATCH_WAIT" \
        "database_wait = $TSA_DATABASE_WAIT" \
        "max_body = $MAX_BODY")
    [[ -f $CONF && $(<"$CONF") == "$conf" ]] || printf '%s\n' "$conf" >"$CONF"
    chmod 644 "$CONF"
}

# login_role ROLE GROUP: the LOGIN role ROLE, a member of GROUP only (made by the migrations).
login_role() {
    [[ $(psql_tsa -d tsa -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$2'") == 1 ]] ||
        die "the migrations made no role $2 (schema/)"
    psql_tsa -d tsa >/dev/null <<EOF || die "creating the role $1 failed"
SET client_min_messages = warning;
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$1') THEN
        CREATE ROLE $1 LOGIN;
    END IF;
END \$\$;
ALTER ROLE $1 LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
GRANT $2 TO $1;
EOF
}

# The workers' role (tsa_worker: reads the configuration, writes events) and the signing
# process's (tsa_issuer: reads the configuration, records tokens, writes events).
db_roles() {
    login_role "$WORKER_ROLE" tsa_worker
    login_role "$SIGNER_ROLE" tsa_issuer
    # The token log's integrator (tsa_logger) and its readers, the proofs (tsa_log_reader):
    # schema 011.
    login_role "$LOG_ROLE" tsa_logger
    login_role "$LOG_READ_ROLE" tsa_log_reader
}

need_binaries() {
    local b
    for b in tsa-fcgi tsa-signer tsactl; do
        [[ -x $TSA_BUILD/$b ]] || die "$TSA_BUILD/$b is missing: run 'make all' first"
    done
}

# SQL text literal by dollar quoting (PEM never contains the tag).
dq() { printf '$pem$%s$pem$' "$1"; }

# The clock filter's source.  A TSA must not issue on an unsynchronised clock, and a
# development machine or a container often has one (the kernel reports STA_UNSYNC): then the
# demo's clock gate reads $TSA_VAR/clock.status, a stand-in saying "synchronised", and says so
# loudly.  TSA_CLOCK=kernel forces the kernel's own status; TSA_CLOCK=file forces the file.
clock_params() {
    local mode=${TSA_CLOCK:-auto}
    if [[ $mode == auto ]]; then
        if "$TSA_BUILD/tsa-fcgi" --clock-status >/dev/null 2>&1; then mode=kernel; else mode=file; fi
    fi
    if [[ $mode == kernel ]]; then
        printf '{"leap": "pause"}'
        return
    fi
    [[ -f $TSA_VAR/clock.status ]] || printf 'unsync=0\nesterror_us=1000\nmaxerror_us=100000\nleap=none\n' >"$TSA_VAR/clock.status"
    log "WARNING: the kernel clock is not synchronised (or TSA_CLOCK=file): the demo's clock gate"
    log "         reads $TSA_VAR/clock.status instead. A real TSA runs chrony or ntpd."
    printf '{"leap": "pause", "status_file": "%s"}' "$TSA_VAR/clock.status"
}

seed() {
    local sql=$RUN/seed.sql f k ca clock
    ca=$(<"$PKI/ca.pem")
    clock=$(clock_params)
    {
        echo "-- Written by deploy/stack/stack.sh: the demo configuration (idempotent)."
        # One signer per key type the stack made; the scheme is set for the current one only.
        for f in "$PKI"/tsa-*.pem; do
            [[ $f == *.pub.pem ]] && continue
            k=${f##*/tsa-}; k=${k%.pem}
            case $k in rsa2048|rsa3072|p256|p384) ;; *) continue ;; esac
            if [[ $k == "$TSA_KEY" ]]; then
                echo "INSERT INTO signers (name, pkcs11_uri, certificate, chain, scheme)"
                echo "  VALUES ('demo-$k', 'pkcs11:token=tsa;object=tsa-$k;type=private', $(dq "$(<"$f")"$'\n'), $(dq "$ca"$'\n'), '$TSA_SCHEME')"
                echo "  ON CONFLICT (name) DO UPDATE SET pkcs11_uri = EXCLUDED.pkcs11_uri,"
                echo "    certificate = EXCLUDED.certificate, chain = EXCLUDED.chain, scheme = EXCLUDED.scheme;"
            else
                echo "INSERT INTO signers (name, pkcs11_uri, certificate, chain)"
                echo "  VALUES ('demo-$k', 'pkcs11:token=tsa;object=tsa-$k;type=private', $(dq "$(<"$f")"$'\n'), $(dq "$ca"$'\n'))"
                echo "  ON CONFLICT (name) DO UPDATE SET pkcs11_uri = EXCLUDED.pkcs11_uri,"
                echo "    certificate = EXCLUDED.certificate, chain = EXCLUDED.chain;"
            fi
        done
        cat <<EOF
INSERT INTO services (name, description) VALUES
  ('tsa', 'demo: RFC 3161, SOAP and Authenticode, open on loopback'),
  ('verificationserver', 'demo: the SI-TSA path /verificationserver/timestamp'),
  ('mtls', 'demo: HTTPS, registered client certificates only')
  ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description;

INSERT INTO policies (service_id, position, name, match_protocol, match_req_policy, policy_oid, signer_id)
  SELECT s.id, 1, 'default', NULL, NULL, v.oid, (SELECT id FROM signers WHERE name = 'demo-$TSA_KEY')
    FROM services s JOIN (VALUES ('tsa', '1.3.6.1.4.1.32473.1.1'),
                                 ('verificationserver', '1.3.6.1.4.1.32473.1.2'),
                                 ('mtls', '1.3.6.1.4.1.32473.1.3')) AS v (service, oid)
      ON s.name = v.service
  ON CONFLICT (service_id, position) DO UPDATE SET name = EXCLUDED.name,
    match_protocol = EXCLUDED.match_protocol, match_req_policy = EXCLUDED.match_req_policy,
    policy_oid = EXCLUDED.policy_oid, signer_id = EXCLUDED.signer_id;

DELETE FROM policy_filters WHERE policy_id IN
  (SELECT p.id FROM policies p JOIN services s ON s.id = p.service_id
    WHERE s.name IN ('tsa', 'verificationserver', 'mtls') AND p.position = 1);

INSERT INTO policy_filters (policy_id, position, filter, params)
  SELECT p.id, f.position, f.filter, f.params::jsonb
    FROM policies p JOIN services s ON s.id = p.service_id AND p.position = 1
    JOIN (VALUES
      ('tsa', 1, 'ip-allow', '{"allow": ["127.0.0.0/8", "::1/128"]}'),
      ('tsa', 2, 'clock', '$clock'),
      ('tsa', 3, 'hash-algorithms', '{"accept": ["sha224", "sha256", "sha384", "sha512", "sha3-256", "sha3-384", "sha3-512"]}'),
      ('tsa', 4, 'accuracy', '{"seconds": 1, "digits": 3}'),
      ('tsa', 5, 'cert-id', '{"version": 2, "issuer_serial": true}'),
      ('tsa', 6, 'cert-chain', '{"include": "chain"}'),
      ('verificationserver', 1, 'clock', '$clock'),
      ('verificationserver', 2, 'hash-algorithms', '{"accept": ["sha1", "sha256", "sha384", "sha512"]}'),
      ('verificationserver', 3, 'accuracy', '{"seconds": 1, "digits": 3}'),
      ('verificationserver', 4, 'cert-id', '{"version": 2, "issuer_serial": true}'),
      ('mtls', 1, 'client-auth', '{}'),
      ('mtls', 2, 'clock', '$clock'),
      ('mtls', 3, 'hash-algorithms', '{"accept": ["sha1", "sha256", "sha384", "sha512"]}'),
      ('mtls', 4, 'accuracy', '{"seconds": 1, "digits": 3}'),
      ('mtls', 5, 'cert-id', '{"version": 2, "issuer_serial": true}'),
      ('mtls', 6, 'cert-chain', '{"include": "chain"}')
    ) AS f (service, position, filter, params) ON f.service = s.name;
EOF
        soap_policies
    } >"$sql"
    psql_tsa -d tsa --single-transaction -f "$sql" >/dev/null || die "seeding the demo configuration failed ($sql)"
    register_demo_client
    register_demo_admin
    register_log_key
}

# With TSA_SCHEME=rsa-pss the default policies sign with RSA-PSS, which SOAP's XML-DSig tokens
# cannot carry (a policy that can receive SOAP with such a signer is refused): each service
# gets a policy 'soap' before its default (position 0, SOAP only, the same filters) signing
# with the same key in PKCS#1 v1.5 (signer demo-KEY-pkcs1).  Removed again without rsa-pss.
soap_policies() {
    echo "DELETE FROM policies WHERE position = 0 AND name = 'soap';"
    [[ $TSA_SCHEME == rsa-pss ]] || return 0
    cat <<EOF
INSERT INTO signers (name, pkcs11_uri, certificate, chain, scheme)
  SELECT 'demo-$TSA_KEY-pkcs1', pkcs11_uri, certificate, chain, 'auto' FROM signers
   WHERE name = 'demo-$TSA_KEY'
  ON CONFLICT (name) DO UPDATE SET pkcs11_uri = EXCLUDED.pkcs11_uri,
    certificate = EXCLUDED.certificate, chain = EXCLUDED.chain, scheme = 'auto';
INSERT INTO policies (service_id, position, name, match_protocol, match_req_policy, policy_oid, signer_id)
  SELECT p.service_id, 0, 'soap', 'soap', NULL, p.policy_oid,
         (SELECT id FROM signers WHERE name = 'demo-$TSA_KEY-pkcs1')
    FROM policies p JOIN services s ON s.id = p.service_id
   WHERE s.name IN ('tsa', 'verificationserver', 'mtls') AND p.position = 1;
INSERT INTO policy_filters (policy_id, position, filter, params)
  SELECT soap.id, f.position, f.filter, f.params
    FROM policies soap JOIN policies def ON def.service_id = soap.service_id AND def.position = 1
    JOIN policy_filters f ON f.policy_id = def.id
   WHERE soap.position = 0 AND soap.name = 'soap';
EOF
}

# The demo client (var/pki/client.pem) registered for the mtls service as 'demo-client', with
# tsactl; registered again when the PKI made a new certificate.
register_demo_client() {
    local fp have
    fp=$(openssl x509 -in "$PKI/client.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
    have=$(psql_tsa -d tsa -tA -c "SELECT encode(k.fingerprint_sha256, 'hex') FROM clients k
        JOIN services s ON s.id = k.service_id WHERE s.name = 'mtls' AND k.name = 'demo-client'" 2>/dev/null || true)
    [[ ${have,,} == "${fp,,}" ]] && return 0
    if [[ -n $have ]]; then
        "$TSA_BUILD/tsactl" --conf "$CONF" client remove mtls demo-client >>"$LOGDIR/migrate.log" 2>&1 ||
            die "tsactl client remove mtls demo-client failed (log: $LOGDIR/migrate.log)"
    fi
    log "registering $PKI/client.pem as client demo-client of service mtls"
    "$TSA_BUILD/tsactl" --conf "$CONF" client add mtls demo-client --cert "$PKI/client.pem" >>"$LOGDIR/migrate.log" 2>&1 ||
        die "tsactl client add mtls demo-client failed (log: $LOGDIR/migrate.log)"
}

# The demo administrator (var/pki/admin.pem) registered for the web console as 'demo-admin',
# with tsactl; registered again when the PKI made a new certificate.
register_demo_admin() {
    local fp have
    fp=$(openssl x509 -in "$PKI/admin.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
    have=$(psql_tsa -d tsa -tA -c "SELECT encode(fingerprint_sha256, 'hex') FROM administrators
        WHERE name = 'demo-admin'" 2>/dev/null || true)
    [[ ${have,,} == "${fp,,}" ]] && return 0
    if [[ -n $have ]]; then
        "$TSA_BUILD/tsactl" --conf "$CONF" admin remove demo-admin >>"$LOGDIR/migrate.log" 2>&1 ||
            die "tsactl admin remove demo-admin failed (log: $LOGDIR/migrate.log)"
    fi
    log "registering $PKI/admin.pem as the web console's administrator demo-admin"
    "$TSA_BUILD/tsactl" --conf "$CONF" admin add demo-admin --cert "$PKI/admin.pem" >>"$LOGDIR/migrate.log" 2>&1 ||
        die "tsactl admin add demo-admin failed (log: $LOGDIR/migrate.log)"
}

# The token log's key listed for auditors (README "Token log"; GET URL/log/keys): by tsactl,
# which opens it on the token as a server's operator does.  Idempotent.
register_log_key() {
    local fp have
    fp=$(pubkey_fp "$PKI/log.pub.pem")
    have=$(psql_tsa -d tsa -tA -c "SELECT key_id FROM log_keys WHERE key_id = '$fp'" 2>/dev/null || true)
    [[ -n $fp && $have == "$fp" ]] && return 0
    log "listing the token log's key (tsactl log key add)"
    "$TSA_BUILD/tsactl" --conf "$CONF" log key add >>"$LOGDIR/migrate.log" 2>&1 ||
        die "tsactl log key add failed (log: $LOGDIR/migrate.log)"
}

# stop_daemon PIDFILE NAME SIGNAL: asks the daemon NAME of PIDFILE to stop with SIGNAL (its
# graceful stop), waits up to 15 s, then SIGKILLs its process group.  Idempotent.
stop_daemon() {
    local pidfile=$1 name=$2 sig=$3 pid i
    pid=$(readpid "$pidfile")
    if alive "$pid" "$name"; then
        log "stopping $name (pid $pid)"
        kill "-$sig" "$pid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name did not stop within 15 s: SIGKILL to its process group"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}

# await_pidfile PIDFILE NAME ERRLOG: waits up to 5 s for a daemon that forked to write its pid.
await_pidfile() {
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -s $1 ]] && return 0
        sleep 0.1
    done
    tail -n 20 "$3" >&2
    die "$2 did not start (no $1)"
}

# ---- e. the daemons ------------------------------------------------------------------------------
# daemon_start NAME PIDFILE LOG SOCKET PREFIX WHAT: starts the daemon NAME (from
# daemon_binary) as the command prefix PREFIX (the name of an array: AS_WORKER, ...) unless it
# runs, in a session of its own (setsid without fork: $! is the daemon itself), standard output
# joining its log; waits up to 10 s for its SOCKET.  WHAT says how it starts, for the log.
daemon_start() {
    local name=$1 pidfile=$2 logfile=$3 socket=$4 what=$6 pid i bin
    local -n prefix=$5
    pid=$(readpid "$pidfile")
    alive "$pid" "$name" && return 0
    rm -f "$pidfile" "$socket"
    log "starting $name ($what)"
    printf '\n==== %s stack.sh: starting %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$name" >>"$logfile"
    bin=$(daemon_binary "$name")
    setsid "${prefix[@]}" "$bin" --conf "$CONF" </dev/null >>"$logfile" 2>&1 &
    pid=$!
    echo "$pid" >"$pidfile"
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$logfile" >&2
            rm -f "$pidfile"
            die "$name exited at startup (log: $logfile)"
        fi
        [[ -S $socket ]] && return 0
        sleep 0.1
    done
    tail -n 30 "$logfile" >&2
    die "$name did not create $socket within 10 s (log: $logfile)"
}

worker_start() {
    local count="$TSA_WORKERS workers"
    (( TSA_WORKERS )) || count="four workers per CPU"
    daemon_start tsa-fcgi "$WORKER_PID" "$WORKER_LOG" "$SOCKET" AS_WORKER "$count as $WORKER_USER, $SOCKET"
}

worker_stop() {
    # tsa-fcgi gives its workers 10 s to finish their requests, then kills them itself.
    stop_daemon "$WORKER_PID" tsa-fcgi TERM
}

# tsa-signer, as its own user: the only process that reads the PIN and opens the token.
signer_start() {
    daemon_start tsa-signer "$SIGNER_PID" "$SIGNER_LOG" "$SIGNER_SOCKET" AS_SIGNER \
        "as $SIGNER_USER, $SIGNER_SOCKET"
}

# Its children finish the order in flight (10 s at most, then it kills them).
signer_stop() { stop_daemon "$SIGNER_PID" tsa-signer TERM; }

# tsa-log, the token log's integrator, as its own user (README "Token log"); it has no
# socket: started when it is still running after half a second.
log_start() {
    [[ -x $TSA_BUILD/tsa-log ]] || return 0
    local pid bin
    pid=$(readpid "$LOG_PID")
    alive "$pid" tsa-log && return 0
    log "starting tsa-log (as $LOG_USER)"
    printf '\n==== %s stack.sh: starting tsa-log\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" >>"$LOG_LOG"
    bin=$(daemon_binary tsa-log)
    setsid "${AS_LOG[@]}" "$bin" --conf "$CONF" </dev/null >>"$LOG_LOG" 2>&1 &
    pid=$!
    echo "$pid" >"$LOG_PID"
    sleep 0.5
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$LOG_LOG" >&2; rm -f "$LOG_PID"; die "tsa-log exited at startup (log: $LOG_LOG)"; }
}

log_stop() { stop_daemon "$LOG_PID" tsa-log TERM; }

# tsa-admin, when built.
admin_start() {
    [[ -x $TSA_BUILD/tsa-admin ]] || return 0
    daemon_start tsa-admin "$ADMIN_PID" "$ADMIN_LOG" "$ADMIN_SOCKET" AS_ADMIN \
        "as $ADMIN_USER, $ADMIN_SOCKET"
}

admin_stop() { stop_daemon "$ADMIN_PID" tsa-admin TERM; }

# ---- f. nginx --------------------------------------------------------------------------------
nginx_conf() {
    mkdir -p "$NGX/logs" "$NGX/tmp"
    local t user=
    if (( IS_ROOT )); then
        user="user $WEB_USER $WEB_USER;"
    fi
    t=$(<"$HERE/nginx.conf.in")
    t=${t//@TSA_VAR@/$TSA_VAR}
    t=${t//@HTTP_PORT@/$TSA_HTTP_PORT}
    t=${t//@HTTPS_PORT@/$TSA_HTTPS_PORT}
    t=${t//@USER@/$user}
    t=${t//@SOCKET@/$SOCKET}
    t=${t//@ADMIN_SOCKET@/$ADMIN_SOCKET}
    t=${t//@MAX_BODY@/$MAX_BODY}
    t=${t//@PER_CLIENT_CONNS@/$TSA_PER_CLIENT_CONNS}
    t=${t//@PER_CLIENT_RATE@/$TSA_PER_CLIENT_RATE}
    t=${t//@FCGI_KEEP@/$( (( TSA_FCGI_KEEP )) && echo on || echo off)}
    printf '%s\n' "$t" >"$NGX/nginx.conf.new"
    local changed=1
    if cmp -s "$NGX/nginx.conf.new" "$NGX/nginx.conf"; then
        rm -f "$NGX/nginx.conf.new"
        changed=0
    else
        mv "$NGX/nginx.conf.new" "$NGX/nginx.conf"
    fi
    local f
    for f in fastcgi_params fastcgi_ssl_params; do
        if ! cmp -s "$HERE/$f" "$NGX/$f"; then
            cp "$HERE/$f" "$NGX/$f"
            changed=1
        fi
    done
    (( changed ))
}

NGINX=(nginx -p "$NGX/" -e logs/error.log -c nginx.conf)

nginx_start() {
    command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || die "nginx not found (deploy/deps.sh)"
    PATH=$PATH:/usr/sbin
    local changed=0 pid
    nginx_conf && changed=1
    "${NGINX[@]}" -t -q 2>"$NGX/logs/test.err" || { cat "$NGX/logs/test.err" >&2; die "nginx -t failed"; }
    pid=$(readpid "$NGX/nginx.pid")
    if alive "$pid" nginx; then
        if (( changed )); then
            log "reloading nginx (configuration changed)"
            "${NGINX[@]}" -s reload
        fi
        return 0
    fi
    ports_free
    log "starting nginx on 127.0.0.1:$TSA_HTTP_PORT and 127.0.0.1:$TSA_HTTPS_PORT (HTTPS)"
    "${NGINX[@]}" </dev/null || { tail -n 20 "$NGX/logs/error.log" >&2; die "nginx did not start"; }
}

nginx_stop() { stop_daemon "$NGX/nginx.pid" nginx QUIT; }   # QUIT: a graceful stop

# ---- f'. Apache httpd ------------------------------------------------------------------------
APACHE_MODULES=/usr/lib/apache2/modules

# render TEMPLATE OUT USER-LINE: the template with its placeholders filled in, into OUT; true
# when OUT changed.
render() {
    local t
    t=$(<"$1")
    t=${t//@TSA_VAR@/$TSA_VAR}
    t=${t//@HTTP_PORT@/$TSA_HTTP_PORT}
    t=${t//@HTTPS_PORT@/$TSA_HTTPS_PORT}
    t=${t//@USER@/$3}
    t=${t//@SOCKET@/$SOCKET}
    t=${t//@ADMIN_SOCKET@/$ADMIN_SOCKET}
    t=${t//@MAX_BODY_KB@/$((MAX_BODY / 1024))}
    t=${t//@MAX_BODY@/$MAX_BODY}
    t=${t//@MODULES@/$APACHE_MODULES}
    t=${t//@PER_CLIENT_CONNS@/$TSA_PER_CLIENT_CONNS}
    t=${t//@PER_CLIENT_RATE@/$TSA_PER_CLIENT_RATE}
    printf '%s\n' "$t" >"$2.new"
    if cmp -s "$2.new" "$2"; then
        rm -f "$2.new"
        return 1
    fi
    mv "$2.new" "$2"
}

apache_conf() {
    mkdir -p "$APACHE/logs" "$APACHE/run" "$APACHE/htdocs"
    local user=
    (( IS_ROOT )) && user="User $WEB_USER"$'\n'"Group $WEB_USER"
    render "$HERE/apache.conf.in" "$APACHE/httpd.conf" "$user"
}

APACHECTL=(apache2 -d "$APACHE" -f "$APACHE/httpd.conf")

apache_start() {
    PATH=$PATH:/usr/sbin
    command -v apache2 >/dev/null 2>&1 || die "apache2 not found (deploy/deps.sh)"
    [[ -e $APACHE_MODULES/mod_proxy_fcgi.so ]] || die "$APACHE_MODULES/mod_proxy_fcgi.so not found (deploy/deps.sh)"
    local changed=0 pid
    apache_conf && changed=1
    "${APACHECTL[@]}" -t 2>"$APACHE/logs/test.err" >&2 || { cat "$APACHE/logs/test.err" >&2; die "apache2 -t failed"; }
    pid=$(readpid "$APACHE/httpd.pid")
    if alive "$pid" apache2; then
        if (( changed )); then
            log "reloading apache2 (configuration changed)"
            "${APACHECTL[@]}" -k graceful
        fi
        return 0
    fi
    ports_free
    rm -f "$APACHE/httpd.pid"
    log "starting apache2 on 127.0.0.1:$TSA_HTTP_PORT and 127.0.0.1:$TSA_HTTPS_PORT (HTTPS)"
    "${APACHECTL[@]}" -k start </dev/null || { tail -n 20 "$APACHE/logs/error.log" >&2; die "apache2 did not start"; }
    await_pidfile "$APACHE/httpd.pid" apache2 "$APACHE/logs/error.log"
}

apache_stop() { stop_daemon "$APACHE/httpd.pid" apache2 TERM; }

# ---- f''. lighttpd ---------------------------------------------------------------------------
lighttpd_conf() {
    mkdir -p "$LIGHTTPD/logs" "$LIGHTTPD/tmp" "$LIGHTTPD/htdocs"
    local user=
    if (( IS_ROOT )); then
        user="server.username = \"$WEB_USER\""$'\n'"server.groupname = \"$WEB_USER\""
        # It opens its logs after dropping privileges.
        touch "$LIGHTTPD/logs/error.log" "$LIGHTTPD/logs/access.log"
        chown "$WEB_USER" "$LIGHTTPD/tmp" "$LIGHTTPD/logs" "$LIGHTTPD/logs/error.log" "$LIGHTTPD/logs/access.log"
    fi
    render "$HERE/lighttpd.conf.in" "$LIGHTTPD/lighttpd.conf" "$user"
}

lighttpd_start() {
    PATH=$PATH:/usr/sbin
    command -v lighttpd >/dev/null 2>&1 || die "lighttpd not found (deploy/deps.sh)"
    local changed=0 pid
    lighttpd_conf && changed=1
    lighttpd -tt -f "$LIGHTTPD/lighttpd.conf" >"$LIGHTTPD/logs/test.err" 2>&1 ||
        { cat "$LIGHTTPD/logs/test.err" >&2; die "lighttpd -tt failed"; }
    pid=$(readpid "$LIGHTTPD/lighttpd.pid")
    if alive "$pid" lighttpd; then
        (( changed )) || return 0
        # lighttpd has no reload of its configuration (SIGUSR1 reopens logs only): restart.
        log "restarting lighttpd (configuration changed)"
        lighttpd_stop
    fi
    ports_free
    log "starting lighttpd on 127.0.0.1:$TSA_HTTP_PORT and 127.0.0.1:$TSA_HTTPS_PORT (HTTPS)"
    lighttpd -f "$LIGHTTPD/lighttpd.conf" </dev/null >"$LIGHTTPD/logs/start.log" 2>&1 ||
        { cat "$LIGHTTPD/logs/start.log" >&2; tail -n 20 "$LIGHTTPD/logs/error.log" >&2; die "lighttpd did not start"; }
    await_pidfile "$LIGHTTPD/lighttpd.pid" lighttpd "$LIGHTTPD/logs/error.log"
}

lighttpd_stop() { stop_daemon "$LIGHTTPD/lighttpd.pid" lighttpd INT; }   # INT: a graceful stop

# ---- the web server: TSA_WEB -------------------------------------------------------------------
web_start() {
    case $TSA_WEB in
        nginx) nginx_start ;;
        apache) apache_start ;;
        lighttpd) lighttpd_start ;;
    esac
}

web_logdir() {
    case $TSA_WEB in
        nginx) echo "$NGX/logs" ;;
        apache) echo "$APACHE/logs" ;;
        lighttpd) echo "$LIGHTTPD/logs" ;;
    esac
}

web_pid() {
    case $TSA_WEB in
        nginx) readpid "$NGX/nginx.pid" ;;
        apache) readpid "$APACHE/httpd.pid" ;;
        lighttpd) readpid "$LIGHTTPD/lighttpd.pid" ;;
    esac
}

# The word in the web server's command line.
web_word() {
    case $TSA_WEB in
        nginx) echo nginx ;;
        apache) echo apache2 ;;
        lighttpd) echo lighttpd ;;
    esac
}

# Every web server the stack may have started (TSA_WEB may have changed since).
web_stop_all() {
    nginx_stop
    apache_stop
    lighttpd_stop
}

# ---- readiness -------------------------------------------------------------------------------
ready_check() {
    local q=$RUN/ready.tsq code='' i status=''
    if [[ ! -s $q ]]; then
        printf 'stack ready check\n' >"$RUN/ready.txt"
        openssl ts -query -data "$RUN/ready.txt" -sha256 -cert -out "$q" 2>/dev/null || die "openssl ts -query failed"
    fi
    # Ready: /tsa answers HTTP 200.  Within the same 30 s, wait for a granted token too; a
    # stack that answers but refuses (no signer, ...) gets a loud warning, not a failure.
    for ((i = 0; i < 60; i++)); do
        code=$(curl -s -o "$RUN/ready.tsr" -w '%{http_code}' --max-time 5 -X POST \
            -H 'Content-Type: application/timestamp-query' --data-binary @"$q" "$TSA_URL" || true)
        if [[ $code == 200 ]]; then
            status=$(openssl ts -reply -in "$RUN/ready.tsr" -text 2>/dev/null | grep -E '^(Status|Failure info):' | tr '\n' ' ')
            [[ $status == *"Status: Granted"* ]] && { mtls_check; return 0; }
        fi
        sleep 0.5
    done
    if [[ $code == 200 ]]; then
        log "WARNING: $TSA_URL answers, but does not grant tokens: ${status:-unreadable reply}"
        log "---- tail of $WORKER_LOG"
        tail -n 20 "$WORKER_LOG" >&2 || true
        return 0
    fi
    log "not ready after 30 s: POST $TSA_URL answered HTTP '${code:-none}'"
    log "---- tail of $WORKER_LOG"
    tail -n 30 "$WORKER_LOG" >&2 || true
    log "---- tail of $(web_logdir)/error.log"
    tail -n 10 "$(web_logdir)/error.log" >&2 || true
    die "the stack does not answer"
}

# The HTTPS service answers the registered demo client (a warning only: /tsa is what counts).
mtls_check() {
    local code
    code=$(curl -s -o "$RUN/ready-mtls.tsr" -w '%{http_code}' --max-time 5 --cacert "$PKI/ca.pem" \
        --cert "$PKI/client.pem" --key "$PKI/client.key" -H 'Content-Type: application/timestamp-query' \
        --data-binary @"$RUN/ready.tsq" "$MTLS_URL" || true)
    [[ $code == 200 ]] || log "WARNING: $MTLS_URL answers HTTP '${code:-none}' to the demo client"
    return 0
}

# ---- commands ----------------------------------------------------------------------------------
# A failed start stops whatever runs (logs and state stay in $TSA_VAR), so that callers which
# only stop a stack they saw start do not leak processes.
start_failed() {
    local rc=$?
    trap - EXIT
    if (( rc != 0 )); then
        log "start failed: stopping what runs (logs stay in $TSA_VAR)"
        cmd_stop || true
    fi
    exit "$rc"
}

cmd_start() {
    trap start_failed EXIT
    need_binaries
    users_setup
    softhsm_setup
    pki_setup
    softhsm_own
    pg_start
    pg_create_db
    write_conf
    "$TSA_BUILD/tsactl" --conf "$CONF" migrate >"$LOGDIR/migrate.log" 2>&1 ||
        { cat "$LOGDIR/migrate.log" >&2; die "tsactl migrate failed"; }
    db_roles
    seed
    signer_start
    log_start
    worker_start
    admin_start
    web_start
    ready_check
    trap - EXIT
    log "up: $TSA_URL"
}

cmd_stop() {
    web_stop_all
    admin_stop
    worker_stop
    log_stop
    signer_stop
    pg_stop
}

rel() {
    # Show PATH relative to the current directory when it is below it.
    local p=$1
    [[ $p == "$PWD"/* ]] && p=${p#"$PWD"/}
    printf '%s' "$p"
}

print_urls() {
    cat <<EOF
URLs
  RFC 3161, SOAP, Authenticode (service tsa):  $TSA_URL
  SI-TSA path (service verificationserver):    $VS_URL
  HTTPS, client certificates (service mtls):   $MTLS_URL
  administration (tsa-admin, over HTTPS):      ${MTLS_URL}admin/
  health and metrics (loopback only):          http://127.0.0.1:$TSA_HTTP_PORT/health  http://127.0.0.1:$TSA_HTTP_PORT/metrics
  web server:                                  $TSA_WEB (TSA_WEB=nginx|apache|lighttpd)
EOF
}

print_examples() {
    local ca pki
    ca=$(rel "$PKI/ca.pem")
    pki=$(rel "$PKI")
    cat <<EOF

Try it
  echo 'hello, time' > hello.txt

  # a timestamp request, through $TSA_WEB, and the reply printed:
  openssl ts -query -data hello.txt -sha256 -cert 2>/dev/null \\
    | curl -sS --data-binary @- -H 'Content-Type: application/timestamp-query' $TSA_URL \\
    | openssl ts -reply -in /dev/stdin -text

  # the same, keeping the reply, then verified against the demo root:
  openssl ts -query -data hello.txt -sha256 -cert -out hello.tsq
  curl -sS --data-binary @hello.tsq -H 'Content-Type: application/timestamp-query' $TSA_URL -o hello.tsr
  openssl ts -verify -data hello.txt -in hello.tsr -CAfile $ca
  $(rel "$TSA_BUILD")/tsactl --conf $(rel "$CONF") verify hello.tsr --ca $ca --data hello.txt

  # over HTTPS with the registered demo client certificate (service mtls):
  curl -sS --cacert $ca --cert $pki/client.pem --key $pki/client.key \\
    --data-binary @hello.tsq -H 'Content-Type: application/timestamp-query' $MTLS_URL -o hello-mtls.tsr

  # Authenticode and RFC 3161 timestamps on a signed PE file:
  osslsigncode sign -certs CODESIGN.pem -key CODESIGN.key -t $TSA_URL -in app.exe -out app-signed.exe
  osslsigncode sign -certs CODESIGN.pem -key CODESIGN.key -ts $TSA_URL -in app.exe -out app-signed.exe

Files: $pki/ca.pem (root), $pki/tsa.pem, $pki/chain.pem, $pki/client.pem + client.key,
       $pki/admin.pem + admin.key, $(rel "$CONF"); logs in $(rel "$LOGDIR") and $(rel "$(web_logdir)")
EOF
}

cmd_status() {
    local pid rc=0
    PGBIN=$(find_pgbin) || true
    if [[ -n $PGBIN ]] && pg_running; then
        echo "postgres:  running (socket in $PG_RUN)"
    else
        echo "postgres:  stopped"; rc=3
    fi
    pid=$(readpid "$WORKER_PID")
    if alive "$pid" tsa-fcgi; then
        echo "tsa-fcgi:  running (pid $pid, workers: $(pgrep -P "$pid" 2>/dev/null | tr '\n' ' '))"
    else
        echo "tsa-fcgi:  stopped"; rc=3
    fi
    pid=$(readpid "$SIGNER_PID")
    if alive "$pid" tsa-signer; then
        echo "tsa-signer: running (pid $pid, signing processes: $(pgrep -P "$pid" 2>/dev/null | tr '\n' ' '))"
    else
        echo "tsa-signer: stopped"; rc=3
    fi
    if [[ -x $TSA_BUILD/tsa-admin ]]; then
        pid=$(readpid "$ADMIN_PID")
        if alive "$pid" tsa-admin; then
            echo "tsa-admin: running (pid $pid, $ADMIN_SOCKET)"
        else
            echo "tsa-admin: stopped"; rc=3
        fi
    fi
    pid=$(web_pid)
    if alive "$pid" "$(web_word)"; then
        printf '%-10s %s\n' "$TSA_WEB:" "running (pid $pid, 127.0.0.1:$TSA_HTTP_PORT, HTTPS 127.0.0.1:$TSA_HTTPS_PORT)"
    else
        printf '%-10s %s\n' "$TSA_WEB:" "stopped"; rc=3
    fi
    echo "state:     $TSA_VAR"
    print_urls
    return $rc
}

cmd_run() {
    cmd_start
    trap 'trap - EXIT; echo; log "stopping"; cmd_stop; exit 0' INT TERM
    trap 'cmd_stop' EXIT
    echo
    print_urls
    print_examples
    echo
    echo "Running; Ctrl-C stops the stack."
    local warned=0 pid
    while :; do
        sleep 2 &
        wait $! || true
        # The signing process is brought back when it died (its workers refuse meanwhile).
        alive "$(readpid "$SIGNER_PID")" tsa-signer || { log "tsa-signer died: starting it again"; signer_start; }
        alive "$(readpid "$LOG_PID")" tsa-log || { log "tsa-log died: starting it again"; log_start; }
        pid=$(readpid "$WORKER_PID")
        if (( ! warned )) && ! alive "$pid" tsa-fcgi; then
            log "tsa-fcgi is no longer running; tail of $WORKER_LOG:"
            tail -n 20 "$WORKER_LOG" >&2 || true
            warned=1
        fi
    done
}

# Sourced (tests, debugging): only the definitions.
[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0

case ${1:-} in
    start)    cmd_start ;;
    stop)     cmd_stop ;;
    restart)  cmd_stop; cmd_start ;;
    run)      cmd_run ;;
    status)   cmd_status ;;
    pg-stop)  PGBIN=$(find_pgbin) || true; pg_stop ;;
    pg-start) pg_start ;;
    *) echo "usage: $0 start|stop|restart|run|status|pg-stop|pg-start" >&2; exit 2 ;;
esac
