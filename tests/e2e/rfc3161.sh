# RFC 3161 through nginx: granted tokens, checked by openssl and by tsactl.
# shellcheck shell=bash

# granted URL POLICY_OID ALG nonce|no-nonce cert|no-cert
granted() {
    local url=$1 policy=$2 alg=$3 nonce=$4 cert=$5 d opts out text serial imprint
    d=$(casedir)
    head -c 4096 /dev/urandom >"$d/data"
    opts=("-$alg")
    [[ $nonce == no-nonce ]] && opts+=(-no_nonce)
    [[ $cert == cert ]] && opts+=(-cert)
    openssl ts -query -data "$d/data" "${opts[@]}" -out "$d/q.tsq" || bad "openssl ts -query ${opts[*]} failed"

    out=$(post "$url" "$d/q.tsq" "$d/r.tsr") || bad "curl failed: $out"
    [[ $out == "200 application/timestamp-reply" ]] || bad "HTTP answer '$out', want '200 application/timestamp-reply'"

    text=$(reply_text "$d/r.tsr") || bad "openssl cannot parse the reply: $(oneline <<<"$text")"
    grep -q '^Status: Granted' <<<"$text" ||
        bad "not granted: $(grep -E '^(Status|Failure)' <<<"$text" | oneline)"
    grep -q "^Policy OID: $policy\$" <<<"$text" ||
        bad "policy is '$(sed -n 's/^Policy OID: //p' <<<"$text")', want $policy"
    grep -q "^Hash Algorithm: $alg\$" <<<"$text" ||
        bad "hash algorithm is '$(sed -n 's/^Hash Algorithm: //p' <<<"$text")', want $alg"
    if [[ $nonce == nonce ]]; then
        local qn rn
        qn=$(openssl ts -query -in "$d/q.tsq" -text 2>/dev/null | sed -n 's/^Nonce: //p')
        rn=$(sed -n 's/^Nonce: //p' <<<"$text")
        [[ -n $qn && $qn == "$rn" ]] || bad "nonce '$rn' in the token, '$qn' in the request"
    else
        grep -q '^Nonce: unspecified' <<<"$text" || bad "a nonce in the token though the request had none"
    fi

    # The certificates in the token: the TSA's (at least) when asked for, none otherwise.
    openssl ts -reply -in "$d/r.tsr" -token_out -out "$d/token.der" 2>/dev/null || bad "openssl ts -reply -token_out failed"
    local ncerts tsa_subject
    ncerts=$(openssl pkcs7 -inform DER -in "$d/token.der" -print_certs 2>/dev/null | grep -c '^subject=' || true)
    tsa_subject=$(openssl x509 -in "$TSA_VAR/pki/tsa.pem" -noout -subject)
    if [[ $cert == cert ]]; then
        openssl pkcs7 -inform DER -in "$d/token.der" -print_certs 2>/dev/null | grep -qF "$tsa_subject" ||
            bad "certReq true but the TSA certificate is not in the token ($ncerts certificates)"
    else
        (( ncerts == 0 )) || bad "certReq false but the token carries $ncerts certificates"
    fi

    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" "$cert"

    # tsactl: the same, --untrusted when the token carries no certificate.
    local tsactl_untrusted=()
    [[ $cert == cert ]] || tsactl_untrusted=(--untrusted "$TSA_VAR/pki/tsa.pem")
    out=$(tsactl verify "$d/r.tsr" --ca "$TSA_VAR/pki/ca.pem" "${tsactl_untrusted[@]}" --data "$d/data" 2>&1) ||
        bad "tsactl verify: $(tail -n 2 <<<"$out" | oneline)"

    serial=$(sed -n 's/^Serial number: //p' <<<"$text")
    [[ $serial == 0x* ]] || bad "no serial number in the reply text"
    out=$(tsactl token show "$serial" 2>&1) || bad "tsactl token show $serial: $(oneline <<<"$out")"
    imprint=$(digest "$alg" "$d/data")
    out=$(tsactl token find --imprint "$imprint" 2>&1) || bad "tsactl token find --imprint $imprint: $(oneline <<<"$out")"
    serial_mentioned "$serial" "$out" ||
        bad "tsactl token find --imprint: serial $serial not in its output: $(oneline <<<"$out")"
}

# Does TEXT mention the serial 0xHEX (hex in any case, colons or not, or decimal)?
serial_mentioned() {
    local hex=${1#0x} text=$2 flat
    hex=${hex,,}
    hex=${hex##+(0)}
    flat=$(tr -d ':' <<<"${text,,}")
    [[ $flat == *"$hex"* ]] && return 0
    if command -v bc >/dev/null 2>&1; then
        local dec
        dec=$(BC_LINE_LENGTH=0 bc <<<"ibase=16; ${hex^^}")
        [[ $text == *"$dec"* ]] && return 0
    fi
    return 1
}

cases_rfc3161() {
    local tsa=http://127.0.0.1:$TSA_HTTP_PORT/tsa
    local vs=http://127.0.0.1:$TSA_HTTP_PORT/verificationserver/timestamp
    local alg nonce cert
    for alg in sha224 sha256 sha384 sha512 sha3-256 sha3-384 sha3-512; do
        for nonce in nonce no-nonce; do
            for cert in cert no-cert; do
                run_case "tsa/$alg/$nonce/$cert" granted "$tsa" 1.3.6.1.4.1.32473.1.1 "$alg" "$nonce" "$cert"
            done
        done
    done
    for alg in sha1 sha256 sha384 sha512; do
        run_case "verificationserver/$alg/nonce/cert" granted "$vs" 1.3.6.1.4.1.32473.1.2 "$alg" nonce cert
    done
    run_case "verificationserver/sha1/no-nonce/no-cert" granted "$vs" 1.3.6.1.4.1.32473.1.2 sha1 no-nonce no-cert
}
