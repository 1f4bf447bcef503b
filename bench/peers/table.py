#!/usr/bin/env python3
"""The table of bench/peers.sh, from its results file ("SERVER KIND JSON" per chatbench run).

    python3 bench/peers/table.py RESULTS            a markdown table: every figure with its ratio to the best peer
    python3 bench/peers/table.py --light-cpu RESULTS
                                                    light-load server CPU per delivery (us), for bench/plot-peers.sh:
                                                    "server plaintext tls" per line

Every figure is the median over the runs of that server, scenario and transport. The best peer is the better of
ngIRCd and InspIRCd for that figure (the higher for deliveries/s, the lower for everything else); each cell is
"value (ratio)" with ratio = value / best peer's value, so securechatd's ratio says how far it is from the goal of
issue 27 (<= 1.0 for costs, >= 1.0 for rates). A run that lost deliveries or connections is marked with "!" and
counted all the same, so that a broken run shows instead of vanishing.
"""
import collections
import json
import statistics
import sys

SERVERS = [("ngircd", "ngIRCd"), ("inspircd", "InspIRCd"), ("securechatd", "securechatd")]
PEERS = {"ngircd", "inspircd"}


def per_delivery_us(r):
    return r["server_cpu_s"] / r["received"] * 1e6 if r.get("received") else None


# (kind, label, value of a result, higher is better)
FIGURES = [
    ("fanout", "fan-out: M deliveries/s", lambda r: r["deliveries_per_s"] / 1e6, True),
    ("fanout", "fan-out: server CPU per delivery (ns)", lambda r: r.get("server_cpu_ns_per_delivery"), False),
    ("heavy", "heavy load: server CPU per delivery (us)", per_delivery_us, False),
    ("heavy", "heavy load: p99 (ms)", lambda r: r["p99_ms"], False),
    ("light", "light load: server CPU (%)", lambda r: r.get("server_cpu_util"), False),
    ("light", "light load: server CPU per delivery (us)", per_delivery_us, False),
    ("light", "light load: p50 (ms)", lambda r: r["p50_ms"], False),
    ("light", "light load: p99 (ms)", lambda r: r["p99_ms"], False),
    ("light", "light load: max (ms)", lambda r: r["max_ms"], False),
    ("idle", "idle: server RSS per connection (kB)", lambda r: r.get("rss_per_connection_kb"), False),
    ("handshakes", "new connection: server CPU (ms)", lambda r: r.get("server_cpu_ms_per_connection"), False),
]


def flawed(result):
    """Whether a run lost something: deliveries, connections, or had errors."""
    if result.get("errors", 0) or result.get("unexpected_closes", 0) or result.get("failed", 0):
        return True
    if "exactly_once_in_order" in result and not result["exactly_once_in_order"]:
        return True
    return "expected" in result and result.get("received", 0) < result["expected"]


def load(path):
    runs = collections.defaultdict(list)
    with open(path) as lines:
        for line in lines:
            parts = line.split(" ", 2)
            if len(parts) < 3:
                continue
            server, kind, text = parts
            try:
                result = json.loads(text)
            except json.JSONDecodeError:
                continue
            runs[(server, kind, result.get("transport", "?"))].append(result)
    return runs


def number(v):
    """Three significant digits or so, never in exponent form."""
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def median(results, value):
    values = [v for v in (value(r) for r in results) if v is not None]
    return statistics.median(values) if values else None


def table(runs):
    present = [(key, name) for key, name in SERVERS if any(k[0] == key for k in runs)]
    print("| figure | transport | " + " | ".join(name for _, name in present) + " |")
    print("| --- | --- |" + " --- |" * len(present))
    for kind, label, value, higher in FIGURES:
        for transport in ("plaintext", "tls"):
            cells = {}
            marks = {}
            for key, _ in present:
                results = runs.get((key, kind, transport), [])
                cells[key] = median(results, value)
                marks[key] = "!" if any(flawed(r) for r in results) else ""
            peers = [cells[k] for k in PEERS if cells.get(k) is not None]
            if all(cells[k] is None for k, _ in present):
                continue
            best = (max(peers) if higher else min(peers)) if peers else None
            row = []
            for key, _ in present:
                v = cells[key]
                if v is None:
                    row.append("-")
                elif best:
                    row.append(f"{number(v)}{marks[key]} ({v / best:.2f})")
                else:
                    row.append(f"{number(v)}{marks[key]}")
            print(f"| {label} | {transport} | " + " | ".join(row) + " |")
    print()
    print("(ratio) = value / best peer's value; ! = a run lost deliveries or connections, or had errors.")


def light_cpu(runs):
    for key, name in SERVERS:
        values = [median(runs.get((key, "light", t), []), per_delivery_us) for t in ("plaintext", "tls")]
        if any(v is not None for v in values):
            print(name, " ".join("NaN" if v is None else f"{v:.3f}" for v in values))


def main(argv):
    if len(argv) == 2:
        table(load(argv[1]))
    elif len(argv) == 3 and argv[1] == "--light-cpu":
        light_cpu(load(argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
