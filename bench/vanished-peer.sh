#!/usr/bin/env bash
# bench/vanished-peer.sh: how long securechatd takes to notice a peer that vanished without a FIN.
#
# Runs the server and one client in two network namespaces made here (a veth pair, addresses 10.200.0.1 and
# 10.200.0.2 that exist only inside them), logs the client in, then takes the client's link down: from then
# on nothing the server sends is answered, as with an unplugged machine or an expired NAT entry. Prints how
# long the server took to log the user out. Needs root (ip netns). Cleans up after itself.
#
#   bench/vanished-peer.sh                  defaults: keepalive idle 60 s, interval 15 s, 4 probes (~120 s)
#   bench/vanished-peer.sh 5 2 3            keepalive idle 5 s, interval 2 s, 3 probes (~11 s)
#   MODE=busy bench/vanished-peer.sh ...    the server keeps writing to the peer (TCP_USER_TIMEOUT path)
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE=${1:-60}; INTERVAL=${2:-15}; PROBES=${3:-4}; MODE=${MODE:-idle}
BIN=${BIN:-.build/release/securechatd}
[ -x "$BIN" ] || swift build -c release --product securechatd >&2
NS_S=sc-vanish-server; NS_C=sc-vanish-client
LOG=$(mktemp /tmp/vanished-peer.XXXXXX)
cleanup() {
    # The clients are pipelines in their own process groups: kill the whole group, sleep included.
    [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null || true
    [ -n "${TALKER:-}" ] && kill -- -"$TALKER" 2>/dev/null || true
    [ -n "${CLIENT:-}" ] && kill -- -"$CLIENT" 2>/dev/null || true
    ip netns del "$NS_S" 2>/dev/null || true
    ip netns del "$NS_C" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add "$NS_S"; ip netns add "$NS_C"
ip link add sc-veth-s type veth peer name sc-veth-c
ip link set sc-veth-s netns "$NS_S"; ip link set sc-veth-c netns "$NS_C"
ip -n "$NS_S" addr add 10.200.0.1/24 dev sc-veth-s; ip -n "$NS_S" link set sc-veth-s up; ip -n "$NS_S" link set lo up
ip -n "$NS_C" addr add 10.200.0.2/24 dev sc-veth-c; ip -n "$NS_C" link set sc-veth-c up; ip -n "$NS_C" link set lo up

ip netns exec "$NS_S" "$BIN" --host 10.200.0.1 --port 9000 --no-tls --rate 0 \
    --keepalive-idle "$IDLE" --keepalive-interval "$INTERVAL" --keepalive-probes "$PROBES" </dev/null >/dev/null 2>"$LOG" &
SERVER=$!
sleep 1
# The client logs in and then stays silent; it never closes (its link goes away instead).
setsid bash -c "(printf 'vanisher\n'; sleep 100000) | ip netns exec $NS_C nc 10.200.0.1 9000" </dev/null >/dev/null 2>&1 &
CLIENT=$!
if [ "$MODE" = busy ]; then
    # Someone on the server's side keeps chatting, so the server always has data in flight to the peer.
    setsid bash -c "(printf 'talker\n'; while sleep 0.5; do echo 'still talking'; done) | ip netns exec $NS_S nc 10.200.0.1 9000" \
        </dev/null >/dev/null 2>&1 &
    TALKER=$!
fi
for _ in $(seq 100); do grep -q 'user=vanisher.*user logged in\|user logged in.*user=vanisher' "$LOG" && break; sleep 0.1; done
ip -n "$NS_C" link set sc-veth-c down
START=$(date +%s.%N)
echo "== link down at $(date -u +%H:%M:%S); waiting for the server to notice (keepalive $IDLE/$INTERVAL/$PROBES, $MODE)" >&2
until grep -q 'user left.*vanisher\|vanisher.*user left' "$LOG"; do
    sleep 0.2
    if (( $(echo "$(date +%s.%N) - $START > 3 * ($IDLE + $INTERVAL * $PROBES) + 30" | bc) )); then
        echo "the server did not notice within the failsafe" >&2; exit 1
    fi
done
END=$(date +%s.%N)
printf 'noticed after %.1f s (keepalive idle %s s, interval %s s, %s probes; %s)\n' \
    "$(echo "$END - $START" | bc)" "$IDLE" "$INTERVAL" "$PROBES" "$MODE"
grep 'vanisher' "$LOG" | grep 'user left' >&2
