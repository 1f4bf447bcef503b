#!/usr/bin/env bash
# bench/run.sh: build release, start securechatd (rate limiting off, generous limits, history 0) on one CPU,
# run every chatbench scenario plaintext and TLS from the other CPU, write BENCHMARKS.md.
#
#   bench/run.sh            full run (sizes of issue 6)
#   bench/run.sh --quick    reduced sizes, a few seconds per scenario (while developing)
#   bench/run.sh --heavy    full run plus 50,000 idle connections and one broadcast to all of them
#
# Environment: PORT, TLS_PORT (defaults 29000/29443), SCRATCH_PATH (SwiftPM --scratch-path, default .build),
# OUT (default BENCHMARKS.md), SKIP_BUILD=1 to reuse the last release build.
# Loopback only: the server listens on 127.0.0.1 and every client connects there.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=full
for arg in "$@"; do
    case "$arg" in
        --quick) MODE=quick ;;
        --heavy) MODE=heavy ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

PORT=${PORT:-29000}
TLS_PORT=${TLS_PORT:-29443}
SCRATCH_PATH=${SCRATCH_PATH:-.build}
OUT=${OUT:-BENCHMARKS.md}
WORK=$(mktemp -d /tmp/chatbench.XXXXXX)
RESULTS="$WORK/results.jsonl"
SERVER_PID=""

log() { printf '== %s\n' "$*" >&2; }

# shellcheck source=server-control.sh
. bench/server-control.sh  # the working directory is the repository root (see the cd above)
trap 'stop_server' EXIT
trap 'stop_server; exit 130' INT TERM

# --- build -------------------------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building release (swift build -c release)"
    swift build -c release --scratch-path "$SCRATCH_PATH" --product securechatd >&2
    swift build -c release --scratch-path "$SCRATCH_PATH" --product chatbench >&2
fi
BIN="$SCRATCH_PATH/release"

# --- limits and CPUs ---------------------------------------------------------------------------------------
# One descriptor per connection on each side; root may raise the hard limit too.
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
CPUS=$(nproc)
if [ "$CPUS" -ge 2 ] && command -v taskset >/dev/null; then
    SERVER_PIN=(taskset -c 0)
    LOAD_PIN=(taskset -c 1)
else
    SERVER_PIN=()
    LOAD_PIN=()
fi

# --- server ------------------------------------------------------------------------------------------------
HELP=$("$BIN/securechatd" --help 2>&1 || true)
has_option() { grep -q -- "$1" <<<"$HELP"; }
SERVER_ARGS=(--host 127.0.0.1 --port "$PORT" --history 0 --log-level warning)
HAVE_TLS=0
if has_option --tls-port; then SERVER_ARGS+=(--tls-port "$TLS_PORT"); HAVE_TLS=1; fi
if has_option " --rate "; then SERVER_ARGS+=(--rate 0); fi
# Per-address connection rate limit (main after f288461): off, or handshakes and logins are throttled.
if has_option --connect-rate; then SERVER_ARGS+=(--connect-rate 0); fi
# The server-wide budget of full TLS handshakes (issue 24): off, or the handshake scenarios measure the budget.
if has_option --tls-handshake-rate; then SERVER_ARGS+=(--tls-handshake-rate 0); fi
# Lines per address shared by its connections (issue 24): off, or the load's few source addresses are throttled.
if has_option --address-rate; then SERVER_ARGS+=(--address-rate 0 --address-byte-rate 0); fi
# No --max-connections: the default fits the open-file limit, which is what bounds a real deployment too.
if has_option --max-per-address; then SERVER_ARGS+=(--max-per-address 200000); fi
if [ "$HAVE_TLS" = 0 ]; then log "this securechatd has no --tls-port: TLS scenarios are skipped"; fi

start_server() {
    stop_server
    "${SERVER_PIN[@]}" "$BIN/securechatd" "${SERVER_ARGS[@]}" >"$WORK/server.out" 2>>"$WORK/server.err" &
    SERVER_PID=$!
    wait_for_port "$PORT" "$WORK/server.err"
}

# Runs one chatbench scenario against a fresh server; keeps its JSON line.
bench() {
    local tls_args=() uses_tls=0
    for arg in "$@"; do
        if [ "$arg" = --tls ] || [ "$arg" = --tls-ratio ]; then uses_tls=1; fi
    done
    if [ "$uses_tls" = 1 ] && [ "$HAVE_TLS" = 0 ]; then log "skipped (no TLS listener): $*"; return 0; fi
    start_server
    # The server creates its development CA on first start; verify the server against it.
    if [ "$uses_tls" = 1 ] && [ -f certs/ca.crt ]; then tls_args=(--ca certs/ca.crt); fi
    log "chatbench $*"
    local line
    if "${LOAD_PIN[@]}" "$BIN/chatbench" "$@" --host 127.0.0.1 --port "$PORT" --tls-port "$TLS_PORT" \
        --server-pid "$SERVER_PID" "${tls_args[@]}" >"$WORK/last.out"; then
        cat "$WORK/last.out" >&2
        line=$(tail -n 1 "$WORK/last.out")
        printf '%s\n' "$line" >>"$RESULTS"
    else
        log "FAILED: chatbench $*"
        cat "$WORK/last.out" >&2
    fi
    stop_server
}

# --- sizes -------------------------------------------------------------------------------------------------
if [ "$MODE" = quick ]; then
    FANOUT=(--clients 50 --senders 5 --messages 200 --bytes 64)
    LATENCY=(--clients 100 --senders 5 --rate 20 --duration 3)
    IDLE=500
    HS=(--concurrency 16 --duration 3)
else
    FANOUT=(--clients 200 --senders 10 --messages 1000 --bytes 64)
    LATENCY=(--clients 500 --senders 5 --rate 20 --duration 20)
    IDLE=5000
    HS=(--concurrency 32 --duration 10)
fi

for transport in plaintext tls; do
    T=()
    [ "$transport" = tls ] && T=(--tls)
    bench fanout "${FANOUT[@]}" "${T[@]}"
    bench latency "${LATENCY[@]}" "${T[@]}"
    bench idle --connections "$IDLE" "${T[@]}"
    bench handshakes "${HS[@]}" "${T[@]}"
done
bench handshakes "${HS[@]}" --tls --resume
bench idle --connections "$IDLE" --tls-ratio 0.5

if [ "$MODE" = heavy ]; then
    # 50,000 connections need 50,000 descriptors in the server and in chatbench; where the hard limit is lower
    # (and root may not raise it, as in some containers), run as many as fit and say so in the report.
    HEAVY=50000
    FD_LIMIT=$(ulimit -n)
    if [ "$FD_LIMIT" != unlimited ] && [ "$FD_LIMIT" -lt $((HEAVY + 500)) ]; then
        HEAVY=$((FD_LIMIT - 500))
        log "open-file limit is $FD_LIMIT: the heavy step uses $HEAVY connections instead of 50000"
    fi
    bench idle --connections "$HEAVY" --broadcast --settle 5 --login-concurrency 500 --stall-timeout 120 \
        --source-addresses 127.0.0.1-127.0.0.50
    bench idle --connections "$HEAVY" --broadcast --settle 5 --login-concurrency 500 --stall-timeout 120 \
        --source-addresses 127.0.0.1-127.0.0.50 --tls
fi

# --- report ------------------------------------------------------------------------------------------------
{
    echo "date:     $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "nproc:    $CPUS"
    echo "cpu:      $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel:   $(uname -sr)"
    echo "swift:    $(swift --version 2>&1 | head -n 1)"
    echo "openssl:  $(openssl version 2>/dev/null || echo unknown)"
    echo "pinning:  server ${SERVER_PIN[*]:-none}, load ${LOAD_PIN[*]:-none}"
    echo "server:   securechatd ${SERVER_ARGS[*]}"
    echo "commit:   $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$WORK/machine.txt"
# The hand-written analysis below the marker in the existing BENCHMARKS.md is kept.
MARKER='<!-- analysis: everything below this line is kept by bench/run.sh -->'
NOTES=()
if [ -f "$OUT" ] && grep -qF "$MARKER" "$OUT"; then
    sed -n "/^$(printf '%s' "$MARKER" | sed 's/[][\/.*^$]/\\&/g')\$/,\$p" "$OUT" >"$WORK/notes.md"
    NOTES=(--notes "$WORK/notes.md")
fi
"$BIN/chatbench" report --results "$RESULTS" --machine "$WORK/machine.txt" "${NOTES[@]}" \
    --invocation "bench/run.sh${1:+ $1} ($MODE)" --output "$OUT"
cp "$RESULTS" "$WORK/../chatbench-last-results.jsonl" 2>/dev/null || true
log "wrote $OUT (raw results: $RESULTS)"
