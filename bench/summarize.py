#!/usr/bin/env python3
"""Medians over several echo_bench runs, as a markdown table of ratios.

Usage: bench/summarize.py run1.json run2.json run3.json

For every Korb row: the median over the runs of its p50 latency and its
throughput, each as a ratio to raw gRPC's callback and sync servers measured
in the same run (ratios are taken per run, then the median of the ratios).
"""
import json
import statistics
import sys


def main(paths):
    ratios = {}  # (policy, versus, scenario, clients, payload) -> [(p50, thr)]
    for path in paths:
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if row.get("system") != "ratio":
                    continue
                key = (row["policy"], row["versus"], row["scenario"], row["clients"], row["payload"])
                ratios.setdefault(key, []).append((row["p50_ratio"], row["throughput_ratio"]))
    print(f"Medians of {len(paths)} runs.\n")
    print("| Korb policy | scenario | clients | payload | p50 vs gRPC callback | calls/s vs gRPC callback | p50 vs gRPC sync | calls/s vs gRPC sync |")
    print("|---|---|---|---|---|---|---|---|")
    seen = sorted({k[:1] + k[2:] for k in ratios}, key=lambda k: (k[0], k[3], k[2]))
    for policy, scenario, clients, payload in seen:
        cells = []
        for versus in ("grpc_callback", "grpc_sync"):
            values = ratios.get((policy, versus, scenario, clients, payload), [])
            p50 = statistics.median(v[0] for v in values)
            thr = statistics.median(v[1] for v in values)
            cells += [f"{p50:.2f}×", f"{thr:.2f}×"]
        print(f"| {policy} | {scenario} | {clients} | {payload} B | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
