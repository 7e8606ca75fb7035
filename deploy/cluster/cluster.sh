#!/usr/bin/env bash
# The SI-TSA topology on one machine: every host a network namespace of its own, joined by veth
# pairs to a bridge in a namespace of its own (nothing in the machine's own namespace, nothing
# routed off it).
#
#   cluster.sh up      bring up whatever is down (idempotent), print the client URLs
#   cluster.sh down    stop every process of every host, remove the namespaces (state stays)
#   cluster.sh status  which host runs what, and Patroni's view of the database cluster
#   cluster.sh kill HOST   kill -9 every process of HOST (the tests' "host lost")
#
# Hosts (the namespace is the host name; addresses in $NET.0/24):
#   client .10          where clients run
#   fe1    .11          nginx, plain HTTP on port 80: /tsa, /verificationserver/timestamp
#   fe2    .12          Apache httpd, HTTPS on port 443 with required client certificates: /
#   be1    .21, be2 .22 tsa-signer + tsa-fcgi on TCP port 9000, each with its own SoftHSM2 token
#                       and key (units SI-TSA-1, SI-TSA-2: certificates from one CA)
#   db1..3 .33-.35      etcd, Patroni (REST on 8008) and PostgreSQL 15 (5432), synchronous
#                       replication, strict
# Firewalls (nftables, in each namespace): clients reach only the frontends, only the frontends
# reach the backends' FastCGI port (and tsa-fcgi checks its own allow-list), only the backends
# and the database hosts reach PostgreSQL, only the database hosts reach etcd and Patroni's REST
# port (operators ask it from a database host: ip netns exec tsa-db1 patronictl ... list).
#
# Environment (the tests set all three, so that they run while `make cluster` is up):
#   TSA_CLUSTER_PREFIX  namespace names' prefix (default tsa-: tsa-client, tsa-fe1, ...)
#   TSA_CLUSTER_NET     the first three octets of the /24 (default 10.231.0)
#   TSA_CLUSTER_VAR     state (default var/cluster): hosts, one directory per host, pki/
#   TSA_BUILD           where the programs are (default build/)
#   TSA_WORKERS         tsa-fcgi workers per backend (default 4)
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PFX=${TSA_CLUSTER_PREFIX:-tsa-}
NET=${TSA_CLUSTER_NET:-10.231.0}
CL=${TSA_CLUSTER_VAR:-$ROOT/var/cluster}
export TSA_BUILD=${TSA_BUILD:-$ROOT/build}
TSA_WORKERS=${TSA_WORKERS:-4}

clog() { printf 'cluster: %s\n' "$*" >&2; }
cdie() { printf 'cluster: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || cdie "network namespaces need root"
[[ $PFX =~ ^[a-z][a-z0-9-]{0,5}$ ]] || cdie "TSA_CLUSTER_PREFIX must be 1 to 6 of a-z0-9- (names stay within 15 bytes)"
[[ $NET =~ ^10\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || cdie "TSA_CLUSTER_NET must be 10.X.Y (a private /24)"

declare -A ADDR=([client]=10 [fe1]=11 [fe2]=12 [be1]=21 [be2]=22 [db1]=33 [db2]=34 [db3]=35)
HOSTS=(client fe1 fe2 be1 be2 db1 db2 db3)
DBS=(db1 db2 db3)
BES=(be1 be2)
SWITCH=${PFX}switch
BACKEND_NET=$NET.20/30          # be1, be2 (and be3 at .23, were one added)
DB_NET=$NET.32/29               # db1..db3
FCGI_PORT=9000
UNIT_OF_be1=SI-TSA-1
UNIT_OF_be2=SI-TSA-2

ns()   { printf '%s%s' "$PFX" "$1"; }
ip4()  { printf '%s.%s' "$NET" "${ADDR[$1]}"; }
inns() { local h=$1; shift; ip netns exec "$(ns "$h")" "$@"; }
etcd_hosts() { local d s=; for d in "${DBS[@]}"; do s+=${s:+,}$(ip4 "$d"):2379; done; printf '%s' "$s"; }
pg_hosts()   { local d s=; for d in "${DBS[@]}"; do s+=${s:+,}$(ip4 "$d"); done; printf '%s' "$s"; }

# The state directory, reachable by the daemons' users (stack.sh's state_home, applied to it).
state_dir() {
    local d
    d=$(TSA_VAR=$CL bash -c 'source "$1" && echo "$TSA_VAR"' _ "$ROOT/deploy/stack/stack.sh") ||
        cdie "cannot prepare $CL"
    printf '%s' "$d"
}

# ---- the network ----------------------------------------------------------------------------
net_up() {
    local h n
    ip netns list | grep -qw "^$SWITCH" || {
        ip netns add "$SWITCH"
        ip -n "$SWITCH" link set lo up
    }
    ip -n "$SWITCH" link show br0 >/dev/null 2>&1 || {
        ip -n "$SWITCH" link add br0 type bridge
        ip -n "$SWITCH" link set br0 up
    }
    for h in "${HOSTS[@]}"; do
        n=$(ns "$h")
        if ! ip netns list | grep -qw "^$n"; then
            ip netns add "$n"
            ip -n "$n" link set lo up
        fi
        if ! ip -n "$n" link show eth0 >/dev/null 2>&1; then
            ip -n "$SWITCH" link del "v-$h" 2>/dev/null || true
            ip link add eth0 netns "$n" type veth peer name "v-$h" netns "$SWITCH"
            ip -n "$n" addr add "$(ip4 "$h")/24" dev eth0
            ip -n "$n" link set eth0 up
            ip -n "$SWITCH" link set "v-$h" master br0 up
        fi
        firewall "$h"
    done
    hosts_file
}

# firewall HOST: its input policy, from the rules of the header comment.
firewall() {
    local h=$1 rules allow=
    case $h in
        client) allow= ;;
        fe1) allow="tcp dport 80 ip saddr $NET.0/24 accept" ;;
        fe2) allow="tcp dport 443 ip saddr $NET.0/24 accept" ;;
        be*) allow="tcp dport $FCGI_PORT ip saddr { $(ip4 fe1), $(ip4 fe2) } accept" ;;
        db*) allow="tcp dport 5432 ip saddr { $BACKEND_NET, $DB_NET } accept
        tcp dport { 2379, 2380 } ip saddr $DB_NET accept
        tcp dport 8008 ip saddr $DB_NET accept" ;;
    esac
    rules="flush ruleset
table inet tsa_cluster {
    chain input {
        type filter hook input priority 0; policy drop;
        iif lo accept
        ct state established,related accept
        icmp type echo-request accept
        $allow
    }
    chain output {
        type filter hook output priority 0; policy accept;
    }
}"
    inns "$h" nft -f - <<<"$rules" || cdie "nftables rules for $(ns "$h") failed"
}

hosts_file() {
    local h
    mkdir -p "$CL"
    {
        echo "# The cluster's hosts (deploy/cluster/cluster.sh): address, then name."
        for h in "${HOSTS[@]}"; do printf '%s\t%s\n' "$(ip4 "$h")" "$(ns "$h")"; done
    } >"$CL/hosts.new"
    mv "$CL/hosts.new" "$CL/hosts"
}

net_down() {
    local h
    for h in "${HOSTS[@]}"; do
        ip netns del "$(ns "$h")" 2>/dev/null || true
    done
    ip netns del "$SWITCH" 2>/dev/null || true
}

# Every process inside HOST's namespace (ip netns pids), killed with SIGNAL.
host_kill() {
    local h=$1 sig=${2:-KILL} pids
    pids=$(ip netns pids "$(ns "$h")" 2>/dev/null || true)
    [[ -n $pids ]] && kill "-$sig" $pids 2>/dev/null || true
}

host_alive() { [[ -n $(ip netns pids "$(ns "$1")" 2>/dev/null) ]]; }

# ---- secrets ---------------------------------------------------------------------------------
# One random password per database role, kept in $CL/secrets (root's, 0600).
secret() {
    local f=$CL/secrets/$1
    if [[ ! -s $f ]]; then
        mkdir -p "$CL/secrets"
        chmod 700 "$CL/secrets"
        (umask 077; od -An -N18 -tx1 /dev/urandom | tr -d ' \n' >"$f")
    fi
    cat "$f"
}

# passfile FILE OWNER ROLE: a libpq password file for ROLE on every database host, OWNER's, 0600.
passfile() {
    local f=$1 owner=$2 role=$3 d pw
    pw=$(secret "$role")
    : >"$f.new"
    chmod 600 "$f.new"
    for d in "${DBS[@]}"; do printf '%s:5432:*:%s:%s\n' "$(ip4 "$d")" "$role" "$pw" >>"$f.new"; done
    chown "$owner:" "$f.new"
    mv "$f.new" "$f"
}

# ---- the database hosts: etcd, Patroni, PostgreSQL ------------------------------------------
PGBIN=
find_pgbin() {
    local v
    for v in 15 16 17; do
        [[ -x /usr/lib/postgresql/$v/bin/postgres ]] && { echo "/usr/lib/postgresql/$v/bin"; return 0; }
    done
    return 1
}

etcd_up() {
    local h=$1 cluster= d
    local dir=$CL/$(ns "$h")
    command -v etcd >/dev/null || cdie "etcd not found (deploy/deps.sh installs etcd-server)"
    pgrep -f -- "--name $(ns "$h") " >/dev/null 2>&1 && return 0
    for d in "${DBS[@]}"; do cluster+=${cluster:+,}$(ns "$d")=http://$(ip4 "$d"):2380; done
    mkdir -p "$dir/etcd/data"
    chown etcd: "$dir/etcd" "$dir/etcd/data"
    chmod 700 "$dir/etcd"
    clog "starting etcd on $(ns "$h")"
    inns "$h" setsid setpriv --reuid=etcd --regid="$(id -g etcd)" --init-groups --no-new-privs -- \
        etcd --name "$(ns "$h")" --data-dir "$dir/etcd/data" \
        --listen-client-urls "http://$(ip4 "$h"):2379,http://127.0.0.1:2379" \
        --advertise-client-urls "http://$(ip4 "$h"):2379" \
        --listen-peer-urls "http://$(ip4 "$h"):2380" \
        --initial-advertise-peer-urls "http://$(ip4 "$h"):2380" \
        --initial-cluster "$cluster" --initial-cluster-token "$(ns tsa-cluster)" \
        --initial-cluster-state new --heartbeat-interval 200 --election-timeout 2000 \
        --enable-v2=true --pre-vote=true \
        </dev/null >>"$dir/etcd/etcd.log" 2>&1 &
}

# Patroni's state on a database host: $CL/HOST/pg/ (postgres's, 0700): patroni.yml, data/,
# run/ (the unix socket), log/, the password file Patroni keeps.
patroni_conf() {
    local h=$1 t
    local dir=$CL/$(ns "$h")/pg
    t=$(<"$ROOT/deploy/patroni/patroni.yml.in")
    t=${t//@NAME@/$(ns "$h")}
    t=${t//@ADDRESS@/$(ip4 "$h")}
    t=${t//@ETCD_HOSTS@/$(etcd_hosts)}
    t=${t//@DATA@/$dir/data}
    t=${t//@PGBIN@/$PGBIN}
    t=${t//@STATE@/$dir}
    t=${t//@SUPERUSER_PASSWORD@/$(secret postgres)}
    t=${t//@REPLICATION_PASSWORD@/$(secret replicator)}
    t=${t//@REWIND_PASSWORD@/$(secret rewind)}
    t=${t//@DB_NET@/$DB_NET}
    t=${t//@BACKEND_NET@/$BACKEND_NET}
    (umask 077; printf '%s\n' "$t" >"$dir/patroni.yml.new")
    chown postgres: "$dir/patroni.yml.new"
    mv "$dir/patroni.yml.new" "$dir/patroni.yml"
}

patroni_up() {
    local h=$1
    local dir=$CL/$(ns "$h")/pg
    command -v patroni >/dev/null || cdie "patroni not found (deploy/deps.sh installs it)"
    mkdir -p "$dir/run" "$dir/log"
    chown postgres: "$dir" "$dir/run" "$dir/log"
    chmod 700 "$dir"
    patroni_conf "$h"
    pgrep -f "patroni $dir/patroni.yml" >/dev/null 2>&1 && return 0
    clog "starting Patroni on $(ns "$h")"
    # A node that was primary and was killed comes back as it left; Patroni rewinds it and
    # makes it a replica of the new primary (use_pg_rewind).
    (cd / && inns "$h" setsid runuser -u postgres -- patroni "$dir/patroni.yml" \
        </dev/null >>"$dir/log/patroni.log" 2>&1 &)
}

# The primary's address, from Patroni's REST API (GET /primary answers 200 only there).
primary() {
    local d
    for d in "${DBS[@]}"; do
        if inns "$d" curl -fsS -m 2 -o /dev/null "http://$(ip4 "$d"):8008/primary" 2>/dev/null; then
            ip4 "$d"
            return 0
        fi
    done
    return 1
}

await_primary() {
    local i
    for ((i = 0; i < ${1:-120}; i++)); do
        primary >/dev/null && return 0
        sleep 1
    done
    return 1
}

# A synchronous standby in place (strict mode refuses every commit without one).
await_sync() {
    local i d
    for ((i = 0; i < ${1:-120}; i++)); do
        d=$(primary) || { sleep 1; continue; }
        [[ $(ip netns exec "$(ns db1)" curl -fsS -m 2 "http://$d:8008/cluster" 2>/dev/null) == *'"sync_standby"'* ]] &&
            return 0
        sleep 1
    done
    return 1
}

psql_super() {
    local p
    p=$(primary) || cdie "no PostgreSQL primary"
    inns db1 env PGPASSWORD="$(secret postgres)" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$p" -U postgres "$@"
}

# The owner tsa (migrations, tsactl, the seed) and the database.
db_owner() {
    psql_super -d postgres >/dev/null <<EOF || cdie "creating the role tsa failed"
SET client_min_messages = warning;
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tsa') THEN
        CREATE ROLE tsa LOGIN;
    END IF;
END \$\$;
ALTER ROLE tsa LOGIN CREATEROLE PASSWORD '$(secret tsa)';
EOF
    [[ $(psql_super -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'tsa'") == 1 ]] ||
        psql_super -d postgres -c "CREATE DATABASE tsa OWNER tsa" >/dev/null
}

# The workers' and the signing process's LOGIN roles (members of the migrations' roles).
db_logins() {
    local role group
    for role in tsa_fcgi:tsa_worker tsa_signer:tsa_issuer; do
        group=${role#*:}; role=${role%%:*}
        psql_super -d tsa >/dev/null <<EOF || cdie "creating the role $role failed"
SET client_min_messages = warning;
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN
        CREATE ROLE $role LOGIN;
    END IF;
END \$\$;
ALTER ROLE $role LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$(secret "$role")';
GRANT $group TO $role;
EOF
    done
}

db_up() {
    local d
    PGBIN=$(find_pgbin) || cdie "PostgreSQL 15 or later not found"
    for d in "${DBS[@]}"; do etcd_up "$d"; done
    for d in "${DBS[@]}"; do patroni_up "$d"; done
    await_primary 180 || cdie "no PostgreSQL primary within 180 s (logs: $CL/$(ns db1)/)"
    await_sync 180 || cdie "no synchronous standby within 180 s (logs: $CL/$(ns db1)/)"
}

# ---- the backends -------------------------------------------------------------------------------
# stack.sh's functions (SoftHSM2, the demo PKI, the seed, the daemons' users), run for one
# backend in a subshell, with that backend's state directory as TSA_VAR.
be_stack() {
    local h=$1; shift
    (
        export TSA_VAR=$CL/$(ns "$h") TSA_WORKERS
        export TSA_UNIT_CN="TSA demo time-stamping unit $(unit_of "$h")"
        # shellcheck source=../stack/stack.sh
        source "$ROOT/deploy/stack/stack.sh"
        "$@"
    )
}

unit_of() { local v=UNIT_OF_$1; printf '%s' "${!v}"; }

# The shared demo PKI (one root, one client CA, the client and the administrator): made once in
# $CL/pki by stack.sh's pki_setup for be1, copied to every other backend before its own
# pki_setup, which then only issues that backend's unit certificate.
SHARED_PKI=(ca.pem ca.key client-ca.pem client-ca.key client.pem client.key admin.pem admin.key)
be_setup() {
    local h=$1 f
    local dir=$CL/$(ns "$h")
    mkdir -p "$dir/pki"
    if [[ -s $CL/pki/ca.pem ]]; then
        for f in "${SHARED_PKI[@]}"; do
            cmp -s "$CL/pki/$f" "$dir/pki/$f" || cp -p "$CL/pki/$f" "$dir/pki/$f"
        done
    fi
    be_stack "$h" be_setup_inner
    if [[ ! -s $CL/pki/ca.pem ]]; then
        mkdir -p "$CL/pki"
        for f in "${SHARED_PKI[@]}"; do cp -p "$dir/pki/$f" "$CL/pki/$f"; done
    fi
}

be_setup_inner() {
    users_setup
    need_binaries
    softhsm_setup
    pki_setup
    softhsm_own
    mkdir -p "$RUN" "$LOGDIR"
    own_dir "$SIGNER_RUN" "$SIGNER_USER" "$(id -gn "$WORKER_USER")" 2750
}

# tsa.conf of backend HOST: PostgreSQL by its three hosts, the primary found by libpq.
be_conf() {
    local h=$1 module
    local dir=$CL/$(ns "$h")
    module=$(for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
        [[ -e $m ]] && { echo "$m"; break; }; done)
    passfile "$dir/pgpass.fcgi" tsa tsa_fcgi
    passfile "$dir/pgpass.signer" tsa-signer tsa_signer
    passfile "$dir/pgpass.admin" root tsa
    local db="host=$(pg_hosts) port=5432 dbname=tsa target_session_attrs=read-write"
    printf '%s\n' \
        "# Written by deploy/cluster/cluster.sh: $(ns "$h"), unit $(unit_of "$h")." \
        "host = $(ns "$h")" \
        "database = $db user=tsa_fcgi passfile=$dir/pgpass.fcgi" \
        "signer_database = $db user=tsa_signer passfile=$dir/pgpass.signer" \
        "admin_database = $db user=tsa passfile=$dir/pgpass.admin" \
        "signer_socket = $dir/run/tsa-signer/signer.sock" \
        "pkcs11_module = $module" \
        "pkcs11_env = SOFTHSM2_CONF=$dir/softhsm/softhsm2.conf" \
        "pin_file = $dir/softhsm/pin" \
        "listen = $(ip4 "$h"):$FCGI_PORT" \
        "fcgi_allow = $(ip4 fe1), $(ip4 fe2)" \
        "workers = $TSA_WORKERS" \
        "max_body = 1048576" >"$dir/tsa.conf.new"
    chmod 644 "$dir/tsa.conf.new"
    mv "$dir/tsa.conf.new" "$dir/tsa.conf"
}

# The schema, the logins and the demo data: the owner and the logins by the superuser from a
# database host; the migrations and stack.sh's seed from be1 (cluster.sh _seed, run inside its
# namespace: every connection the seed makes, tsactl's included, leaves from be1); each unit
# registered from its own backend (cluster.sh _unit HOST: tsactl opens the key on that
# backend's token).
db_seed() {
    local b
    db_owner
    inns be1 "$HERE/cluster.sh" _migrate
    db_logins
    inns be1 "$HERE/cluster.sh" _seed
    for b in "${BES[@]}"; do inns "$b" "$HERE/cluster.sh" _unit "$b"; done
    inns be1 "$HERE/cluster.sh" _policies
}

# The unit of backend HOST (SI-TSA-N: its key on its token, its certificate), in the group
# SI-TSA and bound to the host; once.
cmd_unit() {
    local h=$1 dir
    CL=$(realpath "$CL")
    dir=$CL/$(ns "$h")
    tsactl_on "$h" signer list 2>/dev/null | grep -qx "signer: *$(unit_of "$h")" && return 0
    tsactl_on "$h" signer add "$(unit_of "$h")" --uri "pkcs11:token=tsa;object=tsa-rsa2048;type=private" \
        --cert "$dir/pki/tsa.pem" --chain "$CL/pki/ca.pem" --host "$(ns "$h")" --group SI-TSA \
        >>"$CL/migrate.log" 2>&1 || { tail -n 5 "$CL/migrate.log" >&2; cdie "tsactl signer add $(unit_of "$h") failed"; }
}

# The demo policies sign with the group SI-TSA (each server with its own unit) rather than the
# stack's single demo key; once.
cmd_policies() {
    local svc
    CL=$(realpath "$CL")
    tsactl_on be1 signer list 2>/dev/null | grep -qx "signer: *demo-rsa2048" || return 0
    for svc in tsa verificationserver mtls; do
        tsactl_on be1 policy set "$svc" default --signer "$(unit_of be1)" >>"$CL/migrate.log" 2>&1 ||
            cdie "tsactl policy set $svc default failed"
    done
    tsactl_on be1 signer remove demo-rsa2048 >>"$CL/migrate.log" 2>&1 || cdie "tsactl signer remove demo-rsa2048 failed"
}

cmd_migrate() {
    CL=$(realpath "$CL")
    tsactl_on be1 migrate >"$CL/migrate.log" 2>&1 || { cat "$CL/migrate.log" >&2; cdie "tsactl migrate failed"; }
}

# tsactl with backend HOST's tsa.conf (run inside that backend's namespace).
tsactl_on() { local h=$1; shift; "$TSA_BUILD/tsactl" --conf "$CL/$(ns "$h")/tsa.conf" "$@"; }

# stack.sh's seed through the cluster's primary, then the cluster's own difference: the open
# service 'tsa' admits the client network rather than loopback.
cmd_seed() {
    CL=$(realpath "$CL")
    # Once: a later `up` restores processes, not data (a reseed would also bump the
    # configuration version under load).
    PGBIN=$(find_pgbin)
    [[ $(PGPASSFILE=$CL/$(ns be1)/pgpass.admin PGTARGETSESSIONATTRS=read-write "$PGBIN/psql" -X -tA \
        -h "$(pg_hosts)" -U tsa -d tsa -c "SELECT count(*) FROM services") != 0 ]] && return 0
    be_stack be1 cluster_seed "$(ip4 client)" "$(pg_hosts)" "$CL/$(ns be1)/pgpass.admin"
}

cluster_seed() {
    local client=$1 pghosts=$2 pass=$3
    psql_tsa() {
        PGPASSFILE=$pass PGTARGETSESSIONATTRS=read-write "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
            -h "$pghosts" -U tsa "$@"
    }
    # The token log's integrator does not run in the cluster (yet): no log key is listed.
    register_log_key() { :; }
    PGBIN=$(find_pgbin)
    TSA_CLOCK=${TSA_CLOCK:-file} seed
    psql_tsa -d tsa -c "UPDATE policy_filters SET params = '{\"allow\": [\"${client%.*}.0/24\"]}'
        WHERE filter = 'ip-allow'" >/dev/null
}

# Backend HOST's tsa-signer (stack.sh's signer_start) and tsa-fcgi, inside its namespace.
be_daemon_up() { be_stack "$1" be_daemons "$(ns "$1")"; }

be_daemons() {
    local n=$1 pid
    AS_SIGNER=(ip netns exec "$n" "${AS_SIGNER[@]}")
    signer_start
    pid=$(readpid "$WORKER_PID")
    alive "$pid" tsa-fcgi && return 0
    log "starting tsa-fcgi on $n"
    printf '\n==== %s cluster.sh: starting tsa-fcgi\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" >>"$WORKER_LOG"
    setsid ip netns exec "$n" "${AS_WORKER[@]}" "$(daemon_binary tsa-fcgi)" --conf "$CONF" \
        </dev/null >>"$WORKER_LOG" 2>&1 &
    echo $! >"$WORKER_PID"
}

# ---- the frontends ------------------------------------------------------------------------------
render_fe() {
    local in=$1 out=$2 t
    t=$(<"$in")
    t=${t//@STATE@/$(dirname "$out")}
    t=${t//@ADDRESS_FE1@/$(ip4 fe1)}
    t=${t//@ADDRESS_FE2@/$(ip4 fe2)}
    t=${t//@BE1@/$(ip4 be1):$FCGI_PORT}
    t=${t//@BE2@/$(ip4 be2):$FCGI_PORT}
    t=${t//@PKI@/$CL/pki}
    t=${t//@MODULES@//usr/lib/apache2/modules}
    printf '%s\n' "$t" >"$out"
}

fe_pki() {
    # The HTTPS frontend's certificate, for its address.
    local a=$(ip4 fe2)
    [[ -s $CL/pki/fe2.pem ]] && openssl x509 -in "$CL/pki/fe2.pem" -noout -checkip "$a" 2>/dev/null |
        grep -q 'does match' && return 0
    (umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CL/pki/fe2.key" 2>/dev/null)
    openssl req -new -key "$CL/pki/fe2.key" -subj "/O=TSA demo/CN=$a" -out "$CL/pki/fe2.csr" 2>/dev/null
    openssl x509 -req -in "$CL/pki/fe2.csr" -CA "$CL/pki/ca.pem" -CAkey "$CL/pki/ca.key" \
        -CAcreateserial -days 825 -out "$CL/pki/fe2.pem" \
        -extfile <(printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$a") 2>/dev/null ||
        cdie "issuing the frontend's certificate failed"
    rm -f "$CL/pki/fe2.csr"
    cat "$CL/pki/fe2.pem" "$CL/pki/ca.pem" >"$CL/pki/fe2-chain.pem"
}

fe1_up() {
    local dir=$CL/$(ns fe1)
    mkdir -p "$dir/logs" "$dir/tmp"
    cp "$ROOT/deploy/stack/fastcgi_params" "$dir/fastcgi_params"
    render_fe "$ROOT/deploy/cluster/nginx.conf.in" "$dir/nginx.conf"
    [[ -s $dir/nginx.pid ]] && kill -0 "$(cat "$dir/nginx.pid")" 2>/dev/null && {
        inns fe1 nginx -p "$dir/" -c nginx.conf -s reload; return 0; }
    clog "starting nginx on $(ns fe1)"
    inns fe1 nginx -p "$dir/" -e logs/error.log -c nginx.conf </dev/null ||
        cdie "nginx did not start ($dir/logs/error.log)"
}

fe2_up() {
    local dir=$CL/$(ns fe2)
    fe_pki
    mkdir -p "$dir/logs" "$dir/run"
    render_fe "$ROOT/deploy/cluster/apache.conf.in" "$dir/httpd.conf"
    [[ -s $dir/httpd.pid ]] && kill -0 "$(cat "$dir/httpd.pid")" 2>/dev/null && {
        inns fe2 apache2 -d "$dir" -f "$dir/httpd.conf" -k graceful; return 0; }
    clog "starting Apache httpd on $(ns fe2)"
    rm -f "$dir/httpd.pid"
    inns fe2 apache2 -d "$dir" -f "$dir/httpd.conf" -k start </dev/null ||
        cdie "apache2 did not start ($dir/logs/error.log)"
}

# ---- commands ---------------------------------------------------------------------------------
# Both frontends answer a timestamp request (from the client host).
ready() {
    local i q=$CL/ready.tsq
    [[ -s $q ]] || openssl ts -query -digest "$(printf '%064d' 0)" -sha256 -cert -out "$q" 2>/dev/null
    for ((i = 0; i < 60; i++)); do
        if inns client curl -fsS -m 5 -o /dev/null -H 'Content-Type: application/timestamp-query' \
                --data-binary @"$q" "http://$(ip4 fe1)/tsa" 2>/dev/null &&
           inns client curl -fsS -m 5 -o /dev/null -H 'Content-Type: application/timestamp-query' \
                --cert "$CL/pki/client.pem" --key "$CL/pki/client.key" --cacert "$CL/pki/ca.pem" \
                --data-binary @"$q" "https://$(ip4 fe2)/" 2>/dev/null; then
            return 0
        fi
        sleep 1
    done
    return 1
}

cmd_up() {
    [[ -x $TSA_BUILD/tsa-fcgi && -x $TSA_BUILD/tsactl && -x $TSA_BUILD/tsa-signer ]] ||
        cdie "$TSA_BUILD has no tsa-fcgi, tsa-signer, tsactl: run 'make all' first"
    CL=$(state_dir)
    net_up
    db_up
    local b
    for b in "${BES[@]}"; do be_setup "$b"; be_conf "$b"; done
    db_seed
    for b in "${BES[@]}"; do be_daemon_up "$b"; done
    fe1_up
    fe2_up
    ready || cdie "the frontends do not answer (logs under $CL)"
    print_urls
}

print_urls() {
    cat <<EOF
cluster: up (hosts: $CL/hosts)
  government network:  ip netns exec $(ns client) curl ... http://$(ip4 fe1)/tsa
                       http://$(ip4 fe1)/verificationserver/timestamp
  mutual TLS:          ip netns exec $(ns client) curl --cert $CL/pki/client.pem --key $CL/pki/client.key \\
                         --cacert $CL/pki/ca.pem https://$(ip4 fe2)/
  backends:            ip netns exec $(ns be1) $TSA_BUILD/tsactl --conf $CL/$(ns be1)/tsa.conf status
  Patroni:             ip netns exec $(ns db1) patronictl -c $CL/$(ns db1)/pg/patroni.yml list
EOF
}

cmd_down() {
    local h
    [[ -d $CL ]] && CL=$(realpath "$CL")
    for h in fe1 fe2 be1 be2 client db1 db2 db3; do host_kill "$h" TERM; done
    sleep 2
    for h in "${HOSTS[@]}"; do host_kill "$h" KILL; done
    net_down
    clog "down (state kept in $CL)"
}

cmd_status() {
    local h
    for h in "${HOSTS[@]}"; do
        printf '%-12s %-15s %s\n' "$(ns "$h")" "$(ip4 "$h")" \
            "$(ip netns pids "$(ns "$h")" 2>/dev/null | xargs -r ps -o comm= -p | sort -u | tr '\n' ' ')"
    done
    inns db1 curl -fsS -m 3 "http://$(ip4 db1):8008/cluster" 2>/dev/null || true
    echo
}

case ${1:-} in
    up)     cmd_up ;;
    down)   cmd_down ;;
    status) cmd_status ;;
    _migrate) cmd_migrate ;;     # inside be1's namespace (db_seed)
    _seed)  cmd_seed ;;
    _unit)  cmd_unit "$2" ;;
    _policies) cmd_policies ;;
    kill)   [[ -n ${2:-} && -n ${ADDR[${2:-}]:-} ]] || cdie "usage: $0 kill HOST (${HOSTS[*]})"
            host_kill "$2" KILL ;;
    *) echo "usage: $0 up|down|status|kill HOST" >&2; exit 2 ;;
esac
