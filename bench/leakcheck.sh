#!/usr/bin/env bash
# bench/leakcheck.sh: does securechatd give back everything a connection took?
#
#  1. Churn (release build): securechatd with its default limits; its TLS session cache filled to its bound
#     (20,000 sessions, see fill_session_cache in proc-sample.sh); a `chatbench churn` of WARMUP connections;
#     a baseline (RSS, open descriptors), a churn of CONNECTIONS (10,000) TLS and plaintext connections (log in,
#     chat, /quit, close or reset; drops before login and mid-handshake), sampled every second, and the same
#     figures once every connection has gone. Passes if the descriptors are exactly the baseline again and RSS
#     is within RSS_TOLERANCE % of it (see BENCHMARKS.md, "Leak check", for why these tolerances).
#  2. LeakSanitizer (debug build, GCC's liblsan preloaded; valgrind 3.19 cannot run a Swift server, see below):
#     securechatd, a churn of LSAN_CONNECTIONS (500) with three certificate reloads (SIGHUP), SIGTERM, and the
#     leak report searched for records (direct or indirect leaks) whose allocation stack runs through OpenSSL
#     (libssl/libcrypto: SSL_new, SSL_CTX_new, BIO_new, X509, EVP_PKEY, ...). Passes if there is none.
#
#   bench/leakcheck.sh               both parts
#   bench/leakcheck.sh --churn-only  part 1
#   bench/leakcheck.sh --lsan-only   part 2
#
# Environment: CONNECTIONS (10000), WARMUP (2000), CONCURRENCY (32), RSS_TOLERANCE (2), LSAN_CONNECTIONS (500),
# PORT / TLS_PORT / METRICS_PORT (29100 / 29543 / 29190), SCRATCH_PATH (.build), SKIP_BUILD=1 to reuse the builds,
# OUT (bench/leakcheck-results: samples, logs, the leak report). Part 2 needs LeakSanitizer's runtime
# (apt-get install -y liblsan0). Loopback only; the script stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

RUN_CHURN=1
RUN_LSAN=1
for arg in "$@"; do
    case "$arg" in
        --churn-only) RUN_LSAN=0 ;;
        --lsan-only) RUN_CHURN=0 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

CONNECTIONS=${CONNECTIONS:-10000}
WARMUP=${WARMUP:-2000}
CONCURRENCY=${CONCURRENCY:-32}
RSS_TOLERANCE=${RSS_TOLERANCE:-2}
LSAN_CONNECTIONS=${LSAN_CONNECTIONS:-500}
PORT=${PORT:-29100}
TLS_PORT=${TLS_PORT:-29543}
METRICS_PORT=${METRICS_PORT:-29190}
SCRATCH_PATH=${SCRATCH_PATH:-.build}
OUT=${OUT:-bench/leakcheck-results}
# Clients spread over 253 loopback addresses, so the server's per-address limits (16 connections, 5 new
# connections/s) stay at their defaults and are not what the churn runs into.
SOURCES=127.0.0.2-127.0.0.254
WORK=$(mktemp -d /tmp/leakcheck.XXXXXX)
SERVER_PID=""
SAMPLER_PID=""
mkdir -p "$OUT"

# shellcheck source=proc-sample.sh
. bench/proc-sample.sh

log() { printf '== %s\n' "$*" >&2; }

cleanup() {
    if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; fi
    if [ -n "$SERVER_PID" ]; then stop_pid "$SERVER_PID" 30; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    if [ "$RUN_CHURN" = 1 ]; then
        log "building release securechatd and chatbench"
        swift build -c release --scratch-path "$SCRATCH_PATH" --product securechatd >&2
    fi
    swift build -c release --scratch-path "$SCRATCH_PATH" --product chatbench >&2
    if [ "$RUN_LSAN" = 1 ]; then
        log "building debug securechatd"
        swift build --scratch-path "$SCRATCH_PATH" --product securechatd >&2
    fi
fi
CHATBENCH="$SCRATCH_PATH/release/chatbench"
SERVER_ARGS=(--host 127.0.0.1 --port "$PORT" --tls-port "$TLS_PORT" --metrics-port "$METRICS_PORT")

# churn CERTS COUNT CONCURRENCY TIMEOUT LABEL: one chatbench churn; its JSON line goes to $OUT/LABEL.json.
churn() {
    log "chatbench churn: $2 connections, $3 at a time ($5)"
    "$CHATBENCH" churn --connections "$2" --concurrency "$3" --timeout "$4" --host 127.0.0.1 --port "$PORT" \
        --tls-port "$TLS_PORT" --ca "$1/ca.crt" --source-addresses "$SOURCES" >"$WORK/$5.out"
    cat "$WORK/$5.out" >&2
    tail -n 1 "$WORK/$5.out" >"$OUT/$5.json"
    local failed
    failed=$(jq -r '.failed' "$OUT/$5.json")
    if [ "$failed" != 0 ]; then
        log "FAIL: $failed connections of the $5 churn failed"
        return 1
    fi
}

# open_connections: what securechatd counts as open now (both transports).
open_connections() {
    metric_sum "$(metrics_text "$METRICS_PORT")" securechat_connections
}

# settle SECONDS: waits until the server has no connection open (up to SECONDS), then 3 s more.
settle() {
    local deadline=$((SECONDS + $1))
    while [ "$(open_connections)" != 0 ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 1; done
    sleep 3
}

STATUS=0

# --- part 1: churn ------------------------------------------------------------------------------------------
if [ "$RUN_CHURN" = 1 ]; then
    CERTS="$WORK/certs"
    "$SCRATCH_PATH/release/securechatd" "${SERVER_ARGS[@]}" --log-level warning --certs-dir "$CERTS" \
        >"$WORK/server.out" 2>"$OUT/server-release.log" &
    SERVER_PID=$!
    wait_for_listen "$PORT" "$SERVER_PID" 60 || { cat "$OUT/server-release.log" >&2; exit 1; }
    START_RSS=$(rss_kb "$SERVER_PID")
    START_FDS=$(fd_count "$SERVER_PID")
    log "securechatd $SERVER_PID listening: RSS $START_RSS kB, $START_FDS descriptors"

    fill_session_cache "$CHATBENCH" "$CERTS/ca.crt" "$PORT" "$TLS_PORT" "$METRICS_PORT"
    settle 30
    FILLED_RSS=$(rss_kb "$SERVER_PID")
    log "TLS session cache full: RSS $FILLED_RSS kB"
    churn "$CERTS" "$WARMUP" "$CONCURRENCY" 30 warmup || STATUS=1
    settle 60
    BASE_RSS=$(rss_kb "$SERVER_PID")
    BASE_FDS=$(fd_count "$SERVER_PID")
    log "baseline after warm-up: RSS $BASE_RSS kB, $BASE_FDS descriptors"

    # Sampler: every second, seconds since the churn began, RSS and descriptors.
    (
        start=$SECONDS
        while kill -0 "$SERVER_PID" 2>/dev/null; do
            printf '%s\t%s\t%s\n' "$((SECONDS - start))" "$(rss_kb "$SERVER_PID")" "$(fd_count "$SERVER_PID")"
            sleep 1
        done
    ) >"$OUT/churn-samples.tsv" &
    SAMPLER_PID=$!
    CHURN_START=$SECONDS
    churn "$CERTS" "$CONNECTIONS" "$CONCURRENCY" 30 churn || STATUS=1
    CHURN_SECONDS=$((SECONDS - CHURN_START))
    settle 60
    AFTER_FDS=$(wait_for_fds "$SERVER_PID" "$BASE_FDS" 60)
    AFTER_RSS=$(rss_kb "$SERVER_PID")
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
    PEAK_RSS=$(awk -F'\t' 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$OUT/churn-samples.tsv")
    PEAK_FDS=$(awk -F'\t' 'BEGIN { m = 0 } $3 > m { m = $3 } END { print m }' "$OUT/churn-samples.tsv")
    WARNINGS=$(grep -c . "$OUT/server-release.log" || true)
    stop_pid "$SERVER_PID" 30
    SERVER_PID=""
    RELEASE_EXIT=$STOP_STATUS

    RSS_CHANGE=$(awk -v a="$AFTER_RSS" -v b="$BASE_RSS" 'BEGIN { printf "%+.2f", (a - b) * 100 / b }')
    RSS_OK=$(awk -v a="$AFTER_RSS" -v b="$BASE_RSS" -v t="$RSS_TOLERANCE" 'BEGIN { print ((a - b) * 100 / b <= t) ? 1 : 0 }')
    FDS_OK=$([ "$AFTER_FDS" = "$BASE_FDS" ] && echo 1 || echo 0)
    {
        echo "| figure | value |"
        echo "| --- | --- |"
        echo "| fresh server | RSS $START_RSS kB, $START_FDS descriptors |"
        echo "| TLS session cache filled (20,500 full handshakes) | RSS $FILLED_RSS kB |"
        echo "| warm-up churn | $WARMUP connections ($(jq -r '.seconds' "$OUT/warmup.json") s) |"
        echo "| baseline (after warm-up, no connection open) | RSS $BASE_RSS kB, $BASE_FDS descriptors |"
        echo "| churn | $CONNECTIONS connections, $CONCURRENCY at a time, $(jq -r '.tls_connections' "$OUT/churn.json") TLS / $(jq -r '.plaintext_connections' "$OUT/churn.json") plaintext, ${CHURN_SECONDS} s, $(jq -r '.failed' "$OUT/churn.json") failed |"
        echo "| churn mix (completed) | $(jq -r '[to_entries[] | select(.key | endswith("_ok")) | "\(.key | rtrimstr("_ok")) \(.value)"] | join(", ")' "$OUT/churn.json") |"
        echo "| during the churn (peak of 1 s samples) | RSS $PEAK_RSS kB, $PEAK_FDS descriptors |"
        echo "| after (every connection gone) | RSS $AFTER_RSS kB ($RSS_CHANGE % of baseline), $AFTER_FDS descriptors |"
        echo "| verdict | descriptors $([ "$FDS_OK" = 1 ] && echo "equal to baseline: pass" || echo "NOT back to baseline: FAIL"); RSS $([ "$RSS_OK" = 1 ] && echo "within +$RSS_TOLERANCE %: pass" || echo "over +$RSS_TOLERANCE %: FAIL") |"
        echo "| server | exit status $RELEASE_EXIT after SIGTERM; $WARNINGS log lines at warning or above |"
    } >"$OUT/churn-summary.md"
    cat "$OUT/churn-summary.md" >&2
    if [ "$FDS_OK" != 1 ] || [ "$RSS_OK" != 1 ] || [ "$RELEASE_EXIT" != 0 ]; then STATUS=1; fi
fi

# --- part 2: LeakSanitizer --------------------------------------------------------------------------------------
# Why LeakSanitizer and not valgrind: valgrind 3.19 (Debian 12) cannot run a Swift server. It gives up on the
# DWARF 5 debug information clang writes for the C parts ("unhandled dwarf2 abbrev form code 0x25"), and with the
# debug information stripped it crashes in libdispatch's signal-handling thread (_dispatch_sig_thread,
# sigsuspend). GCC's LeakSanitizer runtime (Debian's liblsan0) needs no rebuild: preloaded into the debug build it
# takes over malloc and free for the whole process, OpenSSL included, and at exit lists every block no longer
# reachable, with the stack that allocated it (the slow unwinder, so stacks go through libcrypto too).
if [ "$RUN_LSAN" = 1 ]; then
    LSAN_LIB=${LSAN_LIB:-/usr/lib/x86_64-linux-gnu/liblsan.so.0}
    [ -f "$LSAN_LIB" ] || { log "LeakSanitizer's runtime is missing: apt-get install -y liblsan0"; exit 1; }
    CERTS="$WORK/certs-lsan"
    REPORT_PREFIX="$WORK/lsan"
    log "debug securechatd under LeakSanitizer"
    # exitcode=0: the server's own exit status stays visible; the report is judged below.
    LD_PRELOAD="$LSAN_LIB" \
        LSAN_OPTIONS="fast_unwind_on_malloc=0:malloc_context_size=40:exitcode=0:log_path=$REPORT_PREFIX" \
        "$SCRATCH_PATH/debug/securechatd" "${SERVER_ARGS[@]}" --log-level notice --certs-dir "$CERTS" \
        >"$WORK/server-lsan.out" 2>"$OUT/server-lsan.log" &
    SERVER_PID=$!
    wait_for_listen "$PORT" "$SERVER_PID" 120 || { cat "$OUT/server-lsan.log" >&2; exit 1; }
    # Three certificate reloads (SIGHUP) during the churn: each builds a new SSL_CTX from the files (X509 and
    # EVP_PKEY read again), and the one it replaces must be freed once the last connection using it has gone.
    (for _ in 1 2 3; do sleep 2; kill -HUP "$SERVER_PID" 2>/dev/null || true; done) &
    HUP_PID=$!
    churn "$CERTS" "$LSAN_CONNECTIONS" 8 60 lsan-churn || STATUS=1
    wait "$HUP_PID" || true
    RELOADS=$(grep -c "TLS certificate reloaded" "$OUT/server-lsan.log" || true)
    settle 60
    log "SIGTERM; LeakSanitizer writes its report at exit"
    stop_pid "$SERVER_PID" 120
    SERVER_PID=""
    LSAN_EXIT=$STOP_STATUS
    REPORT="$OUT/lsan-report.txt"
    cat "$REPORT_PREFIX".* >"$REPORT" 2>/dev/null || : >"$REPORT"

    # Every leak record ("Direct leak of ..." / "Indirect leak of ..." and its stack); those with an OpenSSL
    # frame (libssl, libcrypto, or an SSL/BIO/X509/EVP_PKEY function of ours or theirs) apart.
    awk -v openssl="$OUT/lsan-openssl-leaks.txt" -v other="$OUT/lsan-other-leaks.txt" '
        function flush() {
            if (record == "") return
            if (record ~ /libssl|libcrypto|SSL_new|SSL_CTX_new|BIO_new|X509|EVP_PKEY/) { print record > openssl; n++ }
            else { print record > other; m++ }
            record = ""
        }
        /^(Direct|Indirect) leak of/ { flush(); record = $0 "\n"; collecting = 1; next }
        collecting && /^[[:space:]]*$/ { collecting = 0; flush(); next }
        collecting { record = record $0 "\n" }
        END { flush(); printf "%d %d\n", n + 0, m + 0 }' "$REPORT" >"$WORK/leak-counts"
    read -r OPENSSL_RECORDS OTHER_RECORDS <"$WORK/leak-counts"
    LSAN_SUMMARY=$(grep -m1 "^SUMMARY: LeakSanitizer" "$REPORT" || echo "no leak reported")
    # Where the other records were allocated: the source lines of ours in their stacks.
    OTHER_SITES=$( (grep -ho 'Sources/[^ ]*\.swift:[0-9]*' "$OUT/lsan-other-leaks.txt" 2>/dev/null || true) \
        | sort | uniq -c | sort -rn | head -5 | awk '{ printf "%s%s (%s)", sep, $2, $1; sep = ", " }')
    {
        echo "| figure | value |"
        echo "| --- | --- |"
        echo "| churn under LeakSanitizer | $LSAN_CONNECTIONS connections, 8 at a time, $(jq -r '.tls_connections' "$OUT/lsan-churn.json") TLS / $(jq -r '.plaintext_connections' "$OUT/lsan-churn.json") plaintext, $(jq -r '.failed' "$OUT/lsan-churn.json") failed |"
        echo "| certificate reloads (SIGHUP) during the churn | $RELOADS |"
        echo "| shutdown | SIGTERM, exit status $LSAN_EXIT |"
        echo "| LeakSanitizer | ${LSAN_SUMMARY#SUMMARY: LeakSanitizer: } |"
        echo "| leak records with an OpenSSL allocation stack (SSL, SSL_CTX, BIO, X509, EVP_PKEY, ...) | $OPENSSL_RECORDS |"
        echo "| other leak records | $OTHER_RECORDS${OTHER_SITES:+, allocated at $OTHER_SITES} |"
        echo "| verdict | $([ "$OPENSSL_RECORDS" = 0 ] && echo "no SSL, SSL_CTX, BIO, X509 or EVP_PKEY leaked: pass" || echo "OpenSSL objects leaked: FAIL (see lsan-openssl-leaks.txt)") |"
    } >"$OUT/lsan-summary.md"
    cat "$OUT/lsan-summary.md" >&2
    if [ "$OPENSSL_RECORDS" != 0 ] || [ "$LSAN_EXIT" != 0 ] || [ "$RELOADS" != 3 ]; then STATUS=1; fi
fi

if [ "$STATUS" = 0 ]; then log "leak check passed (results in $OUT)"; else log "leak check FAILED (results in $OUT)"; fi
exit "$STATUS"
