#!/usr/bin/env bash
# Builds the libFuzzer targets if needed and runs one, or all in turn, for SECONDS each. Everything runs in
# memory (EmbeddedChannel); nothing touches the network. Usage:
#   Fuzz/run.sh TARGET SECONDS     TARGET: LineDecoder Command TextSanitizer Names BanFile TLSServer TLSSession
#   Fuzz/run.sh all SECONDS
# Extra libFuzzer flags can follow (e.g. -jobs=2, -max_len=1024). Inputs it finds go to Fuzz/.corpus/TARGET
# (git-ignored; the committed seeds in Fuzz/Corpus/TARGET are only read), crashes to Fuzz/.artifacts/, full
# logs to Fuzz/.logs/. Exits non-zero if any target found a crash or a broken invariant.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(LineDecoder Command TextSanitizer Names BanFile TLSServer TLSSession)
if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET|all SECONDS [libFuzzer flags...]  (targets: ${TARGETS[*]})" >&2
    exit 2
fi
target=$1
seconds=$2
shift 2

# -parse-as-library: libFuzzer supplies `main`, so no target may have top-level code.
# The build folder is the Fuzz package's own, so the normal build is never rebuilt with sanitizers.
build=(swift build -c release --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
nice "${build[@]}"
bin=$("${build[@]}" --show-bin-path)

if [ ! -s Fuzz/Corpus/TLSServer/client-hello ]; then
    # A real ClientHello from the client OpenSSLHandler (in memory), behind the chunking-seed byte.
    ASAN_OPTIONS=detect_leaks=0 SECURECHAT_FUZZ_WRITE_CLIENT_HELLO=Fuzz/Corpus/TLSServer/client-hello \
        "$bin/FuzzTLSServer"
fi

run_one() {
    local name=$1
    shift
    local work=Fuzz/.corpus/$name
    local log=Fuzz/.logs/$name.log
    mkdir -p "$work" Fuzz/.artifacts Fuzz/.logs
    local extra=() asan=detect_leaks=1
    if [ -f "Fuzz/Dictionaries/$name.dict" ]; then
        extra+=("-dict=Fuzz/Dictionaries/$name.dict")
    fi
    if [ "$name" = BanFile ]; then
        # Foundation's Data(contentsOf:) leaves one 4 KiB read buffer that LeakSanitizer reports at exit; the
        # TLS targets keep leak detection, where a leaked SSL object would matter.
        asan=detect_leaks=0
        extra+=(-detect_leaks=0)
    fi
    echo "== $name: ${seconds}s"
    local status=0 TIMEFORMAT='%U %S'
    # No Swift backtracer: it fights ASan's signal handlers and hides the fatalError message. `time` gives the
    # CPU seconds the fuzzer got: on a shared machine its wall-clock run says little about the work done.
    { time ASAN_OPTIONS=$asan SWIFT_BACKTRACE=enable=no nice "$bin/Fuzz$name" \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -artifact_prefix="Fuzz/.artifacts/$name-" \
        "${extra[@]}" "$@" "$work" "Fuzz/Corpus/$name" >"$log" 2>&1 || status=$?; } 2>"$log.cpu"
    local cpu
    cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$log.cpu")
    # The last progress line carries the coverage (cov: edges, ft: features); the final stats the speed.
    local last execs speed
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    local coverage
    coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$last" || echo 'no coverage line')
    local corpus
    corpus=$(sed -n 's/^#[0-9]*.*corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' "$log" | tail -1)
    echo "   $name: ${speed:-?} exec/s, ${execs:-?} executions in ${cpu:-?} CPU s; $coverage; corpus ${corpus:-?}"
    if [ $status -ne 0 ]; then
        echo "   $name FAILED (exit $status): see $log and Fuzz/.artifacts/$name-*" >&2
        grep -E 'Fatal error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|SUMMARY' "$log" | head -5 >&2 || true
        failed=1
    fi
}

failed=0
if [ "$target" = all ]; then
    for name in "${TARGETS[@]}"; do run_one "$name" "$@"; done
else
    run_one "${target#Fuzz}" "$@"
fi
exit $failed
