# Sourced by bench/run.sh and bench/compare.sh: stop a securechatd started in the background, and wait until
# one listens. Expects SERVER_PID (set by the caller when it starts the server).

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

# wait_for_port PORT ERRLOG: returns once 127.0.0.1:PORT accepts; exits if the server died (printing ERRLOG).
wait_for_port() {
    for _ in $(seq 100); do
        if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$2" >&2; exit 1; }
        sleep 0.1
    done
    echo "securechatd did not start listening on $1" >&2
    exit 1
}
