#!/usr/bin/env python3
"""Medians over several activation_bench runs, as a markdown table.

Usage: bench/summarize_activation.py run1.json run2.json run3.json

For every ratio line (a Korb row against raw gRPC on the same workload, taken
within one run) prints the median over the runs of its throughput and p50
ratios, or of the memory ratio, with the medians of the absolute figures
beside them for scale.
"""
import json
import statistics
import sys


def main(paths):
    ratios = {}    # (group, config, versus) -> list of ratio dicts
    absolute = {}  # (group, system, config) -> list of rows
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                row = json.loads(line)
                if row["system"] == "ratio":
                    ratios.setdefault((row["group"], row["config"], row["versus"]), []).append(row)
                else:
                    absolute.setdefault((row["group"], row["system"], row["config"]), []).append(row)

    def median(rows, key):
        return statistics.median(r[key] for r in rows)

    print("| group | Korb | versus raw gRPC | calls/s ratio | p50 ratio | Korb calls/s | gRPC calls/s |")
    print("|---|---|---|---|---|---|---|")
    for (group, config, versus), rows in ratios.items():
        if group == "memory":
            continue
        korb = absolute[(group, "korb", config)]
        grpc = absolute[(group, "grpc", versus.split("/", 1)[1])]
        print(f"| {group} | {config} | {versus} | {median(rows, 'throughput_ratio'):.2f}× "
              f"| {median(rows, 'p50_ratio'):.2f}× | {median(korb, 'calls_per_s'):,.0f} "
              f"| {median(grpc, 'calls_per_s'):,.0f} |")
    for (group, config, versus), rows in ratios.items():
        if group != "memory":
            continue
        korb = absolute[(group, "korb", config)]
        grpc = absolute[(group, "grpc", versus.split("/", 1)[1])]
        print(f"\nMemory: {median(korb, 'bytes_per_object'):.0f} B per active object against "
              f"{median(grpc, 'bytes_per_object'):.0f} B per map entry: "
              f"{median(rows, 'memory_ratio'):.1f}× (median of {len(rows)} runs).")


if __name__ == "__main__":
    main(sys.argv[1:])
