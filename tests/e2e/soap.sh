# The SOAP/XML protocol (Entrust timestamp-protocol-20020207, as SI-TSA speaks it) through
# nginx: a granted token verified detached by xmlsec1 with the TSA's root, the client's text
# echoed, the token recorded as protocol soap; refusals as StatusInfo; a malformed envelope
# or a DOCTYPE as a SOAP Fault (HTTP 500).
# shellcheck shell=bash

# soap_request FILE ALGORITHM-URI BASE64-DIGEST [NONCE]: the request as SI-TSA's clients send it.
soap_request() {
    local nonce=${4:+<ts:Nonce>$4</ts:Nonce>}
    cat >"$1" <<XML
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
 <SOAP-ENV:Body>
  <tsa:service xmlns:tsa="urn:Entrust-TSA">
   <ts:TimeStampRequest xmlns:ts="http://www.entrust.com/schemas/timestamp-protocol-20020207">
    <ts:Digest>
     <ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="$2"/>
     <ds:DigestValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#">$3</ds:DigestValue>
    </ts:Digest>
    $nonce
   </ts:TimeStampRequest>
  </tsa:service>
 </SOAP-ENV:Body>
</SOAP-ENV:Envelope>
XML
}

# soap_post URL INFILE OUTFILE: prints "CODE CONTENT_TYPE".
soap_post() {
    curl -sS --max-time 30 -o "$3" -w '%{http_code} %{content_type}' \
        -H 'Content-Type: text/xml; charset=UTF-8' -H 'SOAPAction: "urn:this-is-the-action-uri"' \
        --data-binary @"$2" "$1"
}

SHA1_URI=http://www.w3.org/2000/09/xmldsig#sha1
SHA256_URI=http://www.w3.org/2001/04/xmlenc#sha256

soap_granted() {
    local url=$1 alg=$2 uri=$3 d out value nonce rows_before rows_after
    d=$(casedir)
    head -c 200 /dev/urandom >"$d/data"
    value=$(openssl dgst "-$alg" -binary "$d/data" | base64)
    nonce=$((RANDOM * 32768 + RANDOM))
    soap_request "$d/req.xml" "$uri" "$value" "$nonce"
    rows_before=$(tsa_psql -c "SELECT count(*) FROM issued_tokens WHERE protocol = 'soap'")
    out=$(soap_post "$url" "$d/req.xml" "$d/resp.xml") || bad "curl failed: $out"
    [[ $out == 200\ text/xml* ]] || bad "HTTP answer '$out', want 200 text/xml"
    grep -q '<ts:Status>granted</ts:Status>' "$d/resp.xml" || bad "not granted: $(head -c 300 "$d/resp.xml")"
    # The token, detached from the envelope as clients keep it.
    python3 - "$d/resp.xml" "$d/token.xml" <<'PY' || bad "no dsig:Signature in the answer"
import re, sys
s = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<dsig:Signature .*</dsig:Signature>', s, re.S)
if not m:
    sys.exit(1)
open(sys.argv[2], "w", encoding="utf-8").write(m.group(0))
PY
    xmlsec1 --verify --id-attr:Id Object --id-attr:Id KeyInfo \
        --trusted-pem "$TSA_VAR/pki/ca.pem" "$d/token.xml" >"$d/xmlsec.log" 2>&1 ||
        bad "xmlsec1 does not verify the token: $(oneline <"$d/xmlsec.log")"
    grep -qF "<ts:Nonce>$nonce</ts:Nonce>" "$d/token.xml" || bad "nonce $nonce not echoed"
    grep -qF ">$value</ds:DigestValue>" "$d/token.xml" || bad "DigestValue not echoed"
    grep -qF "Algorithm=\"$uri\"" "$d/token.xml" || bad "DigestMethod not echoed"
    rows_after=$(tsa_psql -c "SELECT count(*) FROM issued_tokens WHERE protocol = 'soap'")
    (( rows_after == rows_before + 1 )) || bad "issued_tokens soap rows $rows_before -> $rows_after"
    # A tampered token fails.
    sed 's/<ts:Nonce>[0-9]*</<ts:Nonce>1</' "$d/token.xml" >"$d/tampered.xml"
    if xmlsec1 --verify --id-attr:Id Object --id-attr:Id KeyInfo \
        --trusted-pem "$TSA_VAR/pki/ca.pem" "$d/tampered.xml" >/dev/null 2>&1; then
        bad "xmlsec1 accepts a token whose Nonce was changed"
    fi
}

# soap_refused URL FILE-MAKER WANT-HTTP WANT-TEXT
soap_refused() {
    local url=$1 maker=$2 want_http=$3 want=$4 d out
    d=$(casedir)
    "$maker" "$d/req.xml"
    out=$(soap_post "$url" "$d/req.xml" "$d/resp.xml") || bad "curl failed: $out"
    [[ ${out%% *} == "$want_http" ]] || bad "HTTP $out, want $want_http"
    grep -q "$want" "$d/resp.xml" || bad "answer lacks '$want': $(head -c 400 "$d/resp.xml" | oneline)"
}

sha1_request() { soap_request "$1" "$SHA1_URI" "$(printf x | openssl dgst -sha1 -binary | base64)"; }
short_digest() { soap_request "$1" "$SHA256_URI" "$(printf 0123456789 | base64)"; }
unknown_method() { soap_request "$1" "http://example.org/md5" "$(printf x | openssl dgst -sha256 -binary | base64)"; }
not_xml() { printf '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>' >"$1"; }
with_doctype() {
    printf '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>' >"$1"
}


cases_soap() {
    local vs=http://127.0.0.1:$TSA_HTTP_PORT/verificationserver/timestamp
    local tsa=http://127.0.0.1:$TSA_HTTP_PORT/tsa
    if ! command -v xmlsec1 >/dev/null; then
        run_case soap/xmlsec1 bad "xmlsec1 is not installed (deploy/deps.sh installs it)"
        return
    fi
    run_case soap/verificationserver/sha1 soap_granted "$vs" sha1 "$SHA1_URI"
    run_case soap/tsa/sha256 soap_granted "$tsa" sha256 "$SHA256_URI"
    run_case soap/refused/sha1-on-tsa soap_refused "$tsa" sha1_request 200 '<ts:FailInfo>badAlgorithm'
    run_case soap/refused/digest-length soap_refused "$tsa" short_digest 200 '<ts:FailInfo>badDataFormat'
    run_case soap/refused/unknown-method soap_refused "$tsa" unknown_method 200 '<ts:FailInfo>badAlgorithm'
    run_case soap/fault/not-xml soap_refused "$tsa" not_xml 500 'SOAP-ENV:Fault'
    run_case soap/fault/doctype soap_refused "$tsa" with_doctype 500 'SOAP-ENV:Fault'
}
