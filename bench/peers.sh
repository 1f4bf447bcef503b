#!/usr/bin/env bash
# bench/peers.sh: securechatd against two C IRC servers, ngIRCd and InspIRCd (Debian's packages), in one run on one
# machine and with one load tool (chatbench, `--proto irc` for the peers): fan-out, heavy load, light load, idle
# memory and handshakes, plaintext and TLS. Prints one table: every figure of every server, with its ratio against
# the best peer (issue 27).
#
#   bench/peers.sh [--quick] [--rounds N] [--keep DIR] [--scenarios fanout,heavy,light,idle,handshakes]
#
# Installs nothing. A peer that is not installed is skipped, with the line that installs it:
#   apt-get install ngircd inspircd     (Debian 12: ngIRCd 26.1, InspIRCd 3.15; both with GnuTLS)
# Uses .build/release/securechatd and .build/release/chatbench, so build first:
#   swift build -c release --product securechatd && swift build -c release --product chatbench
# Each run gets a fresh server, started with a configuration from bench/peers/ (loopback only; flood limits off for
# the benchmark's clients, as bench/run.sh does for securechatd) and one throwaway certificate (certs/generate.sh
# into the work folder, ECDSA P-256) that all three servers present. Server pinned to CPU 0, load to CPU 1. With
# --rounds N every figure is the median of N runs, the servers taking turns within each round. --keep DIR keeps
# the raw results (results.txt: "SERVER KIND JSON" per run) for bench/plot-peers.sh. --scenarios runs only those
# named (default: all five). Every server this script
# starts, it stops (trap), including on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=1
QUICK=0
KEEP=""
SCENARIOS="fanout heavy light idle handshakes"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1; shift ;;
        --rounds) [ $# -ge 2 ] || { echo "--rounds needs a number" >&2; exit 2; }; ROUNDS=$2; shift 2 ;;
        --keep) [ $# -ge 2 ] || { echo "--keep needs a folder" >&2; exit 2; }; KEEP=$2; shift 2 ;;
        --scenarios) [ $# -ge 2 ] || { echo "--scenarios needs a list" >&2; exit 2; }; SCENARIOS=${2//,/ }; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "--rounds must be a positive number" >&2; exit 2; }
for kind in $SCENARIOS; do
    case "$kind" in
        fanout|heavy|light|idle|handshakes) ;;
        *) echo "unknown scenario: $kind (fanout, heavy, light, idle, handshakes)" >&2; exit 2 ;;
    esac
done

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
# shellcheck source=peers/servers.sh
. bench/peers/servers.sh
trap 'stop_server' EXIT
trap 'stop_server; exit 130' INT TERM

log() { printf '== %s\n' "$*" >&2; }

# --- limits, CPUs, certificate ------------------------------------------------------------------------------
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# InspIRCd 3.15 (Debian) sometimes crashes on its way out after SIGTERM; no core files in the work tree.
ulimit -c 0
SERVER_PIN=()
LOAD_PIN=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then SERVER_PIN=(taskset -c 0); LOAD_PIN=(taskset -c 1); fi

prepare_work

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
    # 8 logins at a time: ngIRCd's short listen backlog drops the connections of a faster crowd (SYNs retried for
    # seconds, and a connection whose final ACK it dropped is reset before it registers), for all three alike. The
    # load is measured once everyone is in, so it changes no figure but the time to start.
    HEAVY=(latency --clients 500 --senders 50 --rate 20 --duration 15 --bytes 64 --login-concurrency 8)
    LIGHT=(latency --clients 500 --senders 5 --rate 20 --duration 20 --bytes 64 --login-concurrency 8)
    IDLE=(idle --connections 2000 --settle 2 --login-concurrency 8)
    HANDSHAKES=(handshakes --concurrency 32 --duration 5)
fi

for round in $(seq "$ROUNDS"); do
    # The servers take turns in every scenario, so that drift on a shared machine hits each alike.
    for transport in plaintext tls; do
        for kind in $SCENARIOS; do
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
