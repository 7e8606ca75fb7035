# Mutual TLS: the HTTPS service (service mtls, its policy starting with the client-auth filter)
# through the web server on 127.0.0.1:$TSA_HTTPS_PORT.  The registered demo client gets tokens in
# all three protocols (RFC 3161, SOAP/XML, Authenticode's base64 body); a certificate that
# verifies against the client CA but is not registered gets 403 and a client-refused event; no
# certificate, or one from another CA, is refused by the web server (nothing reaches the policy,
# nothing is issued); a client removed with `tsactl client remove` is refused within a second;
# a certificate with a registered one's issuer and serial but another key is refused (403).
# shellcheck shell=bash

mtls_url() { printf 'https://127.0.0.1:%s/' "$TSA_HTTPS_PORT"; }

# mtls_post CERT KEY INFILE OUTFILE CONTENT-TYPE: prints "CODE CONTENT_TYPE"; CERT empty: none.
mtls_post() {
    local auth=()
    [[ -n $1 ]] && auth=(--cert "$1" --key "$2")
    curl -sS --max-time 30 --cacert "$TSA_VAR/pki/ca.pem" "${auth[@]}" -o "$4" \
        -w '%{http_code} %{content_type}' -H "Content-Type: $5" --data-binary @"$3" "$(mtls_url)"
}

mtls_all_tokens() { tsa_psql -c "SELECT count(*) FROM issued_tokens"; }

# mtls_client DIR NAME [CA-PEM CA-KEY]: a client certificate (EC P-256, clientAuth) issued by the
# demo client CA (default) or the given CA, into DIR/NAME.pem and DIR/NAME.key.
mtls_client() {
    local d=$1 n=$2 ca=${3:-$TSA_VAR/pki/client-ca.pem} cakey=${4:-$TSA_VAR/pki/client-ca.key}
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/$n.key" \
        -out "$d/$n.csr" -subj "/O=TSA e2e/CN=e2e $n" >/dev/null 2>&1 || bad "openssl req for $n failed"
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=clientAuth" >"$d/$n.ext"
    openssl x509 -req -in "$d/$n.csr" -CA "$ca" -CAkey "$cakey" -set_serial "0x$(randhex 8)" \
        -days 2 -extfile "$d/$n.ext" -out "$d/$n.pem" >/dev/null 2>&1 || bad "openssl x509 -req for $n failed"
}

# A self-signed CA of its own, not the demo client CA.
mtls_foreign_ca() {
    local d=$1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/fca.key" \
        -out "$d/fca.pem" -days 2 -subj "/CN=e2e foreign client CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1 ||
        bad "openssl: foreign CA"
}

mtls_rfc3161() {
    local d out text
    d=$(casedir)
    head -c 300 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" 2>/dev/null || bad "openssl ts -query failed"
    out=$(mtls_post "$TSA_VAR/pki/client.pem" "$TSA_VAR/pki/client.key" "$d/q.tsq" "$d/r.tsr" \
        application/timestamp-query) || bad "curl failed: $out"
    [[ $out == "200 application/timestamp-reply" ]] || bad "HTTP answer '$out': $(head -c 200 "$d/r.tsr" | oneline)"
    text=$(reply_text "$d/r.tsr")
    grep -q '^Status: Granted' <<<"$text" || bad "not granted: $(grep -E '^(Status|Failure)' <<<"$text" | oneline)"
    grep -q '^Policy OID: 1.3.6.1.4.1.32473.1.3$' <<<"$text" ||
        bad "not the mtls policy: $(grep '^Policy OID' <<<"$text")"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
}

mtls_soap() {
    local d out value
    d=$(casedir)
    head -c 200 /dev/urandom >"$d/data"
    value=$(openssl dgst -sha256 -binary "$d/data" | base64)
    soap_request "$d/req.xml" "$SHA256_URI" "$value" 4242
    out=$(mtls_post "$TSA_VAR/pki/client.pem" "$TSA_VAR/pki/client.key" "$d/req.xml" "$d/resp.xml" \
        'text/xml; charset=UTF-8') || bad "curl failed: $out"
    [[ $out == 200\ text/xml* ]] || bad "HTTP answer '$out': $(head -c 200 "$d/resp.xml" | oneline)"
    grep -q '<ts:Status>granted</ts:Status>' "$d/resp.xml" || bad "not granted: $(head -c 300 "$d/resp.xml" | oneline)"
    grep -q '1.3.6.1.4.1.32473.1.3' "$d/resp.xml" || bad "not the mtls policy"
    grep -qF ">$value</ds:DigestValue>" "$d/resp.xml" || bad "DigestValue not echoed"
}

mtls_authenticode() {
    local d out before after
    d=$(casedir)
    authenticode_request "$d/req.b64" "" "" 256 "" 1
    before=$(authenticode_rows)
    out=$(mtls_post "$TSA_VAR/pki/client.pem" "$TSA_VAR/pki/client.key" "$d/req.b64" "$d/resp.b64" \
        application/octet-stream) || bad "curl failed: $out"
    [[ $out == "200 application/octet-stream" ]] || bad "HTTP answer '$out': $(head -c 200 "$d/resp.b64" | oneline)"
    tr -d '\r' <"$d/resp.b64" | base64 -d >"$d/resp.der" || bad "the answer is not base64"
    openssl cms -cmsout -inform DER -in "$d/resp.der" -print >"$d/resp.txt" 2>&1 ||
        bad "openssl cannot read the answer as CMS: $(oneline <"$d/resp.txt")"
    grep -q 'eContentType: pkcs7-data' "$d/resp.txt" || bad "eContentType is not id-data"
    after=$(authenticode_rows)
    (( after == before + 1 )) || bad "issued_tokens authenticode rows $before -> $after"
}

# A certificate the web server verifies (issued by the demo client CA) but not registered.
mtls_unregistered() {
    local d out ev_before tok_before tok_after detail
    d=$(casedir)
    mtls_client "$d" stranger
    head -c 100 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" 2>/dev/null || bad "openssl ts -query failed"
    ev_before=$(tsa_psql -c "SELECT coalesce(max(id), 0) FROM events")
    tok_before=$(mtls_all_tokens)
    out=$(mtls_post "$d/stranger.pem" "$d/stranger.key" "$d/q.tsq" "$d/r" application/timestamp-query) ||
        bad "curl failed: $out"
    [[ $out == 403\ * ]] || bad "HTTP answer '$out', want 403"
    tok_after=$(mtls_all_tokens)
    (( tok_after == tok_before )) || bad "a token was issued ($tok_before -> $tok_after)"
    events_wait "id > $ev_before AND kind = 'client-refused' AND service = 'mtls'" 1 ||
        bad "client-refused events for mtls: $(events_sum "id > $ev_before AND kind = 'client-refused' AND service = 'mtls'"), want 1"
    detail=$(tsa_psql -c "SELECT detail FROM events WHERE id > $ev_before AND kind = 'client-refused' LIMIT 1")
    [[ -n $detail ]] || bad "the event has no detail"
    # The same for SOAP: refused too.
    soap_request "$d/req.xml" "$SHA256_URI" "$(openssl dgst -sha256 -binary "$d/data" | base64)"
    out=$(mtls_post "$d/stranger.pem" "$d/stranger.key" "$d/req.xml" "$d/r2" 'text/xml; charset=UTF-8') ||
        bad "curl failed: $out"
    [[ $out == 403\ * ]] || bad "SOAP: HTTP answer '$out', want 403"
}

# mtls_tls_refused CERT KEY: the web server refuses (handshake failure or a 4xx of its own),
# nothing is issued and the worker records nothing.
mtls_tls_refused() {
    local d=$1 cert=$2 key=$3 out rc tok_before tok_after ev_before ev_after
    head -c 100 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" 2>/dev/null || bad "openssl ts -query failed"
    tok_before=$(mtls_all_tokens)
    ev_before=$(tsa_psql -c "SELECT coalesce(max(id), 0) FROM events")
    out=$(mtls_post "$cert" "$key" "$d/q.tsq" "$d/r" application/timestamp-query 2>&1) && rc=0 || rc=$?
    if (( rc == 0 )); then
        [[ $out == 4[0-9][0-9]\ * ]] || bad "HTTP answer '$out', want a refusal"
        [[ $out != 403\ * ]] || bad "403: the request reached the worker"
    fi
    tok_after=$(mtls_all_tokens)
    (( tok_after == tok_before )) || bad "a token was issued ($tok_before -> $tok_after)"
    ev_after=$(tsa_psql -c "SELECT count(*) FROM events WHERE id > $ev_before AND service = 'mtls'")
    (( ev_after == 0 )) || bad "the worker saw the request ($ev_after events)"
    echo "refused: curl exit $rc, '$out'"
}

mtls_no_cert() {
    local d
    d=$(casedir)
    mtls_tls_refused "$d" "" ""
}

mtls_other_ca() {
    local d
    d=$(casedir)
    mtls_foreign_ca "$d"
    mtls_client "$d" foreign "$d/fca.pem" "$d/fca.key"
    mtls_tls_refused "$d" "$d/foreign.pem" "$d/foreign.key"
}

# Registered, served; removed with tsactl, refused within a second.
mtls_removed() {
    local d out t0 t1 ms i code=
    d=$(casedir)
    mtls_client "$d" leaver
    out=$(tsactl client add mtls e2e-leaver --cert "$d/leaver.pem" 2>&1) || bad "tsactl client add: $(oneline <<<"$out")"
    openssl ts -query -data "$d/leaver.pem" -sha256 -out "$d/q.tsq" 2>/dev/null || bad "openssl ts -query failed"
    # Workers follow the change (LISTEN/NOTIFY): served within a second too.
    for ((i = 0; i < 20; i++)); do
        code=$(mtls_post "$d/leaver.pem" "$d/leaver.key" "$d/q.tsq" "$d/r" application/timestamp-query) || true
        [[ $code == 200\ * ]] && break
        sleep 0.05
    done
    [[ $code == 200\ * ]] || bad "a newly registered client is not served: '$code'"
    out=$(tsactl client remove mtls e2e-leaver 2>&1) || bad "tsactl client remove: $(oneline <<<"$out")"
    t0=${EPOCHREALTIME/./}
    while :; do
        code=$(mtls_post "$d/leaver.pem" "$d/leaver.key" "$d/q.tsq" "$d/r" application/timestamp-query) || true
        t1=${EPOCHREALTIME/./}
        ms=$(((t1 - t0) / 1000))
        [[ $code == 403\ * ]] && break
        (( ms < 1000 )) || bad "still '$code' ${ms} ms after tsactl client remove"
        sleep 0.02
    done
    echo "refused ${ms} ms after the removal"
    # Two more in a row: every worker refuses it (each request may land on another worker).
    for ((i = 0; i < 4; i++)); do
        code=$(mtls_post "$d/leaver.pem" "$d/leaver.key" "$d/q.tsq" "$d/r" application/timestamp-query) || true
        [[ $code == 403\ * ]] || bad "request $i after the removal: '$code'"
    done
}

# Issue 17 item 7: a registered client is its certificate, not its issuer and serial.  A second
# certificate from the same client CA with the same issuer, serial and subject but a new key
# (which a CA that reuses a serial, or an attacker holding a CA's issuing key for a moment,
# would make) is refused (403) while the registered one is served.
mtls_same_serial_cleanup() { tsactl client remove mtls e2e-original >/dev/null 2>&1; }
mtls_same_serial() {
    local d out serial i code=
    d=$(casedir)
    trap mtls_same_serial_cleanup EXIT
    mtls_client "$d" original
    serial=$(openssl x509 -in "$d/original.pem" -noout -serial | sed 's/^serial=//')
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/forged.key" \
        -out "$d/forged.csr" -subj "/O=TSA e2e/CN=e2e original" >/dev/null 2>&1 || bad "openssl req failed"
    openssl x509 -req -in "$d/forged.csr" -CA "$TSA_VAR/pki/client-ca.pem" \
        -CAkey "$TSA_VAR/pki/client-ca.key" -set_serial "0x$serial" -days 2 \
        -extfile "$d/original.ext" -out "$d/forged.pem" >/dev/null 2>&1 || bad "openssl x509 -req failed"
    [[ $(openssl x509 -in "$d/forged.pem" -noout -serial -issuer -subject) == \
       "$(openssl x509 -in "$d/original.pem" -noout -serial -issuer -subject)" ]] ||
        bad "the forged certificate's serial, issuer or subject differ"
    [[ $(openssl x509 -in "$d/forged.pem" -noout -pubkey) != "$(openssl x509 -in "$d/original.pem" -noout -pubkey)" ]] ||
        bad "the forged certificate has the same key"
    out=$(tsactl client add mtls e2e-original --cert "$d/original.pem" 2>&1) ||
        bad "tsactl client add: $(oneline <<<"$out")"
    openssl ts -query -data "$d/original.pem" -sha256 -out "$d/q.tsq" 2>/dev/null || bad "openssl ts -query failed"
    for ((i = 0; i < 20; i++)); do
        code=$(mtls_post "$d/original.pem" "$d/original.key" "$d/q.tsq" "$d/r" application/timestamp-query) || true
        [[ $code == 200\ * ]] && break
        sleep 0.05
    done
    [[ $code == 200\ * ]] || bad "the registered client is not served: '$code'"
    # Several requests: each may land on another worker.
    for ((i = 0; i < 4; i++)); do
        code=$(mtls_post "$d/forged.pem" "$d/forged.key" "$d/q.tsq" "$d/r" application/timestamp-query) || true
        [[ $code == 403\ * ]] || bad "same issuer and serial, another key: '$code', want 403"
        code=$(mtls_post "$d/original.pem" "$d/original.key" "$d/q.tsq" "$d/r" application/timestamp-query) || true
        [[ $code == 200\ * ]] || bad "the registered client after the forged one: '$code', want 200"
    done
}

# The mtls service is not on the plain-HTTP port, and the HTTPS port has no /tsa of the open
# service: the URL decides the service, not the request.
mtls_routes() {
    local d out
    d=$(casedir)
    printf 'x' >"$d/x"
    out=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$TSA_HTTP_PORT/mtls") || true
    [[ $out == 404 ]] || bad "plain HTTP /mtls answered '$out', want 404"
    # /admin/ reaches tsa-admin's socket (502 or 503 when it is not running), never the worker.
    out=$(curl -s -o "$d/a" -w '%{http_code}' --max-time 10 --cacert "$TSA_VAR/pki/ca.pem" \
        --cert "$TSA_VAR/pki/admin.pem" --key "$TSA_VAR/pki/admin.key" "$(mtls_url)admin/") || bad "curl /admin/ failed"
    if [[ -x $BUILD/tsa-admin ]]; then
        [[ $out != 5[0-9][0-9] ]] || bad "/admin/ answered $out with tsa-admin running: $(head -c 200 "$d/a" | oneline)"
    else
        [[ $out == 50[23] ]] || bad "/admin/ answered $out without tsa-admin, want 502 or 503"
    fi
}

cases_mtls() {
    run_case mtls/rfc3161 mtls_rfc3161
    run_case mtls/soap mtls_soap
    run_case mtls/authenticode mtls_authenticode
    run_case mtls/unregistered-403 mtls_unregistered
    run_case mtls/no-certificate mtls_no_cert
    run_case mtls/other-ca mtls_other_ca
    run_case mtls/removed-refused mtls_removed
    run_case mtls/same-serial-new-key mtls_same_serial
    run_case mtls/routes mtls_routes
}
