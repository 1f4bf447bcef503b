#!/usr/bin/env bash
# bench/cluster.sh: two securechatd nodes joined through a throwaway PostgreSQL 15 (issue 12), in one run:
#   (a) committed lines/s of the cluster (every client sends, rate limit off, clients over both nodes), in one
#       room and spread over ROOMS rooms (default 15: an odd number, so that with clients placed on the nodes
#       in turn every room has members on both),
#   (b) cross-node deliveries/s in the same run,
#   (c) light load, 500 clients over the 2 nodes, 5 senders x 20 lines/s: cross-node p99, against a single
#       node without --cluster with the same load,
#   (d) PostgreSQL's share of the CPU (all its processes, from /proc) against the two nodes'.
#
#   nice -n 10 bench/cluster.sh            the sizes above (about 3 minutes after the build)
#   nice -n 10 bench/cluster.sh --quick    smaller and shorter, while developing
#   nice -n 10 bench/cluster.sh --tls      also the light load over the TLS ports (single node and cluster)
#
# PostgreSQL: initdb into a temporary folder, a free port on 127.0.0.1, default durability (fsync on,
# synchronous_commit on: the commit costs are real), run as the postgres user when run as root. The nodes,
# PostgreSQL and the single node share CPU 0, chatbench runs on CPU 1 (where there are two CPUs), as in
# bench/run.sh. Every process started here is stopped on exit, and the temporary folder removed.
#
# Environment: PG_BIN (default /usr/lib/postgresql/15/bin), BASE_PORT (default 29200: nodes on 29200/29210,
# the single node on 29220), SCRATCH_PATH (default .build), SKIP_BUILD=1 to reuse the last release build,
# CLIENTS/MESSAGES for the throughput step, DURATION for the light-load steps, PIN=0 to pin nothing,
# KEEP_RESULTS=FILE to keep the chatbench JSON lines, SERVER_EXTRA="--event-loops 2" for more options to every
# server. Loopback only: every server listens on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=full
TLS=0
for arg in "$@"; do
    case "$arg" in
        --quick) MODE=quick ;;
        --tls) TLS=1 ;;
        -h | --help)
            sed -n '2,24p' "$0"
            exit 0
            ;;
        *)
            echo "unknown argument: $arg" >&2
            exit 2
            ;;
    esac
done

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BASE_PORT=${BASE_PORT:-29200}
SCRATCH_PATH=${SCRATCH_PATH:-.build}
if [ "$MODE" = quick ]; then
    CLIENTS=${CLIENTS:-64}
    MESSAGES=${MESSAGES:-100}
    ROOMS=${ROOMS:-7}
    LIGHT_CLIENTS=100
    DURATION=${DURATION:-5}
else
    CLIENTS=${CLIENTS:-128}
    MESSAGES=${MESSAGES:-250}
    ROOMS=${ROOMS:-15}
    LIGHT_CLIENTS=500
    DURATION=${DURATION:-20}
fi

WORK=$(mktemp -d /tmp/chatbench-cluster.XXXXXX)
PG_DIR="$WORK/pg"
chmod 711 "$WORK"  # the postgres user must reach its folder inside
NODE_PIDS=()
SINGLE_PID=""
PG_STARTED=0
AS_POSTGRES=()
[ "$(id -u)" = 0 ] && AS_POSTGRES=(/usr/sbin/runuser -u postgres --)

log() { printf '== %s\n' "$*" >&2; }

stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    for pid in "${NODE_PIDS[@]}"; do stop_pid "$pid"; done
    NODE_PIDS=()
    stop_pid "$SINGLE_PID"
    if [ "$PG_STARTED" = 1 ]; then
        "${AS_POSTGRES[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            "${AS_POSTGRES[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build ---------------------------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building release"
    # One product per call: given two --product options, swift build builds only the last.
    swift build -c release --scratch-path "$SCRATCH_PATH" --product securechatd >&2
    swift build -c release --scratch-path "$SCRATCH_PATH" --product chatbench >&2
fi
BIN="$SCRATCH_PATH/release"
[ -x "$PG_BIN/initdb" ] || {
    echo "no PostgreSQL server binaries in $PG_BIN (apt-get install postgresql)" >&2
    exit 1
}

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
SERVER_PIN=()
LOAD_PIN=()
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    SERVER_PIN=(taskset -c 0)
    LOAD_PIN=(taskset -c 1)
fi

# --- CPU time from /proc -------------------------------------------------------------------------------------
HZ=$(getconf CLK_TCK)

# ticks PID...: utime + stime of each process, plus cutime + cstime (children that exited and were reaped).
ticks() {
    local total=0 pid fields
    for pid in "$@"; do
        fields=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        # After the command name: field 3 is the first; utime, stime, cutime, cstime are fields 14-17.
        total=$((total + $(awk '{ print $12 + $13 + $14 + $15 }' <<<"$fields")))
    done
    echo "$total"
}

# The postmaster and every process it forked (backends, WAL writer, checkpointer, ...).
postgres_pids() {
    local main
    main=$(head -n 1 "$PG_DIR/data/postmaster.pid")
    echo "$main"
    ps -o pid= --ppid "$main"
}

postgres_ticks() { ticks $(postgres_pids); }
nodes_ticks() { ticks "${NODE_PIDS[@]}"; }
seconds_of() { awk -v t="$1" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }'; }

now() { date +%s.%N; }

# --- PostgreSQL ----------------------------------------------------------------------------------------------
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

mkdir -p "$PG_DIR"
[ "${#AS_POSTGRES[@]}" -gt 0 ] && chown postgres: "$PG_DIR"
PG_PORT=$(free_port)
log "PostgreSQL: initdb in $PG_DIR, port $PG_PORT"
"${AS_POSTGRES[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U securechat --auth=trust -E UTF8 >"$WORK/initdb.out" 2>&1 || {
    cat "$WORK/initdb.out" >&2
    exit 1
}
PG_STARTED=1
"${SERVER_PIN[@]}" "${AS_POSTGRES[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c log_autovacuum_min_duration=0 -c log_checkpoints=on" \
    -w -t 60 start >/dev/null || {
    cat "$PG_DIR/server.log" >&2
    exit 1
}
PSQL=(psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U securechat)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE securechat_bench"
URL="postgres://securechat@127.0.0.1:$PG_PORT/securechat_bench?sslmode=disable"
PG_SETTINGS=$("${PSQL[@]}" -d securechat_bench -At -c \
    "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
     WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers')")
PG_VERSION=$("${PSQL[@]}" -d securechat_bench -At -c "SHOW server_version")

# --- securechatd ---------------------------------------------------------------------------------------------
SERVER_ARGS=(--host 127.0.0.1 --history 0 --log-level warning --rate 0 --connect-rate 0 --max-per-address 200000
    --address-rate 0 --address-byte-rate 0)
read -ra EXTRA_ARGS <<<"${SERVER_EXTRA:-}"
SERVER_ARGS+=("${EXTRA_ARGS[@]}")
NODE_PORTS=("$BASE_PORT" "$((BASE_PORT + 10))")
SINGLE_PORT=$((BASE_PORT + 20))

# wait_for_port PORT PID ERRLOG
wait_for_port() {
    for _ in $(seq 150); do
        if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
        kill -0 "$2" 2>/dev/null || {
            cat "$3" >&2
            exit 1
        }
        sleep 0.1
    done
    echo "securechatd did not start listening on $1" >&2
    exit 1
}

metric() { # metric PORT NAME: the sample value of an unlabelled metric (0 when absent)
    curl -fsS "http://127.0.0.1:$1/metrics" | awk -v name="$2" '$1 == name { print $2; found = 1 } END { if (!found) print 0 }'
}

# histogram NAME PORT...: a histogram summed over the nodes, as "le count" lines (cumulative buckets).
histogram() {
    local name=$1
    shift
    for port in "$@"; do curl -fsS "http://127.0.0.1:$port/metrics"; done |
        awk -v prefix="${name}_bucket{" 'index($0, prefix) == 1 {
                match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); sum[le] += $2
                if (!(le in seen)) { order[++n] = le; seen[le] = 1 } }
             END { for (i = 1; i <= n; i++) print order[i], sum[order[i]] }'
}

start_nodes() {
    local index=0
    for port in "${NODE_PORTS[@]}"; do
        local name="node-$((index + 1))"
        "${SERVER_PIN[@]}" "$BIN/securechatd" "${SERVER_ARGS[@]}" --port "$port" --tls-port "$((port + 1))" \
            --metrics-port "$((port + 2))" --cluster "$URL" --node-name "$name" --node-timeout 10 \
            >"$WORK/$name.out" 2>"$WORK/$name.err" &
        NODE_PIDS+=($!)
        index=$((index + 1))
    done
    index=0
    for port in "${NODE_PORTS[@]}"; do
        wait_for_port "$port" "${NODE_PIDS[$index]}" "$WORK/node-$((index + 1)).err"
        index=$((index + 1))
    done
    # Both nodes see each other before any load.
    for _ in $(seq 100); do
        local up=0
        for port in "${NODE_PORTS[@]}"; do
            # The gauge renders as 2.0.
            awk -v v="$(metric "$((port + 2))" securechat_cluster_nodes_up)" 'BEGIN { exit !(v == 2) }' && up=$((up + 1))
        done
        [ "$up" = 2 ] && return 0
        sleep 0.2
    done
    echo "the two nodes did not see each other within 20 s:" >&2
    for port in "${NODE_PORTS[@]}"; do
        curl -fsS "http://127.0.0.1:$((port + 2))/metrics" | grep -E '^securechat_cluster_(nodes_up|link_up)' >&2 || true
    done
    cat "$WORK"/node-*.err >&2
    exit 1
}

RESULTS="$WORK/results.jsonl"
# chatbench ARGS...: runs one scenario on the load CPU; keeps its JSON line in $RESULTS and prints its table.
chatbench() {
    log "chatbench $*"
    if ! "${LOAD_PIN[@]}" "$BIN/chatbench" "$@" >"$WORK/last.out"; then
        cat "$WORK/last.out" >&2
        echo "chatbench failed: $*" >&2
        exit 1
    fi
    head -n -1 "$WORK/last.out" >&2
    tail -n 1 "$WORK/last.out" >>"$RESULTS"
}

field() { # field KEY: from the last JSON line
    tail -n 1 "$RESULTS" | python3 -c "import json, sys; v = json.load(sys.stdin).get('$1'); print('' if v is None else v)"
}

# How busy the machine is besides this run (the CPUs may be shared), and what one WAL flush costs on this disk.
LOAD_START=$(cut -d ' ' -f 1-3 /proc/loadavg)
FSYNC_RATE=$(
    set +o pipefail  # pg_test_fsync goes on with other tests; the first result is enough
    "$PG_BIN/pg_test_fsync" -s 2 -f "$WORK/fsync-test" 2>/dev/null |
        awk '/fdatasync/ && /ops\/sec/ { print $(NF - 3), "ops/s,", $(NF - 1), "us each"; exit }'
)
FSYNC_RATE=${FSYNC_RATE:-n/a}

# --- (c, baseline) a single node, no --cluster -------------------------------------------------------------
LIGHT=(latency --clients "$LIGHT_CLIENTS" --senders 5 --rate 20 --duration "$DURATION" --bytes 64)
log "single node (no --cluster) on port $SINGLE_PORT"
"${SERVER_PIN[@]}" "$BIN/securechatd" "${SERVER_ARGS[@]}" --port "$SINGLE_PORT" --tls-port "$((SINGLE_PORT + 1))" \
    >"$WORK/single.out" 2>"$WORK/single.err" &
SINGLE_PID=$!
wait_for_port "$SINGLE_PORT" "$SINGLE_PID" "$WORK/single.err"
chatbench "${LIGHT[@]}" --host 127.0.0.1 --port "$SINGLE_PORT" --server-pid "$SINGLE_PID"
SINGLE_P99=$(field p99_ms)
SINGLE_P50=$(field p50_ms)
SINGLE_CPU=$(field server_cpu_util)
if [ "$TLS" = 1 ]; then
    # The node made its development CA in certs/ on its first start.
    chatbench "${LIGHT[@]}" --tls --ca certs/ca.crt --host 127.0.0.1 --tls-port "$((SINGLE_PORT + 1))" \
        --server-pid "$SINGLE_PID"
    SINGLE_TLS_P99=$(field p99_ms)
    SINGLE_TLS_P50=$(field p50_ms)
fi
stop_pid "$SINGLE_PID"
SINGLE_PID=""

# --- the cluster ---------------------------------------------------------------------------------------------
log "two nodes with --cluster on ports ${NODE_PORTS[*]}"
start_nodes
TARGETS="127.0.0.1:${NODE_PORTS[0]},127.0.0.1:${NODE_PORTS[1]}"
PIDS=(--server-pid "${NODE_PIDS[0]}" --server-pid "${NODE_PIDS[1]}")
METRIC_PORTS=("$((NODE_PORTS[0] + 2))" "$((NODE_PORTS[1] + 2))")

cluster_counter() { # the sum over both nodes
    local total=0 value
    for port in "${METRIC_PORTS[@]}"; do
        value=$(metric "$port" "$1")
        total=$(awk -v a="$total" -v b="$value" 'BEGIN { printf "%.6f", a + b }')
    done
    echo "$total"
}

# (a, b) throughput: every client sends, as fast as the nodes take lines (each session has up to 32 lines in
# flight, see Session/UncommittedLines).
COMMITS=securechat_cluster_commit_duration_seconds
LAG=securechat_cluster_notification_lag_seconds
histogram "$COMMITS" "${METRIC_PORTS[@]}" >"$WORK/hist.before"
LINES_BEFORE=$(cluster_counter securechat_cluster_committed_lines_total)
BATCHES_BEFORE=$(cluster_counter securechat_cluster_batches_total)
COMMIT_SUM_BEFORE=$(cluster_counter securechat_cluster_commit_duration_seconds_sum)
PG_BEFORE=$(postgres_ticks)
NODES_BEFORE=$(nodes_ticks)
T0=$(now)
chatbench fanout --targets "$TARGETS" --clients "$CLIENTS" --senders "$CLIENTS" --messages "$MESSAGES" --bytes 64 \
    --stall-timeout 30 "${PIDS[@]}"
T1=$(now)
PG_AFTER=$(postgres_ticks)
NODES_AFTER=$(nodes_ticks)
LINES_AFTER=$(cluster_counter securechat_cluster_committed_lines_total)
BATCHES_AFTER=$(cluster_counter securechat_cluster_batches_total)
histogram "$COMMITS" "${METRIC_PORTS[@]}" >"$WORK/hist.after"
COMMIT_SUM_AFTER=$(cluster_counter securechat_cluster_commit_duration_seconds_sum)
TP_LINES_PER_S=$(field lines_per_s)
TP_CROSS_PER_S=$(field cross_node_deliveries_per_s)
TP_DELIVERIES_PER_S=$(field deliveries_per_s)
TP_EXACT=$(field exactly_once_in_order)
TP_SECONDS=$(field seconds)
TP_CROSS_SHARE=$(field cross_node_share)
TP_CLIENT_CPU=$(field client_cpu_util)
TP_COMMITTED=$(awk -v a="$LINES_BEFORE" -v b="$LINES_AFTER" 'BEGIN { printf "%.0f", b - a }')
TP_BATCHES=$(awk -v a="$BATCHES_BEFORE" -v b="$BATCHES_AFTER" 'BEGIN { printf "%.0f", b - a }')
TP_WALL=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.2f", b - a }')
TP_PG_CPU=$(seconds_of $((PG_AFTER - PG_BEFORE)))
TP_NODES_CPU=$(seconds_of $((NODES_AFTER - NODES_BEFORE)))
# Commit durations of this step only: the difference of the cumulative buckets, and the quantiles they bound.
delta() { paste -d ' ' "$1" "$2" | awk '$1 == $3 { print $1, $4 - $2 }'; }
quantile() { # quantile Q TABLE: the upper bound (s) of the bucket that holds quantile Q
    awk -v q="$1" '{ le[NR] = $1; c[NR] = $2; if ($1 == "+Inf") total = $2 }
        END { for (i = 1; i <= NR; i++) if (c[i] >= q * total) { print le[i]; exit } }' <<<"$2"
}
COMMIT_TABLE=$(delta "$WORK/hist.before" "$WORK/hist.after")
COMMIT_MEAN_MS=$(awk -v a="$COMMIT_SUM_BEFORE" -v b="$COMMIT_SUM_AFTER" -v n="$TP_BATCHES" \
    'BEGIN { if (n > 0) printf "%.2f", (b - a) / n * 1000; else print "n/a" }')

# (a') the same clients and lines spread over $ROOMS rooms: one room of 128 all-sending clients costs 127
# deliveries per line, so there the nodes' fan-out (on one CPU) is the limit, not the commits.
R_LINES_BEFORE=$(cluster_counter securechat_cluster_committed_lines_total)
R_BATCHES_BEFORE=$(cluster_counter securechat_cluster_batches_total)
R_COMMIT_SUM_BEFORE=$(cluster_counter securechat_cluster_commit_duration_seconds_sum)
PG_BEFORE=$(postgres_ticks)
NODES_BEFORE=$(nodes_ticks)
chatbench fanout --targets "$TARGETS" --clients "$CLIENTS" --senders "$CLIENTS" --messages "$MESSAGES" --bytes 64 \
    --rooms "$ROOMS" --stall-timeout 30 "${PIDS[@]}"
PG_AFTER=$(postgres_ticks)
NODES_AFTER=$(nodes_ticks)
R_LINES_PER_S=$(field lines_per_s)
R_DELIVERIES_PER_S=$(field deliveries_per_s)
R_EXACT=$(field exactly_once_in_order)
R_COMMITTED=$(awk -v a="$R_LINES_BEFORE" -v b="$(cluster_counter securechat_cluster_committed_lines_total)" \
    'BEGIN { printf "%.0f", b - a }')
R_BATCHES=$(awk -v a="$R_BATCHES_BEFORE" -v b="$(cluster_counter securechat_cluster_batches_total)" \
    'BEGIN { printf "%.0f", b - a }')
R_COMMIT_MEAN_MS=$(awk -v a="$R_COMMIT_SUM_BEFORE" -v b="$(cluster_counter securechat_cluster_commit_duration_seconds_sum)" \
    -v n="$R_BATCHES" 'BEGIN { if (n > 0) printf "%.2f", (b - a) / n * 1000; else print "n/a" }')
R_PG_CPU=$(seconds_of $((PG_AFTER - PG_BEFORE)))
R_NODES_CPU=$(seconds_of $((NODES_AFTER - NODES_BEFORE)))

# (c) light load over both nodes.
histogram "$COMMITS" "${METRIC_PORTS[@]}" >"$WORK/ll-commits.before"
histogram "$LAG" "${METRIC_PORTS[@]}" >"$WORK/ll-lag.before"
LL_LINES_BEFORE=$(cluster_counter securechat_cluster_committed_lines_total)
LL_BATCHES_BEFORE=$(cluster_counter securechat_cluster_batches_total)
# PostgreSQL's own background work (logged above) that fell into the light-load step.
pg_background() { grep -cE 'automatic (vacuum|analyze)|checkpoint starting' "$PG_DIR/server.log" || true; }
PG_BACKGROUND_BEFORE=$(pg_background)
PG_BEFORE=$(postgres_ticks)
NODES_BEFORE=$(nodes_ticks)
chatbench "${LIGHT[@]}" --targets "$TARGETS" "${PIDS[@]}"
PG_AFTER=$(postgres_ticks)
LL_PG_BACKGROUND=$(($(pg_background) - PG_BACKGROUND_BEFORE))
NODES_AFTER=$(nodes_ticks)
histogram "$COMMITS" "${METRIC_PORTS[@]}" >"$WORK/ll-commits.after"
histogram "$LAG" "${METRIC_PORTS[@]}" >"$WORK/ll-lag.after"
LL_LINES=$(awk -v a="$LL_LINES_BEFORE" -v b="$(cluster_counter securechat_cluster_committed_lines_total)" \
    'BEGIN { printf "%.0f", b - a }')
LL_BATCHES=$(awk -v a="$LL_BATCHES_BEFORE" -v b="$(cluster_counter securechat_cluster_batches_total)" \
    'BEGIN { printf "%.0f", b - a }')
LL_COMMITS=$(delta "$WORK/ll-commits.before" "$WORK/ll-commits.after")
LL_LAGS=$(delta "$WORK/ll-lag.before" "$WORK/ll-lag.after")
LL_CROSS_P99=$(field cross_node_p99_ms)
LL_CROSS_P50=$(field cross_node_p50_ms)
LL_SAME_P99=$(field same_node_p99_ms)
LL_P99=$(field p99_ms)
LL_RECEIVED=$(field received)
LL_EXPECTED=$(field expected)
LL_CROSS_SHARE=$(field cross_node_share)
LL_PG_CPU=$(seconds_of $((PG_AFTER - PG_BEFORE)))
LL_NODES_CPU=$(seconds_of $((NODES_AFTER - NODES_BEFORE)))
if [ "$TLS" = 1 ]; then
    chatbench "${LIGHT[@]}" --tls --ca certs/ca.crt \
        --targets "127.0.0.1:$((NODE_PORTS[0] + 1)),127.0.0.1:$((NODE_PORTS[1] + 1))" "${PIDS[@]}"
    LL_TLS_CROSS_P99=$(field cross_node_p99_ms)
    LL_TLS_CROSS_P50=$(field cross_node_p50_ms)
    LL_TLS_SAME_P99=$(field same_node_p99_ms)
fi

for pid in "${NODE_PIDS[@]}"; do stop_pid "$pid"; done
NODE_PIDS=()

# --- report --------------------------------------------------------------------------------------------------
LOAD_END=$(cut -d ' ' -f 1-3 /proc/loadavg)
int() { awk -v v="$1" 'BEGIN { if (v == "") print "n/a"; else printf "%.0f", v }'; }
ms() { awk -v v="$1" 'BEGIN { if (v == "") print "n/a"; else printf "%.2f", v }'; }
pct() { awk -v v="$1" 'BEGIN { if (v == "") print "n/a"; else printf "%.0f %%", v * 100 }'; }
share() { awk -v p="$1" -v n="$2" 'BEGIN { if (p + n > 0) printf "%.0f %%", p / (p + n) * 100; else print "n/a" }'; }
verdict() { awk -v v="$1" -v goal="$2" -v dir="$3" 'BEGIN {
    if (v == "") { print "not measured"; exit }
    ok = (dir == "min") ? (v >= goal) : (v <= goal); print ok ? "met" : "**not met**" }'; }

cat <<EOF

## Cluster (issue 12): 2 nodes on one PostgreSQL $PG_VERSION

\`\`\`
date:       $(date -u +%Y-%m-%dT%H:%MZ)
nproc:      $(nproc)
cpu:        $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
kernel:     $(uname -sr)
disk:       $(df -T "$WORK" | awk 'NR == 2 { print $2, "on", $1 }') (PostgreSQL data directory)
postgres:   $PG_SETTINGS
pinning:    nodes, PostgreSQL and the single node ${SERVER_PIN[*]:-unpinned}; chatbench ${LOAD_PIN[*]:-unpinned}
nodes:      securechatd ${SERVER_ARGS[*]} --cluster postgres://securechat@127.0.0.1:PORT/securechat_bench?sslmode=disable
single:     securechatd ${SERVER_ARGS[*]} (no --cluster)
commit:     $(git rev-parse --short HEAD 2>/dev/null || echo unknown)
\`\`\`

| figure | goal | measured | verdict |
| --- | --- | --- | --- |
| committed lines/s, 2 nodes ($CLIENTS clients over 2 nodes in one room, all sending, $MESSAGES lines each) | >= 10,000 | $(int "$TP_LINES_PER_S") | $(verdict "$TP_LINES_PER_S" 10000 min) |
| committed lines/s, 2 nodes, the same clients in $ROOMS rooms | >= 10,000 | $(int "$R_LINES_PER_S") (exactly once, in order: $R_EXACT; $(int "$R_DELIVERIES_PER_S") deliveries/s; $R_COMMITTED lines in $R_BATCHES batches, mean commit $R_COMMIT_MEAN_MS ms; PostgreSQL $(share "$R_PG_CPU" "$R_NODES_CPU") of the CPU) | $(verdict "$R_LINES_PER_S" 10000 min) |
| cross-node deliveries/s (same run) | | $(int "$TP_CROSS_PER_S") ($(pct "$TP_CROSS_SHARE") of all; all deliveries $(int "$TP_DELIVERIES_PER_S")/s) | |
| light load cross-node p99 ($LIGHT_CLIENTS clients over 2 nodes, 5 x 20 lines/s, ${DURATION} s) | <= 15 ms | $(ms "$LL_CROSS_P99") ms (p50 $(ms "$LL_CROSS_P50"); same-node p99 $(ms "$LL_SAME_P99"); all $(ms "$LL_P99")) | $(verdict "$LL_CROSS_P99" 15 max) |
| same load, single node without --cluster | | p99 $(ms "$SINGLE_P99") ms (p50 $(ms "$SINGLE_P50")), server CPU $(ms "$SINGLE_CPU") % | |
EOF
if [ "$TLS" = 1 ]; then
    cat <<EOF
| light load cross-node p99 over TLS | <= 15 ms | $(ms "$LL_TLS_CROSS_P99") ms (p50 $(ms "$LL_TLS_CROSS_P50"); same-node p99 $(ms "$LL_TLS_SAME_P99")) | $(verdict "$LL_TLS_CROSS_P99" 15 max) |
| same load over TLS, single node without --cluster | | p99 $(ms "$SINGLE_TLS_P99") ms (p50 $(ms "$SINGLE_TLS_P50")) | |
EOF
fi
cat <<EOF
| PostgreSQL's share of CPU, throughput step | | $(share "$TP_PG_CPU" "$TP_NODES_CPU") (PostgreSQL $TP_PG_CPU s, nodes $TP_NODES_CPU s) | |
| PostgreSQL's share of CPU, light load | | $(share "$LL_PG_CPU" "$LL_NODES_CPU") (PostgreSQL $LL_PG_CPU s, nodes $LL_NODES_CPU s; $LL_PG_BACKGROUND autovacuums, analyzes or checkpoints during the step) | |

Throughput step: every line delivered exactly once and in order: $TP_EXACT; first send to last delivery
$(ms "$TP_SECONDS") s (wall time of the chatbench run with logins: $TP_WALL s); chatbench CPU $(ms "$TP_CLIENT_CPU") %.
The nodes committed $TP_COMMITTED room lines in $TP_BATCHES batches during the step (login and leave notices
included); mean commit $COMMIT_MEAN_MS ms per batch; commit-duration quantiles (bucket upper bounds, s):
p50 $(quantile 0.5 "$COMMIT_TABLE"), p90 $(quantile 0.9 "$COMMIT_TABLE"), p99 $(quantile 0.99 "$COMMIT_TABLE").
Light load: $LL_RECEIVED of $LL_EXPECTED deliveries, cross-node share $(pct "$LL_CROSS_SHARE"); $LL_LINES lines
committed in $LL_BATCHES batches (notices included); commit duration (bucket upper bounds, s) p50
$(quantile 0.5 "$LL_COMMITS"), p90 $(quantile 0.9 "$LL_COMMITS"), p99 $(quantile 0.99 "$LL_COMMITS"); notification lag
(commit to NOTIFY at a node) p50 $(quantile 0.5 "$LL_LAGS"), p90 $(quantile 0.9 "$LL_LAGS"), p99 $(quantile 0.99 "$LL_LAGS").
Disk: pg_test_fsync, one 8 kB write + fdatasync: $FSYNC_RATE. Load average (other work on the machine)
at start $LOAD_START, at end $LOAD_END.

Commit durations (le in s, batches), throughput step and light load; notification lag, light load:

\`\`\`
$(paste -d ' ' <(echo le; cut -d ' ' -f 1 <<<"$COMMIT_TABLE") <(echo commits-throughput; cut -d ' ' -f 2 <<<"$COMMIT_TABLE") \
    <(echo commits-light; cut -d ' ' -f 2 <<<"$LL_COMMITS") <(echo lag-light; cut -d ' ' -f 2 <<<"$LL_LAGS") | column -t)
\`\`\`
EOF

if [ -n "${KEEP_RESULTS:-}" ]; then cp "$RESULTS" "$KEEP_RESULTS"; fi
log "done"
