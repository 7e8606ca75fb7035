# The protocol of a request, decided from its Content-Type and its first bytes together
# (src/proto/detect.c, README "Protocols"), through the web server: each combination a client
# may send, the SI-TSA guide's DER TimeStampReq sent as text/xml included, and mislabelled
# bodies that fit no protocol of their type, each answered in the protocol its type names.
# shellcheck shell=bash

# detect_rfc3161 URL CONTENT-TYPE: a DER TimeStampReq sent as CONTENT-TYPE is answered as RFC
# 3161 (application/timestamp-reply), granted and verified by openssl.
detect_rfc3161() {
    local url=$1 ct=$2 d out
    d=$(casedir)
    head -c 512 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" 2>/dev/null || bad "openssl ts -query failed"
    out=$(post "$url" "$d/q.tsq" "$d/r.tsr" "$ct") || bad "curl failed: $out"
    [[ $out == "200 application/timestamp-reply" ]] || bad "$ct: HTTP answer '$out', want '200 application/timestamp-reply'"
    openssl ts -verify -data "$d/data" -in "$d/r.tsr" -CAfile "$TSA_VAR/pki/ca.pem" >"$d/verify" 2>&1 ||
        bad "$ct: openssl ts -verify: $(oneline <"$d/verify")"
    echo "$ct: $out, verified"
}

# detect_answer URL CONTENT-TYPE BODY-PRINTF WANT-CODE WANT-TYPE-PREFIX [GREP]: the answer's
# status and media type (and a text in the body).
detect_answer() {
    local url=$1 ct=$2 body=$3 code=$4 type=$5 want=${6:-} d out
    d=$(casedir)
    # shellcheck disable=SC2059
    printf "$body" >"$d/body"
    out=$(post "$url" "$d/body" "$d/answer" "$ct") || bad "curl failed: $out"
    [[ ${out%% *} == "$code" && ${out#* } == "$type"* ]] ||
        bad "$ct: HTTP answer '$out', want '$code $type...': $(head -c 200 "$d/answer" | oneline)"
    [[ -z $want ]] || grep -q -- "$want" "$d/answer" ||
        bad "$ct: the answer lacks '$want': $(head -c 300 "$d/answer" | oneline)"
    echo "$ct: $out"
}

cases_detect() {
    local tsa=http://127.0.0.1:$TSA_HTTP_PORT/tsa
    local vs=http://127.0.0.1:$TSA_HTTP_PORT/verificationserver/timestamp
    # DER TimeStampReq, under each type that may carry it.
    run_case detect/der-as-timestamp-query detect_rfc3161 "$tsa" application/timestamp-query
    run_case detect/der-as-text-xml-si-tsa detect_rfc3161 "$vs" text/xml
    run_case detect/der-as-text-xml-charset detect_rfc3161 "$tsa" 'text/xml; charset=utf-8'
    run_case detect/der-as-soap-xml detect_rfc3161 "$tsa" application/soap+xml
    run_case detect/der-as-octet-stream detect_rfc3161 "$tsa" application/octet-stream
    # Bodies that fit no protocol of their type: that type's protocol refuses them.
    run_case detect/text-xml-not-xml detect_answer "$tsa" text/xml 'hello, time' 500 text/xml 'Fault'
    run_case detect/octet-stream-not-base64 detect_answer "$tsa" application/octet-stream '\001\002\003' 400 text/plain
    run_case detect/timestamp-query-xml detect_answer "$tsa" application/timestamp-query '<x/>' 200 \
        application/timestamp-reply
    run_case detect/text-plain-415 detect_answer "$tsa" text/plain '0abc' 415 text/plain 'unsupported content type'
}
