#!/usr/bin/python3
"""Charts of peer_bench runs: one PNG per payload.

Usage: bench/peers/chart.py --out-dir docs/bench run1.json run2.json ...

Each PNG (peers-32B.png, peers-4KiB.png) has two panels with the systems in
the same order, coloured by family (Korb, raw gRPC, Ice, omniORB):
- latency with 1 client: p50, p90 and p99 bars per system (shorter is better);
- throughput: calls/s with 8 and 32 closed-loop clients (longer is better).
Every figure is the median over the runs given. Needs Debian's
python3-matplotlib (`make bench-deps`), hence Debian's /usr/bin/python3 rather
than whichever python3 comes first on PATH.
"""
import argparse
import os
import sys

try:
    import matplotlib
except ImportError:
    sys.exit("chart.py: no matplotlib for %s; run `make bench-deps` and use /usr/bin/python3"
             % sys.executable)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summarize import label, median_of, payload_label, read_runs, systems_of  # noqa: E402

COLOURS = {"korb": "#d95f02", "grpc": "#1f78b4", "ice": "#33a02c", "omniorb": "#6a3d9a"}


def colour(system):
    return COLOURS.get(system.split("/")[0], "#777777")


def grouped_bars(ax, systems, series, title, log=False):
    """series: [(legend, alpha, [value per system])], drawn top to bottom per system.

    The axes share their y axis, which the caller turns top-down once."""
    height = 0.8 / len(series)
    for i, (legend, alpha, values) in enumerate(series):
        ys = [s_index + (i - (len(series) - 1) / 2) * height for s_index in range(len(systems))]
        widths = [v or 0 for v in values]
        ax.barh(ys, widths, height=height * 0.95, color=[colour(s) for s in systems], alpha=alpha)
        for y, v in zip(ys, values):
            if v:
                ax.text(v, y, " %s" % format_value(v), va="center", fontsize=7)
    ax.set_yticks(range(len(systems)))
    ax.set_yticklabels([label(s) for s in systems], fontsize=8)
    if log:
        # One slow outlier (a p99 of milliseconds on a busy machine) would
        # otherwise squash every p50 into a sliver.
        ax.set_xscale("log")
        present = [v for _, _, values in series for v in values if v]
        ax.set_xlim(min(present) / 2, max(present) * 3)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.margins(x=0.25 if log else 0.18)
    # Below the panel, where no bar or figure can be.
    ax.legend(handles=[Patch(color="#555555", alpha=alpha, label=legend)
                       for legend, alpha, _ in series], fontsize=8, loc="upper center",
              bbox_to_anchor=(0.5, -0.07), ncol=len(series), frameon=False)


def format_value(v):
    return "%.0fk" % (v / 1000) if v >= 10000 else "%.0f" % v


def chart(runs, payload, path):
    systems = [s for s in systems_of(runs)
               if median_of(runs, s, "latency", 1, payload, "p50_us") is not None]
    fig, (lat, thr) = plt.subplots(1, 2, figsize=(13, 0.55 * len(systems) + 1.8), sharey=True)
    grouped_bars(lat, systems, [
        (q, alpha, [median_of(runs, s, "latency", 1, payload, field) for s in systems])
        for q, alpha, field in (("p50", 1.0, "p50_us"), ("p90", 0.6, "p90_us"),
                                ("p99", 0.3, "p99_us"))],
        "Latency, 1 client (µs, log scale, shorter is better)", log=True)
    grouped_bars(thr, systems, [
        ("%d clients" % c, alpha, [median_of(runs, s, "throughput", c, payload, "calls_per_s")
                                   for s in systems])
        for c, alpha in ((8, 0.55), (32, 1.0))],
        "Throughput (calls/s, longer is better)")
    lat.invert_yaxis()  # the first system on top (the axes share y)
    fig.suptitle("Echo of %s across processes on loopback: medians of %d runs "
                 "(2 shared cores; compare within a chart)" % (payload_label(payload), len(runs)),
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)


def main():
    parser = argparse.ArgumentParser(description="Charts of peer_bench runs.")
    parser.add_argument("--out-dir", default=".")
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()
    runs = read_runs(args.runs)
    payloads = sorted({key[3] for rows, _ in runs for key in rows})
    for payload in payloads:
        chart(runs, payload, os.path.join(
            args.out_dir, "peers-%s.png" % payload_label(payload).replace(" ", "")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
