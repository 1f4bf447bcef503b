# Sourced by bench/peers.sh and bench/profile-light.sh: where the three servers are, and how each is started for a
# run. Expects WORK (the run's folder, with pki/ from certs/generate.sh and dh.pem), BIN (securechatd's build
# folder), SERVER_PIN (a command prefix, e.g. taskset -c 0) and the functions of bench/server-control.sh; sets
# SERVER_PID. The working directory is the repository root.

# --- peers: Debian's packages, where installed ---------------------------------------------------------------
# sbin may not be on a user's PATH.
find_daemon() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || true; }
NGIRCD=$(find_daemon ngircd)
INSPIRCD=$(find_daemon inspircd)
SERVERS=(securechatd)
if [ -n "$NGIRCD" ]; then SERVERS+=(ngircd); else echo "== ngIRCd is not installed: skipped (apt-get install ngircd inspircd)" >&2; fi
if [ -n "$INSPIRCD" ]; then SERVERS+=(inspircd); else echo "== InspIRCd is not installed: skipped (apt-get install ngircd inspircd)" >&2; fi

# The run's certificate (certs/generate.sh: one throwaway ECDSA P-256 chain that all three servers present) and
# Diffie-Hellman parameters for the peers' finite-field suites: the RFC 7919 group, so that ngIRCd does not spend
# its start-up generating some (TLS 1.3 with ECDHE, which every run here negotiates, does not use them).
prepare_work() {
    sh certs/generate.sh "$WORK/pki" >/dev/null
    openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$WORK/dh.pem" 2>/dev/null
    mkdir -p "$WORK/ngircd.conf.d"
}

PORT_BASE=${PORT_BASE:-29400}
plain_port() { case "$1" in securechatd) echo "$PORT_BASE" ;; ngircd) echo $((PORT_BASE + 10)) ;; *) echo $((PORT_BASE + 20)) ;; esac; }
tls_port() { echo $(($(plain_port "$1") + 1)); }
protocol() { [ "$1" = securechatd ] && echo line || echo irc; }

# The configuration of a peer: the template from bench/peers/ with this run's folder, ports and certificate.
configure() {
    sed -e "s|@WORK@|$WORK|g" -e "s|@PORT@|$(plain_port "$1")|g" -e "s|@TLS_PORT@|$(tls_port "$1")|g" \
        -e "s|@CERT@|$WORK/pki/server.crt|g" -e "s|@KEY@|$WORK/pki/server.key|g" -e "s|@DH@|$WORK/dh.pem|g" \
        "bench/peers/$1.conf" >"$WORK/$1.conf"
}

SECURECHATD_ARGS=(--host 127.0.0.1 --port "$(plain_port securechatd)" --tls-port "$(tls_port securechatd)"
    --cert "$WORK/pki/server.crt" --key "$WORK/pki/server.key" --history 0 --log-level warning
    --rate 0 --connect-rate 0 --tls-handshake-rate 0 --address-rate 0 --address-byte-rate 0
    --max-per-address 200000
    # Like for like: the peers serve no web page. With it on, a line client's greeting waits up to 50 ms for a
    # browser's request (README, "How a connection is told apart"), which the new-connection figure would count.
    --no-web)

start_server() {
    stop_server
    case "$1" in
        securechatd)
            "${SERVER_PIN[@]}" "$BIN/securechatd" "${SECURECHATD_ARGS[@]}" >"$WORK/$1.out" 2>>"$WORK/$1.err" & ;;
        ngircd)
            configure ngircd
            "${SERVER_PIN[@]}" "$NGIRCD" --nodaemon --config "$WORK/ngircd.conf" >"$WORK/$1.out" 2>>"$WORK/$1.err" & ;;
        inspircd)
            configure inspircd
            # --runasroot: InspIRCd refuses root otherwise; the benchmark runs as whoever runs it.
            "${SERVER_PIN[@]}" "$INSPIRCD" --config="$WORK/inspircd.conf" --nofork --nopid --runasroot \
                >"$WORK/$1.out" 2>>"$WORK/$1.err" & ;;
    esac
    SERVER_PID=$!
    wait_for_port "$(plain_port "$1")" "$WORK/$1.err"
    wait_for_port "$(tls_port "$1")" "$WORK/$1.err"
}

