#!/usr/bin/env python3
"""Medians over several peer_bench runs, as markdown tables.

Usage: bench/peers/summarize.py run1.json run2.json run3.json

Reads the JSON lines of bench/peers/peer_bench (build/bench/peers/peer_bench)
and prints, for each payload:

- the systems' figures: p50/p99 latency with 1 client, calls/s with 8 and
  32 clients, each the median over the runs;
- Korb's ratios to every other system, a row per Korb system and peer: p50
  with 1 client (below 1 is Korb faster) and calls/s with 8 and 32 clients
  (above 1 is Korb faster) for each payload, each the median over the runs
  of the ratio measured within one run (the only figures that mean
  something on a machine shared with other work), with the lowest and the
  highest run's, so that the noise shows.

Then Korb's stub against gRPC's generated stub calling the same Korb server,
when the run has that row. Systems skipped in a run (a peer not built) are
listed, not guessed.
"""
import json
import statistics
import sys

# The order of peer_bench's own table; unknown systems sort last.
ORDER = ["korb/inline/tcp", "korb/pool4/tcp", "korb/inline_grpc_stub/tcp", "grpc/sync/tcp",
         "grpc/callback/tcp", "grpc/stream/tcp", "grpc/callback/unix", "grpc/stream/unix",
         "ice/default/tcp", "ice/pool32/tcp", "omniorb/default/tcp", "omniorb/default/unix"]

LABELS = {
    "korb/inline/tcp": "Korb inline + Korb stub",
    "korb/pool4/tcp": "Korb pool(4) + Korb stub",
    "korb/inline_grpc_stub/tcp": "Korb inline + gRPC's generated stub",
    "grpc/sync/tcp": "raw gRPC sync server + stub",
    "grpc/callback/tcp": "raw gRPC callback server + stub",
    "grpc/stream/tcp": "raw gRPC bidi stream ping-pong",
    "grpc/callback/unix": "raw gRPC callback + stub, Unix socket",
    "grpc/stream/unix": "raw gRPC stream ping-pong, Unix socket",
    "ice/default/tcp": "ZeroC Ice 3.7, default pool (1 thread)",
    "ice/pool32/tcp": "ZeroC Ice 3.7, pool of 32 threads",
    "omniorb/default/tcp": "omniORB 4.2, thread per connection",
    "omniorb/default/unix": "omniORB 4.2, thread per connection, Unix socket",
}


def name(row):
    return "%s/%s/%s" % (row["system"], row["variant"], row["transport"])


def label(system):
    return LABELS.get(system, system)


def rank(system):
    return ORDER.index(system) if system in ORDER else len(ORDER)


def read_runs(paths):
    """[(rows, skipped)] per file: rows[(system, scenario, clients, payload)] = row."""
    runs = []
    for path in paths:
        rows, skipped = {}, {}
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                row = json.loads(line)
                if row.get("system") == "ratio":
                    continue
                if "skipped" in row:
                    skipped[name(row)] = row["skipped"]
                elif "scenario" in row:
                    rows[(name(row), row["scenario"], row["clients"], row["payload"])] = row
        runs.append((rows, skipped))
    return runs


def systems_of(runs):
    return sorted({key[0] for rows, _ in runs for key in rows}, key=rank)


def median_of(runs, system, scenario, clients, payload, field):
    values = [rows[(system, scenario, clients, payload)][field] for rows, _ in runs
              if (system, scenario, clients, payload) in rows]
    return statistics.median(values) if values else None


def ratios(runs, korb, peer, scenario, clients, payload, field):
    """The ratio korb/peer of `field` in each run that has both rows."""
    values = []
    for rows, _ in runs:
        k = rows.get((korb, scenario, clients, payload))
        p = rows.get((peer, scenario, clients, payload))
        if k and p and p[field] > 0:
            values.append(k[field] / p[field])
    return values


def fmt_ratios(values):
    """The median, and the runs' spread when there are several: 1.19× (1.10–1.31)."""
    if not values:
        return "–"
    if len(values) == 1:
        return "%.2f×" % values[0]
    return "%.2f× (%.2f–%.2f)" % (statistics.median(values), min(values), max(values))


def fmt(value, pattern):
    return "–" if value is None else pattern % value


def payload_label(payload):
    return "4 KiB" if payload == 4096 else "%d B" % payload


# The ratio table's columns: (scenario, clients, field, heading).
RATIOS = [("latency", 1, "p50_us", "p50, 1 client"),
          ("throughput", 8, "calls_per_s", "calls/s, 8 clients"),
          ("throughput", 32, "calls_per_s", "calls/s, 32 clients")]


def print_tables(runs):
    systems = systems_of(runs)
    payloads = sorted({key[3] for rows, _ in runs for key in rows})
    for payload in payloads:
        print("#### %s, medians of %d runs\n" % (payload_label(payload), len(runs)))
        print("| system | p50 µs, 1 client | p99 µs, 1 client | calls/s, 8 clients "
              "| calls/s, 32 clients |")
        print("|---|---|---|---|---|")
        for s in systems:
            cells = [median_of(runs, s, "latency", 1, payload, "p50_us"),
                     median_of(runs, s, "latency", 1, payload, "p99_us"),
                     median_of(runs, s, "throughput", 8, payload, "calls_per_s"),
                     median_of(runs, s, "throughput", 32, payload, "calls_per_s")]
            print("| %s | %s |" % (label(s), " | ".join(fmt(c, "%.0f") for c in cells)))
        print()
    print("#### Korb's ratios to every other system, medians of %d runs%s\n"
          % (len(runs), " (in brackets: the lowest and highest run)" if len(runs) > 1 else ""))
    print("| Korb | versus | " + " | ".join(
        "%s, %s" % (heading, payload_label(payload))
        for payload in payloads for _, _, _, heading in RATIOS) + " |")
    print("|---|---" + "|---" * (len(payloads) * len(RATIOS)) + "|")
    for k in (s for s in systems if s.startswith("korb/")):
        for p in (s for s in systems if not s.startswith("korb/")):
            cells = [fmt_ratios(ratios(runs, k, p, scenario, clients, payload, field))
                     for payload in payloads for scenario, clients, field, _ in RATIOS]
            print("| %s | %s | %s |" % (label(k), label(p), " | ".join(cells)))
    print()
    # Both call the same Korb server: the ratio is what Korb's client runtime
    # costs against gRPC's bare generated stub.
    korb_stub, grpc_stub = "korb/inline/tcp", "korb/inline_grpc_stub/tcp"
    if korb_stub in systems and grpc_stub in systems:
        print("#### Korb's stub against gRPC's generated stub, both calling the Korb inline "
              "server\n")
        print("| " + " | ".join("%s, %s" % (heading, payload_label(payload))
                                for payload in payloads for _, _, _, heading in RATIOS) + " |")
        print("|---" * (len(payloads) * len(RATIOS)) + "|")
        print("| " + " | ".join(
            fmt_ratios(ratios(runs, korb_stub, grpc_stub, scenario, clients, payload, field))
            for payload in payloads for scenario, clients, field, _ in RATIOS) + " |")
        print()
    for i, (_, skipped) in enumerate(runs):
        for system, why in sorted(skipped.items()):
            print("Run %d skipped %s: %s" % (i + 1, system, why))


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    print_tables(read_runs(argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
