#!/usr/bin/env python3
"""bench/doorbell.py: the cost of reading cluster notifications' content from the tables (issue 23, point 5).

Two securechatd nodes on a throwaway PostgreSQL (initdb in a temporary folder, a free port on 127.0.0.1, fsync
off). alice on node A, bob on node B, both in #lobby:
  (a) cross-node latency: alice sends a line, waits until bob has it, N times; p50 / p99 / max in ms;
  (b) cross-node throughput: alice sends M lines in one go; the time until bob has the last one, in lines/s.

    bench/doorbell.py BINARY [BINARY...]      every binary in turn, each on its own database
    ROUNDS=3 LINES=300 BURST=3000 bench/doorbell.py .build/debug/securechatd /tmp/securechatd-before

Every process started here is stopped on exit, and the temporary folder removed. Loopback only.
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
LINES = int(os.environ.get("LINES", "300"))
BURST = int(os.environ.get("BURST", "3000"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(command):
    return ["runuser", "-u", "postgres", "--"] + command if os.getuid() == 0 else command


class Client:
    def __init__(self, port, name):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buffer = b""
        self.sock.sendall(name.encode() + b"\n")
        self.read_until(lambda line: line.startswith("* Welcome") or "You are" in line or line.startswith("* "))

    def send(self, text):
        self.sock.sendall(text.encode() + b"\n")

    def read_until(self, predicate, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                text = line.decode(errors="replace")
                if predicate(text):
                    return text
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed")
            self.buffer += chunk


def run(binary, pg_port, directory, round_number, database):
    database_url = f"postgres://securechat@127.0.0.1:{pg_port}/{database}?sslmode=disable"
    nodes = []
    ports = []
    try:
        for name in ("A", "B"):
            port = free_port()
            ports.append(port)
            log = open(os.path.join(directory, f"node{name}-{round_number}.log"), "w")
            nodes.append(subprocess.Popen(
                [binary, "--host", "127.0.0.1", "--port", str(port), "--tls-port", "0", "--rate", "0",
                 "--history", "0", "--log-level", "warning", "--cluster", database_url, "--node-name",
                 f"{name}{round_number}-{os.path.basename(binary)}"],
                stdout=log, stderr=log, cwd=directory))
        for port in ports:
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port)).close()
                    break
                except OSError:
                    time.sleep(0.05)
        alice = Client(ports[0], f"alice{round_number}")
        bob = Client(ports[1], f"bob{round_number}")
        alice.read_until(lambda line: line == f"* bob{round_number} joined #lobby")
        latencies = []
        for number in range(LINES):
            started = time.perf_counter()
            alice.send(f"l{number}")
            bob.read_until(lambda line, n=number: line == f"alice{round_number}: l{n}")
            latencies.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        alice.sock.sendall(b"".join(f"b{n}\n".encode() for n in range(BURST)))
        bob.read_until(lambda line: line == f"alice{round_number}: b{BURST - 1}", timeout=120)
        burst = time.perf_counter() - started
        latencies.sort()
        return (statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1], latencies[-1],
                BURST / burst)
    finally:
        for node in nodes:
            node.terminate()
        for node in nodes:
            try:
                node.wait(timeout=20)
            except subprocess.TimeoutExpired:
                node.kill()


def main():
    binaries = sys.argv[1:]
    if not binaries:
        print(__doc__)
        sys.exit(2)
    directory = tempfile.mkdtemp(prefix="securechat-doorbell-")
    if os.getuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        os.chmod(directory, 0o777)
    pg_port = free_port()
    data = os.path.join(directory, "data")
    try:
        subprocess.run(as_postgres([f"{PG_BIN}/initdb", "-D", data, "-U", "securechat", "--auth=trust", "-E",
                                    "UTF8"]), check=True, stdout=subprocess.DEVNULL)
        subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-l", os.path.join(directory, "pg.log"), "-o",
                                    f"-p {pg_port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off",
                                    "-w", "start"]), check=True, stdout=subprocess.DEVNULL)
        for index in range(len(binaries)):
            # A database each: the binaries may know different schema versions.
            subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "securechat", "-d", "postgres",
                            "-qc", f"CREATE DATABASE bench{index}"], check=True)
        print(f"{'binary':40} {'round':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'burst lines/s':>14}")
        for round_number in range(ROUNDS):
            for index, binary in enumerate(binaries):
                p50, p99, worst, rate = run(binary, pg_port, directory, round_number * 10 + index, f"bench{index}")
                print(f"{binary:40} {round_number:>5} {p50:8.2f} {p99:8.2f} {worst:8.2f} {rate:14.0f}", flush=True)
    finally:
        subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
