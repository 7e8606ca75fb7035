#!/usr/bin/env bash
# The token log's integrator measured alone on a backlog (README "Token log"): N leaves
# (default 1000000) queued at once in a running stack's database, then `tsa-log --once`
# timed while it integrates them all (leaves, nodes, one signed tree head per 10000).  The
# stack's own tsa-log is stopped for the measurement and started again after it.  The
# leaves are well-formed but stand for no archived token: run it on a scratch stack only
# (tsactl log audit will report them).
#
#   TSA_VAR=... tests/bench/log_backlog.sh [N]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=${1:-1000000}
: "${TSA_VAR:?TSA_VAR names the scratch stack}"
BUILD=${TSA_BUILD:-$ROOT/build}
conninfo=$(sed -n 's/^admin_database *= *//p' "$TSA_VAR/tsa.conf")
PSQL=(/usr/lib/postgresql/*/bin/psql)
psql_() { "${PSQL[-1]}" -X -q -At -v ON_ERROR_STOP=1 -d "$conninfo" "$@"; }

pid=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-log.pid" 2>/dev/null || true)
if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
fi

echo "queueing $N leaves"
t0=$(date +%s%3N)
# Serials with a non-zero first octet (0x40...), so the leaves decode.
psql_ -c "INSERT INTO log_queue (serial, leaf)
    SELECT (4611686018427387904::numeric + i),
           '\\x00'::bytea || sha256(int8send(i)) || '\\x08'::bytea || int8send(4611686018427387904 + i)
           || int8send(1796500000000000 + i) || '\\x06'::bytea || convert_to('sha256', 'UTF8')
           || '\\x20'::bytea || sha256(int8send(-i))
      FROM generate_series(1, $N) i"
echo "queued in $(( $(date +%s%3N) - t0 )) ms"

before=$(psql_ -c "SELECT coalesce(max(tree_size), 0) FROM log_heads")
if (( $(id -u) == 0 )); then
    AS=(setpriv --reuid=tsa-log --regid="$(id -g tsa-log)" --init-groups --)
    BIN=$TSA_VAR/bin/tsa-log
else
    AS=()
    BIN=$BUILD/tsa-log
fi
t0=$(date +%s%3N)
/usr/bin/time -f '%U %S' -o "$TSA_VAR/log-backlog.time" "${AS[@]}" "$BIN" --conf "$TSA_VAR/tsa.conf" --once \
    >>"$TSA_VAR/log/tsa-log-backlog.log" 2>&1
ms=$(( $(date +%s%3N) - t0 ))
after=$(psql_ -c "SELECT max(tree_size) FROM log_heads")
read -r user sys <"$TSA_VAR/log-backlog.time"
n=$((after - before))
echo "integrated $n leaves in $ms ms: $(( n * 1000 / (ms > 0 ? ms : 1) )) leaves/s;" \
     "tsa-log CPU ${user}s user ${sys}s system"
"$ROOT/deploy/stack/stack.sh" start >/dev/null
