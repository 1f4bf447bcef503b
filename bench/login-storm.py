#!/usr/bin/env python3
"""bench/login-storm.py: a storm of password log-ins over TLS (issue 26), and what it does to the chat.

One securechatd with --account-file holding COUNT accounts (user00001...), all with one argon2id hash of one
password at OWASP's parameters (19 MiB, 2 passes, 1 lane; made here through libargon2, so every check costs what a
real one does). A probe client, logged in on the plaintext port before the storm, sends /ping every 50 ms and
times each pong. Then COUNT TLS clients connect at once (from 127.0.0.1-127.0.0.50), type their name and the
password; a client told `! The server is busy; try again shortly.` waits 0.5-1.5 s and tries again.

Prints: the time until every client is logged in, log-ins per second, busy replies, the probe's pong times
during the storm (p50 / p99 / max), and the server's CPU seconds and peak RSS.

    bench/login-storm.py [BINARY]             default .build/release/securechatd
    COUNT=2000 bench/login-storm.py .build/release/securechatd

Every process started here is stopped on exit, and the temporary folder removed. Loopback only.
"""
import asyncio
import ctypes
import os
import random
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

COUNT = int(os.environ.get("COUNT", "2000"))
PASSWORD = b"correct horse battery staple"
SOURCES = [f"127.0.0.{i}" for i in range(1, 51)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def owasp_hash():
    argon2 = ctypes.CDLL("libargon2.so.1")
    argon2.argon2id_hash_encoded.argtypes = [
        ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
        ctypes.c_size_t, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    salt = os.urandom(16)
    encoded = ctypes.create_string_buffer(256)
    started = time.perf_counter()
    rc = argon2.argon2id_hash_encoded(2, 19 * 1024, 1, PASSWORD, len(PASSWORD), salt, len(salt), 32, encoded, 256)
    elapsed = time.perf_counter() - started
    if rc != 0:
        sys.exit(f"argon2id_hash_encoded failed: {rc}")
    return encoded.value.decode(), elapsed


def write_accounts(path, phc):
    entries = []
    for n in range(1, COUNT + 1):
        name = f"user{n:05d}"
        # The look-alike key: lower case, 0 -> o, 1/i/l -> l, m -> rn, w -> vv (Username.key).
        key = "".join({"0": "o", "1": "l", "i": "l", "m": "rn", "w": "vv"}.get(c, c) for c in name.lower())
        entries.append(
            f'{{"name": "{name}", "key": "{key}", "hash": "{phc}", "certificates": [], "created": 1796600000}}')
    with open(path, "w") as f:
        f.write('{"version": 1, "held": [], "accounts": [\n' + ",\n".join(entries) + "\n]}\n")
    os.chmod(path, 0o600)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def read_line(reader):
    line = await reader.readline()
    if not line:
        raise ConnectionError("closed")
    return line.decode(errors="replace").rstrip("\n")


async def read_until(reader, predicate):
    while True:
        line = await read_line(reader)
        if predicate(line):
            return line


async def probe(port, stop, rtts):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await read_until(reader, lambda l: l.startswith("* Choose a username"))
    writer.write(b"probe\n")
    await read_until(reader, lambda l: l.startswith("* Welcome, probe"))
    while not stop.is_set():
        started = time.perf_counter()
        writer.write(b"/ping\n")
        await read_until(reader, lambda l: l == "* pong")
        rtts.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.05)
    writer.close()


async def log_in(n, tls_port, context, tally):
    name = f"user{n:05d}"
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", tls_port, ssl=context, local_addr=(SOURCES[n % len(SOURCES)], 0), server_hostname="localhost")
    await read_until(reader, lambda l: l.startswith("* Choose a username"))
    while True:
        writer.write(name.encode() + b"\n")
        line = await read_line(reader)
        if not line.startswith(f"* {name} is registered."):
            raise RuntimeError(f"{name}: {line}")
        writer.write(PASSWORD + b"\n")
        line = await read_line(reader)
        if line.startswith(f"* Welcome back, {name}!"):
            tally["done"] += 1
            tally["writers"].append(writer)
            return
        if line == "! The server is busy; try again shortly.":
            tally["busy"] += 1
            await read_line(reader)  # the name prompt
            await asyncio.sleep(random.uniform(0.5, 1.5))
            continue
        raise RuntimeError(f"{name}: {line}")


async def storm(port, tls_port, ca):
    context = ssl.create_default_context(cafile=ca)
    stop = asyncio.Event()
    rtts_before, rtts = [], []
    probe_task = asyncio.create_task(probe(port, stop, rtts_before))
    await asyncio.sleep(2)
    # Swap the list the probe fills: what it measured before the storm is the baseline.
    baseline = list(rtts_before)
    rtts_before.clear()
    tally = {"done": 0, "busy": 0, "writers": []}
    started = time.perf_counter()

    async def progress():
        while True:
            await asyncio.sleep(10)
            print(f"  {time.perf_counter() - started:.0f} s: {tally['done']} logged in, {tally['busy']} busy replies",
                  file=sys.stderr, flush=True)

    reporter = asyncio.create_task(progress())
    results = await asyncio.gather(
        *(log_in(n, tls_port, context, tally) for n in range(1, COUNT + 1)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    reporter.cancel()
    rtts = list(rtts_before)
    stop.set()
    await probe_task
    failures = [r for r in results if isinstance(r, Exception)]
    for writer in tally["writers"]:
        writer.close()
    return elapsed, tally, failures, baseline, rtts


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/securechatd"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    phc, hash_seconds = owasp_hash()
    directory = tempfile.mkdtemp(prefix="securechat-storm-")
    server = None
    try:
        accounts = os.path.join(directory, "accounts.json")
        write_accounts(accounts, phc)
        port, tls_port = free_port(), free_port()
        log_path = os.path.join(directory, "securechatd.log")
        log = open(log_path, "w")
        server = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", str(port), "--tls-port", str(tls_port),
             "--certs-dir", os.path.join(directory, "certs"), "--account-file", accounts,
             "--max-per-address", "100000", "--connect-rate", "0", "--rate", "0", "--tls-handshake-rate", "0",
             "--login-timeout", "600", "--log-level", "notice"],
            stdout=log, stderr=subprocess.STDOUT)
        # The log goes to a file: a pipe nobody reads would fill up and stall the server's logging.
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(log_path) as f:
                if "ready: nc localhost" in f.read():
                    break
            if server.poll() is not None:
                break
            time.sleep(0.1)
        else:
            sys.exit("securechatd did not start")
        cpu_before = cpu_seconds(server.pid)
        elapsed, tally, failures, baseline, rtts = asyncio.run(
            storm(port, tls_port, os.path.join(directory, "certs", "ca.crt")))
        cpu = cpu_seconds(server.pid) - cpu_before
        print(f"machine: {os.cpu_count()} CPUs; one argon2id hash (19 MiB, t=2, p=1) here: {hash_seconds * 1000:.1f} ms")
        print(f"log-ins: {tally['done']} of {COUNT} in {elapsed:.1f} s ({tally['done'] / elapsed:.0f}/s), "
              f"{tally['busy']} busy replies, {len(failures)} failures {failures[:3]}")
        print(f"probe /ping before: p50 {percentile(baseline, 50):.1f} ms, max {max(baseline, default=0):.1f} ms "
              f"({len(baseline)} pings)")
        print(f"probe /ping during: p50 {percentile(rtts, 50):.1f} ms, p99 {percentile(rtts, 99):.1f} ms, "
              f"max {max(rtts, default=0):.1f} ms ({len(rtts)} pings)")
        print(f"server: {cpu:.1f} CPU s during the storm, peak RSS {peak_rss_mib(server.pid):.0f} MiB")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
