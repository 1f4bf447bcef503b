#!/usr/bin/env bash
# bench/soak.sh --minutes N: the release securechatd for N minutes under `chatbench soak`, a mixed load over
# both transports with the server's default limits (rate limit 5 lines/s, burst 10, flood cut-off, per-address
# limits, 30 s login and write timeouts):
#   steady chat in 4 rooms and DMs across them (every line checked by sender and sequence number), room moves,
#   logins and quits, abrupt closes and resets, slow readers (evicted), flooders, garbage and half handshakes on
#   the TLS port, TLS on the plaintext port.
# First it fills the server's TLS session cache to its bound (20,000 sessions, ~24 MB; see fill_session_cache
# in bench/proc-sample.sh), as a server that has run for a while has it. Then every 10 s it samples the
# server's RSS, open descriptors and CPU (/proc) and its deliveries, evictions and connections (/metrics). Afterwards it writes OUT/samples.tsv, OUT/samples.md (the table), OUT/summary.md (the
# checks) and OUT/soak.png (RSS and descriptors over time; needs gnuplot: apt-get install -y gnuplot-nox), and
# fails unless:
#   - after the warm-up (WARMUP seconds; default a fifth of the run, 60-300 s) RSS stays within +-5 % of its
#     median while the load runs;
#   - descriptors are back to the baseline (the idle server before the load) once the load has stopped;
#   - no well-behaved client missed, duplicated or reordered a line, got an error line or was disconnected;
#   - every slow reader that stalled for the whole --slow-stall was evicted, and every abusive client was
#     treated as README says (chatbench's "failures" is 0).
#
#   bench/soak.sh --minutes 60
#
# Environment: PORT / TLS_PORT / METRICS_PORT (29200 / 29643 / 29290), SCRATCH_PATH (.build), SKIP_BUILD=1,
# OUT (bench/soak-results), WARMUP (seconds), SOAK_ARGS (extra chatbench soak options, e.g. "--rooms 6").
# Loopback only; the script stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=""
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) MINUTES=${2:-}; shift 2 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
if ! [[ "$MINUTES" =~ ^[0-9]+$ ]] || [ "$MINUTES" -lt 1 ]; then
    echo "usage: bench/soak.sh --minutes N (N >= 1)" >&2
    exit 2
fi

PORT=${PORT:-29200}
TLS_PORT=${TLS_PORT:-29643}
METRICS_PORT=${METRICS_PORT:-29290}
SCRATCH_PATH=${SCRATCH_PATH:-.build}
OUT=${OUT:-bench/soak-results}
DURATION=$((MINUTES * 60))
DEFAULT_WARMUP=$((DURATION / 5))
[ "$DEFAULT_WARMUP" -lt 60 ] && DEFAULT_WARMUP=60
[ "$DEFAULT_WARMUP" -gt 300 ] && DEFAULT_WARMUP=300
WARMUP=${WARMUP:-$DEFAULT_WARMUP}
INTERVAL=10
SOURCES=127.0.0.2-127.0.0.254
WORK=$(mktemp -d /tmp/soak.XXXXXX)
SERVER_PID=""
SAMPLER_PID=""
LOAD_PID=""
mkdir -p "$OUT"

# shellcheck source=proc-sample.sh
. bench/proc-sample.sh

log() { printf '== %s\n' "$*" >&2; }

cleanup() {
    if [ -n "$LOAD_PID" ]; then kill "$LOAD_PID" 2>/dev/null || true; wait "$LOAD_PID" 2>/dev/null || true; fi
    if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; fi
    if [ -n "$SERVER_PID" ]; then stop_pid "$SERVER_PID" 30; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if ! command -v gnuplot >/dev/null; then
    log "gnuplot is missing, so there will be no PNG: apt-get install -y gnuplot-nox"
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building release securechatd and chatbench"
    swift build -c release --scratch-path "$SCRATCH_PATH" --product securechatd >&2
    swift build -c release --scratch-path "$SCRATCH_PATH" --product chatbench >&2
fi
BIN="$SCRATCH_PATH/release"

CERTS="$WORK/certs"
SERVER_ARGS=(--host 127.0.0.1 --port "$PORT" --tls-port "$TLS_PORT" --metrics-port "$METRICS_PORT"
    --certs-dir "$CERTS" --log-level warning)
"$BIN/securechatd" "${SERVER_ARGS[@]}" >"$WORK/server.out" 2>"$OUT/server.log" &
SERVER_PID=$!
wait_for_listen "$PORT" "$SERVER_PID" 60 || { cat "$OUT/server.log" >&2; exit 1; }
sleep 2
START_RSS=$(rss_kb "$SERVER_PID")
fill_session_cache "$BIN/chatbench" "$CERTS/ca.crt" "$PORT" "$TLS_PORT" "$METRICS_PORT"
sleep 5
BASE_RSS=$(rss_kb "$SERVER_PID")
BASE_FDS=$(fd_count "$SERVER_PID")
log "securechatd $SERVER_PID: RSS $START_RSS kB at start, $BASE_RSS kB with the TLS session cache full;"
log "baseline $BASE_FDS descriptors; load for $MINUTES min, warm-up $WARMUP s"

# Sampler: one row every INTERVAL s. CPU is the server's share of one CPU over the interval; deliveries and
# evictions are totals since start (per-interval deliveries are in the deliveries_per_s column).
(
    start=$SECONDS
    last_ticks=$(cpu_ticks "$SERVER_PID")
    last_deliveries=0
    printf 't_s\trss_kb\tfds\tcpu_pct\tconnections\tdeliveries\tdeliveries_per_s\tevict_overflow\tevict_write_timeout\tevict_flooding\tevict_login_timeout\trate_limited\tlogins\n'
    while kill -0 "$SERVER_PID" 2>/dev/null; do
        sleep "$INTERVAL"
        ticks=$(cpu_ticks "$SERVER_PID") || break
        metrics=$(metrics_text "$METRICS_PORT")
        deliveries=$(metric_sum "$metrics" securechat_deliveries_total)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
            "$((SECONDS - start))" "$(rss_kb "$SERVER_PID")" "$(fd_count "$SERVER_PID")" \
            "$(awk -v d="$((ticks - last_ticks))" -v hz="$CLOCK_TICKS" -v s="$INTERVAL" 'BEGIN { printf "%.1f", d * 100 / hz / s }')" \
            "$(metric_sum "$metrics" securechat_connections)" "$deliveries" \
            "$(((deliveries - last_deliveries) / INTERVAL))" \
            "$(metric_sum "$metrics" securechat_evictions_total 'reason="outbox_overflow"')" \
            "$(metric_sum "$metrics" securechat_evictions_total 'reason="write_timeout"')" \
            "$(metric_sum "$metrics" securechat_evictions_total 'reason="flooding"')" \
            "$(metric_sum "$metrics" securechat_evictions_total 'reason="login_timeout"')" \
            "$(metric_sum "$metrics" securechat_rate_limited_lines_total)" \
            "$(metric_sum "$metrics" securechat_logins_total)"
        last_ticks=$ticks
        last_deliveries=$deliveries
    done
) >"$OUT/samples.tsv" &
SAMPLER_PID=$!
LOAD_START=$SECONDS

# shellcheck disable=SC2086 # SOAK_ARGS is a list of options
"$BIN/chatbench" soak --duration "$DURATION" --host 127.0.0.1 --port "$PORT" --tls-port "$TLS_PORT" \
    --ca "$CERTS/ca.crt" --source-addresses "$SOURCES" ${SOAK_ARGS:-} >"$WORK/chatbench.out" 2>"$OUT/chatbench.log" &
LOAD_PID=$!
LOAD_STATUS=0
wait "$LOAD_PID" || LOAD_STATUS=$?
LOAD_PID=""
LOAD_END=$((SECONDS - LOAD_START))
cat "$WORK/chatbench.out" >&2
tail -n 1 "$WORK/chatbench.out" >"$OUT/chatbench.json"
log "load stopped after $LOAD_END s (chatbench exit status $LOAD_STATUS); waiting for descriptors to return to $BASE_FDS"
# Half handshakes the load left are closed by the server at its 30 s login timeout at the latest.
AFTER_FDS=$(wait_for_fds "$SERVER_PID" "$BASE_FDS" 90)
sleep "$INTERVAL"
AFTER_FDS_SETTLED=$(fd_count "$SERVER_PID")
AFTER_RSS=$(rss_kb "$SERVER_PID")
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
FINAL_METRICS=$(metrics_text "$METRICS_PORT")
stop_pid "$SERVER_PID" 30
SERVER_PID=""
SERVER_EXIT=$STOP_STATUS

# --- analysis -----------------------------------------------------------------------------------------------
# RSS after the warm-up, while the load ran: median, range, and the worst deviation from the median.
read -r MEDIAN MIN_RSS MAX_RSS WORST SLOPE COUNT < <(awk -F'\t' -v w="$WARMUP" -v end="$LOAD_END" '
    NR > 1 && $1 >= w && $1 <= end { n++; t[n] = $1; r[n] = $2 }
    END {
        if (n == 0) { print "0 0 0 0 0 0"; exit }
        for (i = 1; i <= n; i++) s[i] = r[i]
        for (i = 2; i <= n; i++) { v = s[i]; j = i - 1; while (j > 0 && s[j] > v) { s[j + 1] = s[j]; j-- } s[j + 1] = v }
        median = (n % 2) ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
        worst = 0
        for (i = 1; i <= n; i++) { d = (r[i] - median) * 100 / median; if (d < 0) d = -d; if (d > worst) worst = d }
        # Least-squares slope of RSS over time, in MB per hour: a leak shows as a steady climb.
        mt = 0; mr = 0
        for (i = 1; i <= n; i++) { mt += t[i]; mr += r[i] }
        mt /= n; mr /= n; num = 0; den = 0
        for (i = 1; i <= n; i++) { num += (t[i] - mt) * (r[i] - mr); den += (t[i] - mt) ^ 2 }
        slope = den > 0 ? num / den * 3600 / 1024 : 0
        printf "%d %d %d %.2f %.2f %d\n", median, s[1], s[n], worst, slope, n
    }' "$OUT/samples.tsv")
RSS_OK=$(awk -v w="$WORST" -v n="$COUNT" 'BEGIN { print (n >= 3 && w <= 5) ? 1 : 0 }')
FDS_OK=$([ "$AFTER_FDS" = "$BASE_FDS" ] && [ "$AFTER_FDS_SETTLED" = "$BASE_FDS" ] && echo 1 || echo 0)
json() { jq -r ".$1 // \"n/a\"" "$OUT/chatbench.json" 2>/dev/null || echo n/a; }
WELL_BEHAVED=$(json well_behaved_ok)
FAILURES=$(json failures)
LINES_OK=$([ "$WELL_BEHAVED" = true ] && echo 1 || echo 0)
OTHERS_OK=$([ "$FAILURES" = 0 ] && [ "$LOAD_STATUS" = 0 ] && echo 1 || echo 0)
PEAK_FDS=$(awk -F'\t' 'NR > 1 && $3 > m { m = $3 } END { print m + 0 }' "$OUT/samples.tsv")
PEAK_CONN=$(awk -F'\t' 'NR > 1 && $5 > m { m = $5 } END { print m + 0 }' "$OUT/samples.tsv")
MEAN_CPU=$(awk -F'\t' -v end="$LOAD_END" 'NR > 1 && $1 <= end { s += $4; n++ } END { printf "%.1f", n ? s / n : 0 }' "$OUT/samples.tsv")
pass() { [ "$1" = 1 ] && echo pass || echo "**FAIL**"; }

# The table: every sample, and a shorter one (about 12 rows) for BENCHMARKS.md.
awk -F'\t' '
    NR == 1 { print "| t (min) | RSS (MB) | fds | CPU % | connections | deliveries | deliveries/s | evicted: overflow / write timeout / flooding / login timeout | rate-limited lines | logins |"; print "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"; next }
    { printf "| %.1f | %.1f | %d | %s | %d | %d | %d | %d / %d / %d / %d | %d | %d |\n", $1 / 60, $2 / 1024, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }' \
    "$OUT/samples.tsv" >"$OUT/samples.md"
ROWS=$(($(wc -l <"$OUT/samples.tsv") - 1))
STEP=$(((ROWS + 11) / 12))
[ "$STEP" -lt 1 ] && STEP=1
awk -v step="$STEP" -v rows="$ROWS" 'NR <= 2 || (NR - 2) % step == 0 || NR == rows + 2' "$OUT/samples.md" >"$OUT/samples-short.md"

{
    echo "| check | measured | verdict |"
    echo "| --- | --- | --- |"
    echo "| RSS flat within +-5 % after the warm-up ($WARMUP s), while the load ran | median $((MEDIAN / 1024)) MB, range $((MIN_RSS / 1024))-$((MAX_RSS / 1024)) MB over $COUNT samples, worst deviation $WORST %, trend $SLOPE MB/h | $(pass "$RSS_OK") |"
    echo "| descriptors back to baseline when the load stopped | baseline $BASE_FDS; peak $PEAK_FDS; after $AFTER_FDS, and $AFTER_FDS_SETTLED $INTERVAL s later | $(pass "$FDS_OK") |"
    echo "| no well-behaved client missed, duplicated or reordered a line, got an error or was disconnected | $(json expected) deliveries expected, $(json received) received, $(json missing) missing, $(json duplicates) duplicated, $(json out_of_order) out of order, $(json unexpected) unexpected; errors $(json steady_errors), disconnected $(json steady_lost), mover errors $(json mover_errors) | $(pass "$LINES_OK") |"
    echo "| abusive and churning clients treated as README says | $(json failures) failures; $(json slow_evicted) of $(json slow_readers) slow readers evicted ($(json slow_cut_short) cut short by the end), $(json flood_disconnects) of $(json floods) floods cut off, $(json bursts) bursts refused in part, $(json garbage) garbage, $(json half_handshakes) half handshakes, $(json tls_on_plaintext) TLS on plaintext closed | $(pass "$OTHERS_OK") |"
    echo "| server | RSS $START_RSS kB at start, $BASE_RSS kB with the TLS session cache full (before the load), $AFTER_RSS kB after the load; mean CPU $MEAN_CPU % of one core; peak $PEAK_CONN connections; exit status $SERVER_EXIT after SIGTERM | |"
    echo "| load | $LOAD_END s; steady latency p50 $(json latency_p50_ms) ms, p99 $(json latency_p99_ms) ms, max $(json latency_max_ms) ms; deliveries $(metric_sum "$FINAL_METRICS" securechat_deliveries_total); logins $(metric_sum "$FINAL_METRICS" securechat_logins_total); evictions $(metric_sum "$FINAL_METRICS" securechat_evictions_total); lines refused by the rate limit $(metric_sum "$FINAL_METRICS" securechat_rate_limited_lines_total); TLS handshake failures $(metric_sum "$FINAL_METRICS" securechat_tls_handshake_failures_total); TLS on the plaintext port $(metric_sum "$FINAL_METRICS" securechat_tls_on_plaintext_port_total) | |"
} >"$OUT/summary.md"
grep '^securechat_' <<<"$FINAL_METRICS" >"$OUT/final-metrics.txt" || true

if command -v gnuplot >/dev/null; then
    gnuplot <<EOF
set terminal pngcairo size 1100,560 font ",10"
set output "$OUT/soak.png"
set title "securechatd under bench/soak.sh --minutes $MINUTES: RSS and open descriptors, every $INTERVAL s"
set xlabel "minutes since the load started"
set ylabel "RSS (MB)"
set y2label "open descriptors"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set grid
set key below horizontal
set datafile separator "\t"
set arrow from $WARMUP/60.0, graph 0 to $WARMUP/60.0, graph 1 nohead dt 2 lc rgb "gray40"
set label "end of warm-up" at $WARMUP/60.0, graph 0.05 offset 0.5,0 tc rgb "gray40"
set arrow from $LOAD_END/60.0, graph 0 to $LOAD_END/60.0, graph 1 nohead dt 2 lc rgb "gray40"
set label "load stops" at $LOAD_END/60.0, graph 0.05 right offset -0.5,0 tc rgb "gray40"
plot "$OUT/samples.tsv" using (\$1/60):(\$2/1024) skip 1 with linespoints pt 7 ps 0.4 lw 2 title "RSS (MB)" axes x1y1, \
     "" using (\$1/60):3 skip 1 with steps lw 1.5 title "open descriptors" axes x1y2, \
     $BASE_FDS axes x1y2 dt 3 lc rgb "black" title "baseline descriptors ($BASE_FDS)"
EOF
    log "wrote $OUT/soak.png"
fi

cat "$OUT/summary.md" >&2
if [ "$RSS_OK" = 1 ] && [ "$FDS_OK" = 1 ] && [ "$LINES_OK" = 1 ] && [ "$OTHERS_OK" = 1 ] && [ "$SERVER_EXIT" = 0 ]; then
    log "soak passed (results in $OUT)"
else
    log "soak FAILED (results in $OUT)"
    exit 1
fi
