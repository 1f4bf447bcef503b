#!/usr/bin/env python3
"""The tables of bench/profile-light.sh, from its work folder: SERVER.stat (perf stat -x,) and SERVER.script
(perf script -F ip,sym,dso of perf record -g) for each server named.

    python3 bench/peers/account.py WORK securechatd inspircd ngircd

Table 1: the perf stat counts per 4 s. Table 2: the server's CPU per delivery (task-clock / writes), split by
who spent each sample: the sample's leaf frame decides, except for the Swift runtime (retain/release, allocation,
dynamic casts), whose samples go to the first caller frame that is NIO's or ours. Kernel samples are split by
the system call they ran under (the outermost __x64_sys_*/ksys_*/do_* frame of a known call), or "other"
(interrupts, the scheduler, perf's own tracepoints).
"""
import collections
import sys

TLS_LIBRARIES = ("libcrypto", "libssl", "libgnutls", "libnettle", "libhogweed", "libgmp")
C_LIBRARIES = ("libc.so", "libstdc++", "ld-linux", "libm.so", "libpthread")
SWIFT_RUNTIME = ("libswift", "libdispatch", "libFoundation", "libBlocksRuntime")
NIO_PREFIXES = ("$s8NIOPosix", "$s7NIOCore", "$s21NIOConcurrencyHelpers")
OURS_PREFIX = "$s10SecureChat"
SYSTEM_CALLS = {"write", "writev", "sendmsg", "sendto", "read", "readv", "recvmsg", "epoll_wait", "epoll_ctl", "futex",
                "accept4", "close", "setsockopt", "getsockopt", "timerfd_settime", "clock_nanosleep"}
WRITES = ("syscalls:sys_enter_write", "syscalls:sys_enter_writev", "syscalls:sys_enter_sendmsg",
          "syscalls:sys_enter_sendto")


def read_stat(path):
    counts = {}
    for line in open(path):
        parts = line.strip().split(",")
        if len(parts) >= 3 and parts[0] and not line.startswith("#"):
            try:
                counts[parts[2]] = float(parts[0])
            except ValueError:
                pass
    return counts


def swift_module(symbol):
    if symbol.startswith(NIO_PREFIXES):
        return "NIO"
    if symbol.startswith(OURS_PREFIX):
        return "ours"
    return None


def classify(frames, server):
    symbol, dso = frames[0]
    base = dso.rsplit("/", 1)[-1]
    if "kernel" in dso:
        call = "other"
        for s, d in frames:
            if "kernel" not in d:
                break
            for prefix in ("__x64_sys_", "ksys_", "__do_sys_", "__sys_", "do_"):
                if s.startswith(prefix) and s[len(prefix):] in SYSTEM_CALLS:
                    call = s[len(prefix):]
        if call in ("writev", "sendmsg", "sendto"):
            call = "write"
        return "kernel: " + call
    if base.startswith(TLS_LIBRARIES):
        return "TLS library"
    if base.startswith(C_LIBRARIES):
        return "libc, libstdc++"
    if base.startswith(SWIFT_RUNTIME):
        for s, _ in frames[1:]:
            module = swift_module(s)
            if module:
                return "Swift runtime for " + module
        return "Swift runtime, other"
    module = swift_module(symbol)
    if module:
        return module
    return server + ": other" if base.startswith("securechatd") else base + " (own code)"


def samples(path, server):
    counts = collections.Counter()
    frames = []
    for line in list(open(path)) + [""]:
        line = line.strip()
        if not line:
            if frames:
                counts[classify(frames, server)] += 1
            frames = []
            continue
        address, _, rest = line.partition(" ")
        if rest.endswith(")") and " (" in rest:
            symbol, _, dso = rest.rpartition(" (")
            frames.append((symbol.strip(), dso[:-1]))
    return counts


def main():
    work, servers = sys.argv[1], sys.argv[2:]
    stats = {s: read_stat(f"{work}/{s}.stat") for s in servers}
    rows = [("CPU time (task-clock, ms)", "task-clock"), ("context switches", "context-switches"),
            ("system calls", "raw_syscalls:sys_enter"), ("of them writes (write, writev, sendmsg, send)", None),
            ("epoll_wait", "syscalls:sys_enter_epoll_wait"), ("epoll_ctl", "syscalls:sys_enter_epoll_ctl"),
            ("futex", "syscalls:sys_enter_futex")]
    print("| per 4 s | " + " | ".join(servers) + " |")
    print("| --- |" + " --- |" * len(servers))
    for label, key in rows:
        cells = []
        for s in servers:
            value = sum(stats[s].get(k, 0) for k in WRITES) if key is None else stats[s].get(key, 0)
            cells.append(f"{value:,.0f}")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    per_delivery = {}
    shares = {}
    for s in servers:
        writes = sum(stats[s].get(k, 0) for k in WRITES)
        per_delivery[s] = stats[s].get("task-clock", 0) * 1000 / writes if writes else float("nan")
        counted = samples(f"{work}/{s}.script", s)
        total = sum(counted.values()) or 1
        shares[s] = {k: v / total for k, v in counted.items()}
    keys = sorted({k for s in servers for k in shares[s]}, key=lambda k: -max(shares[s].get(k, 0) * per_delivery[s] for s in servers))
    print("| server CPU per delivery (µs) | " + " | ".join(servers) + " |")
    print("| --- |" + " --- |" * len(servers))
    print("| **all** | " + " | ".join(f"**{per_delivery[s]:.2f}**" for s in servers) + " |")
    for k in keys:
        values = [shares[s].get(k, 0) * per_delivery[s] for s in servers]
        if max(values) < 0.02:
            continue
        print(f"| {k} | " + " | ".join(f"{v:.2f}" for v in values) + " |")


if __name__ == "__main__":
    main()
