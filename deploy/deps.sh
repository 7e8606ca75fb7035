#!/usr/bin/env bash
# Installs the Debian (12, bookworm) packages the TSA needs to build, test and run its local
# stack.
#
#   deploy/deps.sh               apt-get update + apt-get install -y (non-interactive)
#   deploy/deps.sh --if-missing  check quickly first; do nothing when everything is there
#
# Not root: uses sudo when available, else prints what to install and fails.
set -euo pipefail

PACKAGES=(
    build-essential pkg-config
    libfcgi-dev
    libgnutls28-dev gnutls-bin
    libtasn1-6-dev libtasn1-bin
    libxml2-dev
    libpq-dev postgresql
    libp11-kit-dev p11-kit p11-kit-modules softhsm2 libfcgi-bin
    check libsubunit-dev
    nginx apache2 lighttpd lighttpd-mod-openssl openssl curl wrk
    clang libclang-rt-14-dev
    xmlsec1 osslsigncode python3-zeep python3-prometheus-client
    procps iproute2 systemd
    nftables    # deploy/nftables (tests/e2e/firewall.sh loads it in namespaces of its own)
    patroni etcd-server etcd-client    # deploy/cluster: PostgreSQL high availability
    chromium fonts-dejavu-core nodejs
)
# The web console's browser test (tests/console/, playwright-core through npm ci) needs npm;
# a Node.js from elsewhere that bundles its own npm conflicts with Debian's npm package.
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

# Commands and pkg-config modules whose presence means "the packages are installed".
COMMANDS=(cc make pkg-config asn1Parser p11tool certtool softhsm2-util nginx apache2 lighttpd wrk curl openssl clang cgi-fcgi p11-kit systemd-analyze nft patroni etcd
          chromium node npm)
PC_MODULES=(fcgi gnutls libtasn1 libxml-2.0 libpq p11-kit-1 check)

missing() {
    local c m=()
    for c in "${COMMANDS[@]}"; do
        command -v "$c" >/dev/null 2>&1 || [[ -x /usr/sbin/$c ]] || m+=("command:$c")
    done
    if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
        m+=("command:initdb")
    fi
    if ! compgen -G '/usr/lib/softhsm/libsofthsm2.so' >/dev/null &&
       ! compgen -G '/usr/lib/*/softhsm/libsofthsm2.so' >/dev/null; then
        m+=("file:libsofthsm2.so")
    fi
    if command -v pkg-config >/dev/null 2>&1; then
        if ! pkg-config --exists "${PC_MODULES[@]}"; then
            for c in "${PC_MODULES[@]}"; do
                pkg-config --exists "$c" || m+=("pkg-config:$c")
            done
        fi
    fi
    # The WSDL-driven SOAP client of the end-to-end tests, in Debian's python3.
    /usr/bin/python3 -c 'import zeep' >/dev/null 2>&1 || m+=("python3-module:zeep")
    # Prometheus' own parser reads /metrics in the end-to-end tests.
    /usr/bin/python3 -c 'import prometheus_client' >/dev/null 2>&1 ||
        m+=("python3-module:prometheus_client")
    printf '%s\n' "${m[@]}"
}

if [[ ${1:-} == --if-missing ]]; then
    what=$(missing)
    if [[ -z $what ]]; then
        exit 0
    fi
    echo "deps.sh: missing: ${what//$'\n'/ }" >&2
elif [[ $# -gt 0 ]]; then
    echo "usage: $0 [--if-missing]" >&2
    exit 2
fi

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo env DEBIAN_FRONTEND=noninteractive)
else
    echo "deps.sh: not root and no sudo; install these packages as root:" >&2
    echo "  apt-get install -y ${PACKAGES[*]}" >&2
    exit 1
fi

echo "deps.sh: installing: ${PACKAGES[*]}" >&2
"${SUDO[@]}" apt-get -q update
"${SUDO[@]}" "${APT[@]}" install --no-install-recommends "${PACKAGES[@]}"

# The Debian postgresql package creates and starts a system cluster (main) on port 5432; the
# local stack runs its own private cluster and does not need it, but it is left alone here.

if [[ ${1:-} == --if-missing ]]; then
    what=$(missing)
    if [[ -n $what ]]; then
        echo "deps.sh: still missing after install: ${what//$'\n'/ }" >&2
        exit 1
    fi
fi
