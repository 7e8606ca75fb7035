# Microsoft Authenticode legacy timestamps through nginx (Microsoft's "Time Stamping Authenticode Signatures"): a PE
# made by tests/pe/mkpe.py, signed with a code-signing certificate made here, timestamped by
# `osslsigncode sign -t` (Authenticode) and `-ts` (RFC 3161), verified by `osslsigncode verify`
# against the TSA's root; the countersignature recorded as protocol authenticode; a response
# altered in transit (a tampering proxy on loopback flips one byte of the countersignature)
# refused by osslsigncode (its timestamp verdict: "Timestamp Server Signature verification:
# failed"); malformed requests refused with HTTP 400, recorded as events, the
# worker unharmed; PostgreSQL down answered 503 and served again once it is back.
# shellcheck shell=bash

# authenticode_codesign DIR: a code-signing CA and a leaf certificate under it (RSA 2048).
authenticode_codesign() {
    local d=$1
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/csca.key" -out "$d/csca.pem" \
        -days 30 -subj "/CN=e2e code-signing CA" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1 || bad "openssl: code-signing CA"
    openssl req -newkey rsa:2048 -nodes -keyout "$d/cs.key" -out "$d/cs.csr" \
        -subj "/CN=e2e code signer" >/dev/null 2>&1 || bad "openssl: code-signing request"
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=codeSigning" >"$d/cs.ext"
    openssl x509 -req -in "$d/cs.csr" -CA "$d/csca.pem" -CAkey "$d/csca.key" -CAcreateserial \
        -days 30 -extfile "$d/cs.ext" -out "$d/cs.pem" >/dev/null 2>&1 || bad "openssl: code-signing certificate"
    python3 "$ROOT/tests/pe/mkpe.py" "$d/app.exe" || bad "tests/pe/mkpe.py failed"
}

# authenticode_request OUT [OID] [CONTENT-TYPE] [SIGNATURE-LENGTH] [TRAILING-HEX] [NUL]: the
# base64 request (CR LF every 64 characters, as OpenSSL's BIO writes it; a final NUL with NUL=1).
authenticode_request() {
    python3 - "$@" <<'PY'
import base64, os, sys

def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + head + body

def oid(text):
    arcs = [int(a) for a in text.split(".")]
    out = bytes([40 * arcs[0] + arcs[1]])
    for a in arcs[2:]:
        enc = [a & 0x7F]
        a >>= 7
        while a:
            enc.insert(0, 0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(enc)
    return tlv(0x06, out)

args = sys.argv[1:] + [""] * 6
out = args[0]
typ = args[1] or "1.3.6.1.4.1.311.3.2.1"
ct = args[2] or "1.2.840.113549.1.7.1"
siglen = int(args[3] or "256")
trailing = bytes.fromhex(args[4])
sig = os.urandom(siglen)
der = tlv(0x30, oid(typ) + tlv(0x30, oid(ct) + tlv(0xA0, tlv(0x04, sig)))) + trailing
text = base64.b64encode(der)
lines = b"\r\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + b"\r\n"
if args[5] == "1":
    lines += b"\0"
open(out, "wb").write(lines)
PY
}

# authenticode_post URL INFILE OUTFILE: prints "CODE CONTENT_TYPE".
authenticode_post() { post "$1" "$2" "$3" application/octet-stream; }

authenticode_rows() {
    tsa_psql -c "SELECT count(*) FROM issued_tokens WHERE protocol = 'authenticode'"
}

# osslsigncode sign with one timestamp option (-t or -ts), then verify against both roots.
authenticode_sign_verify() {
    local url=$1 opt=$2 d before after out
    d=$(casedir)
    authenticode_codesign "$d"
    before=$(authenticode_rows)
    out=$(osslsigncode sign -certs "$d/cs.pem" -key "$d/cs.key" -h sha256 "$opt" "$url" \
        -in "$d/app.exe" -out "$d/signed.exe" 2>&1) || bad "osslsigncode sign $opt: $(oneline <<<"$out")"
    out=$(osslsigncode verify -CAfile "$d/csca.pem" -TSA-CAfile "$TSA_VAR/pki/ca.pem" \
        -in "$d/signed.exe" 2>&1) || bad "osslsigncode verify: $(oneline <<<"$out")"
    printf '%s\n' "$out" >"$d/verify.log"
    grep -q 'Timestamp Server Signature verification: ok' <<<"$out" ||
        bad "no verified timestamp: $(oneline <<<"$out")"
    grep -qE '^[[:space:]]*Timestamp time: [A-Z][a-z]{2} ' <<<"$out" ||
        bad "no timestamp time shown: $(oneline <<<"$out")"
    after=$(authenticode_rows)
    if [[ $opt == -t ]]; then
        (( after == before + 1 )) || bad "issued_tokens authenticode rows $before -> $after"
    else
        (( after == before )) || bad "an RFC 3161 timestamp recorded as authenticode"
    fi
}

# The answer to a hand-made request: base64 DER SignedData over id-data carrying the signature
# bytes, the chain, and the recorded imprint is the SHA-256 of those bytes.
authenticode_answer() {
    local url=$1 d out want got
    d=$(casedir)
    authenticode_request "$d/req.b64" "" "" 256 "" 1
    out=$(authenticode_post "$url" "$d/req.b64" "$d/resp.b64") || bad "curl failed: $out"
    [[ $out == "200 application/octet-stream" ]] || bad "HTTP answer '$out'"
    tr -d '\r' <"$d/resp.b64" | base64 -d >"$d/resp.der" || bad "the answer is not base64"
    openssl cms -cmsout -inform DER -in "$d/resp.der" -print >"$d/resp.txt" 2>&1 ||
        bad "openssl cannot read the answer as CMS: $(oneline <"$d/resp.txt")"
    grep -q 'version: 1' "$d/resp.txt" || bad "SignedData is not version 1"
    grep -q 'eContentType: pkcs7-data' "$d/resp.txt" || bad "eContentType is not id-data"
    grep -q 'object: signingTime' "$d/resp.txt" || bad "no signingTime"
    grep -q 'object: messageDigest' "$d/resp.txt" || bad "no messageDigest"
    ! grep -q 'signingCertificate' "$d/resp.txt" || bad "an ESS attribute in an Authenticode answer"
    # The embedded signature bytes are the request's.
    tr -d '\r\0' <"$d/req.b64" | base64 -d | tail -c 256 >"$d/sig" || bad "cannot read back the request"
    hex_of "$d/resp.der" | grep -q "$(hex_of "$d/sig")" || bad "the request's signature is not embedded"
    want=$(digest sha256 "$d/sig")
    got=$(tsa_psql -c "SELECT encode(imprint, 'hex') FROM issued_tokens WHERE protocol = 'authenticode' ORDER BY gen_time DESC LIMIT 1")
    [[ $got == "$want" ]] || bad "recorded imprint $got, want SHA-256 of the signature $want"
}

# A proxy that passes the request on and flips the last byte of the answer's DER (inside the
# SignerInfo's signature value, the last field): osslsigncode must not accept the result.
authenticode_tampered() {
    local url=$1 d port pid out
    d=$(casedir)
    authenticode_codesign "$d"
    # The proxy binds a port of the kernel's choosing and writes it to $d/port.
    python3 - "$d/port" "$url" >"$d/proxy.log" 2>&1 <<'PY' &
import base64, http.server, sys, urllib.request
portfile, target = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        req = urllib.request.Request(target, body, {"Content-Type": self.headers["Content-Type"]})
        der = bytearray(base64.b64decode(urllib.request.urlopen(req).read()))
        der[-1] ^= 0x01
        text = base64.b64encode(bytes(der))
        out = b"".join(text[i:i + 64] + b"\n" for i in range(0, len(text), 64))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
server = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
server.handle_request()
PY
    pid=$!
    for _ in $(seq 50); do [[ -s $d/port ]] && break; sleep 0.1; done
    port=$(<"$d/port") || bad "the proxy did not start: $(oneline <"$d/proxy.log")"
    if ! out=$(osslsigncode sign -certs "$d/cs.pem" -key "$d/cs.key" -h sha256 \
        -t "http://127.0.0.1:$port/" -in "$d/app.exe" -out "$d/signed.exe" 2>&1); then
        wait "$pid" 2>/dev/null || true
        grep -q 'POST' "$d/proxy.log" || bad "the proxy saw no request: $(oneline <"$d/proxy.log")"
        ! grep -q 'asn1' <<<"$out" || bad "the altered answer did not even parse: $(oneline <<<"$out")"
        echo "osslsigncode sign refused the altered answer: $out"
        return 0
    fi
    wait "$pid" 2>/dev/null || true
    # osslsigncode 2.9 reports the countersignature's failure and then, the code-signing
    # certificate being valid now, still exits 0 for the file's own signature: its verdict on
    # the timestamp is the line judged here.
    out=$(osslsigncode verify -CAfile "$d/csca.pem" -TSA-CAfile "$TSA_VAR/pki/ca.pem" \
        -in "$d/signed.exe" 2>&1) || true
    printf '%s\n' "$out" >"$d/verify.log"
    grep -q 'Timestamp Server Signature verification: failed' <<<"$out" ||
        bad "osslsigncode verify accepts an altered countersignature: $(oneline <<<"$out")"
    ! grep -q 'Timestamp Server Signature verification: ok' <<<"$out" ||
        bad "osslsigncode verify reports the altered countersignature ok"
}

# Refusals: HTTP status and an event; a good request right after is granted.
authenticode_refused() {
    local url=$1 want=$2 maker=$3 d out events_before
    shift 3
    d=$(casedir)
    "$maker" "$d/req" "$@"
    events_before=$(events_sum "kind = 'request-refused' AND detail LIKE 'authenticode $want:%'")
    out=$(authenticode_post "$url" "$d/req" "$d/resp") || bad "curl failed: $out"
    [[ ${out%% *} == "$want" ]] || bad "HTTP $out, want $want: $(head -c 200 "$d/resp" | oneline)"
    # Within a second (an earlier case's refusal of the same kind may be counted with it).
    events_wait "kind = 'request-refused' AND detail LIKE 'authenticode $want:%'" \
        "$((events_before + 1))" min || bad "no request-refused event for the $want"
    authenticode_request "$d/good" "" "" 128
    out=$(authenticode_post "$url" "$d/good" "$d/good.resp") || bad "curl failed: $out"
    [[ ${out%% *} == 200 ]] || bad "a valid request after the refusal: HTTP $out"
}

# PostgreSQL stopped: a valid request is refused with 503 (nothing recorded, nothing answered;
# the event cannot be written either), then granted again once it is back, same workers.
authenticode_db_down() {
    local url=$1 d out i
    d=$(casedir)
    authenticode_request "$d/req" "" "" 256
    out=$("$STACK" pg-stop 2>&1 3>&-) || bad "stack.sh pg-stop: $(oneline <<<"$out")"
    out=$(authenticode_post "$url" "$d/req" "$d/resp") || true
    "$STACK" pg-start >"$d/pg-start.log" 2>&1 3>&- || bad "stack.sh pg-start failed"
    [[ $out == 503\ text/plain* ]] || bad "database down: HTTP '$out', want 503 text/plain"
    for ((i = 0; i < 20; i++)); do
        out=$(authenticode_post "$url" "$d/req" "$d/resp") || true
        [[ ${out%% *} == 200 ]] && break
        sleep 0.5
    done
    [[ ${out%% *} == 200 ]] || bad "no countersignature 10 s after PostgreSQL came back: HTTP '$out'"
}

not_base64() { printf 'this is not base64!!\r\n' >"$1"; }
oversize() { head -c 6000 /dev/zero | tr '\0' 'A' >"$1"; }
bad_padding() { printf 'MAA=A===\r\n' >"$1"; }

# The signature-digest filter: a SHA-1 countersignature for legacy verifiers (messageDigest,
# digestAlgorithm and signature), which osslsigncode still verifies.
authenticode_legacy_sha1() {
    local url=$1 d pid out
    d=$(casedir)
    authenticode_codesign "$d"
    pid=$(tsa_psql -c "SELECT p.id FROM policies p JOIN services s ON s.id = p.service_id
        WHERE s.name = 'tsa' AND p.position = 1")
    tsa_psql -c "INSERT INTO policy_filters (policy_id, position, filter, params)
        VALUES ($pid, 99, 'signature-digest', '{\"digest\": \"sha1\"}')" || bad "insert failed"
    sleep 1.5
    authenticode_request "$d/req.b64" "" "" 256 "" 1
    out=$(authenticode_post "$url" "$d/req.b64" "$d/resp.b64") || true
    if [[ $out == "200 application/octet-stream" ]]; then
        out=$(osslsigncode sign -certs "$d/cs.pem" -key "$d/cs.key" -h sha256 -t "$url" \
            -in "$d/app.exe" -out "$d/signed.exe" 2>&1) || out="sign failed: $out"
    fi
    tsa_psql -c "DELETE FROM policy_filters WHERE policy_id = $pid AND position = 99"
    [[ -s $d/signed.exe ]] || bad "no answer or no signed file: $(oneline <<<"$out")"
    tr -d '\r' <"$d/resp.b64" | base64 -d >"$d/resp.der" || bad "the answer is not base64"
    openssl cms -cmsout -inform DER -in "$d/resp.der" -print >"$d/resp.txt" 2>&1 ||
        bad "openssl cannot read the answer: $(oneline <"$d/resp.txt")"
    grep -q 'algorithm: sha1 ' "$d/resp.txt" || bad "the countersignature's digest is not SHA-1"
    out=$(osslsigncode verify -CAfile "$d/csca.pem" -TSA-CAfile "$TSA_VAR/pki/ca.pem" \
        -in "$d/signed.exe" 2>&1) || true
    grep -q 'Timestamp Server Signature verification: ok' <<<"$out" ||
        bad "the SHA-1 countersignature does not verify: $(oneline <<<"$out")"
}

cases_authenticode() {
    local tsa=http://127.0.0.1:$TSA_HTTP_PORT/tsa
    if ! command -v osslsigncode >/dev/null; then
        run_case authenticode/osslsigncode bad "osslsigncode is not installed (deploy/deps.sh installs it)"
        return
    fi
    run_case authenticode/sign-t authenticode_sign_verify "$tsa" -t
    run_case authenticode/sign-ts authenticode_sign_verify "$tsa" -ts
    run_case authenticode/answer authenticode_answer "$tsa"
    [[ ${TSA_KEY:-rsa2048} == rsa* && ${TSA_SCHEME:-auto} == auto ]] &&
        run_case authenticode/legacy-sha1 authenticode_legacy_sha1 "$tsa"
    run_case authenticode/tampered authenticode_tampered "$tsa"
    run_case authenticode/refused/not-base64 authenticode_refused "$tsa" 400 not_base64
    run_case authenticode/refused/bad-padding authenticode_refused "$tsa" 400 bad_padding
    run_case authenticode/refused/wrong-oid authenticode_refused "$tsa" 400 authenticode_request \
        1.3.6.1.4.1.311.3.2.2
    run_case authenticode/refused/inner-type authenticode_refused "$tsa" 400 authenticode_request \
        "" 1.2.840.113549.1.7.2
    run_case authenticode/refused/trailing authenticode_refused "$tsa" 400 authenticode_request \
        "" "" 256 0000
    run_case authenticode/refused/empty-signature authenticode_refused "$tsa" 400 authenticode_request \
        "" "" 0
    run_case authenticode/refused/signature-too-long authenticode_refused "$tsa" 400 \
        authenticode_request "" "" 1025
    run_case authenticode/refused/oversize authenticode_refused "$tsa" 400 oversize
    run_case authenticode/refused/database-down authenticode_db_down "$tsa"
}
