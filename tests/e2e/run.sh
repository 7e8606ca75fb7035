#!/usr/bin/env bash
# End-to-end tests: a whole stack of its own (fresh state in a temporary directory, free
# loopback ports, so it runs while `make run` is up), requests through the web server (nginx,
# or TSA_WEB=apache|lighttpd) with curl and openssl, checks with openssl and tsactl.
#
#   tests/e2e/run.sh [GLOB]     e.g. tests/e2e/run.sh 'refusals/*'
#   KEEP=1 tests/e2e/run.sh     keep the state directory (logs, the cluster, the PKI)
#   TSA_KEY=p256 TSA_SCHEME=... TSA_WEB=apache   as for deploy/stack/stack.sh
#
# Prints `PASS name` / `FAIL name: why` per case and `N passed, N failed` at the end; exit 1
# when any failed.
set -uo pipefail
shopt -s extglob

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

# Every other tests/e2e/NAME.sh is a suite defining cases_NAME.  These run first, in this order;
# the rest alphabetically; the suites in E2E_LAST (they stop servers) at the very end.
E2E_FIRST=(rfc3161 refusals filters reload clock tsactl soap authenticode)
E2E_LAST=(webdown ha database)
SUITES=("${E2E_FIRST[@]}")
for f in "$HERE"/*.sh; do
    s=${f##*/}; s=${s%.sh}
    [[ $s == lib || $s == run ]] && continue
    [[ " ${E2E_FIRST[*]} ${E2E_LAST[*]} " == *" $s "* ]] || SUITES+=("$s")
done
SUITES+=("${E2E_LAST[@]}")
for s in "${SUITES[@]}"; do
    # shellcheck disable=SC1090
    source "$HERE/$s.sh"
done

E2E_ONLY=${1:-}

TSA_VAR=$(mktemp -d /tmp/tsa-e2e.XXXXXX) || { echo "FAIL e2e: mktemp"; echo "0 passed, 1 failed"; exit 1; }
# Traversable by the postgres user and nginx's workers when running as root.
chmod 755 "$TSA_VAR"
WORK=$TSA_VAR/e2e
mkdir -p "$WORK/log"
STACK_LOG=$WORK/log/stack.log

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    "$STACK" stop >>"$STACK_LOG" 2>&1 || echo "e2e: stopping the stack failed (see $STACK_LOG)" >&2
    if [[ ${KEEP:-0} == 1 ]]; then
        echo "e2e: state kept in $TSA_VAR (TSA_VAR=$TSA_VAR deploy/stack/stack.sh stop|start)"
    else
        rm -rf "$TSA_VAR"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TSA_HTTP_PORT=$(free_port) && TSA_HTTPS_PORT=$(free_port "$TSA_HTTP_PORT") ||
    { echo "FAIL e2e: no free loopback port"; echo "0 passed, 1 failed"; exit 1; }
TSA_WORKERS=${TSA_E2E_WORKERS:-2}
TSA_WEB=${TSA_WEB:-nginx}
# The per-address request rate raised for the loads (lib.sh); the per-address count of
# requests in progress keeps its default, which exhaustion.sh needs.
TSA_PER_CLIENT_RATE=${TSA_PER_CLIENT_RATE:-$LOOPBACK_LOAD_RATE}
# A token does not wait for PostgreSQL (database_wait 0; 10 s by default): the cases that stop
# it (database/, faults/pg-restart-under-load: every protocol's refusal within a 3 s outage)
# see refusals at once.  tests/e2e/ha.sh's workers of their own set their own bounds.
TSA_DATABASE_WAIT=${TSA_DATABASE_WAIT:-0}
export TSA_VAR TSA_HTTP_PORT TSA_HTTPS_PORT TSA_WORKERS TSA_WEB TSA_PER_CLIENT_RATE TSA_DATABASE_WAIT
[[ -n ${TSA_BUILD:-} ]] && export TSA_BUILD

echo "e2e: stack behind $TSA_WEB in $TSA_VAR on 127.0.0.1:$TSA_HTTP_PORT, HTTPS $TSA_HTTPS_PORT (key ${TSA_KEY:-rsa2048}, scheme ${TSA_SCHEME:-auto})"
if ! "$STACK" start >"$STACK_LOG" 2>&1; then
    echo "FAIL e2e/stack-start: $(grep 'error:' "$STACK_LOG" | tail -n1)"
    sed 's/^/    /' "$STACK_LOG" | tail -n 40
    echo "0 passed, 1 failed"
    exit 1
fi

for s in "${SUITES[@]}"; do
    "cases_$s"
done

if (( FAILED > 0 )) && [[ -s $TSA_VAR/log/tsa-fcgi.log ]]; then
    echo "---- tail of the tsa-fcgi log"
    tail -n 20 "$TSA_VAR/log/tsa-fcgi.log" | sed 's/^/    /'
fi
echo "$PASSED passed, $FAILED failed"
(( FAILED == 0 ))
