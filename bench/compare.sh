#!/usr/bin/env bash
# bench/compare.sh: fan-out and light-load latency (and with --handshakes, the server CPU per connection) of two
# securechatd builds, in one run on one machine, alternating A and B each round so that drift on a shared machine
# hits both alike.
#
#   bench/compare.sh [--rounds N] [--quick] [--distributions DIR] [--handshakes] BIN_A BIN_B
#
# BIN_A and BIN_B are release build folders (e.g. /tmp/base/.build/release and .build/release), each with a
# securechatd; the chatbench of BIN_B drives both, so the load is the same. Prints one JSON line per run
# (chatbench's own) prefixed with the build's label, then a median table. With --distributions, every latency run
# also writes its latency distribution to DIR/SIDE-TRANSPORT-ROUND.txt, for bench/plot-latency.sh. With
# --handshakes, every round also runs `chatbench handshakes` full TLS, resumed TLS and plaintext against each build.
# Loopback only: every server listens on 127.0.0.1. Server pinned to CPU 0, load to CPU 1 where possible.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=3
QUICK=0
DISTRIBUTIONS=""
HANDSHAKES=0
ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --distributions) DISTRIBUTIONS=$2; shift 2 ;;
        --handshakes) HANDSHAKES=1; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) ARGS+=("$1"); shift ;;
    esac
done
[ ${#ARGS[@]} = 2 ] || {
    echo "usage: bench/compare.sh [--rounds N] [--quick] [--distributions DIR] [--handshakes] BIN_A BIN_B" >&2
    exit 2
}
if [ -n "$DISTRIBUTIONS" ]; then mkdir -p "$DISTRIBUTIONS"; fi
A=${ARGS[0]}
B=${ARGS[1]}
PORT=${PORT:-29100}
TLS_PORT=${TLS_PORT:-29543}
WORK=$(mktemp -d /tmp/compare.XXXXXX)
SERVER_PID=""

# shellcheck source=server-control.sh
. bench/server-control.sh  # the working directory is the repository root (see the cd above)
trap 'stop_server' EXIT
trap 'stop_server; exit 130' INT TERM

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
SERVER_PIN=()
LOAD_PIN=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then SERVER_PIN=(taskset -c 0); LOAD_PIN=(taskset -c 1); fi

start_server() {
    stop_server
    # The server-wide budget of full TLS handshakes (issue 24) is off where the build has it,
    # (The help is read whole first: `--help | grep -q` under pipefail fails whenever grep stops reading early.)
    local budget=() help
    help=$("$1/securechatd" --help 2>&1 || true)
    if [[ "$help" == *--tls-handshake-rate* ]]; then budget=(--tls-handshake-rate 0); fi
    # And the per-address line budget (issue 25): the benchmark's senders all come from 127.0.0.1.
    if [[ "$help" == *--address-rate* ]]; then budget+=(--address-rate 0 --address-byte-rate 0); fi
    "${SERVER_PIN[@]}" "$1/securechatd" --host 127.0.0.1 --port "$PORT" --tls-port "$TLS_PORT" --history 0 \
        --log-level warning --rate 0 --connect-rate 0 --max-per-address 200000 "${budget[@]}" \
        >"$WORK/server.out" 2>>"$WORK/server.err" &
    SERVER_PID=$!
    wait_for_port "$PORT" "$WORK/server.err"
}

if [ "$QUICK" = 1 ]; then
    FANOUT=(--clients 50 --senders 5 --messages 200 --bytes 64)
    LATENCY=(--clients 100 --senders 5 --rate 20 --duration 3)
    CONNECTS=(--concurrency 32 --duration 2)
else
    FANOUT=(--clients 200 --senders 10 --messages 1000 --bytes 64)
    LATENCY=(--clients 500 --senders 5 --rate 20 --duration 20)
    CONNECTS=(--concurrency 32 --duration 5)
fi

run() {
    local label=$1 bin=$2
    shift 2
    start_server "$bin"
    local tls_args=()
    if [[ " $* " == *" --tls "* ]]; then tls_args=(--ca certs/ca.crt); fi
    if "${LOAD_PIN[@]}" "$B/chatbench" "$@" --host 127.0.0.1 --port "$PORT" --tls-port "$TLS_PORT" \
        --server-pid "$SERVER_PID" "${tls_args[@]}" >"$WORK/last.out" 2>&1; then
        printf '%s %s\n' "$label" "$(tail -n 1 "$WORK/last.out")" | tee -a "$WORK/results.txt"
    else
        echo "FAILED: $label chatbench $*" >&2
        cat "$WORK/last.out" >&2
    fi
    stop_server
}

for round in $(seq "$ROUNDS"); do
    for transport in plaintext tls; do
        T=()
        [ "$transport" = tls ] && T=(--tls)
        for side in A B; do
            bin=$A
            [ "$side" = B ] && bin=$B
            run "$side" "$bin" fanout "${FANOUT[@]}" "${T[@]}"
            D=()
            [ -n "$DISTRIBUTIONS" ] && D=(--distribution "$DISTRIBUTIONS/$side-$transport-$round.txt")
            run "$side" "$bin" latency "${LATENCY[@]}" "${T[@]}" "${D[@]}"
        done
    done
    if [ "$HANDSHAKES" = 1 ]; then
        for mode in "--tls" "--tls --resume" ""; do
            for side in A B; do
                bin=$A
                [ "$side" = B ] && bin=$B
                # shellcheck disable=SC2086 # mode is a list of options
                run "$side" "$bin" handshakes "${CONNECTS[@]}" $mode
            done
        done
    fi
    echo "== round $round done" >&2
done
echo "results: $WORK/results.txt" >&2

# The median table: per scenario, transport and build, the median over the rounds (range in brackets).
python3 - "$WORK/results.txt" <<'PY'
import collections, json, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, _, text = line.partition(" ")
    result = json.loads(text)
    runs[(result["scenario"], result["transport"], side)].append(result)
figures = {
    "fanout": [("M deliveries/s", lambda r: r["deliveries_per_s"] / 1e6)],
    "latency": [("server CPU us/delivery", lambda r: r["server_cpu_s"] / r["received"] * 1e6),
                ("p50 ms", lambda r: r["p50_ms"]), ("p99 ms", lambda r: r["p99_ms"])],
    "handshakes": [("server CPU ms/connection", lambda r: r["server_cpu_ms_per_connection"])],
    "handshakes-resumed": [("server CPU ms/connection", lambda r: r["server_cpu_ms_per_connection"]),
                           ("% resumed", lambda r: 100 * r["resumed"] / max(1, r["connections"]))],
}
print("| scenario | transport | build | figure | median | range |")
print("| --- | --- | --- | --- | --- | --- |")
for (scenario, transport, side), results in sorted(runs.items()):
    for name, value in figures.get(scenario, []):
        values = [value(r) for r in results]
        print(f"| {scenario} | {transport} | {side} | {name} | {statistics.median(values):.2f} "
              f"| {min(values):.2f}-{max(values):.2f} |")
PY
