#!/usr/bin/env bash
# Sets up a SoftHSM2 token for the time-stamping authority: initialises the token, generates
# the TSA's signing key on it (CKA_SENSITIVE, never extractable: the private key never leaves
# the token), registers the SoftHSM2 module with p11-kit, gives the token directory to the
# signing process's user, and prints the PKCS#11 URI and the next steps with tsactl.
# Idempotent: an existing token or key of that label is kept.
#
#   deploy/softhsm/setup.sh [--token LABEL] [--key LABEL] [--type rsa2048|rsa3072|p256|p384]
#                           [--pin-file FILE] [--p11kit-dir DIR] [--owner USER]
#
#   --token      the token label (default tsa)
#   --key        the key label (default tsa-key)
#   --type       the key type (default rsa3072)
#   --pin-file   where the user PIN is kept (default /etc/tsa/pin); made (random, 0600) when
#                missing, read when present.  The source of systemd's LoadCredential=pin:
#                (deploy/systemd/tsa-signer.service), so it stays root's: only tsa-signer gets a
#                copy.  Without systemd tsa-signer reads it itself (tsa.conf's pin_file): then
#                chown it to tsa-signer (it stays 0600; the workers never read it).
#   --p11kit-dir the p11-kit module directory to register in (default /etc/pkcs11/modules);
#                nothing is written when a module file there or in the system's directory
#                already names the SoftHSM2 module.
#   --owner      the user of the signing process (default tsa-signer, tsa.sysusers.conf): run
#                as root, the token directory (SoftHSM2's directories.tokendir) and everything
#                in it become that user's, since SoftHSM2 makes a token's files 0700/0600 for
#                whoever made them, and the signer is the only process that opens the token
#                (the workers' user tsa cannot).  Skipped with a warning while the user does not
#                exist; --owner '' skips it.
# SOFTHSM2_CONF selects SoftHSM2's configuration (its token directory) as usual.  The security
# officer PIN is random and printed once on standard error: keep it offline (it re-initialises
# the user PIN).  A real HSM: skip this script; its vendor's tools make the key, with the same
# attributes, and the URI goes to tsactl the same way.
set -euo pipefail

TOKEN=tsa
KEY=tsa-key
TYPE=rsa3072
PIN_FILE=/etc/tsa/pin
P11KIT_DIR=/etc/pkcs11/modules
OWNER=tsa-signer

die() { echo "softhsm/setup.sh: $*" >&2; exit 1; }

while (($#)); do
    case $1 in
        --token) TOKEN=${2:?}; shift 2 ;;
        --key) KEY=${2:?}; shift 2 ;;
        --type) TYPE=${2:?}; shift 2 ;;
        --pin-file) PIN_FILE=${2:?}; shift 2 ;;
        --p11kit-dir) P11KIT_DIR=${2:?}; shift 2 ;;
        --owner) OWNER=${2?}; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ $TOKEN =~ ^[A-Za-z0-9._-]{1,32}$ ]] || die "--token: 1 to 32 of A-Z a-z 0-9 . _ -"
[[ $KEY =~ ^[A-Za-z0-9._-]{1,64}$ ]] || die "--key: 1 to 64 of A-Z a-z 0-9 . _ -"
case $TYPE in
    rsa2048) GEN=(--generate-privkey=rsa --bits=2048) ;;
    rsa3072) GEN=(--generate-privkey=rsa --bits=3072) ;;
    p256) GEN=(--generate-privkey=ecdsa --curve=secp256r1) ;;
    p384) GEN=(--generate-privkey=ecdsa --curve=secp384r1) ;;
    *) die "--type must be rsa2048, rsa3072, p256 or p384" ;;
esac
for c in softhsm2-util p11tool od; do
    command -v "$c" >/dev/null 2>&1 || die "$c is missing (deploy/deps.sh installs softhsm2 and gnutls-bin)"
done

MODULE=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
    [[ -e $m ]] && { MODULE=$m; break; }
done
[[ -n $MODULE ]] || die "libsofthsm2.so not found (package softhsm2)"

randhex() { od -An -N"$1" -v -tx1 /dev/urandom | tr -d ' \n'; }

# ---- the user PIN ------------------------------------------------------------------------------
if [[ ! -s $PIN_FILE ]]; then
    mkdir -p "$(dirname "$PIN_FILE")"
    (umask 077; printf '%s\n' "$(randhex 16)" >"$PIN_FILE")
    echo "PIN written to $PIN_FILE (mode 0600)" >&2
fi
PIN=$(head -n1 "$PIN_FILE" | tr -d '\r\n')
[[ -n $PIN ]] || die "$PIN_FILE holds no PIN"

# ---- the token -----------------------------------------------------------------------------------
if softhsm2-util --show-slots 2>/dev/null | awk -v t="$TOKEN" '$1 == "Label:" && $2 == t { f = 1 } END { exit !f }'; then
    echo "token '$TOKEN' exists: kept" >&2
else
    SO_PIN=$(randhex 16)
    softhsm2-util --init-token --free --label "$TOKEN" --so-pin "$SO_PIN" --pin "$PIN" >/dev/null ||
        die "softhsm2-util --init-token failed (is the token directory of ${SOFTHSM2_CONF:-/etc/softhsm/softhsm2.conf} writable?)"
    echo "token '$TOKEN' initialised; security officer PIN (keep it offline, it is not stored): $SO_PIN" >&2
fi

p11() { GNUTLS_PIN=$PIN p11tool --provider "$MODULE" "$@"; }

# ---- the key -----------------------------------------------------------------------------------
URI="pkcs11:token=$TOKEN;object=$KEY;type=private"
if p11 --login --list-privkeys "$URI" 2>/dev/null | grep -q 'type=private'; then
    echo "key '$KEY' exists on '$TOKEN': kept" >&2
else
    # p11tool marks a generated private key CKA_SENSITIVE and not CKA_EXTRACTABLE (so the
    # token sets CKA_NEVER_EXTRACTABLE); checked below rather than trusted.
    p11 --login "${GEN[@]}" --label "$KEY" "pkcs11:token=$TOKEN" >/dev/null 2>"$PIN_FILE.err" ||
        { cat "$PIN_FILE.err" >&2; rm -f "$PIN_FILE.err"; die "p11tool could not generate the key"; }
    rm -f "$PIN_FILE.err"
    echo "key '$KEY' ($TYPE) generated on '$TOKEN'" >&2
fi
flags=$(p11 --login --list-privkeys "$URI" | sed -n 's/^[[:space:]]*Flags: //p')
[[ $flags == *CKA_SENSITIVE* && $flags == *CKA_NEVER_EXTRACTABLE* && $flags != *" CKA_EXTRACTABLE"* ]] ||
    die "the key's attributes are not sensitive and never extractable: $flags"

# ---- the token directory's owner ---------------------------------------------------------------
# Ownership only: the group and modes SoftHSM2 or the package gave stay as they are.
CONF_FILE=${SOFTHSM2_CONF:-/etc/softhsm/softhsm2.conf}
TOKEN_DIR=$(sed -n 's/^[[:space:]]*directories\.tokendir[[:space:]]*=[[:space:]]*//p' "$CONF_FILE" 2>/dev/null |
    tail -n1 | sed 's/[[:space:]]*$//')
if [[ -z $OWNER ]]; then
    :
elif [[ $(id -u) -ne 0 ]]; then
    echo "not root: the token directory's owner is left as it is (--owner $OWNER needs root)" >&2
elif [[ -z $TOKEN_DIR || ! -d $TOKEN_DIR ]]; then
    die "no token directory found in $CONF_FILE (directories.tokendir)"
elif ! id -u -- "$OWNER" >/dev/null 2>&1; then
    echo "warning: no user '$OWNER' (deploy/systemd/tsa.sysusers.conf): the token directory's owner is left as it is; run systemd-sysusers, then this script again" >&2
else
    chown -R -- "$OWNER" "$TOKEN_DIR"
    echo "token directory $TOKEN_DIR: owned by $OWNER" >&2
fi

# ---- p11-kit -------------------------------------------------------------------------------------
# A module file naming the same library (after symbolic links) already registers it.
registered=
real=$(readlink -f "$MODULE")
for f in /usr/share/p11-kit/modules/*.module "$P11KIT_DIR"/*.module; do
    [[ -f $f ]] || continue
    m=$(sed -n 's/^[[:space:]]*module:[[:space:]]*//p' "$f" | head -n1)
    [[ -n $m ]] || continue
    [[ $m == /* ]] || m=$(dirname "$real")/../$m
    if [[ $(readlink -f "$m" 2>/dev/null) == "$real" ]]; then
        registered=$f
        break
    fi
done
if [[ -n $registered ]]; then
    echo "p11-kit: SoftHSM2 already registered ($registered)" >&2
else
    mkdir -p "$P11KIT_DIR"
    printf '%s\n' "# Written by deploy/softhsm/setup.sh: the SoftHSM2 module for p11-kit." \
        "module: $MODULE" >"$P11KIT_DIR/softhsm2.module"
    echo "p11-kit: registered in $P11KIT_DIR/softhsm2.module" >&2
fi

# ---- what next -----------------------------------------------------------------------------------
cat <<EOF
$URI

The key is on the token.  Next steps:
  1. tsa.conf (read by tsa-signer and tsactl; the workers use neither key):
       pkcs11_module = $MODULE
       pin_file = $PIN_FILE        (with systemd: /run/credentials/tsa-signer.service/pin)
       pkcs11_env = SOFTHSM2_CONF=${SOFTHSM2_CONF:-/etc/softhsm/softhsm2.conf}
  2. A certificate request for this key, for your CA (the TSA certificate needs a critical
     extendedKeyUsage id-kp-timeStamping, RFC 3161 2.3):
       GNUTLS_PIN=... certtool --generate-request --load-privkey '$URI' \\
           --load-pubkey '${URI%type=private}type=public' --outfile tsa.csr
     (or let tsactl make a new key and its CSR: tsactl signer keygen --label LABEL --type TYPE
      --subject DN --csr tsa.csr --token pkcs11:token=$TOKEN)
  3. The signer, once the CA has issued tsa.pem (chain.pem: the CA certificates up to the root):
       tsactl signer add NAME --uri '$URI' --cert tsa.pem --chain chain.pem
     (one of several equivalent servers, each with its own key: add --host THIS_HOST
      --group GROUP, THIS_HOST being tsa.conf's host; README "Units and hosts")
  4. A policy that uses it:
       tsactl policy add SERVICE POLICY --oid OID --signer NAME   (or: policy set ... --signer NAME)
  5. tsactl status     (says whether the key opens and matches the certificate)
EOF
