# A misconfiguration is refused when it is written, not per request: a policy that can receive
# SOAP requests with an RSA-PSS signer (XML-DSig tokens cannot carry PSS).  tsactl refuses the
# write; one written behind its back (psql) refuses that policy alone at load (systemFailure,
# tsactl status and the console say why) while the rest of the configuration keeps working;
# restricted to RFC 3161, the same policy is accepted and signs with PSS.  The policy t-pss of
# service tsa sits at position -5, matched only by requests naming MC_OID (filters.sh's pf_*).
# shellcheck shell=bash
# The check functions are run through `eventually`, which shellcheck cannot follow:
# shellcheck disable=SC2317

MC_OID=1.3.6.1.4.1.32473.9.5

# mc_query FILE: an RFC 3161 request naming MC_OID.
mc_query() {
    head -c 256 /dev/urandom >"$1.data"
    openssl ts -query -data "$1.data" -sha256 -cert -tspolicy "$MC_OID" -out "$1" 2>/dev/null
}

mc_status() {
    local d=$1 out
    mc_query "$d/q.tsq"
    out=$(post "http://127.0.0.1:$TSA_HTTP_PORT/tsa" "$d/q.tsq" "$d/r.tsr") || return 1
    reply_text "$d/r.tsr" | grep -E '^(Status|Failure info):' | tr '\n' ' '
}

misconfig_pss() {
    local d uri out st i
    d=$(casedir)
    trap 'pf_drop t-pss; tsa_psql -c "DELETE FROM signers WHERE name = '"'t-pss'"'" >/dev/null' EXIT
    uri=$(tsa_psql -c "SELECT pkcs11_uri FROM signers WHERE name = 'demo-rsa2048'")
    [[ -n $uri ]] || bad "no demo-rsa2048 signer (TSA_KEY=${TSA_KEY:-rsa2048})"
    tsactl signer add t-pss --uri "$uri" --cert "$TSA_VAR/pki/tsa.pem" --chain "$TSA_VAR/pki/chain.pem" \
        --scheme rsa-pss >"$d/add.log" 2>&1 || grep -q 'exists' "$d/add.log" ||
        bad "tsactl signer add t-pss: $(oneline <"$d/add.log")"
    # tsactl: a policy for every protocol with the PSS signer is refused, nothing written.
    out=$(tsactl policy add tsa t-pss --oid "$MC_OID" --signer t-pss --req-policy "$MC_OID" --position 1 2>&1) &&
        bad "tsactl policy add with an RSA-PSS signer for every protocol succeeded: $(oneline <<<"$out")"
    grep -q 'is refused: it can receive SOAP requests' <<<"$out" || bad "tsactl's reason: $(oneline <<<"$out")"
    [[ -z $(tsa_psql -c "SELECT 1 FROM policies WHERE name = 't-pss'") ]] || bad "the refused policy was written"
    echo "tsactl: $(oneline <<<"$out")"

    # Written behind tsactl's back: that policy alone is refused at load.
    pf_chain t-pss -5 "$MC_OID" "$MC_OID"
    tsa_psql -c "UPDATE policies SET signer_id = (SELECT id FROM signers WHERE name = 't-pss')
        WHERE name = 't-pss'" >/dev/null || bad "cannot point t-pss at the PSS signer"
    for ((i = 0; i < 30; i++)); do
        st=$(mc_status "$d")
        [[ $st == *"Status: Rejected"*"system failure"* || $st == *"Status: Rejected"*"systemFailure"* ]] && break
        sleep 0.2
    done
    [[ $st == *Rejected* ]] || bad "a request for the refused policy: $st"
    echo "the refused policy answers: $st"
    # The rest of the configuration loaded: the demo policy grants.
    openssl ts -query -data "$d/q.tsq.data" -sha256 -cert -out "$d/ok.tsq" 2>/dev/null
    out=$(post "http://127.0.0.1:$TSA_HTTP_PORT/tsa" "$d/ok.tsq" "$d/ok.tsr") || bad "curl failed"
    reply_text "$d/ok.tsr" | grep -q '^Status: Granted' || bad "the demo policy no longer grants"
    grep -q 'policy tsa/t-pss refused: it can receive SOAP' "$TSA_VAR/log/tsa-fcgi.log" ||
        bad "the worker's log does not say why t-pss is refused"
    out=$(tsactl status 2>&1) && bad "tsactl status succeeded with a refused policy"
    grep -q 'policy tsa/t-pss: REFUSED' <<<"$out" || bad "tsactl status: $(oneline <<<"$out")"
    out=$(curl -sS --max-time 10 --cacert "$TSA_VAR/pki/ca.pem" --cert "$TSA_VAR/pki/admin.pem" \
        --key "$TSA_VAR/pki/admin.key" "https://127.0.0.1:$TSA_HTTPS_PORT/admin/") || bad "the console: curl failed"
    grep -q 'policy tsa/t-pss is refused: it can receive SOAP' <<<"$out" || bad "the console does not say why t-pss is refused"
    # Restricted to RFC 3161, tsactl accepts it and it signs (with PSS).
    out=$(tsactl policy set tsa t-pss --protocol rfc3161 2>&1) || bad "tsactl policy set --protocol rfc3161: $(oneline <<<"$out")"
    for ((i = 0; i < 30; i++)); do
        st=$(mc_status "$d")
        [[ $st == *Granted* ]] && break
        sleep 0.2
    done
    [[ $st == *Granted* ]] || bad "restricted to rfc3161, t-pss still answers: $st"
    echo "restricted to rfc3161: $st"
}

cases_misconfig() {
    [[ ${TSA_KEY:-rsa2048} == rsa2048 ]] || return 0
    run_case misconfig/pss-soap misconfig_pss
}
