#!/usr/bin/env python3
"""bench/idle-websocket.py: the memory of idle WebSocket connections against idle line-protocol ones.

Starts a release securechatd on loopback, opens N plaintext line-protocol clients that log in, reads the server's
RSS, then N WebSocket clients that log in, and reads it again. Prints the RSS per connection of each, in KiB.
Standard library only (the handshake and frames are a few lines of RFC 6455). Loopback only.

    bench/idle-websocket.py [--count N] [--binary .build/release/securechatd]
"""
import argparse, base64, json, os, resource, socket, subprocess, tempfile, time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def read_until(sock, marker):
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("closed")
        data += chunk
    return data


def line_client(port, name):
    sock = socket.create_connection(("127.0.0.1", port))
    read_until(sock, b"Choose a username")
    sock.sendall(name.encode() + b"\n")
    read_until(sock, b"Welcome, " + name.encode())
    return sock


def frame(text):
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    header += bytes([0x80 | len(payload)]) if len(payload) < 126 else bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def websocket_client(port, name):
    sock = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    read_until(sock, b"\r\n\r\n")
    sock.sendall(frame(json.dumps({"type": "login", "name": name})))
    read_until(sock, b'"welcome"')
    return sock


def settle(pid):
    time.sleep(2)
    return rss_kib(pid)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--binary", default=".build/release/securechatd")
    args = parser.parse_args()
    # Two sockets per pair of clients here; the server raises its own limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * args.count + 100)), hard))
    with tempfile.TemporaryDirectory() as work:
        port = 19000 + os.getpid() % 1000
        server = subprocess.Popen(
            [os.path.abspath(args.binary), "--host", "127.0.0.1", "--port", str(port), "--no-tls", "--max-connections", "10000",
             "--max-per-address", "10000", "--connect-rate", "0", "--rate", "0", "--log-level", "error",
             "--address-rate", "0", "--address-byte-rate", "0", "--announce-limit", "0"],
            cwd=work)
        try:
            time.sleep(1)
            clients = []
            base = settle(server.pid)
            clients += [line_client(port, f"line{i}") for i in range(args.count)]
            with_line = settle(server.pid)
            clients += [websocket_client(port, f"web{i}") for i in range(args.count)]
            with_web = settle(server.pid)
            line_each = (with_line - base) / args.count
            web_each = (with_web - with_line) / args.count
            print(json.dumps({"connections": args.count, "rss_base_kib": base,
                              "line_kib_per_connection": round(line_each, 2),
                              "websocket_kib_per_connection": round(web_each, 2)}))
            for sock in clients:
                sock.close()
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
