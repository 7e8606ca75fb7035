# A short soak in every `make check` (CI): tests/soak/run.sh against the e2e stack for
# E2E_SOAK_SECONDS (default 30; 0 skips it, and says so), behind nginx only (the web server in
# front does not change what it proves: the workers' answers, memory and records).  The long
# one is `make soak` (SOAK_SECONDS, default 600, a private stack).
# shellcheck shell=bash

soak_short() {
    local out
    out=$(SOAK_ATTACH=1 SOAK_SECONDS=$E2E_SOAK_SECONDS "$ROOT/tests/soak/run.sh" 2>&1)
    local rc=$?
    echo "$out"
    (( rc == 0 )) || bad "$(grep '^FAIL' <<<"$out" | oneline)"
}

cases_soak() {
    E2E_SOAK_SECONDS=${E2E_SOAK_SECONDS:-30}
    if [[ ${TSA_WEB:-nginx} != nginx ]]; then
        return 0
    fi
    if [[ $E2E_SOAK_SECONDS == 0 ]]; then
        echo "SKIP soak/short: E2E_SOAK_SECONDS=0 (not counted as passed)"
        return 0
    fi
    run_case "soak/short" soak_short
}
