#!/usr/bin/env bash
# End-to-end tests: a whole stack of its own (fresh state in a temporary directory, free
# loopback ports, so it runs while `make run` is up), requests through nginx with curl and
# openssl, checks with openssl and tsactl.
#
#   tests/e2e/run.sh [GLOB]     e.g. tests/e2e/run.sh 'refusals/*'
#   KEEP=1 tests/e2e/run.sh     keep the state directory (logs, the cluster, the PKI)
#   TSA_KEY=p256 TSA_SCHEME=... as for deploy/stack/stack.sh
#
# Prints `PASS name` / `FAIL name: why` per case and `N passed, N failed` at the end; exit 1
# when any failed.
set -uo pipefail
shopt -s extglob

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=rfc3161.sh
source "$HERE/rfc3161.sh"
# shellcheck source=refusals.sh
source "$HERE/refusals.sh"
# shellcheck source=database.sh
source "$HERE/database.sh"
# shellcheck source=filters.sh
source "$HERE/filters.sh"
# shellcheck source=reload.sh
source "$HERE/reload.sh"
# shellcheck source=clock.sh
source "$HERE/clock.sh"
# shellcheck source=tsactl.sh
source "$HERE/tsactl.sh"
# shellcheck source=soap.sh
source "$HERE/soap.sh"
# shellcheck source=authenticode.sh
source "$HERE/authenticode.sh"

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
export TSA_VAR TSA_HTTP_PORT TSA_HTTPS_PORT TSA_WORKERS
[[ -n ${TSA_BUILD:-} ]] && export TSA_BUILD

echo "e2e: stack in $TSA_VAR on 127.0.0.1:$TSA_HTTP_PORT (key ${TSA_KEY:-rsa2048}, scheme ${TSA_SCHEME:-auto})"
if ! "$STACK" start >"$STACK_LOG" 2>&1; then
    echo "FAIL e2e/stack-start: $(grep 'error:' "$STACK_LOG" | tail -n1)"
    sed 's/^/    /' "$STACK_LOG" | tail -n 40
    echo "0 passed, 1 failed"
    exit 1
fi

cases_rfc3161
cases_refusals
cases_filters
cases_reload
cases_clock
cases_tsactl
cases_soap
cases_authenticode
cases_database

if (( FAILED > 0 )) && [[ -s $TSA_VAR/log/tsa-fcgi.log ]]; then
    echo "---- tail of the tsa-fcgi log"
    tail -n 20 "$TSA_VAR/log/tsa-fcgi.log" | sed 's/^/    /'
fi
echo "$PASSED passed, $FAILED failed"
(( FAILED == 0 ))
