#!/usr/bin/env bash
# bench/plot-latency.sh: plots latency distributions written by `chatbench latency --distribution FILE` into one
# PNG, one line per file, the way HdrHistogram's plotter draws them: latency (ms) against percentile on a log
# scale of 1/(1-p), so that each "nine" (90 %, 99 %, 99.9 %, 99.99 %) gets the same width and the tail shows.
#
#   bench/plot-latency.sh [--title TEXT] OUT.png LABEL1=FILE1 [LABEL2=FILE2 ...]
#
# e.g. bench/plot-latency.sh --title "light load, issue 14" /tmp/latency.png before=/tmp/d1.txt after=/tmp/d2.txt
# Each FILE holds '#' comment lines and 'percentile latency_ms' lines (percentile 0-100); the percentile-100 line
# (the maximum) cannot sit on that axis, so it is left off the curve and shown in the legend instead.
# Needs gnuplot (Debian: apt-get install -y gnuplot-nox).
set -euo pipefail

usage() {
    echo "usage: bench/plot-latency.sh [--title TEXT] OUT.png LABEL1=FILE1 [LABEL2=FILE2 ...]" >&2
    exit 2
}

TITLE="Delivery latency by percentile (chatbench latency)"
ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --title) [ $# -ge 2 ] || usage; TITLE=$2; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        -*) echo "unknown option: $1" >&2; usage ;;
        *) ARGS+=("$1"); shift ;;
    esac
done
[ ${#ARGS[@]} -ge 2 ] || usage
OUT=${ARGS[0]}
case "$OUT" in
    *.png) ;;
    *) echo "OUT must end in .png: $OUT" >&2; usage ;;
esac
[ -d "$(dirname "$OUT")" ] || { echo "no such directory: $(dirname "$OUT")" >&2; exit 2; }

if ! command -v gnuplot >/dev/null; then
    echo "gnuplot is missing: apt-get install -y gnuplot-nox" >&2
    exit 1
fi
# Debian's gnuplot-nox has pngcairo (antialiased); fall back to libgd's png where it does not.
TERMINAL=png
if gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo; then TERMINAL=pngcairo; fi

# A gnuplot single-quoted string: no escapes inside but '' for a quote, so labels and paths are taken literally.
quote() { printf "'%s'" "${1//\'/\'\'}"; }

PLOTS=()
for spec in "${ARGS[@]:1}"; do
    [[ "$spec" == ?*=?* ]] || { echo "not LABEL=FILE: $spec" >&2; usage; }
    label=${spec%%=*}
    file=${spec#*=}
    [ -r "$file" ] || { echo "cannot read $file" >&2; exit 2; }
    status=0
    awk '!/^#/ && NF { if (NF != 2 || $1 !~ /^[0-9.]+$/ || $2 !~ /^[0-9.]+$/) bad = 1; else n++ }
         END { exit bad ? 1 : n == 0 ? 3 : 0 }' "$file" || status=$?
    case $status in
        0) ;;
        3) echo "$file has no data points (a run that measured no deliveries?)" >&2; exit 2 ;;
        *) echo "$file is not a chatbench latency --distribution file ('percentile latency_ms' lines)" >&2; exit 2 ;;
    esac
    max=$(awk '!/^#/ && $1 == 100 { print $2 }' "$file")
    [ -n "$max" ] && label="$label (max $max ms)"
    PLOTS+=("$(quote "$file") using (\$1 < 100 ? 1/(1-\$1/100) : NaN):2 with linespoints pt 7 ps 0.5 lw 2 title $(quote "$label")")
done

PLOT_LIST=""
for plot in "${PLOTS[@]}"; do PLOT_LIST+="${PLOT_LIST:+, }$plot"; done

gnuplot <<EOF
set terminal $TERMINAL size 1100,560 font ",10"
set output $(quote "$OUT")
set title $(quote "$TITLE")
set xlabel "percentile"
set ylabel "latency (ms)"
set logscale x
set xrange [1:10000]
# Tic labels are format strings, hence %%.
set xtics ("0%%" 1, "50%%" 2, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000)
set yrange [0:*]
set grid
set key top left
plot $PLOT_LIST
EOF
echo "wrote $OUT" >&2
