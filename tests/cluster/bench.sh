#!/usr/bin/env bash
# Tokens through the cluster (`make cluster` up): wrk from tsa-client to tsa-fe1's /tsa (RFC
# 3161, tests/bench/post.lua, one fixed request), then the tokens per second (rows added to
# issued_tokens on the primary), wrk's latency percentiles, and the CPU ms per token of each
# host (user + system time of every process in the host's namespace, reaped children
# included).  Every host shares this machine's cores, so compare it with the single-host stack
# as a ratio (`BENCH_KEYS=rsa2048 BENCH_PROTOCOLS=rfc3161 BENCH_RAW=0 make bench`), in the
# same session.
#
#   tests/cluster/bench.sh          BENCH_SECONDS (10), BENCH_CONNS (16), BENCH_WRK_THREADS (2)
#   TSA_CLUSTER_PREFIX, TSA_CLUSTER_NET, TSA_CLUSTER_VAR as for deploy/cluster/cluster.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
P=${TSA_CLUSTER_PREFIX:-tsa-}
CL=${TSA_CLUSTER_VAR:-$ROOT/var/cluster}
SECONDS_=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-16}
THREADS=${BENCH_WRK_THREADS:-2}
HOSTS=(fe1 fe2 be1 be2 db1 db2 db3)

[[ -s $CL/hosts ]] || { echo "bench: no $CL/hosts: make cluster first" >&2; exit 1; }
addr() { awk -v n="$P$1" '$2 == n { print $1 }' "$CL/hosts"; }
PSQL=$(ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -n1)
rows() {
    ip netns exec "${P}be1" env PGPASSFILE="$CL/${P}be1/pgpass.admin" PGTARGETSESSIONATTRS=read-write \
        "$PSQL" -X -tA -h "$(addr db1),$(addr db2),$(addr db3)" -U tsa -d tsa \
        -c "SELECT count(*) FROM issued_tokens"
}

# ticks HOST: user + system clock ticks of every process in HOST's namespace, with the time
# of the children each has reaped.
ticks() {
    local pid rest sum=0
    for pid in $(ip netns pids "$P$1" 2>/dev/null); do
        { IFS= read -r rest <"/proc/$pid/stat"; } 2>/dev/null || continue
        rest=${rest##*) }
        # shellcheck disable=SC2086
        set -- $rest
        sum=$((sum + ${12} + ${13} + ${14} + ${15}))
    done
    echo "$sum"
}

body=$(mktemp /tmp/tsa-cluster-bench.XXXXXX)
trap 'rm -f "$body"' EXIT
openssl ts -query -digest "$(printf '%064d' 1)" -sha256 -cert -out "$body" 2>/dev/null

declare -A before after
for h in "${HOSTS[@]}"; do before[$h]=$(ticks "$h"); done
r0=$(rows)
out=$(ip netns exec "${P}client" env BENCH_BODY="$body" BENCH_CONTENT_TYPE=application/timestamp-query \
    wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_}s" --latency -s "$ROOT/tests/bench/post.lua" \
    "http://$(addr fe1)/tsa")
r1=$(rows)
for h in "${HOSTS[@]}"; do after[$h]=$(ticks "$h"); done
tokens=$((r1 - r0))
hz=$(getconf CLK_TCK)
echo "cluster: $tokens tokens in ${SECONDS_} s through ${P}fe1 ($CONNS connections): $(awk -v n="$tokens" -v s="$SECONDS_" 'BEGIN { printf "%.0f", n / s }') tokens/s"
grep -E '^ +(50|90|99)%' <<<"$out" | awk '{ printf "  latency p%s %s\n", $1, $2 }' | tr -d '%'
line="CPU ms per token:"
total=0
for h in "${HOSTS[@]}"; do
    d=$(( after[$h] - before[$h] ))
    total=$((total + d))
    line+=" $h $(awk -v d="$d" -v hz="$hz" -v n="$tokens" 'BEGIN { printf "%.3f", n ? d * 1000 / hz / n : 0 }')"
done
echo "$line total $(awk -v d="$total" -v hz="$hz" -v n="$tokens" 'BEGIN { printf "%.3f", n ? d * 1000 / hz / n : 0 }') (wrk excluded)"
