#!/usr/bin/env bash
# The cluster suite: the SI-TSA topology of deploy/cluster/cluster.sh in namespaces and
# addresses of its own (tsc-*, 10.232.0.0/24, state in a temporary directory), so that it runs
# while `make cluster` is up.  Each fault runs under a fixed-rate load from tsc-client through
# both frontends (tests/cluster/load.py); afterwards every token a client received is looked
# up on the primary (by its SHA-256), and the serials are checked for duplicates.  What is
# asserted are counts; times are measured and printed, with loose bounds against hangs only.
#
#   tests/cluster/run.sh [GLOB]     e.g. tests/cluster/run.sh 'cluster/primary*'
#   KEEP=1 tests/cluster/run.sh     keep the state directory and leave the cluster up
#   CLUSTER_RATE=100                requests per second of the load (default 100: about a
#                                   quarter of what the cluster answers at saturation on this
#                                   machine, tests/cluster/bench.sh)
#
# Root only (network namespaces).  Prints `PASS name` / `FAIL name: why` per case, figures as
# `  name: ...` lines, and `N passed, N failed` at the end; exit 1 when any failed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export TSA_CLUSTER_PREFIX=${TSA_CLUSTER_PREFIX:-tsc-}
export TSA_CLUSTER_NET=${TSA_CLUSTER_NET:-10.232.0}
export TSA_BUILD=${TSA_BUILD:-$ROOT/build}
export TSA_WORKERS=${TSA_CLUSTER_WORKERS:-2}
RATE=${CLUSTER_RATE:-100}
LOAD_THREADS=16
ONLY=${1:-}
CLUSTER=$ROOT/deploy/cluster/cluster.sh
NET=$TSA_CLUSTER_NET
P=$TSA_CLUSTER_PREFIX

PASSED=0
FAILED=0
pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }
figure() { echo "  $*"; }

if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP cluster: network namespaces need root"
    echo "0 passed, 0 failed"
    exit 0
fi

export TSA_CLUSTER_VAR
TSA_CLUSTER_VAR=$(mktemp -d /tmp/tsa-cluster.XXXXXX) || { echo "FAIL cluster: mktemp"; echo "0 passed, 1 failed"; exit 1; }
chmod 755 "$TSA_CLUSTER_VAR"
CL=$TSA_CLUSTER_VAR
WORK=$CL/test
mkdir -p "$WORK"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ ${KEEP:-0} == 1 ]]; then
        echo "cluster: state kept in $CL, cluster up (TSA_CLUSTER_PREFIX=$P TSA_CLUSTER_NET=$NET TSA_CLUSTER_VAR=$CL $CLUSTER down)"
    else
        "$CLUSTER" down >>"$WORK/cluster.log" 2>&1
        rm -rf "$CL"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

addr() { awk -v n="$P$1" '$2 == n { print $1 }' "$CL/hosts"; }
inns() { local h=$1; shift; ip netns exec "$P$h" "$@"; }
PSQL=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n1)

# SQL on the primary, as the owner, from be1 (libpq finds the primary).
sql() {
    inns be1 env PGPASSFILE="$CL/${P}be1/pgpass.admin" PGTARGETSESSIONATTRS=read-write \
        PGCONNECT_TIMEOUT=5 "$PSQL" -X -q -tA -h "$(addr db1),$(addr db2),$(addr db3)" -U tsa -d tsa -c "$1"
}

# Patroni's view: GET /cluster, asked on a database host of its own REST API (only the
# database hosts reach port 8008), the first of ASK_DBS that answers (an isolated host's
# Patroni answers too, with its stale view: the isolation case leaves it out).
ASK_DBS="db1 db2 db3"
patroni_cluster() {
    local d
    for d in $ASK_DBS; do
        inns "$d" curl -fsS -m 3 "http://$(addr "$d"):8008/cluster" 2>/dev/null && return 0
    done
    return 1
}

# The database host (db1..3) Patroni names leader; empty when none.
leader() {
    patroni_cluster | python3 -c '
import json, sys
try:
    m = json.load(sys.stdin)["members"]
except Exception:
    sys.exit(0)
for x in m:
    if x["role"] == "leader" and x["state"] == "running":
        print(x["name"][len(sys.argv[1]):])' "$P"
}

# The member with role ROLE is running (sync_standby, replica): prints the names.
members() {
    patroni_cluster | python3 -c '
import json, sys
try:
    m = json.load(sys.stdin)["members"]
except Exception:
    sys.exit(0)
print(" ".join("%s:%s:%s" % (x["name"][len(sys.argv[1]):], x["role"], x["state"]) for x in m))' "$P"
}

# Waits until a leader and a synchronous standby run and the leader has not changed for 15 s
# (at most 90 s); prints the members.
settle() {
    local i l prev= since=$SECONDS m
    for ((i = 0; i < 90; i++)); do
        m=$(members)
        l=$(leader)
        if [[ -z $l || $l != "$prev" || $m != *sync_standby:running* ]]; then
            prev=$l
            since=$SECONDS
        elif (( SECONDS - since >= 15 )); then
            break
        fi
        sleep 1
    done
    figure "settled: $m"
}

# load NAME SECONDS: the fixed-rate load in the background; its pid in LOAD_PID.
load() {
    local out=$WORK/$1
    rm -rf "$out"
    mkdir -p "$out"
    inns client python3 "$HERE/load.py" --rate "$RATE" --seconds "$2" --out "$out" \
        --http "http://$(addr fe1)/tsa" --https "https://$(addr fe2)/" \
        --cert "$CL/pki/client.pem" --key "$CL/pki/client.key" --ca "$CL/pki/ca.pem" \
        --threads "$LOAD_THREADS" >"$out/load.log" 2>&1 &
    LOAD_PID=$!
}

# summary NAME FIELD: a field of the load's summary.json (python expression on s).
summary() { python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$WORK/$1/summary.json" "$2"; }

# check_tokens NAME: every received token on the primary, no duplicate serial.  Sets MISSING,
# DUPLICATES; prints the figures.
check_tokens() {
    local out=$WORK/$1
    sql "SELECT encode(sha256(token), 'hex') FROM issued_tokens" | sort -u >"$out/rows" ||
        { MISSING=-1; return 1; }
    python3 -c '
import base64, hashlib, sys
for l in open(sys.argv[1]):
    print(hashlib.sha256(base64.b64decode(l)).hexdigest())' "$out/tokens" | sort >"$out/received"
    MISSING=$(comm -23 "$out/received" "$out/rows" | wc -l)
    DUPLICATES=$(sql "SELECT count(*) FROM (SELECT serial FROM issued_tokens GROUP BY serial HAVING count(*) > 1) d")
    figure "$1: sent $(summary "$1" 's["sent"]'), granted $(summary "$1" 's["granted"]'), refused $(summary "$1" 's["refused"]'), no answer $(summary "$1" 's["failed"]'); received tokens missing on the primary: $MISSING, duplicate serials: $DUPLICATES"
}

want() { [[ -z $ONLY || $1 == $ONLY ]]; }

# ---- the cases -----------------------------------------------------------------------------------
case_up() {
    local t0=$SECONDS m
    if ! "$CLUSTER" up >"$WORK/up.log" 2>&1; then
        fail cluster/up "cluster.sh up failed: $(tail -n 5 "$WORK/up.log" | tr '\n' ' ')"
        return 1
    fi
    figure "cluster/up: $((SECONDS - t0)) s from nothing to both frontends answering"
    m=$(members)
    [[ $(wc -l <"$CL/hosts") -ge 9 ]] || { fail cluster/up "hosts file: $(cat "$CL/hosts")"; return 1; }
    [[ $m == *leader:running* && $m == *sync_standby:running* ]] ||
        { fail cluster/up "Patroni members: $m"; return 1; }
    # Idempotent: a second run changes nothing and succeeds.
    "$CLUSTER" up >>"$WORK/up.log" 2>&1 || { fail cluster/up "a second cluster.sh up failed"; return 1; }
    pass cluster/up
}

# Reaches HOST:PORT from namespace FROM within 2 s?
reaches() { inns "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; }

case_firewall() {
    local why=
    reaches client "$(addr fe1)" 80 || why+=" client->fe1:80 blocked;"
    reaches client "$(addr be1)" 9000 && why+=" client reaches be1:9000;"
    reaches client "$(addr db1)" 5432 && why+=" client reaches db1:5432;"
    reaches fe1 "$(addr db1)" 5432 && why+=" fe1 reaches db1:5432;"
    reaches fe1 "$(addr be2)" 9000 || why+=" fe1->be2:9000 blocked;"
    reaches be1 "$(addr db2)" 5432 || why+=" be1->db2:5432 blocked;"
    reaches be1 "$(addr db1)" 2379 && why+=" be1 reaches etcd;"
    reaches client "$(addr db1)" 8008 && why+=" client reaches Patroni's REST API;"
    reaches db2 "$(addr db1)" 8008 || why+=" db2->db1:8008 blocked;"
    # tsa-fcgi's own allow-list, with be1's firewall opened: the client's connection is closed
    # before a byte is read, and the log says so. Closed with our bytes unread, the kernel may
    # answer with a reset rather than an end of stream; both mean the worker refused.
    inns be1 nft flush ruleset
    inns client python3 - "$(addr be1)" <<'EOF' >"$WORK/allow.out" 2>&1
import socket, sys
s = socket.create_connection((sys.argv[1], 9000), timeout=3)
s.sendall(b"\x01\x01\x00\x01\x00\x08\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00")
try:
    print("closed" if s.recv(1) == b"" else "answered")
except ConnectionResetError:
    print("closed")
EOF
    "$CLUSTER" up >>"$WORK/up.log" 2>&1
    grep -q '^closed$' "$WORK/allow.out" || why+=" tsa-fcgi did not close a connection from the client: $(cat "$WORK/allow.out");"
    sleep 0.5
    grep -q "refused a FastCGI connection from $(addr client): not in fcgi_allow" "$CL/${P}be1/log/tsa-fcgi.log" ||
        why+=" no 'refused a FastCGI connection' in be1's log;"
    [[ -z $why ]] && pass cluster/firewall || fail cluster/firewall "$why"
}

# Both frontends, both backends: every request granted, each backend signing with its own unit.
case_balance() {
    load balance 5
    wait "$LOAD_PID"
    check_tokens balance
    local sent granted u1 u2
    sent=$(summary balance 's["sent"]')
    granted=$(summary balance 's["granted"]')
    read -r u1 u2 < <(python3 -c '
import base64, sys
a = b = 0
for l in open(sys.argv[1]):
    t = base64.b64decode(l)
    a += b"SI-TSA-1" in t
    b += b"SI-TSA-2" in t
print(a, b)' "$WORK/balance/tokens")
    figure "cluster/balance: tokens signed by SI-TSA-1: $u1, by SI-TSA-2: $u2"
    if (( sent > 0 && granted == sent && MISSING == 0 && DUPLICATES == 0 && u1 > 0 && u2 > 0 )); then
        pass cluster/balance
    else
        fail cluster/balance "sent $sent, granted $granted, missing $MISSING, units $u1/$u2"
    fi
}

# Patroni's promise (deploy/patroni/patroni.yml.in): the dead primary's leader key expires
# within ttl (10 s) and a replica takes it within a loop (loop_wait 2 s): 12 s, and a margin of
# 6 s for the promotion itself and two cores carrying eight hosts.
FAILOVER_PROMISE=12
FAILOVER_BOUND=$((FAILOVER_PROMISE + 6))

case_primary_killed() {
    local old new t0 t1 i m
    old=$(leader)
    [[ -n $old ]] || { fail cluster/primary-killed "no leader before the fault: $(members)"; return; }
    load primary-killed 40
    sleep 8
    t0=$(date +%s.%N)
    pkill -KILL -f "patroni $CL/$P$old/pg/patroni.yml"
    pkill -KILL -f "$CL/$P$old/pg/data" 2>/dev/null
    for pid in $(ip netns pids "$P$old"); do
        [[ $(ps -o comm= -p "$pid") == postgres ]] && kill -KILL "$pid" 2>/dev/null
    done
    new=
    # Looked for up to three times the bound (a hang), judged against the bound below.
    while (( $(date +%s) - ${t0%.*} < 3 * FAILOVER_BOUND )); do
        new=$(leader)
        [[ -n $new && $new != "$old" ]] && break
        new=
        sleep 0.2
    done
    t1=$(date +%s.%N)
    wait "$LOAD_PID"
    local gap first last refused failed
    gap=$(python3 -c "print(round($t1 - $t0, 1))")
    read -r first last < <(summary primary-killed '"%s %s" % ((s["not_granted_at"][0][0], s["not_granted_at"][-1][0]) if s["not_granted_at"] else ("-", "-"))')
    refused=$(summary primary-killed 'sum(s["refused"].values())')
    failed=$(summary primary-killed 'sum(s["failed"].values())')
    figure "cluster/primary-killed: $old killed; new primary $new after ${gap} s (Patroni's settings promise $FAILOVER_PROMISE s; bound $FAILOVER_BOUND s); requests not granted from ${first} s to ${last} s of the load (the kill at 8 s): $refused refused, $failed without an answer"
    # The old node comes back as a replica.
    "$CLUSTER" up >>"$WORK/up.log" 2>&1
    for ((i = 0; i < 60; i++)); do
        m=$(members)
        [[ $m == *"$old:replica:running"* || $m == *"$old:sync_standby:running"* || $m == *"$old:replica:streaming"* || $m == *"$old:sync_standby:streaming"* ]] && break
        sleep 1
    done
    figure "cluster/primary-killed: after cluster.sh up: $m"
    settle
    check_tokens primary-killed
    local why=
    [[ -n $new ]] || why+=" no new primary within $((3 * FAILOVER_BOUND)) s;"
    python3 -c "import sys; sys.exit(0 if $gap <= $FAILOVER_BOUND else 1)" ||
        why+=" the new primary came after $gap s (bound $FAILOVER_BOUND s);"
    (( MISSING == 0 )) || why+=" $MISSING received tokens missing on the new primary;"
    (( DUPLICATES == 0 )) || why+=" $DUPLICATES duplicate serials;"
    (( failed == 0 )) || why+=" $failed requests without an answer (refusals must be clean);"
    [[ $m == *"$old:replica:"* || $m == *"$old:sync_standby:"* ]] || why+=" $old did not rejoin as a replica: $m;"
    [[ -z $why ]] && pass cluster/primary-killed || fail cluster/primary-killed "$why"
}

# A whole backend host lost: the frontends route to the other; under 1 % of the requests of
# the fault window fail.
case_backend_killed() {
    load backend-killed 20
    sleep 5
    "$CLUSTER" kill be1
    wait "$LOAD_PID"
    check_tokens backend-killed
    local sent bad
    sent=$(summary backend-killed 's["sent"]')
    bad=$(summary backend-killed 'sum(s["refused"].values()) + sum(s["failed"].values())')
    figure "cluster/backend-killed: be1 killed at 5 s of 20 s; $bad of $sent requests not granted"
    "$CLUSTER" up >>"$WORK/up.log" 2>&1 || fail cluster/backend-killed "cluster.sh up did not bring be1 back"
    if (( MISSING == 0 && DUPLICATES == 0 && bad * 100 < sent )); then
        pass cluster/backend-killed
    else
        fail cluster/backend-killed "$bad of $sent not granted (1 % allowed), missing $MISSING, duplicates $DUPLICATES"
    fi
}

# A planned switchover under load.
case_switchover() {
    local old cand m i
    old=$(leader)
    m=$(members)
    cand=$(tr ' ' '\n' <<<"$m" | awk -F: '$2 == "sync_standby" { print $1; exit }')
    [[ -n $old && -n $cand ]] || { fail cluster/switchover "no leader or sync standby: $m"; return; }
    load switchover 20
    sleep 5
    inns "$old" patronictl -c "$CL/$P$old/pg/patroni.yml" switchover --leader "$P$old" \
        --candidate "$P$cand" --force >"$WORK/switchover.log" 2>&1
    for ((i = 0; i < 150; i++)); do
        [[ $(leader) == "$cand" ]] && break
        sleep 0.2
    done
    wait "$LOAD_PID"
    check_tokens switchover
    local sent bad
    sent=$(summary switchover 's["sent"]')
    bad=$(summary switchover 'sum(s["refused"].values()) + sum(s["failed"].values())')
    figure "cluster/switchover: $old -> $cand (now: $(leader)); $bad of $sent requests not granted$(summary switchover '(", from %s s to %s s of the load (the switchover at 5 s)" % (s["not_granted_at"][0][0], s["not_granted_at"][-1][0])) if s["not_granted_at"] else ""')"
    # Only requests in flight at the switch may fail: the load has LOAD_THREADS senders, so at
    # most that many are in flight at any moment; the rest wait for the new primary
    # (database_wait) and are granted.
    if [[ $(leader) == "$cand" ]] && (( MISSING == 0 && DUPLICATES == 0 && bad <= LOAD_THREADS )); then
        pass cluster/switchover
    else
        fail cluster/switchover "leader $(leader), $bad not granted (at most $LOAD_THREADS in flight), missing $MISSING, duplicates $DUPLICATES"
    fi
}

# A backend cut from the database (its packets to PostgreSQL dropped): it refuses within its
# bound and answers nothing unrecorded; the other backend keeps issuing.
case_database_cut() {
    # Longer than a signing process's whole bound (database_wait 10 s + 2 x database_timeout
    # 5 s): requests that reached be1 early in the cut are refused, not only delayed.
    load database-cut 45
    sleep 5
    # In the output chain: the input chain accepts established connections first.
    inns be1 nft add rule inet tsa_cluster output ip daddr "$(addr db1)" drop
    inns be1 nft add rule inet tsa_cluster output ip daddr "$(addr db2)" drop
    inns be1 nft add rule inet tsa_cluster output ip daddr "$(addr db3)" drop
    sleep 32
    "$CLUSTER" up >>"$WORK/up.log" 2>&1     # the firewall as it was
    wait "$LOAD_PID"
    check_tokens database-cut
    local sent granted refused failed
    sent=$(summary database-cut 's["sent"]')
    granted=$(summary database-cut 's["granted"]')
    refused=$(summary database-cut 'sum(s["refused"].values())')
    failed=$(summary database-cut 'sum(s["failed"].values())')
    figure "cluster/database-cut: be1 cut from PostgreSQL from 5 s to 37 s of 45 s; $granted of $sent granted, $refused refused, $failed without an answer"
    if (( MISSING == 0 && DUPLICATES == 0 && failed == 0 && refused > 0 )); then
        pass cluster/database-cut
    else
        fail cluster/database-cut "missing $MISSING, duplicates $DUPLICATES, $failed without an answer, $refused refused (be1 must refuse)"
    fi
}

# The primary isolated from the other database hosts and etcd (the backends still reach it): no
# split brain, and no token answered that the new primary does not hold.
case_primary_isolated() {
    local old new i d leaders t0 gap
    old=$(leader)
    [[ -n $old ]] || { fail cluster/primary-isolated "no leader before the fault: $(members)"; return; }
    load primary-isolated 45
    sleep 5
    for d in db1 db2 db3; do
        [[ $d == "$old" ]] && continue
        inns "$old" nft add rule inet tsa_cluster input ip saddr "$(addr "$d")" drop
        inns "$old" nft add rule inet tsa_cluster output ip daddr "$(addr "$d")" drop
    done
    new=
    leaders=0
    t0=$(date +%s.%N)
    ASK_DBS=$(tr ' ' '\n' <<<"db1 db2 db3" | grep -vx "$old" | tr '\n' ' ')
    while (( $(date +%s) - ${t0%.*} < 3 * FAILOVER_BOUND )); do
        # Two running leaders at once would be a split brain: counted from both sides.
        local n=0
        for d in db1 db2 db3; do
            inns "$d" curl -fsS -m 1 -o /dev/null "http://$(addr "$d"):8008/primary" 2>/dev/null && n=$((n + 1))
        done
        (( n > leaders )) && leaders=$n
        new=$(leader)
        [[ -n $new && $new != "$old" ]] && break
        new=
        sleep 0.2
    done
    gap=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))")
    ASK_DBS="db1 db2 db3"
    sleep 10
    "$CLUSTER" up >>"$WORK/up.log" 2>&1     # the firewall as it was; the old primary rejoins
    wait "$LOAD_PID"
    # The tokens are looked up once the cluster has settled again: a former primary that took
    # the leadership back after the partition healed would show here as missing tokens.
    settle
    check_tokens primary-isolated
    local refused failed granted
    granted=$(summary primary-isolated 's["granted"]')
    refused=$(summary primary-isolated 'sum(s["refused"].values())')
    failed=$(summary primary-isolated 'sum(s["failed"].values())')
    figure "cluster/primary-isolated: $old isolated at 5 s; new primary: ${new:-none} after $gap s; most hosts answering /primary at once: $leaders; $granted granted, $refused refused, $failed without an answer"
    local why=
    [[ -n $new ]] || why+=" no new primary within $((3 * FAILOVER_BOUND)) s;"
    (( MISSING == 0 )) || why+=" $MISSING received tokens missing on the new primary;"
    (( DUPLICATES == 0 )) || why+=" $DUPLICATES duplicate serials;"
    [[ -z $why ]] && pass cluster/primary-isolated || fail cluster/primary-isolated "$why"
}

if case_up; then
    for c in firewall balance backend_killed database_cut switchover primary_killed primary_isolated; do
        want "cluster/${c//_/-}" && "case_$c"
    done
fi

echo
echo "$PASSED passed, $FAILED failed"
(( FAILED == 0 ))
