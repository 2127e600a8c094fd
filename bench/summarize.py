#!/usr/bin/env python3
"""Medians over several benchmark runs, as markdown tables.

Usage: bench/summarize.py run1.json run2.json run3.json

Reads the JSON lines of echo_bench or seeds_bench runs (other lines, such as
seeds_bench's own table, are skipped) and prints:

- for echo_bench, for every Korb policy's row: the median over the runs of its
  p50 latency and its throughput, each as a ratio to raw gRPC's callback and
  sync servers measured in the same run (ratios are taken per run, then the
  median of the ratios);
- for seeds_bench, for every row: the median over the runs of req/s, TLP and
  the probe's p50 latency, next to the seeds' expected figure, and whether the
  median is within 10 %.
"""
import json
import statistics
import sys

# Korb's policies in the order the docs present them; unknown ones sort last.
POLICY_ORDER = ["inline", "pool", "pool_serialized", "pool_growing", "thread_per_object",
                "thread_per_request", "thread_per_request_uncached", "thread_per_connection"]


def policy_rank(policy):
    return POLICY_ORDER.index(policy) if policy in POLICY_ORDER else len(POLICY_ORDER)


def read_rows(paths):
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    yield path, json.loads(line)


def echo_table(paths, rows):
    ratios = {}  # (policy, versus, scenario, clients, payload) -> [(p50, thr)]
    for _, row in rows:
        if row.get("system") != "ratio":
            continue
        key = (row["policy"], row["versus"], row["scenario"], row["clients"], row["payload"])
        ratios.setdefault(key, []).append((row["p50_ratio"], row["throughput_ratio"]))
    if not ratios:
        return
    print(f"echo_bench: medians of {len(paths)} runs.\n")
    print("| Korb policy | scenario | clients | payload | p50 vs gRPC callback | calls/s vs gRPC callback | p50 vs gRPC sync | calls/s vs gRPC sync |")
    print("|---|---|---|---|---|---|---|---|")
    seen = sorted({k[:1] + k[2:] for k in ratios},
                  key=lambda k: (policy_rank(k[0]), k[0], k[3], k[2]))
    for policy, scenario, clients, payload in seen:
        cells = []
        for versus in ("grpc_callback", "grpc_sync"):
            values = ratios.get((policy, versus, scenario, clients, payload), [])
            if not values:
                cells += ["–", "–"]
                continue
            p50 = statistics.median(v[0] for v in values)
            thr = statistics.median(v[1] for v in values)
            cells += [f"{p50:.2f}×", f"{thr:.2f}×"]
        print(f"| {policy} | {scenario} | {clients} | {payload} B | " + " | ".join(cells) + " |")
    print()


def seeds_table(paths, rows):
    runs = {}  # row key -> [(req_per_s, tlp)]
    expected = {}
    order = []
    for _, row in rows:
        if "req_per_s" not in row:
            continue
        key = (row["policy"], row["threads"], row["cache"], row["objects"], row["connections"])
        if key not in runs:
            order.append(key)
        runs.setdefault(key, []).append((row["req_per_s"], row["tlp"], row.get("probe_p50_ms")))
        expected[key] = row.get("expected_req_per_s")
    if not runs:
        return
    print(f"seeds_bench: medians of {len(paths)} runs.\n")
    print("| policy | threads | cache | objects | connections | req/s | seeds | within 10 % | TLP | probe p50 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key in order:
        policy, threads, cache, objects, connections = key
        rate = statistics.median(v[0] for v in runs[key])
        tlp = statistics.median(v[1] for v in runs[key])
        probes = [v[2] for v in runs[key] if v[2] is not None]
        probe = f"{statistics.median(probes):.2f}" if probes else "–"
        exp = expected[key]
        if exp is None:
            exp_cell, within = "–", "–"
        else:
            exp_cell = f"{exp:.0f}"
            within = "yes" if abs(rate - exp) <= 0.1 * exp else "no"
        print(f"| {policy} | {threads} | {'yes' if cache else 'no'} | {objects} | {connections} "
              f"| {rate:.0f} | {exp_cell} | {within} | {tlp:.2f} | {probe} |")
    print()


def main(paths):
    if not paths:
        sys.exit(__doc__)
    rows = list(read_rows(paths))
    echo_table(paths, rows)
    seeds_table(paths, rows)


if __name__ == "__main__":
    main(sys.argv[1:])
