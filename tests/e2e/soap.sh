# The SOAP/XML protocol (Entrust timestamp-protocol-20020207, as SI-TSA speaks it) through
# nginx: a granted token verified detached by xmlsec1 with the TSA's root, the client's text
# echoed, the token recorded as protocol soap; refusals as StatusInfo; a malformed envelope
# or a DOCTYPE as a SOAP Fault (HTTP 500).  Every answer with a TimeStampResponse is valid
# against xsd/timestamp.xsd.  The service description served live (?wsdl, ?xsd), a client
# built from it by python3-zeep, the SI-TSA request exactly as clients send it (compact and
# indented, SHA-1, SOAPAction empty or the placeholder), and hostile XML, each answered as the
# README says with the worker unharmed (a valid request granted right after).
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
    schema_valid "$d/resp.xml"
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
    # Our own verifier agrees, the chain to the demo root included.
    out=$(tsactl verify "$d/token.xml" --ca "$TSA_VAR/pki/ca.pem" 2>&1) ||
        bad "tsactl verify: $(oneline <<<"$out")"
    grep -q '^chain: verified' <<<"$out" && grep -qF "nonce: $nonce" <<<"$out" ||
        bad "tsactl verify says: $(oneline <<<"$out")"
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
    if tsactl verify "$d/tampered.xml" >/dev/null 2>&1; then
        bad "tsactl verify accepts a token whose Nonce was changed"
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
    [[ $want_http != 200 ]] || schema_valid "$d/resp.xml"
    # The worker is unharmed: a valid request is granted right after.
    if [[ -n ${SOAP_THEN_GRANTED:-} ]]; then
        soap_request "$d/ok.xml" "$SHA256_URI" "$(printf ok | openssl dgst -sha256 -binary | base64)"
        out=$(soap_post "$url" "$d/ok.xml" "$d/ok-resp.xml") || bad "curl failed after: $out"
        [[ $out == 200\ text/xml* ]] && grep -q '<ts:Status>granted</ts:Status>' "$d/ok-resp.xml" ||
            bad "a valid request right after is not granted: $out $(head -c 300 "$d/ok-resp.xml" | oneline)"
    fi
}

# The review's log injection (issue 17, item 2): an Algorithm holding &#10; and &#13; reaches
# libxml2's schema error text and the refusal detail.  Neither the worker log nor the event
# may carry a control character, so no line or row can be forged; the text is there, escaped.
soap_log_injection() {
    local url=$1 d out since log mark forged
    d=$(casedir)
    log=$TSA_VAR/log/tsa-fcgi.log
    mark=forged-$RANDOM$RANDOM
    forged="2030-01-01T00:00:00.000Z tsa-worker[4242] info: $mark"
    soap_request "$d/req.xml" "http://x&#10;$forged&#13;&#10;" \
        "$(head -c 32 /dev/urandom | openssl dgst -sha256 -binary | base64)"
    since=$(tsa_psql -c 'SELECT coalesce(max(id), 0) FROM events')
    out=$(soap_post "$url" "$d/req.xml" "$d/resp.xml") || bad "curl failed: $out"
    [[ $out == 200\ text/xml* ]] || bad "HTTP answer '$out', want a 200 refusal"
    grep -q '<ts:Status>rejection</ts:Status>' "$d/resp.xml" ||
        bad "not rejected: $(head -c 300 "$d/resp.xml" | oneline)"
    events_wait "id > $since AND detail LIKE '%$mark%'" 1 >/dev/null 2>&1 ||
        bad "no event names the refusal: $(tsa_psql -c "SELECT detail FROM events WHERE id > $since" | oneline)"
    [[ $(tsa_psql -c "SELECT count(*) FROM events WHERE id > $since AND
            (detail ~ '[[:cntrl:]]' OR coalesce(service, '') ~ '[[:cntrl:]]')") == 0 ]] ||
        bad "an event holds a control character: $(tsa_psql -c "SELECT detail FROM events WHERE id > $since" | oneline)"
    tsa_psql -c "SELECT detail FROM events WHERE id > $since AND detail LIKE '%$mark%'" |
        grep -qF "\\n$forged" || bad "the event does not show the text escaped"
    # The log: the marker only inside the worker's own refusal line, escaped, never a line.
    grep -F "$mark" "$log" >"$d/lines" || bad "the log does not name the refusal"
    ! grep -q '^2030-01-01T' "$d/lines" || bad "a forged log line: $(grep '^2030' "$d/lines" | oneline)"
    grep -qF "\\n$forged" "$d/lines" || bad "the log does not show the text escaped: $(oneline <"$d/lines")"
    ! LC_ALL=C grep -q $'\r' "$log" || bad "a carriage return in the worker log"
}

# SYS_PYTHON: Debian's python3, where python3-zeep and python3-lxml live (a python3 earlier
# on PATH, pyenv say, does not see them).
SYS_PYTHON=/usr/bin/python3

# schema_valid RESPONSE: the ts:TimeStampResponse cut out of the SOAP envelope (serialised by
# lxml with the namespace declarations it inherits, so it stands alone) is valid against
# xsd/timestamp.xsd.  The envelope itself is SOAP's, not ours: the schema describes what is
# inside tsa:serviceResponse.
schema_valid() {
    local resp=$1 d=${1%/*} log
    "$SYS_PYTHON" - "$resp" "$d/tsr.xml" <<'PY' || bad "no single ts:TimeStampResponse in the answer"
import sys
from lxml import etree
doc = etree.parse(sys.argv[1], etree.XMLParser(resolve_entities=False, no_network=True))
ns = {"ts": "http://www.entrust.com/schemas/timestamp-protocol-20020207", "tsa": "urn:Entrust-TSA",
      "env": "http://schemas.xmlsoap.org/soap/envelope/"}
r = doc.xpath("/env:Envelope/env:Body/tsa:serviceResponse/ts:TimeStampResponse", namespaces=ns)
if len(r) != 1:
    sys.exit(1)
open(sys.argv[2], "wb").write(etree.tostring(r[0], encoding="UTF-8", xml_declaration=True))
PY
    log=$(xmllint --noout --nonet --schema "$ROOT/xsd/timestamp.xsd" "$d/tsr.xml" 2>&1) ||
        bad "the TimeStampResponse is not valid against xsd/timestamp.xsd: $(oneline <<<"$log")"
}

sha1_request() { soap_request "$1" "$SHA1_URI" "$(printf x | openssl dgst -sha1 -binary | base64)"; }
short_digest() { soap_request "$1" "$SHA256_URI" "$(printf 0123456789 | base64)"; }
unknown_method() { soap_request "$1" "http://example.org/md5" "$(printf x | openssl dgst -sha256 -binary | base64)"; }
not_xml() { printf '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>' >"$1"; }
with_doctype() {
    printf '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>' >"$1"
}

# ---- the live service description ------------------------------------------------------------
# soap_describe URL: GET URL?wsdl, URL?xsd and URL?xsd=xmldsig answered as text/xml and
# well-formed; the WSDL's address is URL and its schema URL?xsd, the schema's xmldsig import
# URL?xsd=xmldsig; a GET without those is 405.  No url is configured for these services, so
# the address is the web server's own name, port and location: whatever Host the client
# sends, the address does not name it, and the answer is not stored by caches (no-store,
# Vary: Host).
soap_describe() {
    local url=$1 d out addr loc q h
    d=$(casedir)
    for q in wsdl xsd xsd=xmldsig; do
        out=$(curl -sS --max-time 30 -o "$d/$q.xml" -w '%{http_code} %{content_type}' "$url?$q") ||
            bad "curl ?$q failed: $out"
        [[ $out == "200 text/xml; charset=utf-8" ]] || bad "GET ?$q: '$out', want 200 text/xml; charset=utf-8"
        xmllint --noout --nonet "$d/$q.xml" 2>"$d/$q.log" || bad "?$q is not well-formed: $(oneline <"$d/$q.log")"
    done
    addr=$(xmllint --xpath 'string(//*[local-name()="address"]/@location)' "$d/wsdl.xml")
    [[ $addr == "$url" ]] || bad "soap:address is '$addr', want '$url'"
    loc=$(xmllint --xpath 'string(//*[local-name()="import"]/@schemaLocation)' "$d/wsdl.xml")
    [[ $loc == "$url?xsd" ]] || bad "the WSDL imports the schema from '$loc', want '$url?xsd'"
    loc=$(xmllint --xpath 'string(//*[local-name()="import"]/@schemaLocation)' "$d/xsd.xml")
    [[ $loc == "$url?xsd=xmldsig" ]] || bad "the schema imports xmldsig from '$loc', want '$url?xsd=xmldsig'"
    cmp -s "$d/xsd=xmldsig.xml" "$ROOT/xsd/xmldsig-subset.xsd" || bad "?xsd=xmldsig is not xsd/xmldsig-subset.xsd"
    out=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' "$url") || bad "curl GET failed"
    [[ $out == 405 ]] || bad "GET without ?wsdl: $out, want 405"
    out=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' "$url?other") || bad "curl GET failed"
    [[ $out == 405 ]] || bad "GET ?other: $out, want 405"
    for h in attacker.example:443 attacker.example; do
        out=$(curl -sS --max-time 30 -D "$d/h.hdr" -o "$d/h.xml" -w '%{http_code}' -H "Host: $h" "$url?wsdl") ||
            bad "curl failed"
        [[ $out == 200 ]] || bad "GET ?wsdl with Host $h: $out, want 200"
        addr=$(xmllint --xpath 'string(//*[local-name()="address"]/@location)' "$d/h.xml")
        [[ $addr == "$url" ]] || bad "Host $h: soap:address is '$addr', want '$url'"
        ! grep -q attacker "$d/h.xml" || bad "Host $h: the description names the client's Host"
        grep -qi '^Cache-Control: no-store' "$d/h.hdr" ||
            bad "Host $h: no Cache-Control: no-store: $(oneline <"$d/h.hdr")"
        grep -qi '^Vary: Host' "$d/h.hdr" || bad "Host $h: no Vary: Host: $(oneline <"$d/h.hdr")"
    done
}

# soap_describe_configured URL: with `tsactl service set verificationserver --url` the WSDL's
# address and imports are that URL, whatever the client's Host, cacheable by shared caches;
# `--url none` brings back the web server's name.
soap_describe_configured_cleanup() {
    tsactl service set verificationserver --url none >/dev/null 2>&1
}
soap_describe_configured() {
    local url=$1 conf=https://tsa.example.org:8443/verificationserver/timestamp d out
    d=$(casedir)
    trap soap_describe_configured_cleanup EXIT
    out=$(tsactl service set verificationserver --url "$conf" 2>&1) ||
        bad "tsactl service set --url: $(oneline <<<"$out")"
    [[ $(tsactl --json service list | grep -c "$conf") == 1 ]] || bad "service list does not show the url"
    check() {
        local addr loc
        curl -sS --max-time 30 -D "$d/h.hdr" -o "$d/w.xml" -H 'Host: attacker.example:443' "$url?wsdl" ||
            { echo "curl failed" >&3; return 1; }
        addr=$(xmllint --xpath 'string(//*[local-name()="address"]/@location)' "$d/w.xml")
        [[ $addr == "$conf" ]] || { echo "soap:address is '$addr', want '$conf'" >&3; return 1; }
        loc=$(xmllint --xpath 'string(//*[local-name()="import"]/@schemaLocation)' "$d/w.xml")
        [[ $loc == "$conf?xsd" ]] || { echo "schema import '$loc', want '$conf?xsd'" >&3; return 1; }
        grep -qi '^Cache-Control: public, max-age=300' "$d/h.hdr" ||
            { echo "no Cache-Control: public, max-age=300: $(oneline <"$d/h.hdr")" >&3; return 1; }
        ! grep -qi '^Vary:' "$d/h.hdr" || { echo "a Vary header: $(oneline <"$d/h.hdr")" >&3; return 1; }
    }
    eventually check
    out=$(tsactl service set verificationserver --url 'https://attacker.example/x?y' 2>&1) &&
        bad "tsactl accepted a url with a query"
    [[ $out == *query* ]] || bad "tsactl: no reason for the refused url: $(oneline <<<"$out")"
    out=$(tsactl service set verificationserver --url none 2>&1) ||
        bad "tsactl service set --url none: $(oneline <<<"$out")"
    back() {
        local addr
        curl -sS --max-time 30 -o "$d/w.xml" "$url?wsdl" || { echo "curl failed" >&3; return 1; }
        addr=$(xmllint --xpath 'string(//*[local-name()="address"]/@location)' "$d/w.xml")
        [[ $addr == "$url" ]] || { echo "after --url none: soap:address '$addr', want '$url'" >&3; return 1; }
    }
    eventually back
}

# ---- the SI-TSA request exactly as clients send it -------------------------------------------
# si_tsa_request FILE compact|indented: the request of Entrust's timestamp-protocol-20020207,
# SHA-1, with a nonce.
si_tsa_request() {
    local value nonce
    value=$(head -c 64 /dev/urandom | openssl dgst -sha1 -binary | base64)
    nonce=2376587872813388064
    soap_request "$1" "$SHA1_URI" "$value" "$nonce"
    if [[ $2 == compact ]]; then
        # Every newline and the indentation between elements gone, as some clients write it.
        tr -d '\n' <"$1" | sed 's/> *</></g' >"$1.c" && mv "$1.c" "$1"
    fi
}

# soap_si_tsa URL compact|indented SOAPACTION: granted with HTTP 200.
soap_si_tsa() {
    local url=$1 form=$2 action=$3 d out
    d=$(casedir)
    si_tsa_request "$d/req.xml" "$form"
    [[ $form != compact ]] || ! grep -q '> <' "$d/req.xml" || bad "the compact request has whitespace"
    out=$(curl -sS --max-time 30 -o "$d/resp.xml" -w '%{http_code} %{content_type}' \
        -H 'Content-Type: text/xml;charset=UTF-8' -H "SOAPAction: $action" \
        --data-binary @"$d/req.xml" "$url") || bad "curl failed: $out"
    [[ $out == 200\ text/xml* ]] || bad "HTTP answer '$out', want 200 text/xml"
    grep -q '<ts:Status>granted</ts:Status>' "$d/resp.xml" || bad "not granted: $(head -c 300 "$d/resp.xml" | oneline)"
    grep -q '<ts:Nonce>2376587872813388064</ts:Nonce>' "$d/resp.xml" || bad "nonce not echoed"
    schema_valid "$d/resp.xml"
}

# ---- a SOAP client built from the served WSDL --------------------------------------------------
# soap_zeep URL ALG: python3-zeep reads URL?wsdl (and the schemas it imports, from the server),
# calls the operation with a digest; the answer is granted and holds the dsig:Signature.
soap_zeep() {
    local url=$1 alg=$2 d
    d=$(casedir)
    "$SYS_PYTHON" -c 'import zeep' 2>/dev/null || bad "python3-zeep is not installed (deploy/deps.sh installs it)"
    "$SYS_PYTHON" - "$url" "$alg" >"$d/zeep.log" 2>&1 <<'PY' || bad "zeep: $(tail -n 3 "$d/zeep.log" | oneline)"
import hashlib, os, sys
import zeep
from lxml import etree
url, alg = sys.argv[1], sys.argv[2]
uris = {"sha1": "http://www.w3.org/2000/09/xmldsig#sha1",
        "sha256": "http://www.w3.org/2001/04/xmlenc#sha256"}
client = zeep.Client(url + "?wsdl")
# The address the client posts to is the one the server put in the WSDL.
addr = client.service._binding_options["address"]
assert addr == url, "address %r, want %r" % (addr, url)
digest = hashlib.new(alg, os.urandom(32)).digest()
with client.settings(raw_response=True):
    raw = client.service.service(TimeStampRequest={
        "Digest": {"DigestMethod": {"Algorithm": uris[alg]},
                   "DigestValue": digest},
        "Nonce": 1234567890123})
assert raw.status_code == 200, "HTTP %d: %s" % (raw.status_code, raw.content[:300])
# The typed answer too: zeep parses it against the served schema.
resp = client.service.service(TimeStampRequest={
    "Digest": {"DigestMethod": {"Algorithm": uris[alg]}, "DigestValue": digest},
    "Nonce": 1234567890123})
print(resp)
doc = etree.fromstring(raw.content)
ns = {"ts": "http://www.entrust.com/schemas/timestamp-protocol-20020207",
      "ds": "http://www.w3.org/2000/09/xmldsig#"}
st = doc.xpath("//ts:TimeStampResponse/ts:StatusInfo/ts:Status/text()", namespaces=ns)
assert st == ["granted"], "status %r" % st
sig = doc.xpath("//ts:TimeStampResponse/ds:Signature[@Id='TimeStampToken']", namespaces=ns)
assert len(sig) == 1, "no dsig:Signature in the answer"
PY
}

# ---- hostile XML through nginx ------------------------------------------------------------------
ENV_OPEN='<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><tsa:service xmlns:tsa="urn:Entrust-TSA">'
ENV_CLOSE='</tsa:service></SOAP-ENV:Body></SOAP-ENV:Envelope>'
TS_NS='xmlns:ts="http://www.entrust.com/schemas/timestamp-protocol-20020207"'
DS_NS='xmlns:ds="http://www.w3.org/2000/09/xmldsig#"'
b64_sha256() { printf '%s' "$1" | openssl dgst -sha256 -binary | base64; }
ts_request() {	# ts_request [EXTRA-IN-REQUEST]: one TimeStampRequest, SHA-256
    printf '<ts:TimeStampRequest %s><ts:Digest><ds:DigestMethod %s Algorithm="%s"/><ds:DigestValue %s>%s</ds:DigestValue></ts:Digest>%s</ts:TimeStampRequest>' \
        "$TS_NS" "$DS_NS" "$SHA256_URI" "$DS_NS" "$(b64_sha256 x)" "${1:-}"
}
xxe_external() {
    printf '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>%s%s&x;%s' \
        "$ENV_OPEN" "$(ts_request)" "$ENV_CLOSE" >"$1"
}
xxe_parameter() {
    printf '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY %% p SYSTEM "http://127.0.0.1:1/x.dtd"> %%p;]>%s%s%s' \
        "$ENV_OPEN" "$(ts_request)" "$ENV_CLOSE" >"$1"
}
billion_laughs() {
    {
        printf '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        printf '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        local i
        for i in 2 3 4 5 6 7 8 9; do
            printf '<!ENTITY lol%d "' "$i"
            printf '&lol%d;' "$((i - 1))" "$((i - 1))" "$((i - 1))" "$((i - 1))" "$((i - 1))" \
                "$((i - 1))" "$((i - 1))" "$((i - 1))" "$((i - 1))" "$((i - 1))"
            printf '">'
        done
        printf ']>%s%s<x>&lol9;</x>%s' "$ENV_OPEN" "$(ts_request)" "$ENV_CLOSE"
    } >"$1"
}
deep_nesting() {
    {
        printf '%s' "$ENV_OPEN"
        printf '<a>%.0s' {1..1500}	# 10.5 KB: under the size cap, far past the depth cap
        printf '</a>%.0s' {1..1500}
        printf '%s' "$ENV_CLOSE"
    } >"$1"
}
huge_text() {	# a 15000-character text node, under the 16 KiB cap
    printf '%s%s%s' "$ENV_OPEN" "$(ts_request "<ts:Nonce>$(printf '1%.0s' {1..15000})</ts:Nonce>")" "$ENV_CLOSE" >"$1"
}
huge_attribute() {	# a 15000-character attribute value, under the 16 KiB cap
    printf '%s<ts:TimeStampRequest %s><ts:Digest><ds:DigestMethod %s Algorithm="%s"/><ds:DigestValue %s>%s</ds:DigestValue></ts:Digest></ts:TimeStampRequest>%s' \
        "$ENV_OPEN" "$TS_NS" "$DS_NS" "http://x/$(printf 'a%.0s' {1..15000})" "$DS_NS" "$(b64_sha256 x)" "$ENV_CLOSE" >"$1"
}
wrong_namespace() {
    ts_request | sed 's|timestamp-protocol-20020207|timestamp-protocol-19990101|' >"$1.r"
    printf '%s%s%s' "$ENV_OPEN" "$(cat "$1.r")" "$ENV_CLOSE" >"$1"
}
two_requests() { printf '%s%s%s%s' "$ENV_OPEN" "$(ts_request)" "$(ts_request)" "$ENV_CLOSE" >"$1"; }
unknown_element() { printf '%s%s%s' "$ENV_OPEN" "$(ts_request '<ts:Extra>1</ts:Extra>')" "$ENV_CLOSE" >"$1"; }
latin1() {
    printf '<?xml version="1.0" encoding="ISO-8859-1"?>%s%s<!-- caf\xe9 -->%s' "$ENV_OPEN" "$(ts_request)" "$ENV_CLOSE" >"$1"
}
utf16() {
    printf '<?xml version="1.0" encoding="UTF-16"?>%s%s%s' "$ENV_OPEN" "$(ts_request)" "$ENV_CLOSE" |
        iconv -f UTF-8 -t UTF-16 >"$1"
}


# The signature-digest filter: RSA-SHA1 and SHA-1 references for legacy SOAP clients, on the SI-TSA
# path, while the signer stays SHA-256 for everything else.
soap_legacy_sha1() {
    local vs=$1 d out value pid
    d=$(casedir)
    pid=$(tsa_psql -c "SELECT p.id FROM policies p JOIN services s ON s.id = p.service_id
        WHERE s.name = 'verificationserver' AND p.position = 1")
    tsa_psql -c "INSERT INTO policy_filters (policy_id, position, filter, params)
        VALUES ($pid, 99, 'signature-digest', '{\"digest\": \"sha1\"}')" || bad "insert failed"
    value=$(printf legacy | openssl dgst -sha1 -binary | base64)
    soap_request "$d/req.xml" "$SHA1_URI" "$value" 42
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        sleep 0.2
        soap_post "$vs" "$d/req.xml" "$d/resp.xml" >/dev/null || continue
        grep -q 'xmldsig#rsa-sha1' "$d/resp.xml" && break
    done
    tsa_psql -c "DELETE FROM policy_filters WHERE policy_id = $pid AND position = 99"
    grep -q 'SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"' "$d/resp.xml" ||
        bad "no RSA-SHA1 signature: $(grep -o 'SignatureMethod Algorithm="[^"]*"' "$d/resp.xml")"
    python3 -c '
import re, sys
s = open(sys.argv[1], encoding="utf-8").read()
open(sys.argv[2], "w", encoding="utf-8").write(re.search(r"<dsig:Signature .*</dsig:Signature>", s, re.S).group(0))
' "$d/resp.xml" "$d/token.xml" || bad "no token"
    out=$(xmlsec1 --verify --id-attr:Id Object --id-attr:Id KeyInfo \
        --trusted-pem "$TSA_VAR/pki/ca.pem" "$d/token.xml" 2>&1) || bad "xmlsec1: $(oneline <<<"$out")"
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
    [[ ${TSA_KEY:-rsa2048} == rsa* && ${TSA_SCHEME:-auto} == auto ]] &&
        run_case soap/verificationserver/legacy-rsa-sha1 soap_legacy_sha1 "$vs"
    run_case soap/refused/sha1-on-tsa soap_refused "$tsa" sha1_request 200 '<ts:FailInfo>badAlgorithm'
    run_case soap/refused/digest-length soap_refused "$tsa" short_digest 200 '<ts:FailInfo>badDataFormat'
    run_case soap/refused/unknown-method soap_refused "$tsa" unknown_method 200 '<ts:FailInfo>badAlgorithm'
    run_case soap/refused/log-injection soap_log_injection "$tsa"
    run_case soap/fault/not-xml soap_refused "$tsa" not_xml 500 'SOAP-ENV:Fault'
    run_case soap/fault/doctype soap_refused "$tsa" with_doctype 500 'SOAP-ENV:Fault'
    run_case soap/wsdl/verificationserver soap_describe "$vs"
    run_case soap/wsdl/tsa soap_describe "$tsa"
    run_case soap/wsdl/configured soap_describe_configured "$vs"
    local form action
    for form in compact indented; do
        for action in '""' '"urn:this-is-the-action-uri"'; do
            run_case "soap/si-tsa/$form/action-${action//[^a-z]/}" soap_si_tsa "$vs" "$form" "$action"
        done
    done
    run_case soap/zeep/sha1 soap_zeep "$vs" sha1
    run_case soap/zeep/sha256 soap_zeep "$vs" sha256
    local h
    for h in xxe_external:500:'DOCTYPE and entities' xxe_parameter:500:'DOCTYPE and entities' \
        billion_laughs:500:'DOCTYPE and entities' deep_nesting:500:'nested too deep' \
        huge_text:200:'<ts:FailInfo>badRequest' huge_attribute:200:'<ts:FailInfo>badAlgorithm' \
        wrong_namespace:500:'one tsa:service with one ts:TimeStampRequest' \
        two_requests:500:'one tsa:service with one ts:TimeStampRequest' \
        unknown_element:200:'<ts:FailInfo>badRequest' latin1:500:'only UTF-8' \
        utf16:500:'only UTF-8'; do
        IFS=: read -r maker code want <<<"$h"
        SOAP_THEN_GRANTED=1 run_case "soap/hostile/$maker" soap_refused "$tsa" "$maker" "$code" "$want"
    done
}
