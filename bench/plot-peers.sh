#!/usr/bin/env bash
# bench/plot-peers.sh: the light-load server CPU per delivery (us) of securechatd, ngIRCd and InspIRCd side by side,
# plaintext and TLS, from the results that `bench/peers.sh --keep DIR` kept, as one PNG bar chart.
#
#   bench/plot-peers.sh DIR/results.txt OUT.png
#
# Needs gnuplot (Debian: apt-get install -y gnuplot-nox) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# = 2 ] || { echo "usage: bench/plot-peers.sh RESULTS OUT.png" >&2; exit 2; }
RESULTS=$1
OUT=$2
case "$OUT" in
    *.png) ;;
    *) echo "OUT must end in .png: $OUT" >&2; exit 2 ;;
esac
[ -r "$RESULTS" ] || { echo "cannot read $RESULTS" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "gnuplot is missing: apt-get install -y gnuplot-nox" >&2; exit 1; }

DATA=$(mktemp /tmp/plot-peers.XXXXXX)
trap 'rm -f "$DATA"' EXIT
python3 bench/peers/table.py --light-cpu "$RESULTS" >"$DATA"
[ -s "$DATA" ] || { echo "$RESULTS has no light-load runs" >&2; exit 2; }

# Debian's gnuplot-nox has pngcairo (antialiased); fall back to libgd's png where it does not.
TERMINAL=png
if gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo; then TERMINAL=pngcairo; fi
# A gnuplot single-quoted string: no escapes inside but '' for a quote.
quote() { printf "'%s'" "${1//\'/\'\'}"; }

gnuplot <<GP
set terminal $TERMINAL size 800,480 font ",10"
set output $(quote "$OUT")
set title "Light load (bench/peers.sh): server CPU per delivery, lower is better"
set ylabel "server CPU per delivery (us)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:*]
set grid ytics
set key top left
plot $(quote "$DATA") using 2:xtic(1) title "plaintext", '' using 3 title "TLS", \
     '' using 0:2:(sprintf("%.2f", \$2)) with labels offset -2.2,0.7 notitle, \
     '' using 0:3:(sprintf("%.2f", \$3)) with labels offset 2.2,0.7 notitle
GP
echo "wrote $OUT" >&2
