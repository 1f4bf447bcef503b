#!/usr/bin/env bash
# bench/profile-light.sh: where one light-load delivery goes, in securechatd and the C servers side by side (issue 27).
#
#   bench/profile-light.sh [--transport plaintext|tls] [--servers "securechatd inspircd ngircd"] [--keep DIR]
#
# For each server: a fresh server pinned to CPU 0 (configured as in bench/peers.sh), the light load of bench/peers.sh
# on CPU 1 (500 clients in one room, 5 of them sending 20 lines/s: about 50,000 deliveries/s), and, from 2 s after the
# last log-in, 4 s of `perf stat` (CPU time, context switches, system calls by kind), then 4 s of `perf record -g`.
# Prints two tables: the counts per 4 s, and the server's CPU per delivery split by who spent it (the kernel, by
# system call; the TLS library; libc; NIO and the Swift runtime on NIO's behalf; our code and the runtime on its
# behalf; the C server's own code), from bench/peers/account.py. One write per delivery at this load for all three,
# so deliveries = writes in the window.
#
# Needs perf (Debian's linux-perf) with tracepoints (hardware counters are not needed), run as root or with
# kernel.perf_event_paranoid <= 0, and the release builds of bench/peers.sh. Installs nothing; stops what it starts.
set -euo pipefail
cd "$(dirname "$0")/.."

TRANSPORT=plaintext
SERVER_LIST=""
KEEP=""
while [ $# -gt 0 ]; do
    case "$1" in
        --transport) [ $# -ge 2 ] || { echo "--transport needs plaintext or tls" >&2; exit 2; }; TRANSPORT=$2; shift 2 ;;
        --servers) [ $# -ge 2 ] || { echo "--servers needs a list" >&2; exit 2; }; SERVER_LIST=$2; shift 2 ;;
        --keep) [ $# -ge 2 ] || { echo "--keep needs a folder" >&2; exit 2; }; KEEP=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$TRANSPORT" in plaintext|tls) ;; *) echo "--transport must be plaintext or tls" >&2; exit 2 ;; esac
command -v perf >/dev/null || { echo "perf is needed: apt-get install linux-perf" >&2; exit 2; }
BIN=${BIN:-.build/release}
for tool in securechatd chatbench; do
    [ -x "$BIN/$tool" ] || { echo "$BIN/$tool is missing: swift build -c release --product $tool" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/profile-light.XXXXXX)
SERVER_PID=""
# shellcheck source=server-control.sh
. bench/server-control.sh
# shellcheck source=peers/servers.sh
. bench/peers/servers.sh
trap 'stop_server' EXIT
trap 'stop_server; exit 130' INT TERM
[ -n "$SERVER_LIST" ] && read -r -a SERVERS <<<"$SERVER_LIST"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ulimit -c 0
SERVER_PIN=(taskset -c 0)
LOAD_PIN=(taskset -c 1)
prepare_work

EVENTS=task-clock,context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_write,syscalls:sys_enter_writev
EVENTS+=,syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex
for server in "${SERVERS[@]}"; do
    start_server "$server"
    tls_args=()
    [ "$TRANSPORT" = tls ] && tls_args=(--tls --ca "$WORK/pki/ca.crt")
    echo "== $server $TRANSPORT" >&2
    "${LOAD_PIN[@]}" "$BIN/chatbench" latency --clients 500 --senders 5 --rate 20 --duration 14 --bytes 64 \
        --proto "$(protocol "$server")" --host 127.0.0.1 --port "$(plain_port "$server")" \
        --tls-port "$(tls_port "$server")" --server-pid "$SERVER_PID" "${tls_args[@]}" \
        >"$WORK/$server.bench" 2>"$WORK/$server.progress" &
    load=$!
    # The windows start 2 s into the steady load, however long the 500 log-ins took (ngIRCd's take the longest).
    for _ in $(seq 600); do grep -q "all logged in" "$WORK/$server.progress" 2>/dev/null && break; sleep 0.1; done
    sleep 2
    # One after the other: counting system calls through tracepoints costs each call a little, which a profile
    # taken at the same time would charge to the server.
    perf stat -x, -e "$EVENTS" -p "$SERVER_PID" -o "$WORK/$server.stat" -- sleep 4
    perf record -q -F 1999 -g -p "$SERVER_PID" -o "$WORK/$server.data" -- sleep 4 >/dev/null 2>&1
    wait "$load" || { echo "chatbench failed against $server:" >&2; tail -n 5 "$WORK/$server.bench" >&2; }
    perf script -i "$WORK/$server.data" -F ip,sym,dso >"$WORK/$server.script" 2>/dev/null
    stop_server
done

echo
echo "bench/profile-light.sh --transport $TRANSPORT, $(date -u +%Y-%m-%dT%H:%MZ), securechatd $(git rev-parse --short HEAD 2>/dev/null || echo '?'); $(uname -sr)"
echo
python3 bench/peers/account.py "$WORK" "${SERVERS[@]}"
if [ -n "$KEEP" ]; then mkdir -p "$KEEP" && cp "$WORK"/*.stat "$WORK"/*.script "$WORK"/*.bench "$KEEP"/ && echo "== kept in $KEEP" >&2; fi
