#!/usr/bin/env bash
# bench/chaos.sh: three securechatd nodes under steady chat load for 10 minutes while faults are injected in
# turn every 30 s (issue 23): a silent cut of one node's database link, a NAT that forgets every flow, a
# database stall (SIGSTOP) for twice the node timeout, pg_terminate_backend of one node's listener, pg_ctl
# restart, kill -9 of a node and SIGTERM of another, each restarted under its name at once. Every client checks
# its stream; the script prints one table (lines committed, delivered per client, lost, doubled, out of order,
# users wrongly disconnected, recovery time of each fault) and writes it to OUT/summary.md. It exits 1 when
# anything was lost, doubled or out of order, a user was disconnected by a fault that did not touch their node,
# or a fault was not recovered from within the interval. The harness itself is bench/chaos.py.
#
#   bench/chaos.sh                       10 minutes, a fault every 30 s, 30 clients, --node-timeout 5
#   bench/chaos.sh --minutes 4 --keep    shorter; keep the node and PostgreSQL logs
#
# Environment: PG_BIN (/usr/lib/postgresql/15/bin), SCRATCH_PATH (.build), SKIP_BUILD=1 to reuse the last
# release build, OUT (bench/chaos-results). Loopback only; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

SCRATCH_PATH=${SCRATCH_PATH:-.build}
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "== building release" >&2
    swift build -c release --scratch-path "$SCRATCH_PATH" --product securechatd >&2
fi
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$PG_BIN/initdb" ] || {
    echo "no PostgreSQL server binaries in $PG_BIN (apt-get install postgresql)" >&2
    exit 1
}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec python3 bench/chaos.py --binary "$SCRATCH_PATH/release/securechatd" --pg-bin "$PG_BIN" \
    --out "${OUT:-bench/chaos-results}" "$@"
