#!/usr/bin/env bash
# Writes the seed corpus of the rfc3161 fuzz target into tests/fuzz/corpus/rfc3161/ (or DIR):
# real requests from `openssl ts -query` for every digest the TSA knows, with and without
# nonce, certReq and reqPolicy, and hand-made DER for the edges RFC 3161 and X.690 draw:
# extensions (critical or not, too many), versions, nonces (long, negative, zero), unknown or
# overlong OIDs, digest parameters (NULL, absent, other), imprint lengths, BER forms DER
# forbids (non-minimal lengths and integers, indefinite length, explicit DEFAULT values,
# constructed strings), trailing bytes and truncation.
#
#   tests/fuzz/seeds-rfc3161.sh [DIR]
#
# openssl's requests carry random nonces, so a rerun rewrites those files with other bytes;
# commit a rerun only to add seeds.  Every file is small (under 300 bytes but for the
# nesting and overlong cases).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-$HERE/corpus/rfc3161}
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ---- DER by hand (hex) ------------------------------------------------------------------------
der_len() {
    local n=$1
    if (( n < 128 )); then printf '%02x' "$n"
    elif (( n < 256 )); then printf '81%02x' "$n"
    else printf '82%04x' "$n"
    fi
}
der() { printf '%s%s%s' "$1" "$(der_len $((${#2} / 2)))" "$2"; }
seq_() { der 30 "$(printf '%s' "$@")"; }
hexrep() { local i s=; for ((i = 0; i < $2; i++)); do s+=$1; done; printf '%s' "$s"; }
put() {
    local name=$1 hex=$2 esc
    # shellcheck disable=SC2001
    esc=$(sed 's/../\\x&/g' <<<"$hex")
    # shellcheck disable=SC2059
    printf "$esc" >"$OUT/$name"
}

# OIDs, encoded.
SHA1=06052b0e03021a
SHA256=0609608648016503040201
SHA384=0609608648016503040202
SHA512=0609608648016503040203
MD5=06082a864886f70d0205
POLICY=060a2b0601040181fd590101          # 1.3.6.1.4.1.32473.1.1 (the demo policy)
NULLP=0500
V1=020101
TRUE=0101ff
FALSE=010100

imprint() { der 04 "$(hexrep ab "$1")"; }
alg() { seq_ "$@"; }
mi() { seq_ "$(alg "$1" "${3-}")" "$(imprint "$2")"; }
ext() { seq_ "$(der 06 "$1")" "${3-}" "$(der 04 "$2")"; }   # extnID, extnValue, [critical]

# ---- real requests ----------------------------------------------------------------------------
printf 'a document to time-stamp\n' >"$WORK/data.txt"
for h in sha1 sha224 sha256 sha384 sha512 sha3-256 sha3-384 sha3-512; do
    openssl ts -query -data "$WORK/data.txt" "-$h" -out "$OUT/openssl-$h-nonce.tsq" 2>/dev/null
    openssl ts -query -data "$WORK/data.txt" "-$h" -cert -out "$OUT/openssl-$h-nonce-cert.tsq" 2>/dev/null
    openssl ts -query -data "$WORK/data.txt" "-$h" -no_nonce -out "$OUT/openssl-$h-plain.tsq" 2>/dev/null
done
openssl ts -query -data "$WORK/data.txt" -sha256 -cert -tspolicy 1.3.6.1.4.1.32473.1.1 \
    -out "$OUT/openssl-sha256-nonce-cert-policy.tsq" 2>/dev/null
openssl ts -query -data "$WORK/data.txt" -sha512 -no_nonce -tspolicy 1.2.3.4.5 \
    -out "$OUT/openssl-sha512-policy.tsq" 2>/dev/null

# ---- hand-made ----------------------------------------------------------------------------------
NONCE=02083a5c7e9d01234567
put good-sha256-null-params "$(seq_ $V1 "$(mi $SHA256 32 $NULLP)" $NONCE $TRUE)"
put good-sha256-absent-params "$(seq_ $V1 "$(mi $SHA256 32)" $NONCE)"
put good-sha1-policy "$(seq_ $V1 "$(mi $SHA1 20 $NULLP)" $POLICY $NONCE $TRUE)"
put params-octet-string "$(seq_ $V1 "$(mi $SHA256 32 0400)")"
put params-sequence "$(seq_ $V1 "$(mi $SHA256 32 3000)")"
put params-two-nulls "$(seq_ $V1 "$(seq_ "$(seq_ $SHA256 $NULLP $NULLP)" "$(imprint 32)")")"

# Extensions ([0] IMPLICIT SEQUENCE OF Extension).
E1=$(ext 2a0304 0500)
E2=$(ext 2b0601040182371503 0101ff "$TRUE")
put ext-noncritical "$(seq_ $V1 "$(mi $SHA256 32)" $NONCE $TRUE "$(der a0 "$E1")")"
put ext-critical "$(seq_ $V1 "$(mi $SHA256 32)" $NONCE "$(der a0 "$E2")")"
put ext-both "$(seq_ $V1 "$(mi $SHA256 32)" "$(der a0 "$E1$E2")")"
put ext-critical-false-explicit "$(seq_ $V1 "$(mi $SHA256 32)" "$(der a0 "$(ext 2a0304 0500 "$FALSE")")")"
put ext-empty-sequence "$(seq_ $V1 "$(mi $SHA256 32)" a000)"
put ext-8 "$(seq_ $V1 "$(mi $SHA256 32)" "$(der a0 "$(hexrep "$E1" 8)")")"
put ext-9 "$(seq_ $V1 "$(mi $SHA256 32)" "$(der a0 "$(hexrep "$E1" 9)")")"
put ext-explicit-tag "$(seq_ $V1 "$(mi $SHA256 32)" "$(der a0 "$(seq_ "$E1")")")"
put ext-no-value "$(seq_ $V1 "$(mi $SHA256 32)" "$(der a0 "$(seq_ "$(der 06 2a0304)")")")"

# Versions.
put version-2 "$(seq_ 020102 "$(mi $SHA256 32)" $NONCE)"
put version-0 "$(seq_ 020100 "$(mi $SHA256 32)")"
put version-negative "$(seq_ 0201ff "$(mi $SHA256 32)")"
put version-nonminimal "$(seq_ 02020001 "$(mi $SHA256 32)")"
put version-huge "$(seq_ "$(der 02 "01$(hexrep 00 80)")" "$(mi $SHA256 32)")"
put version-missing "$(seq_ "$(mi $SHA256 32)" $NONCE)"

# Nonces.
put nonce-32 "$(seq_ $V1 "$(mi $SHA256 32)" "$(der 02 "7f$(hexrep 11 31)")")"
put nonce-33 "$(seq_ $V1 "$(mi $SHA256 32)" "$(der 02 "7f$(hexrep 11 32)")")"
put nonce-long-200 "$(seq_ $V1 "$(mi $SHA256 32)" "$(der 02 "7f$(hexrep 22 199)")")"
put nonce-zero "$(seq_ $V1 "$(mi $SHA256 32)" 020100)"
put nonce-negative "$(seq_ $V1 "$(mi $SHA256 32)" 0202ff01)"
put nonce-nonminimal "$(seq_ $V1 "$(mi $SHA256 32)" 0203000102)"
put nonce-empty "$(seq_ $V1 "$(mi $SHA256 32)" 0200)"

# Algorithms and OIDs.
put alg-md5 "$(seq_ $V1 "$(mi $MD5 16 $NULLP)")"
put alg-unknown "$(seq_ $V1 "$(mi 06032a0304 32)")"
put alg-huge-arc "$(seq_ $V1 "$(mi 060b2a8fffffffffffffffff7f 32)")"
put alg-oid-nonminimal "$(seq_ $V1 "$(mi 060a60808648016503040201 32)")"
put alg-oid-truncated "$(seq_ $V1 "$(mi 06036086ff 32)")"
put alg-oid-empty "$(seq_ $V1 "$(mi 0600 32)")"
put alg-missing "$(seq_ $V1 "$(seq_ "$(imprint 32)")")"
put policy-long-oid "$(seq_ $V1 "$(mi $SHA256 32)" "$(der 06 "2a$(hexrep 8101 80)")")"
put policy-arcs-64 "$(seq_ $V1 "$(mi $SHA256 32)" "$(der 06 "2a$(hexrep 7f 63)")")"
put policy-relative-oid "$(seq_ $V1 "$(mi $SHA256 32)" 0d03010203)"
put policy-first-arc-2-999 "$(seq_ $V1 "$(mi $SHA256 32)" 06038837 01)"

# Imprint lengths.
put imprint-31-sha256 "$(seq_ $V1 "$(mi $SHA256 31)")"
put imprint-33-sha256 "$(seq_ $V1 "$(mi $SHA256 33)")"
put imprint-0 "$(seq_ $V1 "$(mi $SHA256 0)")"
put imprint-64-sha384 "$(seq_ $V1 "$(mi $SHA384 64)")"
put imprint-65-sha512 "$(seq_ $V1 "$(mi $SHA512 65)")"
put imprint-constructed "$(seq_ $V1 "$(seq_ "$(alg $SHA256)" "$(der 24 "$(imprint 16)$(imprint 16)")")")"
put imprint-bitstring "$(seq_ $V1 "$(seq_ "$(alg $SHA256)" "$(der 03 "00$(hexrep ab 32)")")")"

# certReq.
put certreq-false-explicit "$(seq_ $V1 "$(mi $SHA256 32)" $FALSE)"
put certreq-ber-true "$(seq_ $V1 "$(mi $SHA256 32)" 010101)"
put certreq-twice "$(seq_ $V1 "$(mi $SHA256 32)" $TRUE $TRUE)"

# Order and duplicates.
put order-nonce-before-policy "$(seq_ $V1 "$(mi $SHA256 32)" $NONCE $POLICY)"
put order-certreq-before-nonce "$(seq_ $V1 "$(mi $SHA256 32)" $TRUE $NONCE)"
put duplicate-nonce "$(seq_ $V1 "$(mi $SHA256 32)" $NONCE $NONCE)"

# BER that DER forbids, and broken framing.
GOOD=$(seq_ $V1 "$(mi $SHA256 32)" $NONCE $TRUE)
BODY=${GOOD:4}
put len-long-form-short "3081$(printf '%02x' $((${#BODY} / 2)))$BODY"
put len-leading-zero "308200$(printf '%02x' $((${#BODY} / 2)))$BODY"
put len-indefinite "3080${BODY}0000"
put len-too-long "30$(printf '%02x' $((${#BODY} / 2 + 1)))$BODY"
put len-too-short "30$(printf '%02x' $((${#BODY} / 2 - 1)))$BODY"
put len-5-octets "3085000000$(printf '%04x' $((${#BODY} / 2)))$BODY"
put trailing-byte "${GOOD}00"
put trailing-request "$GOOD$GOOD"
put truncated "${GOOD:0:$(( ${#GOOD} - 10 ))}"
put set-not-sequence "31${GOOD:2}"
put primitive-sequence "10${GOOD:2}"
put high-tag-form "3f10${GOOD:2}"
put eoc-inside "$(seq_ $V1 "$(mi $SHA256 32)" 0000)"
put nesting-deep "$(x=0500; for ((i = 0; i < 40; i++)); do x=$(seq_ "$x"); done; printf '%s' "$x")"
put nesting-17-in-imprint "$(x=0500; for ((i = 0; i < 17; i++)); do x=$(seq_ "$x"); done; seq_ $V1 "$(mi $SHA256 32 "$x")")"
put nesting-25-in-imprint "$(x=0500; for ((i = 0; i < 25; i++)); do x=$(seq_ "$x"); done; seq_ $V1 "$(mi $SHA256 32 "$x")")"
put not-a-sequence "$(imprint 32)"
put one-byte 30
put empty-sequence 3000
: >"$OUT/empty"
put utf8-text "$(printf 'POST /tsa HTTP/1.1' | od -An -v -tx1 | tr -d ' \n')"

n=$(find "$OUT" -maxdepth 1 -type f ! -name '.*' | wc -l)
printf 'seeds-rfc3161: %s files in %s\n' "$n" "$OUT"
