# Each filter of a policy's chain, its accept and refuse paths, end to end through nginx with
# `openssl ts` and curl.  The cases work on a policy of their own in service tsa (nginx routes
# only /tsa and /verificationserver/timestamp): t-filters at position -1, before the demo's,
# matched only by requests that name the test policy OID (openssl ts -query -tspolicy).  Each
# case sets its chain in one transaction and removes the policy when it ends, so the demo
# configuration is what the other cases see.  reload.sh and clock.sh use the pf_* helpers.
# shellcheck shell=bash
# The check functions are run through `eventually`, which shellcheck cannot follow:
# shellcheck disable=SC2317

PF_OID=1.3.6.1.4.1.32473.9.1            # t-filters matches requests naming this policy

# ---- helpers shared with reload.sh and clock.sh ----------------------------------------------

# pf_chain NAME POSITION MATCH_OID POLICY_OID [FILTER=JSON]...: policy NAME of service tsa at
# POSITION, matching requests that name MATCH_OID (empty: every request), with the demo's
# signer and this filter chain, in one transaction.  An existing NAME is updated in place (its
# id stays: a refused configuration keeps the last good one, which names that id).
pf_chain() {
    local name=$1 pos=$2 match=$3 oid=$4 f i=0 sql out
    shift 4
    [[ -n $match ]] && match="'$match'" || match=NULL
    sql="BEGIN;
INSERT INTO policies (service_id, position, name, match_req_policy, policy_oid, signer_id)
  SELECT s.id, $pos, '$name', $match, '$oid', p.signer_id
    FROM services s JOIN policies p ON p.service_id = s.id AND p.name = 'default'
   WHERE s.name = 'tsa'
  ON CONFLICT (service_id, name) DO UPDATE SET position = EXCLUDED.position,
    match_req_policy = EXCLUDED.match_req_policy, policy_oid = EXCLUDED.policy_oid,
    signer_id = EXCLUDED.signer_id, match_protocol = NULL, match_client_cert = NULL,
    match_client = NULL;
DELETE FROM policy_filters WHERE policy_id = (SELECT p.id FROM policies p
  JOIN services s ON s.id = p.service_id WHERE s.name = 'tsa' AND p.name = '$name');"
    for f in "$@"; do
        i=$((i + 1))
        sql+="
INSERT INTO policy_filters (policy_id, position, filter, params)
  SELECT p.id, $i, \$f\$${f%%=*}\$f\$, \$f\$${f#*=}\$f\$
    FROM policies p JOIN services s ON s.id = p.service_id
   WHERE s.name = 'tsa' AND p.name = '$name';"
    done
    sql+="
COMMIT;"
    out=$(tsa_psql <<<"$sql" 2>&1) || bad "cannot set the chain of $name: $(oneline <<<"$out")"
}

# pf_drop NAME: removes policy NAME of service tsa (its filters go with it).
pf_drop() {
    tsa_psql -c "DELETE FROM policies WHERE name = '$1'
        AND service_id = (SELECT id FROM services WHERE name = 'tsa')" >/dev/null
}

# The last event id, to look only at what comes after it.
pf_last_event() { tsa_psql -c 'SELECT coalesce(max(id), 0) FROM events'; }

# pf_events SINCE KIND: the events of KIND after id SINCE, one "requester|detail" a line;
# waits up to 3 s for the first (a refusal repeating one of the last second is written with
# the next second's count: README, Events and the log).
pf_events() {
    local i out
    for ((i = 0; i < 30; i++)); do
        out=$(tsa_psql -c "SELECT coalesce(host(requester), '') || '|' || detail FROM events
            WHERE id > $1 AND kind = '$2' ORDER BY id")
        [[ -n $out ]] && break
        sleep 0.1
    done
    printf '%s\n' "$out"
}

# pf_send DIR: POSTs DIR/q.tsq to /tsa (or PF_URL); DIR/http gets the HTTP status, DIR/r.tsr
# the body and, for a 200, DIR/text openssl's reading of it.
pf_send() {
    local d=$1 out
    out=$(post "${PF_URL:-http://127.0.0.1:$TSA_HTTP_PORT/tsa}" "$d/q.tsq" "$d/r.tsr") ||
        bad "curl failed: $out"
    printf '%s\n' "${out%% *}" >"$d/http"
    printf '%s\n' "${out#* }" >"$d/ctype"
    rm -f "$d/text"
    if [[ ${out%% *} == 200 ]]; then
        reply_text "$d/r.tsr" >"$d/text" || bad "openssl cannot parse the reply: $(oneline <"$d/text")"
    fi
}

# pf_query DIR OPTION...: `openssl ts -query` over fresh random data (DIR/data), into DIR/q.tsq.
pf_query() {
    local d=$1
    shift
    head -c 256 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" "$@" -out "$d/q.tsq" 2>/dev/null || bad "openssl ts -query $* failed"
}

# pf_granted DIR OPTION...: a query made with the options is granted (HTTP 200, a token).
pf_granted() {
    local d=$1
    shift
    pf_query "$d" "$@"
    pf_send "$d"
    pf_expect_granted "$d" "$*"
}

# pf_granted_with DIR NAME VALUE OPTION...: granted, and openssl's reading says "NAME: VALUE".
pf_granted_with() {
    local d=$1 name=$2 want=$3
    shift 3
    pf_granted "$d" "$@"
    [[ $(pf_field "$d" "$name") == "$want" ]] || bad "$*: '$name: $(pf_field "$d" "$name")', want '$want'"
}

pf_expect_granted() {
    local d=$1 what=$2
    [[ $(<"$d/http") == 200 ]] || bad "$what: HTTP $(<"$d/http"), want 200 and a token"
    grep -q '^Status: Granted' "$d/text" ||
        bad "$what: not granted: $(grep -E '^(Status|Failure)' "$d/text" | oneline)"
}

# pf_refused DIR "failure text" OPTION...: a query made with the options is rejected with that
# failInfo, and carries no token.
pf_refused() {
    local d=$1 fi=$2
    shift 2
    pf_query "$d" "$@"
    pf_send "$d"
    [[ $(<"$d/http") == 200 ]] || bad "$*: HTTP $(<"$d/http"), want 200 and a rejection"
    expect_rejected "$d/r.tsr" "$fi"
}

# pf_field DIR NAME: the value of "NAME: value" in openssl's reading of the reply.
pf_field() { sed -n "s/^$2: //p" "$1/text"; }

# eventually CHECK ARGS...: CHECK (a function that ends in `bad` when its expectation does not
# hold) holds within 2 s: a configuration change reaches every worker before its next request
# (LISTEN/NOTIFY), the README allows up to a second.
eventually() {
    local _ev_n _ev_why    # names a CHECK will not use (it sees the caller's locals)
    for ((_ev_n = 0; _ev_n < 10; _ev_n++)); do
        _ev_why=$( ("$@") 3>&1 1>&2) && return 0
        sleep 0.2
    done
    bad "$_ev_why"
}

# pf_settle: returns once every worker process has loaded the current configuration: it is
# touched (a statement on services bumps config_version and notifies, changing nothing), then
# pairs of requests go to the demo policy until the worker log says "configuration version N
# loaded" (or later) for every worker.  At most 5 s.
pf_settle() {
    local v master p i ok loaded d url=http://127.0.0.1:$TSA_HTTP_PORT/tsa
    tsa_psql -c 'UPDATE services SET name = name WHERE false' >/dev/null || bad "cannot touch the configuration"
    v=$(tsa_psql -c 'SELECT version FROM config_version') || bad "cannot read config_version"
    master=$(tr -dc '0-9' <"$TSA_VAR/run/tsa-fcgi.pid")
    d=$(casedir)
    pf_query "$d" -sha256
    for ((i = 0; i < 25; i++)); do
        ok=1
        for p in $(pgrep -P "$master"); do
            loaded=$(grep -o "tsa-worker\[$p\] info: configuration version [0-9]* loaded" \
                "$TSA_VAR/log/tsa-fcgi.log" | tail -n 1 | cut -d' ' -f5)
            (( ${loaded:-0} >= v )) || ok=0
        done
        # The signing processes too: one still on an older version when a refused one
        # follows would keep that older one (a case's policy missing from it).
        for p in $(pgrep -P "$(tr -dc '0-9' <"$TSA_VAR/run/tsa-signer.pid")"); do
            loaded=$(grep -o "tsa-signer\[$p\] info: configuration version [0-9]* loaded" \
                "$TSA_VAR/log/tsa-signer.log" | tail -n 1 | cut -d' ' -f5)
            (( ${loaded:-0} >= v )) || ok=0
        done
        (( ok )) && return 0
        post "$url" "$d/q.tsq" "$d/r1.tsr" >/dev/null &
        post "$url" "$d/q.tsq" "$d/r2.tsr" >/dev/null &
        wait
        sleep 0.1
    done
    bad "the workers and signing processes did not all load configuration version $v within 5 s"
}

# pf_token DIR: the token of DIR/r.tsr in DIR/token.der, and openssl asn1parse's reading of it
# in DIR/token.asn1 (the TSTInfo's OCTET STRING parsed too: DIR/tstinfo.asn1).
pf_token() {
    local d=$1 off
    openssl ts -reply -in "$d/r.tsr" -token_out -out "$d/token.der" 2>/dev/null ||
        bad "openssl ts -reply -token_out failed"
    openssl asn1parse -inform DER -in "$d/token.der" >"$d/token.asn1" 2>&1 ||
        bad "openssl asn1parse of the token failed"
    off=$(grep -A2 ':id-smime-ct-TSTInfo' "$d/token.asn1" | grep -m1 'OCTET STRING' | cut -d: -f1 | tr -d ' ')
    [[ -n $off ]] || bad "no eContent in the token"
    openssl asn1parse -inform DER -in "$d/token.der" -strparse "$off" >"$d/tstinfo.asn1" 2>&1 ||
        bad "openssl asn1parse of the TSTInfo failed"
}

# ---- cases -----------------------------------------------------------------------------------

f_hash_algorithms() {
    local d
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    # sha1 (off by default) and sha3-512 only: the list replaces the default.
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'hash-algorithms={"accept": ["sha1", "sha3-512"]}'
    eventually pf_granted "$d" -sha1 -cert -tspolicy "$PF_OID"
    [[ $(pf_field "$d" 'Hash Algorithm') == sha1 ]] || bad "hash algorithm in the token: $(pf_field "$d" 'Hash Algorithm')"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    pf_granted "$d" -sha3-512 -cert -tspolicy "$PF_OID"
    [[ $(pf_field "$d" 'Hash Algorithm') == sha3-512 ]] || bad "hash algorithm in the token: $(pf_field "$d" 'Hash Algorithm')"
    pf_refused "$d" "$FI_BAD_ALG" -sha256 -cert -tspolicy "$PF_OID"
    pf_refused "$d" "$FI_BAD_ALG" -sha384 -tspolicy "$PF_OID"
}

f_policy_oid() {
    local d
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    # Matches every request (no match rule): requests without a policy must reach it too.
    pf_chain t-filters -1 "" "$PF_OID" \
        'policy-oid={"default": "1.3.6.1.4.1.32473.9.11", "accept": ["1.3.6.1.4.1.32473.9.12"]}'
    # No requested policy: the default is the token's.
    eventually pf_granted "$d" -sha256 -cert
    [[ $(pf_field "$d" 'Policy OID') == 1.3.6.1.4.1.32473.9.11 ]] ||
        bad "no reqPolicy: token policy $(pf_field "$d" 'Policy OID'), want the default 1.3.6.1.4.1.32473.9.11"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    # An accepted requested policy is the one the token states.
    pf_granted "$d" -sha256 -tspolicy 1.3.6.1.4.1.32473.9.12
    [[ $(pf_field "$d" 'Policy OID') == 1.3.6.1.4.1.32473.9.12 ]] ||
        bad "accepted reqPolicy: token policy $(pf_field "$d" 'Policy OID')"
    # The policy row's own OID is always accepted.
    pf_granted "$d" -sha256 -tspolicy "$PF_OID"
    [[ $(pf_field "$d" 'Policy OID') == "$PF_OID" ]] || bad "own OID: token policy $(pf_field "$d" 'Policy OID')"
    pf_refused "$d" "$FI_UNACCEPTED_POLICY" -sha256 -tspolicy 1.3.6.1.4.1.32473.9.13
    pf_refused "$d" "$FI_UNACCEPTED_POLICY" -sha256 -tspolicy 1.3.6.1.4.1.32473.9.11

    pf_chain t-filters -1 "" "$PF_OID" 'policy-oid={"accept": "any"}'
    eventually pf_granted "$d" -sha256 -tspolicy 1.2.3.4.5.6.7
    [[ $(pf_field "$d" 'Policy OID') == 1.2.3.4.5.6.7 ]] || bad "any: token policy $(pf_field "$d" 'Policy OID')"
    pf_granted "$d" -sha256
    [[ $(pf_field "$d" 'Policy OID') == "$PF_OID" ]] ||
        bad "any, no reqPolicy: token policy $(pf_field "$d" 'Policy OID'), want the policy's $PF_OID"
}

# oid_tlv OID: the DER (hex) of an OBJECT IDENTIFIER.
oid_tlv() {
    local f
    f=$(mktemp "$WORK/oid.XXXXXX")
    openssl asn1parse -genstr "OID:$1" -noout -out "$f" >/dev/null 2>&1 || bad "cannot encode OID $1"
    hex_of "$f"
    rm -f "$f"
}

# ext_query DIR EXT_OID...: DIR/q.tsq, a TimeStampReq for sha256 naming PF_OID, with a nonce,
# certReq and one extension { OID, extnValue OCTET STRING { NULL } } per EXT_OID.
ext_query() {
    local d=$1 exts='' o
    shift
    for o in "$@"; do
        exts+=$(der 30 "$(oid_tlv "$o")$(der 04 0500)")
    done
    hex_to_file "$(der 30 "020101$(imprint "$ALG_SHA256" "$(randhex 32)")$(oid_tlv "$PF_OID")$(nonce_der)$CERT_REQ$(der a0 "$exts")")" "$d/q.tsq"
}

f_extensions() {
    local d ok=1.3.6.1.4.1.32473.9.21 other=1.3.6.1.4.1.32473.9.22
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" "extensions={\"accept\": [\"$ok\"]}"
    ext_query "$d" "$ok"
    check() {
        pf_send "$d"
        pf_expect_granted "$d" "extension $ok"
    }
    eventually check
    ext_query "$d" "$other"
    pf_send "$d"
    expect_rejected "$d/r.tsr" "$FI_UNACCEPTED_EXTENSION"
    ext_query "$d" "$ok" "$other"
    pf_send "$d"
    expect_rejected "$d/r.tsr" "$FI_UNACCEPTED_EXTENSION"
    # Without the filter, none is accepted.
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'hash-algorithms={"accept": ["sha256"]}'
    ext_query "$d" "$ok"
    check() {
        pf_send "$d"
        expect_rejected "$d/r.tsr" "$FI_UNACCEPTED_EXTENSION"
    }
    eventually check
}

f_accuracy() {
    local d t frac max=0 i since
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'accuracy={"seconds": 2, "millis": 250, "micros": 125, "digits": 6}'
    eventually pf_granted "$d" -sha256 -cert -tspolicy "$PF_OID"
    [[ $(pf_field "$d" Accuracy) == '0x02 seconds, 0xFA millis, 0x7D micros' ]] ||
        bad "accuracy in the token: '$(pf_field "$d" Accuracy)', want 2 s 250 ms 125 us"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    # genTime's fraction: at most 6 digits, trailing zeros dropped (DER); two tokens in a row
    # both ending in 000 microseconds would be a one in a million chance.
    for i in 1 2; do
        pf_granted "$d" -sha256 -tspolicy "$PF_OID"
        t=$(pf_field "$d" 'Time stamp')
        frac=$(sed -n 's/^.*:[0-9][0-9]\.\([0-9]*\) .*$/\1/p' <<<"$t")
        (( ${#frac} <= 6 )) || bad "genTime '$t' has more than 6 fractional digits"
        [[ $frac != *0 ]] || bad "genTime '$t' ends in a zero (not DER)"
        (( ${#frac} > max )) && max=${#frac}
    done
    (( max > 3 )) || bad "digits 6: genTime fractions of at most $max digits"

    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'accuracy={"millis": 500, "digits": 0}'
    check() {
        pf_granted "$d" -sha256 -tspolicy "$PF_OID"
        [[ $(pf_field "$d" Accuracy) == 'unspecified seconds, 0x01F4 millis, unspecified micros' ]] ||
            bad "accuracy in the token: '$(pf_field "$d" Accuracy)', want 500 ms"
    }
    eventually check
    t=$(pf_field "$d" 'Time stamp')
    [[ $t != *.* ]] || bad "digits 0: genTime '$t' has a fraction"

    # Zero accuracy states nothing: refused at load, with an event; the last good chain
    # (500 ms) stays in every worker.
    pf_settle
    since=$(pf_last_event)
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'accuracy={"seconds": 0, "digits": 3}'
    sleep 0.3
    for i in 1 2 3 4; do
        check
    done
    check_event() {
        pf_events "$since" config-refused | grep -q 'accuracy of zero' ||
            bad "no config-refused event about the zero accuracy: $(pf_events "$since" config-refused | oneline)"
    }
    eventually check_event
}

f_ordering() {
    local d
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'ordering={"enabled": true}'
    eventually pf_granted_with "$d" Ordering yes -sha256 -tspolicy "$PF_OID"
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'ordering={"enabled": false}'
    eventually pf_granted_with "$d" Ordering no -sha256 -tspolicy "$PF_OID"
}

# The subject of the demo TSA certificate as OpenSSL prints a DirName (/O=.../CN=...).
tsa_dirname() {
    openssl x509 -in "$TSA_VAR/pki/tsa.pem" -noout -subject -nameopt compat | sed 's/^subject=//'
}

f_tsa_name() {
    local d want rfc4514
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    want=$(tsa_dirname)
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'tsa-name={"name": "subject"}'
    eventually pf_granted_with "$d" TSA "DirName:$want" -sha256 -cert -tspolicy "$PF_OID"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    # The same name written out (RFC 4514, most specific first).
    rfc4514=$(openssl x509 -in "$TSA_VAR/pki/tsa.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" "tsa-name={\"name\": \"$rfc4514\"}"
    eventually pf_granted_with "$d" TSA "DirName:$want" -sha256 -cert -tspolicy "$PF_OID"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    # Without the filter: no tsa field.
    pf_chain t-filters -1 "$PF_OID" "$PF_OID"
    eventually pf_granted_with "$d" TSA unspecified -sha256 -tspolicy "$PF_OID"
}

# A tsa name that is not the signer certificate's: RFC 3161 2.4.2 says the tsa field MUST
# correspond to one of the certificate's subject names, and OpenSSL (and tsactl verify) refuse
# a token whose does not.  Such a chain must be refused at load, or its tokens must still
# verify; a granted token that no verifier accepts is neither.
f_tsa_name_foreign() {
    local d since out
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'hash-algorithms={"accept": ["sha384"]}'
    eventually pf_granted "$d" -sha384 -cert -tspolicy "$PF_OID"
    # Every worker holds this chain before the refused one arrives: a worker still on an
    # older configuration would keep that one (without t-filters) as its last good.
    pf_settle
    since=$(pf_last_event)
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'hash-algorithms={"accept": ["sha256"]}' \
        'tsa-name={"name": "CN=Somebody Else,O=Example,C=SI"}'
    sleep 0.5
    pf_query "$d" -sha256 -cert -tspolicy "$PF_OID"
    pf_send "$d"
    if grep -q '^Status: Granted' "$d/text" 2>/dev/null; then
        out=$(tsactl verify "$d/r.tsr" --ca "$TSA_VAR/pki/ca.pem" --data "$d/data" 2>&1) ||
            bad "tsa-name '$(pf_field "$d" TSA)' (not the signer's subject) was accepted, and its token fails tsactl verify ($(sed -n 's/^verification: //p' <<<"$out")) and openssl ts -verify (tsa name mismatch)"
        ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    else
        # Refused at load: the old chain (sha384 only) still serves, with an event.
        pf_granted "$d" -sha384 -tspolicy "$PF_OID"
        # Each worker writes the event when it loads (and refuses) the version.
        refused_event() {
            pf_events "$since" config-refused | grep -q tsa-name || bad "no config-refused event naming tsa-name"
        }
        eventually refused_event
    fi
}

f_cert_id() {
    local d out
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'cert-id={"version": 1}'
    check() {
        pf_granted "$d" -sha256 -cert -tspolicy "$PF_OID"
        pf_token "$d"
        grep -q ':id-smime-aa-signingCertificate$' "$d/token.asn1" || bad "cert-id v1: no signingCertificate attribute"
    }
    eventually check
    ! grep -q 'signingCertificateV2' "$d/token.asn1" || bad "cert-id v1: a signingCertificateV2 attribute too"
    # ESSCertID: certHash OCTET STRING of 20 octets (SHA-1), then issuerSerial.
    grep -A6 ':id-smime-aa-signingCertificate$' "$d/token.asn1" | grep -q 'l=  20 prim: OCTET STRING' ||
        bad "cert-id v1: no 20-octet SHA-1 certHash"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    out=$(tsactl verify "$d/r.tsr" --ca "$TSA_VAR/pki/ca.pem" --data "$d/data" 2>&1) ||
        bad "tsactl verify (v1): $(tail -n 2 <<<"$out" | oneline)"
    grep -q '^ESS: signingCertificate (version 1)' <<<"$out" || bad "tsactl verify: $(grep '^ESS' <<<"$out")"

    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'cert-id={"version": 2, "hash": "sha384", "issuer_serial": false}'
    check() {
        pf_granted "$d" -sha256 -cert -tspolicy "$PF_OID"
        pf_token "$d"
        grep -q ':id-smime-aa-signingCertificateV2$' "$d/token.asn1" || bad "cert-id v2: no signingCertificateV2 attribute"
    }
    eventually check
    # ESSCertIDv2 { hashAlgorithm sha384, certHash 48 octets } and no issuerSerial.
    out=$(sed -n '/:id-smime-aa-signingCertificateV2$/,/:rsaEncryption\|:id-ecPublicKey\|:ecdsa-with\|:rsassaPss/p' "$d/token.asn1")
    grep -q ':sha384$' <<<"$out" || bad "cert-id v2 sha384: no sha384 hashAlgorithm: $(oneline <<<"$out")"
    grep -q 'l=  48 prim: OCTET STRING' <<<"$out" || bad "cert-id v2 sha384: no 48-octet certHash"
    ! grep -q 'INTEGER' <<<"$out" || bad "cert-id issuer_serial false: an issuerSerial is there"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    out=$(tsactl verify "$d/r.tsr" --ca "$TSA_VAR/pki/ca.pem" --data "$d/data" 2>&1) ||
        bad "tsactl verify (v2 sha384): $(tail -n 2 <<<"$out" | oneline)"
    grep -q '^ESS: signingCertificateV2' <<<"$out" || bad "tsactl verify: $(grep '^ESS' <<<"$out")"
}

# ncerts DIR: the certificates in the token of DIR/r.tsr.
ncerts() {
    openssl ts -reply -in "$1/r.tsr" -token_out -out "$1/token.der" 2>/dev/null || bad "openssl ts -reply -token_out failed"
    openssl pkcs7 -inform DER -in "$1/token.der" -print_certs 2>/dev/null | grep -c '^subject=' || true
}

f_cert_chain() {
    local d n
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'cert-chain={"include": "leaf"}'
    eventually pf_granted "$d" -sha256 -cert -tspolicy "$PF_OID"
    n=$(ncerts "$d")
    (( n == 1 )) || bad "leaf: $n certificates in the token, want 1"
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'cert-chain={"include": "chain"}'
    check() {
        pf_granted "$d" -sha256 -cert -tspolicy "$PF_OID"
        n=$(ncerts "$d")
        (( n == 2 )) || bad "chain: $n certificates in the token, want 2 (TSA and root)"
    }
    eventually check
    openssl pkcs7 -inform DER -in "$d/token.der" -print_certs 2>/dev/null |
        grep -qF "$(openssl x509 -in "$TSA_VAR/pki/ca.pem" -noout -subject)" || bad "chain: the root is not in the token"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    # certReq false: none, whatever the filter says.
    pf_granted "$d" -sha256 -tspolicy "$PF_OID"
    n=$(ncerts "$d")
    (( n == 0 )) || bad "chain without certReq: $n certificates in the token, want 0"
}

f_signing_time() {
    local d
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'signing-time={"enabled": true}'
    check() {
        pf_granted "$d" -sha256 -cert -tspolicy "$PF_OID"
        pf_token "$d"
        grep -q ':signingTime$' "$d/token.asn1" || bad "signing-time on: no signingTime attribute"
    }
    eventually check
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'signing-time={"enabled": false}'
    check() {
        pf_granted "$d" -sha256 -cert -tspolicy "$PF_OID"
        pf_token "$d"
        ! grep -q ':signingTime$' "$d/token.asn1" || bad "signing-time off: a signingTime attribute"
    }
    eventually check
}

f_status_text() {
    local d
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'status-text={"enabled": false}'
    check() {
        pf_refused "$d" "$FI_BAD_ALG" -sha1 -tspolicy "$PF_OID"
        [[ $(pf_field "$d" 'Status description') == unspecified ]] ||
            bad "status-text off: 'Status description: $(pf_field "$d" 'Status description')'"
    }
    eventually check
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'status-text={"enabled": true}'
    check() {
        pf_refused "$d" "$FI_BAD_ALG" -sha1 -tspolicy "$PF_OID"
        [[ $(pf_field "$d" 'Status description') != unspecified ]] || bad "status-text on: no status description"
    }
    eventually check
    # Never in a granted response.
    pf_granted "$d" -sha256 -tspolicy "$PF_OID"
    [[ $(pf_field "$d" 'Status description') == unspecified ]] ||
        bad "a granted response with 'Status description: $(pf_field "$d" 'Status description')'"
}

f_serial() {
    local d s
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'serial={"bytes": 8}'
    check() {
        pf_granted "$d" -sha256 -tspolicy "$PF_OID"
        s=$(pf_field "$d" 'Serial number')
        [[ $s =~ ^0x[0-9A-F]{16}$ ]] || bad "serial bytes 8: serial '$s', want 16 hex digits"
    }
    eventually check
    s=$(pf_field "$d" 'Serial number')
    s=$(tsactl token show "$s" 2>&1) || bad "tsactl token show of an 8-octet serial: $(oneline <<<"$s")"
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'serial={"bytes": 20}'
    check() {
        pf_granted "$d" -sha256 -tspolicy "$PF_OID"
        s=$(pf_field "$d" 'Serial number')
        [[ $s =~ ^0x[0-9A-F]{40}$ ]] || bad "serial bytes 20: serial '$s', want 40 hex digits"
    }
    eventually check
}

f_qualified() {
    local d
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'qualified={"enabled": true}'
    check() {
        pf_granted "$d" -sha256 -cert -tspolicy "$PF_OID"
        grep -q '^qcStatements' "$d/text" || bad "qualified on: no qcStatements extension in the TSTInfo"
    }
    eventually check
    # Extension { id-pe-qcStatements, OCTET STRING { SEQUENCE { QCStatement { esi4-qtstStatement-1 } } } }
    pf_token "$d"
    grep -q ':qcStatements$' "$d/tstinfo.asn1" || bad "no id-pe-qcStatements (1.3.6.1.5.5.7.1.3) in the TSTInfo"
    grep -A1 ':qcStatements$' "$d/tstinfo.asn1" | grep -qi '300B30090607040081975E0101' ||
        bad "the qcStatements extension does not hold esi4-qtstStatement-1 alone: $(grep -A1 ':qcStatements$' "$d/tstinfo.asn1" | oneline)"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'qualified={"enabled": false}'
    check() {
        pf_granted "$d" -sha256 -cert -tspolicy "$PF_OID"
        pf_token "$d"
        ! grep -q ':qcStatements$' "$d/tstinfo.asn1" || bad "qualified off: a qcStatements extension"
    }
    eventually check
}

# archived DIR: "TOKEN_NULL|REQUEST_HEX" of the issued_tokens row of DIR's token (by imprint).
archived() {
    tsa_psql -c "SELECT (token IS NULL)::text || '|' || coalesce(encode(request, 'hex'), '')
        FROM issued_tokens WHERE imprint = decode('$(digest sha256 "$1/data")', 'hex')"
}

f_archive() {
    local d row
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'archive={"store": "index"}'
    check() {
        pf_granted "$d" -sha256 -tspolicy "$PF_OID"
        row=$(archived "$d")
        [[ $row == 'true|' ]] || bad "store index: row '${row:0:60}', want no token, no request"
    }
    eventually check
    tsactl token show "$(pf_field "$d" 'Serial number')" >/dev/null 2>&1 ||
        bad "tsactl token show fails on an index-only row"
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'archive={"store": "request"}'
    check() {
        pf_granted "$d" -sha256 -tspolicy "$PF_OID"
        row=$(archived "$d")
        [[ ${row%%|*} == false && ${row#*|} == "$(hex_of "$d/q.tsq")" ]] ||
            bad "store request: row '${row:0:60}...', want the token and the request sent"
    }
    eventually check
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'archive={"store": "token"}'
    check() {
        pf_granted "$d" -sha256 -tspolicy "$PF_OID"
        row=$(archived "$d")
        [[ $row == 'false|' ]] || bad "store token: row '${row:0:60}', want the token alone"
    }
    eventually check
}

f_ip_allow() {
    local d since ev
    d=$(casedir)
    trap 'pf_drop t-filters' EXIT
    # 127.0.0.2/31 is 127.0.0.2 and .3: the prefix is honoured, not just the network.
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'ip-allow={"allow": ["10.0.0.0/8", "127.0.0.2/31", "::1/128"]}'
    since=$(pf_last_event)
    check() {
        pf_query "$d" -sha256 -tspolicy "$PF_OID"
        pf_send "$d"
        [[ $(<"$d/http") == 403 ]] || bad "127.0.0.1 not allowed: HTTP $(<"$d/http"), want 403"
    }
    eventually check
    [[ $(<"$d/ctype") == text/plain* ]] || bad "the 403 is '$(<"$d/ctype")', want text/plain"
    ev=$(pf_events "$since" client-refused)
    [[ $ev == *'127.0.0.1|'*ip-allow* ]] || bad "no client-refused event for 127.0.0.1: $(oneline <<<"$ev")"
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'ip-allow={"allow": ["192.0.2.0/24", "127.0.0.0/31"]}'
    eventually pf_granted "$d" -sha256 -tspolicy "$PF_OID"
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'ip-allow={"allow": ["127.0.0.1"]}'
    eventually pf_granted "$d" -sha256 -tspolicy "$PF_OID"
    # nginx listens on 127.0.0.1 only (deploy/stack/nginx.conf.in): ::1 cannot be reached,
    # so IPv6 is left to the unit tests.
}

f_client_auth_cleanup() {
    pf_drop t-filters
    tsa_psql -c "DELETE FROM clients WHERE name = 't-filters-client'" >/dev/null
}

# A client certificate over plain HTTP: the web server verified nothing, so client-auth
# refuses, whatever headers the client sends (they reach the worker as HTTP_* params, never
# as SSL_CLIENT_*).  Mutual TLS through nginx comes with a later issue.
f_client_auth() {
    local d since ev fp pem code
    d=$(casedir)
    trap f_client_auth_cleanup EXIT
    fp=$(openssl x509 -in "$TSA_VAR/pki/client.pem" -noout -fingerprint -sha256 | sed 's/^.*=//; s/://g')
    tsa_psql -c "INSERT INTO clients (service_id, name, subject, fingerprint_sha256, issuer_der, serial, certificate)
        SELECT id, 't-filters-client', 'CN=TSA demo client', decode('$fp', 'hex'), '\\x00', '\\x01',
               \$c\$$(<"$TSA_VAR/pki/client.pem")\$c\$ FROM services WHERE name = 'tsa'" >/dev/null ||
        bad "cannot register the demo client certificate"
    pf_chain t-filters -1 "$PF_OID" "$PF_OID" 'client-auth={}'
    since=$(pf_last_event)
    check() {
        pf_query "$d" -sha256 -tspolicy "$PF_OID"
        pf_send "$d"
        [[ $(<"$d/http") == 403 ]] || bad "no client certificate: HTTP $(<"$d/http"), want 403"
    }
    eventually check
    ev=$(pf_events "$since" client-refused)
    [[ $ev == *'127.0.0.1|'*client-auth* ]] || bad "no client-refused event: $(oneline <<<"$ev")"
    # Forged headers, the registered certificate URL-escaped as nginx would pass it.
    pem=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(open(sys.argv[1]).read()))' "$TSA_VAR/pki/client.pem")
    code=$(curl -sS --max-time 30 -o "$d/r.tsr" -w '%{http_code}' -H 'Content-Type: application/timestamp-query' \
        -H 'SSL-Client-Verify: SUCCESS' -H "SSL-Client-Cert: $pem" -H 'SSL_CLIENT_VERIFY: SUCCESS' \
        --data-binary @"$d/q.tsq" "http://127.0.0.1:$TSA_HTTP_PORT/tsa") || bad "curl failed"
    [[ $code == 403 ]] || bad "forged SSL-Client-* headers: HTTP $code, want 403"
}

cases_filters() {
    run_case "filters/hash-algorithms" f_hash_algorithms
    run_case "filters/policy-oid" f_policy_oid
    run_case "filters/extensions" f_extensions
    run_case "filters/accuracy" f_accuracy
    run_case "filters/ordering" f_ordering
    run_case "filters/tsa-name" f_tsa_name
    run_case "filters/tsa-name-foreign-dn" f_tsa_name_foreign
    run_case "filters/cert-id" f_cert_id
    run_case "filters/cert-chain" f_cert_chain
    run_case "filters/signing-time" f_signing_time
    run_case "filters/status-text" f_status_text
    run_case "filters/serial" f_serial
    run_case "filters/qualified" f_qualified
    run_case "filters/archive" f_archive
    run_case "filters/ip-allow" f_ip_allow
    run_case "filters/client-auth" f_client_auth
}
