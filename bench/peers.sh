#!/usr/bin/env bash
# bench/peers.sh: securechatd against two C IRC servers, ngIRCd and InspIRCd (Debian's packages), in one run on one
# machine and with one load tool (chatbench, `--proto irc` for the peers): fan-out, heavy load, light load, idle
# memory and handshakes, plaintext and TLS. Prints one table: every figure of every server, with its ratio against
# the best peer (issue 27).
#
#   bench/peers.sh [--quick] [--rounds N] [--keep DIR]
#
# Installs nothing. A peer that is not installed is skipped, with the line that installs it:
#   apt-get install ngircd inspircd     (Debian 12: ngIRCd 26.1, InspIRCd 3.15; both with GnuTLS)
# Uses .build/release/securechatd and .build/release/chatbench, so build first:
#   swift build -c release --product securechatd && swift build -c release --product chatbench
# Each run gets a fresh server, started with a configuration from bench/peers/ (loopback only; flood limits off for
# the benchmark's clients, as bench/run.sh does for securechatd) and one throwaway certificate (certs/generate.sh
# into the work folder, ECDSA P-256) that all three servers present. Server pinned to CPU 0, load to CPU 1. With
# --rounds N every figure is the median of N runs, the servers taking turns within each round. --keep DIR keeps
# the raw results (results.txt: "SERVER KIND JSON" per run) for bench/plot-peers.sh. Every server this script
# starts, it stops (trap), including on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=1
QUICK=0
KEEP=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1; shift ;;
        --rounds) [ $# -ge 2 ] || { echo "--rounds needs a number" >&2; exit 2; }; ROUNDS=$2; shift 2 ;;
        --keep) [ $# -ge 2 ] || { echo "--keep needs a folder" >&2; exit 2; }; KEEP=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "--rounds must be a positive number" >&2; exit 2; }

BIN=${BIN:-.build/release}
for tool in securechatd chatbench; do
    [ -x "$BIN/$tool" ] || {
        echo "$BIN/$tool is missing: swift build -c release --product $tool" >&2
        exit 2
    }
done
command -v python3 >/dev/null || { echo "python3 is needed for the table" >&2; exit 2; }

WORK=$(mktemp -d /tmp/peers.XXXXXX)
RESULTS="$WORK/results.txt"
: >"$RESULTS"
SERVER_PID=""
# shellcheck source=server-control.sh
. bench/server-control.sh  # the working directory is the repository root (see the cd above)
trap 'stop_server' EXIT
trap 'stop_server; exit 130' INT TERM

log() { printf '== %s\n' "$*" >&2; }

# --- peers: Debian's packages, where installed ---------------------------------------------------------------
# sbin may not be on a user's PATH.
find_daemon() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || true; }
NGIRCD=$(find_daemon ngircd)
INSPIRCD=$(find_daemon inspircd)
SERVERS=(securechatd)
if [ -n "$NGIRCD" ]; then SERVERS+=(ngircd); else log "ngIRCd is not installed: skipped (apt-get install ngircd inspircd)"; fi
if [ -n "$INSPIRCD" ]; then SERVERS+=(inspircd); else log "InspIRCd is not installed: skipped (apt-get install ngircd inspircd)"; fi

# --- limits, CPUs, certificate ------------------------------------------------------------------------------
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# InspIRCd 3.15 (Debian) sometimes crashes on its way out after SIGTERM; no core files in the work tree.
ulimit -c 0
SERVER_PIN=()
LOAD_PIN=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then SERVER_PIN=(taskset -c 0); LOAD_PIN=(taskset -c 1); fi

sh certs/generate.sh "$WORK/pki" >/dev/null
# Diffie-Hellman parameters for the peers' finite-field suites: the RFC 7919 group, so that ngIRCd does not spend
# its start-up generating some (TLS 1.3 with ECDHE, which every run here negotiates, does not use them).
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$WORK/dh.pem" 2>/dev/null
mkdir -p "$WORK/ngircd.conf.d"

PORT_BASE=${PORT_BASE:-29400}
plain_port() { case "$1" in securechatd) echo "$PORT_BASE" ;; ngircd) echo $((PORT_BASE + 10)) ;; *) echo $((PORT_BASE + 20)) ;; esac; }
tls_port() { echo $(($(plain_port "$1") + 1)); }
protocol() { [ "$1" = securechatd ] && echo line || echo irc; }

# The configuration of a peer: the template from bench/peers/ with this run's folder, ports and certificate.
configure() {
    sed -e "s|@WORK@|$WORK|g" -e "s|@PORT@|$(plain_port "$1")|g" -e "s|@TLS_PORT@|$(tls_port "$1")|g" \
        -e "s|@CERT@|$WORK/pki/server.crt|g" -e "s|@KEY@|$WORK/pki/server.key|g" -e "s|@DH@|$WORK/dh.pem|g" \
        "bench/peers/$1.conf" >"$WORK/$1.conf"
}

SECURECHATD_ARGS=(--host 127.0.0.1 --port "$(plain_port securechatd)" --tls-port "$(tls_port securechatd)"
    --cert "$WORK/pki/server.crt" --key "$WORK/pki/server.key" --history 0 --log-level warning
    --rate 0 --connect-rate 0 --tls-handshake-rate 0 --address-rate 0 --address-byte-rate 0
    --max-per-address 200000)

start_server() {
    stop_server
    case "$1" in
        securechatd)
            "${SERVER_PIN[@]}" "$BIN/securechatd" "${SECURECHATD_ARGS[@]}" >"$WORK/$1.out" 2>>"$WORK/$1.err" & ;;
        ngircd)
            configure ngircd
            "${SERVER_PIN[@]}" "$NGIRCD" --nodaemon --config "$WORK/ngircd.conf" >"$WORK/$1.out" 2>>"$WORK/$1.err" & ;;
        inspircd)
            configure inspircd
            # --runasroot: InspIRCd refuses root otherwise; the benchmark runs as whoever runs it.
            "${SERVER_PIN[@]}" "$INSPIRCD" --config="$WORK/inspircd.conf" --nofork --nopid --runasroot \
                >"$WORK/$1.out" 2>>"$WORK/$1.err" & ;;
    esac
    SERVER_PID=$!
    wait_for_port "$(plain_port "$1")" "$WORK/$1.err"
    wait_for_port "$(tls_port "$1")" "$WORK/$1.err"
}

# run SERVER KIND TRANSPORT CHATBENCH-ARGS...: one chatbench run against a fresh server; keeps its JSON line.
run() {
    local server=$1 kind=$2 transport=$3
    shift 3
    local tls_args=()
    [ "$transport" = tls ] && tls_args=(--tls --ca "$WORK/pki/ca.crt")
    start_server "$server"
    log "$server $kind $transport: chatbench $*"
    if "${LOAD_PIN[@]}" "$BIN/chatbench" "$@" --proto "$(protocol "$server")" --host 127.0.0.1 \
        --port "$(plain_port "$server")" --tls-port "$(tls_port "$server")" --server-pid "$SERVER_PID" \
        "${tls_args[@]}" --quiet >"$WORK/last.out" 2>&1; then
        printf '%s %s %s\n' "$server" "$kind" "$(tail -n 1 "$WORK/last.out")" >>"$RESULTS"
    else
        log "FAILED: $server $kind $transport"
        tail -n 20 "$WORK/last.out" >&2
    fi
    stop_server
}

if [ "$QUICK" = 1 ]; then
    FANOUT=(fanout --clients 50 --senders 5 --messages 200 --bytes 64)
    HEAVY=(latency --clients 100 --senders 10 --rate 20 --duration 3 --bytes 64)
    LIGHT=(latency --clients 100 --senders 5 --rate 20 --duration 3 --bytes 64)
    IDLE=(idle --connections 300 --settle 1 --login-concurrency 8)
    HANDSHAKES=(handshakes --concurrency 16 --duration 2)
else
    FANOUT=(fanout --clients 200 --senders 10 --messages 1000 --bytes 64)
    HEAVY=(latency --clients 500 --senders 50 --rate 20 --duration 15 --bytes 64)
    LIGHT=(latency --clients 500 --senders 5 --rate 20 --duration 20 --bytes 64)
    # 8 logins at a time: ngIRCd's short listen backlog drops the connections of a faster crowd (SYNs retried for
    # seconds, and a connection whose final ACK it dropped is reset before it registers), for all three alike.
    IDLE=(idle --connections 2000 --settle 2 --login-concurrency 8)
    HANDSHAKES=(handshakes --concurrency 32 --duration 5)
fi

for round in $(seq "$ROUNDS"); do
    # The servers take turns in every scenario, so that drift on a shared machine hits each alike.
    for transport in plaintext tls; do
        for kind in fanout heavy light idle handshakes; do
            for server in "${SERVERS[@]}"; do
                case "$kind" in
                    fanout) run "$server" "$kind" "$transport" "${FANOUT[@]}" ;;
                    heavy) run "$server" "$kind" "$transport" "${HEAVY[@]}" ;;
                    light) run "$server" "$kind" "$transport" "${LIGHT[@]}" ;;
                    idle) run "$server" "$kind" "$transport" "${IDLE[@]}" ;;
                    handshakes) run "$server" "$kind" "$transport" "${HANDSHAKES[@]}" ;;
                esac
            done
        done
    done
    log "round $round of $ROUNDS done"
done

if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP"
    cp "$RESULTS" "$KEEP/results.txt"
    log "kept $KEEP/results.txt"
fi

# --- the table ----------------------------------------------------------------------------------------------
VERSIONS="securechatd $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
[ -n "$NGIRCD" ] && VERSIONS+=", $("$NGIRCD" --version 2>/dev/null | head -n 1 | cut -d- -f1)"
[ -n "$INSPIRCD" ] && VERSIONS+=", $("$INSPIRCD" --version 2>/dev/null | head -n 1)"
echo
echo "bench/peers.sh$([ "$QUICK" = 1 ] && echo ' --quick') --rounds $ROUNDS, $(date -u +%Y-%m-%dT%H:%MZ): $VERSIONS"
echo "server ${SERVER_PIN[*]:-unpinned}, chatbench ${LOAD_PIN[*]:-unpinned}; $(nproc) CPUs, $(uname -sr)"
echo
python3 bench/peers/table.py "$RESULTS"
log "raw results: $RESULTS"
