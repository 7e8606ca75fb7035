# The database link under failure (README "High availability"): a worker and a signing
# process of their own, on the stack's PostgreSQL, with a short database_timeout and
# database_wait.  A primary that never acknowledges a commit (a synchronous standby that is
# not there) and a server that does not answer at all (SIGSTOP) are refused within the bound,
# no token is answered, and issuing resumes without a restart; a multi-host conninfo whose
# first hosts are a closed port and a hot standby finds the primary (target_session_attrs),
# and one whose first host drops every packet (a network namespace of the case's own) too;
# a request sent while PostgreSQL is down is answered once it is back within database_wait,
# and refused after the wait when it is not.
# shellcheck shell=bash

ha_ms() { date +%s%3N; }

# ha_start DIR DATABASE KEY=VALUE...: tsa-signer and tsa-fcgi on DIR/tsa.conf (the stack's,
# with its own sockets, one worker, one signing process, both roles' conninfo DATABASE with
# the roles of the stack, and the keys given).
ha_start() {
    local d=$1 db=$2 wrole srole i
    shift 2
    wrole=$(sed -n 's/^database *= *.*user=\([a-z_0-9]*\).*/\1/p' "$TSA_VAR/tsa.conf")
    srole=$(sed -n 's/^signer_database *= *.*user=\([a-z_0-9]*\).*/\1/p' "$TSA_VAR/tsa.conf")
    { grep -v -E '^(database|signer_database|listen|workers|signer_socket|signer_processes) *=' "$TSA_VAR/tsa.conf"
      echo "database = $db user=$wrole"
      echo "signer_database = $db user=$srole"
      echo "listen = unix:$d/tsa.sock"
      echo "signer_socket = $d/signer.sock"
      echo "workers = 1"
      echo "signer_processes = 1"
      printf '%s\n' "$@"; } >"$d/tsa.conf"
    # HA_NETNS: the network namespace to run them in (the unix sockets reach across).
    ${HA_NETNS:+ip netns exec "$HA_NETNS"} setsid "$BUILD/tsa-signer" --conf "$d/tsa.conf" \
        </dev/null >"$d/signer.log" 2>&1 3>&- &
    echo $! >"$d/signer.pid"
    for ((i = 0; i < 50; i++)); do [[ -S $d/signer.sock ]] && break; sleep 0.1; done
    [[ -S $d/signer.sock ]] || bad "tsa-signer did not start: $(oneline <"$d/signer.log")"
    ${HA_NETNS:+ip netns exec "$HA_NETNS"} setsid "$BUILD/tsa-fcgi" --conf "$d/tsa.conf" \
        </dev/null >"$d/fcgi.log" 2>&1 3>&- &
    echo $! >"$d/fcgi.pid"
    for ((i = 0; i < 50; i++)); do [[ -S $d/tsa.sock ]] && break; sleep 0.1; done
    [[ -S $d/tsa.sock ]] || bad "tsa-fcgi did not start: $(oneline <"$d/fcgi.log")"
}

ha_stop() {
    [[ -s $1/fcgi.pid ]] && kill "$(<"$1/fcgi.pid")" 2>/dev/null
    [[ -s $1/signer.pid ]] && kill "$(<"$1/signer.pid")" 2>/dev/null
    return 0
}

# The case's processes, supervisors and children: unchanged means nothing was restarted.
ha_pids() {
    local p
    for p in "$(<"$1/signer.pid")" "$(<"$1/fcgi.pid")"; do
        printf '%s:%s ' "$p" "$(pgrep -P "$p" | sort -n | tr '\n' ',')"
    done
}

# ha_refused DIR NAME BOUND_MS: a request answered systemFailure within BOUND_MS; prints the time.
ha_refused() {
    local t0 t1 out
    t0=$(ha_ms)
    out=$(timeout 60 bash -c "$(declare -f fcgi_timestamp bad); fcgi_timestamp '$1' '$2'" 3>&1) ||
        bad "$2: no answer within 60 s ($out)"
    t1=$(ha_ms)
    echo "$2: answered in $((t1 - t0)) ms: $(reply_text "$1/$2.tsr" | grep -E '^(Status|Failure)' | oneline)"
    [[ $out == "Status: 200 OK" ]] || bad "$2: worker answered '$out'"
    ( expect_rejected "$1/$2.tsr" "$FI_SYSTEM_FAILURE" ) || exit 1
    (( t1 - t0 <= $3 )) || bad "$2: refused after $((t1 - t0)) ms, bound $3 ms"
}

# ha_rows DATAFILE: the issued_tokens rows holding that data's SHA-256 imprint.
ha_rows() {
    tsa_psql -c "SELECT count(*) FROM issued_tokens WHERE imprint = decode('$(digest sha256 "$1")', 'hex')"
}

ha_sync_reset() {
    tsa_psql -c "ALTER SYSTEM RESET synchronous_standby_names" && tsa_psql -c "SELECT pg_reload_conf()" >/dev/null
}

# (a) Every commit waits for a synchronous standby that does not exist.
ha_unacknowledged() {
    local d before n rows
    d=$(casedir)
    HA_CASE=$d
    trap 'ha_sync_reset; ha_stop "$HA_CASE"' EXIT
    ha_start "$d" "host=$TSA_VAR/pg/run dbname=tsa" "database_timeout = 2" "database_wait = 2"
    fcgi_granted "$d" before "before"
    before=$(ha_pids "$d")
    tsa_psql -c "ALTER SYSTEM SET synchronous_standby_names = 'nobody'" || bad "ALTER SYSTEM failed"
    tsa_psql -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.5
    # The signer's bound: database_wait + 2 x database_timeout (6 s); the commit's own is 2 s.
    for n in 1 2 3; do
        ha_refused "$d" "stuck$n" 6000
    done
    grep -q 'outcome unknown, none answered' "$d/signer.log" ||
        bad "the signer did not log the unknown outcome: $(tail -n3 "$d/signer.log" | oneline)"
    grep 'outcome unknown' "$d/signer.log" | head -n1
    grep -E 'refused: .*commit outcome unknown' "$d/fcgi.log" | head -n1 | grep -q . ||
        bad "the worker's log does not say why: $(tail -n3 "$d/fcgi.log" | oneline)"
    # The refusals' events, written meanwhile: they do not wait for the standby.
    events_wait "kind = 'request-refused' AND detail LIKE '%commit outcome unknown%'" 3 min ||
        bad "the refusals are not in the events"
    ha_sync_reset || bad "resetting synchronous_standby_names failed"
    sleep 0.5
    # The refused tokens' rows: committed locally, released when the standby was no longer
    # required; they may exist, but no client received them.
    for n in 1 2 3; do
        rows=$(ha_rows "$d/stuck$n.data")
        echo "stuck$n: $rows row(s) for a refused token"
        (( rows <= 1 )) || bad "stuck$n: $rows rows"
    done
    fcgi_granted "$d" after "after the reset"
    [[ $(ha_pids "$d") == "$before" ]] || bad "processes were restarted: $before -> $(ha_pids "$d")"
    (( $(ha_rows "$d/after.data") == 1 )) || bad "the granted token has no row"
}

# (b) The server does not answer at all: the postmaster and its backends stopped.
ha_silent() {
    local d before pm pids n i text
    d=$(casedir)
    pm=$(head -n1 "$TSA_VAR/pg/data/postmaster.pid")
    [[ $pm =~ ^[0-9]+$ ]] || bad "no postmaster pid"
    ha_start "$d" "host=$TSA_VAR/pg/run dbname=tsa" "database_timeout = 2" "database_wait = 2"
    fcgi_granted "$d" before "before"
    before=$(ha_pids "$d")
    pids="$pm $(pgrep -P "$pm" | tr '\n' ' ')"
    HA_CASE=$d
    HA_PIDS=$pids
    trap 'kill -CONT $HA_PIDS 2>/dev/null; ha_stop "$HA_CASE"' EXIT
    # shellcheck disable=SC2086
    kill -STOP $pids
    # The signer's bound (6 s), and one database_timeout that the worker may spend on its
    # own connection first.
    for n in 1 2 3; do
        ha_refused "$d" "silent$n" 8000
    done
    # shellcheck disable=SC2086
    kill -CONT $pids
    for ((i = 0; i < 20; i++)); do
        fcgi_timestamp "$d" back >/dev/null
        text=$(reply_text "$d/back.tsr")
        grep -q '^Status: Granted' <<<"$text" && break
        sleep 0.5
    done
    grep -q '^Status: Granted' <<<"$text" || bad "no token 10 s after SIGCONT"
    ossl_verify "$d/back.data" "$d/back.tsr" "$d/back.tsq" cert
    for n in 1 2 3; do echo "silent$n: $(ha_rows "$d/silent$n.data") row(s) for a refused token"; done
    [[ $(ha_pids "$d") == "$before" ]] || bad "processes were restarted: $before -> $(ha_pids "$d")"
    grep -E 'no answer within the bound|outcome unknown|unreachable' "$d/signer.log" | head -n3
}

# (c) The first hosts of the conninfo are a closed port and a hot standby of the stack's
# PostgreSQL; the last is the primary.
ha_multi_host() {
    local d port sb hba
    d=$(casedir)
    port=$(free_port) || bad "no free port"
    sb=$d/standby
    hba=$TSA_VAR/pg/data/pg_hba.conf
    cp "$hba" "$d/pg_hba.orig"
    HA_CASE=$d
    HA_PGBIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | tail -n1)")
    trap 'runuser -u postgres -- "$HA_PGBIN/pg_ctl" -D "$HA_CASE/standby" -m immediate stop >/dev/null 2>&1
          cp "$HA_CASE/pg_hba.orig" "$TSA_VAR/pg/data/pg_hba.conf"
          tsa_psql -c "SELECT pg_reload_conf()" >/dev/null; ha_stop "$HA_CASE"' EXIT
    echo "local replication all peer map=tsa-stack" >>"$hba"
    tsa_psql -c "SELECT pg_reload_conf()" >/dev/null
    "$HA_PGBIN/pg_basebackup" -h "$TSA_VAR/pg/run" -U tsa -D "$sb" -R -X stream -c fast \
        >"$d/basebackup.log" 2>&1 || bad "pg_basebackup failed: $(oneline <"$d/basebackup.log")"
    mkdir -p "$d/sb"
    chown -R postgres: "$sb" "$d/sb"
    chmod 700 "$sb"
    runuser -u postgres -- "$HA_PGBIN/pg_ctl" -D "$sb" -o "-c unix_socket_directories=$d/sb" \
        -l "$d/sb/standby.log" -w -t 30 start >/dev/null || bad "the standby did not start: $(tail -n3 "$d/sb/standby.log" | oneline)"
    [[ $("$HA_PGBIN/psql" -X -At -h "$d/sb" -U tsa -d tsa -c "SELECT pg_is_in_recovery()") == t ]] ||
        bad "the standby is not in recovery"
    ha_start "$d" "host=127.0.0.1,$d/sb,$TSA_VAR/pg/run port=$port,5432,5432 dbname=tsa target_session_attrs=read-write" \
        "database_timeout = 3" "database_wait = 2"
    fcgi_granted "$d" first "through the multi-host conninfo"
    fcgi_granted "$d" second "through the multi-host conninfo"
    grep "database connected" "$d/signer.log" | head -n1
    grep -q "database connected ($TSA_VAR/pg/run:5432)" "$d/signer.log" ||
        bad "the signer did not connect to the primary: $(grep database "$d/signer.log" | oneline)"
    ! grep -q "database connected ($d/sb" "$d/signer.log" "$d/fcgi.log" || bad "a process connected to the standby"
    grep -q "passed over: 127.0.0.1:$port: .*; $d/sb:5432: .*\(hot standby\|read-only\)" "$d/signer.log" ||
        bad "the signer's log does not name the hosts passed over: $(grep 'database connected' "$d/signer.log" | head -n1)"
    (( $(ha_rows "$d/first.data") == 1 )) || bad "the token has no row on the primary"
}

# (c) The first host of the conninfo drops every packet (an address of a network namespace
# of the case's own, behind an nftables drop rule): it costs its share of database_timeout,
# and the second host, the stack's PostgreSQL on its unix socket, takes the connection.
ha_silent_first() {
    local d t0 t1
    d=$(casedir)
    command -v nft >/dev/null || bad "nft missing (Debian package nftables)"
    HA_CASE=$d
    HA_NETNS=tsa-ha-$$
    trap 'ha_stop "$HA_CASE"; ip netns del "$HA_NETNS" 2>/dev/null' EXIT
    ip netns add "$HA_NETNS" || bad "ip netns add failed"
    ip -n "$HA_NETNS" link set lo up
    # A veth pair with both ends inside: a route to 10.255.0.0/24 that exists only here.
    ip -n "$HA_NETNS" link add ha0 type veth peer name ha1 || bad "ip link add veth failed"
    ip -n "$HA_NETNS" addr add 10.255.0.1/24 dev ha0
    ip -n "$HA_NETNS" link set ha0 up
    ip -n "$HA_NETNS" link set ha1 up
    printf '%s\n' 'table inet ha_drop {' '  chain out {' '    type filter hook output priority 0;' \
        '    ip daddr 10.255.0.2 drop' '  }' '}' | ip netns exec "$HA_NETNS" nft -f - || bad "nft failed"
    t0=$(ha_ms)
    ha_start "$d" "host=10.255.0.2,$TSA_VAR/pg/run port=5432,5432 dbname=tsa target_session_attrs=read-write" \
        "database_timeout = 4" "database_wait = 2"
    fcgi_granted "$d" first "past a silent first host"
    t1=$(ha_ms)
    echo "first token $((t1 - t0)) ms after the start (the silent host's share: 2 s per connection)"
    grep "database connected" "$d/signer.log" | head -n1
    grep -q "database connected ($TSA_VAR/pg/run:5432), passed over: 10.255.0.2:5432: timeout expired" \
        "$d/signer.log" || bad "the signer did not pass over the silent host: $(grep database "$d/signer.log" | head -n2 | oneline)"
    fcgi_granted "$d" second "past a silent first host"
    (( $(ha_rows "$d/first.data") == 1 )) || bad "the token has no row"
}

# (c) PostgreSQL stopped and started again within database_wait: a request sent meanwhile is
# answered once it is back; stopped for longer: refused after the wait.
ha_wait() {
    local d before t0 t1 out
    d=$(casedir)
    HA_CASE=$d
    trap '"$STACK" pg-start >/dev/null 2>&1 3>&-; ha_stop "$HA_CASE"' EXIT
    ha_start "$d" "host=$TSA_VAR/pg/run dbname=tsa" "database_timeout = 2" "database_wait = 8"
    fcgi_granted "$d" before "before"
    before=$(ha_pids "$d")
    out=$("$STACK" pg-stop 2>&1 3>&-) || bad "stack.sh pg-stop: $(oneline <<<"$out")"
    t0=$(ha_ms)
    ( fcgi_timestamp "$d" during >"$d/during.status" ) 3>/dev/null &
    local bg=$!
    sleep 2
    out=$("$STACK" pg-start 2>&1 3>&-) || bad "stack.sh pg-start: $(oneline <<<"$out")"
    echo "PostgreSQL back after $(( $(ha_ms) - t0 )) ms"
    wait "$bg"
    t1=$(ha_ms)
    echo "the request sent while it was down answered after $((t1 - t0)) ms: $(<"$d/during.status")"
    [[ $(<"$d/during.status") == "Status: 200 OK" ]] || bad "worker answered '$(<"$d/during.status")'"
    reply_text "$d/during.tsr" | grep -q '^Status: Granted' ||
        bad "not granted: $(reply_text "$d/during.tsr" | grep -E '^(Status|Failure)' | oneline)"
    ossl_verify "$d/during.data" "$d/during.tsr" "$d/during.tsq" cert
    (( $(ha_rows "$d/during.data") == 1 )) || bad "the token has no row"

    out=$("$STACK" pg-stop 2>&1 3>&-) || bad "stack.sh pg-stop: $(oneline <<<"$out")"
    # database_wait 8 s, then refused (bound: wait + 2 x timeout, and a second).
    t0=$(ha_ms)
    ha_refused "$d" gone 13000
    t1=$(ha_ms)
    (( t1 - t0 >= 7500 )) || bad "refused after $((t1 - t0)) ms, before database_wait (8 s)"
    grep -q 'no database within the wait' "$d/signer.log" || bad "the signer did not log the wait"
    out=$("$STACK" pg-start 2>&1 3>&-) || bad "stack.sh pg-start: $(oneline <<<"$out")"
    fcgi_granted "$d" after "after PostgreSQL came back"
    [[ $(ha_pids "$d") == "$before" ]] || bad "processes were restarted: $before -> $(ha_pids "$d")"
}

cases_ha() {
    # The cases talk to a worker of their own, no web server: one pass (behind nginx) tests them.
    [[ ${TSA_WEB:-nginx} == nginx ]] || return 0
    run_case "ha/multi-host-read-write" ha_multi_host
    run_case "ha/multi-host-silent-first" ha_silent_first
    run_case "ha/commit-unacknowledged" ha_unacknowledged
    run_case "ha/database-silent" ha_silent
    run_case "ha/wait-for-primary" ha_wait
}
