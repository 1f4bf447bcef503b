# Sourced by bench/leakcheck.sh and bench/soak.sh: what a process holds, from /proc, and securechatd's
# counters from its /metrics endpoint.

# Resident memory in kB (VmRSS); 0 if the process is gone.
rss_kb() {
    awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# Open file descriptors.
fd_count() {
    find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

# User + system CPU time in clock ticks (fields 14 and 15 of /proc/PID/stat, counted after the ") " that ends
# the command name).
cpu_ticks() {
    sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}

CLOCK_TICKS=$(getconf CLK_TCK)

# metrics_text PORT: the Prometheus text of securechatd's /metrics on 127.0.0.1:PORT (empty if unreachable).
metrics_text() {
    curl -s --max-time 5 "http://127.0.0.1:$1/metrics" || true
}

# metric_sum TEXT NAME [LABEL]: the sum of every series of NAME in TEXT, or only those whose labels contain
# LABEL (e.g. 'reason="outbox_overflow"').
metric_sum() {
    awk -v name="$2" -v label="${3:-}" '
        $1 !~ /^#/ {
            split($1, parts, "{")
            if (parts[1] == name && (label == "" || index($1, label) > 0)) { sum += $NF }
        }
        END { printf "%d\n", sum }' <<<"$1"
}

# wait_for_listen PORT PID SECONDS: until 127.0.0.1:PORT accepts; fails if PID dies or the time runs out.
wait_for_listen() {
    local deadline=$((SECONDS + $3))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.5
    done
    return 1
}

# wait_for_fds PID COUNT SECONDS: until PID holds COUNT descriptors; prints the last count seen.
wait_for_fds() {
    local deadline=$((SECONDS + $3)) now
    while :; do
        now=$(fd_count "$1")
        if [ "$now" -eq "$2" ] || [ "$SECONDS" -ge "$deadline" ]; then
            echo "$now"
            return 0
        fi
        sleep 1
    done
}

# stop_pid PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL. Sets STOP_STATUS to the exit status (call it
# in the shell that started PID, not in $(...): only the parent can wait for it).
stop_pid() {
    local pid=$1
    STOP_STATUS=0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq $(($2 * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || STOP_STATUS=$?
}

# fill_session_cache CHATBENCH CA PORT TLS_PORT METRICS_PORT: full TLS handshakes until the server has done
# 20,500 (securechat_tls_handshakes_total). The server keeps up to 20,000 TLS sessions for resumption
# (TLSContext+Configuration.swift), about 1.2 kB each, and an entry is only dropped when a new one needs its
# place: until the cache is full, RSS grows by that much per handshake, after that it stays put. A run that
# starts with the cache full measures the server, not the filling of a bounded cache.
fill_session_cache() {
    local done=0
    while [ "$done" -lt 20500 ]; do
        "$1" handshakes --tls --concurrency 16 --duration 10 --host 127.0.0.1 --port "$3" --tls-port "$4" \
            --ca "$2" --source-addresses 127.0.0.2-127.0.0.254 --quiet >/dev/null
        done=$(metric_sum "$(metrics_text "$5")" securechat_tls_handshakes_total)
        printf '== TLS session cache: %s handshakes so far\n' "$done" >&2
    done
}
