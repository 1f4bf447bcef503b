#!/usr/bin/env bash
# bench/tls-records/run.sh: OpenSSL 3.0's CPU per small TLS 1.3 record against GnuTLS's, in isolation (issue 27).
# Builds records.c with gcc against the system's OpenSSL and GnuTLS, makes a throwaway ECDSA P-256 certificate
# with certs/generate.sh, prints which TLS 1.3 suite each pairing negotiates, then runs each case RUNS times (a fresh
# process each) pinned to CPU 1 and prints the median ns per record of each. See records.c for what is timed.
#
#   bench/tls-records/run.sh [-n RECORDS] [-r RUNS] [--quick]     (defaults: 2,000,000 records, 5 runs)
#
# Needs gcc, libssl-dev and libgnutls28-dev. This script installs nothing; if a header is missing it says so:
#   sudo apt-get install gcc libssl-dev libgnutls28-dev
# About 2 seconds a run; the default set is 16 cases x 5 runs, about 3 minutes in all.
set -euo pipefail
cd "$(dirname "$0")"

COUNT=2000000
RUNS=5
while [ $# -gt 0 ]; do
    case "$1" in
        -n) COUNT=$2; shift 2 ;;
        -r) RUNS=$2; shift 2 ;;
        --quick) COUNT=200000; RUNS=3; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

missing=()
command -v gcc >/dev/null || missing+=(gcc)
[ -e /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
[ -e /usr/include/gnutls/gnutls.h ] || missing+=(libgnutls28-dev)
if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi

WORK=$(mktemp -d /tmp/tls-records.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
gcc -O2 -Wall -Wextra -o "$WORK/records" records.c -lssl -lcrypto -lgnutls
sh ../../certs/generate.sh "$WORK/certs" >/dev/null 2>&1

PIN=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then PIN=(taskset -c 1); fi

echo "## negotiated TLS 1.3 suites"
"$WORK/records" negotiate "$WORK/certs"
echo
echo "## ns per record (CPU time of the process, median of $RUNS runs of $COUNT records; min-max in brackets)"
printf '%-28s %-26s %-6s %-30s %s\n' library variant op suite "ns/record"

# One case: RUNS processes, the median of their figures.
measure() {
    local line lib variant op suite values=()
    for _ in $(seq "$RUNS"); do
        line=$("${PIN[@]}" "$WORK/records" "$@" -n "$COUNT" "$WORK/certs")
        IFS=$'\t' read -r lib variant op suite value <<<"$line"
        values+=("$value")
    done
    local sorted
    sorted=$(printf '%s\n' "${values[@]}" | sort -n)
    local median min max
    median=$(sed -n "$(((RUNS + 1) / 2))p" <<<"$sorted")
    min=$(head -1 <<<"$sorted")
    max=$(tail -1 <<<"$sorted")
    printf '%-28s %-26s %-6s %-30s %s (%s-%s)\n' "$lib" "$variant" "$op" "$suite" "$median" "$min" "$max"
}

for suite in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384; do
    for op in write read; do
        measure gnutls "$op" -c "$suite"
        measure openssl "$op" -c "$suite"               # securechatd's settings and ByteBufferBIO-like transport
        measure openssl "$op" -c "$suite" -e peek       # the same, error queue cleared only when not empty
    done
done
# What each of securechatd's settings costs (write side, the suite securechatd's clients negotiate).
measure openssl write -c TLS_AES_128_GCM_SHA256 -s keep           # without SSL_MODE_RELEASE_BUFFERS
measure openssl write -c TLS_AES_128_GCM_SHA256 -e none           # no ERR_clear_error at all
measure openssl write -c TLS_AES_128_GCM_SHA256 -s bare           # OpenSSL's defaults
measure openssl write -c TLS_AES_128_GCM_SHA256 -t mem            # BIO_s_mem instead of our BIO
