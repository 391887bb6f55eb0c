#!/usr/bin/env python3
"""Turns criterion's saved estimates into the README's markdown tables.

usage: python3 benches/report.py [CRITERION_DIR]   (default: target/criterion)

Medians only, in GB/s (10^9 bytes per second) of the benchmark's
`Throughput::Bytes`. Standard library only.

Decoding gives two tables: every contender's throughput, then each of our
surfaces against the fastest peer of any surface and against the fastest
peer of the same surface (SURFACES below).
"""
import json
import os
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
OURS = ["ours", "ours-fixed", "ours-bytes", "ours-codec", "ours-stream"]
PEERS = ["sse-core", "sse-stream", "sse-parse", "sseer", "eventsource-stream", "async-sse", "russe", "russe-framed", "tokio-sse-codec"]
DECODERS = OURS + PEERS
# Each surface of ours and the peers' equivalent surface: a borrowed slice
# per call; a tokio-util `Decoder` over a `BytesMut` driven by hand; a reader
# (`FramedRead`, or an `AsyncBufRead`); a `Stream` of body chunks.
SURFACES = [
    ("slice", ["ours", "ours-fixed"], ["sse-core", "sse-parse"]),
    ("BytesMut", ["ours-bytes"], ["russe"]),
    ("reader", ["ours-codec"], ["russe-framed", "tokio-sse-codec", "async-sse"]),
    ("stream", ["ours-stream"], ["sse-stream", "sseer", "eventsource-stream"]),
]
BASELINES = ["memchr2", "memchr2+utf8", "memchr2+simdutf8", "simdutf8"]
WORKLOADS = ["llm-tokens", "large-json", "multiline", "crlf-mixed", "tiny"]
FEEDINGS = ["whole", "1460B", "7B"]
ENCODERS = ["ours", "ours-to_vec", "sse-stream", "async-sse", "russe", "memcpy", "scan+copy"]


def load():
    results = {}
    for dirpath, _, files in os.walk(ROOT):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        nbytes = bench["throughput"]["Bytes"]
        median_ns = est["median"]["point_estimate"]
        results[(bench["group_id"], bench["function_id"])] = nbytes / median_ns  # bytes/ns = GB/s
    return results


def cell(x):
    return "–" if x is None else f"{x:.2f}"


def main():
    r = load()
    head = ["workload", "feeding"] + DECODERS + BASELINES + ["fastest peer", "ours / fastest peer", "ours / memchr2", "ours / memchr2+simdutf8"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * 2 + "---:|" * (len(DECODERS) + len(BASELINES)) + "---|" + "---:|" * 3)
    for w in WORKLOADS:
        for feed in FEEDINGS:
            g = f"decode/{w}/{feed}"
            row = {c: r.get((g, c)) for c in DECODERS + BASELINES}
            if all(v is None for v in row.values()):
                continue
            peers = [(row[c], c) for c in PEERS if row[c] is not None]
            best, best_name = max(peers) if peers else (None, "–")
            ours = row["ours"]
            ratio = lambda a, b: "–" if a is None or b is None else f"{a / b:.2f}"
            cells = [w, feed] + [cell(row[c]) for c in DECODERS + BASELINES]
            cells += [best_name, ratio(ours, best), ratio(ours, row["memchr2"]), ratio(ours, row["memchr2+simdutf8"])]
            print("| " + " | ".join(cells) + " |")
    surfaces(r)
    enc = [(k, v) for k, v in r.items() if k[0].startswith("encode/")]
    if enc:
        print()
        head = ["workload"] + ENCODERS + ["ours / fastest peer", "ours / scan+copy"]
        print("| " + " | ".join(head) + " |")
        print("|---|" + "---:|" * (len(ENCODERS) + 2))
        for w in WORKLOADS:
            g = f"encode/{w}"
            row = {c: r.get((g, c)) for c in ENCODERS}
            if all(v is None for v in row.values()):
                continue
            peers = [row[c] for c in ("sse-stream", "async-sse", "russe") if row[c] is not None]
            ratio = "–" if not peers or row["ours"] is None else f"{row['ours'] / max(peers):.2f}"
            floor = "–" if row["ours"] is None or row["scan+copy"] is None else f"{row['ours'] / row['scan+copy']:.2f}"
            print("| " + " | ".join([w] + [cell(row[c]) for c in ENCODERS] + [ratio, floor]) + " |")


def surfaces(r):
    """Each surface of ours / the fastest peer (any surface), then / the
    fastest peer of the same surface, named with its GB/s."""
    ratio = lambda a, b: "–" if a is None or b is None else f"{a / b:.2f}"
    head = ["workload", "feeding", "fastest peer"] + [f"{o} / fastest" for o in OURS]
    for name, ours, peers in SURFACES:
        head += [f"fastest {name} peer"] + [f"{o} / it" for o in ours]
    print()
    print("| " + " | ".join(head) + " |")
    print("|---|---|---|" + "---:|" * len(OURS) + "".join("---|" + "---:|" * len(o) for _, o, _ in SURFACES))
    for w in WORKLOADS:
        for feed in FEEDINGS:
            g = f"decode/{w}/{feed}"
            row = {c: r.get((g, c)) for c in DECODERS}
            if all(row[o] is None for o in OURS):
                continue
            best = max(((row[c], c) for c in PEERS if row[c] is not None), default=(None, "–"))
            cells = [w, feed, "–" if best[0] is None else f"{best[1]} {best[0]:.2f}"]
            cells += [ratio(row[o], best[0]) for o in OURS]
            for _, ours, peers in SURFACES:
                same = max(((row[c], c) for c in peers if row[c] is not None), default=(None, "–"))
                cells += ["–" if same[0] is None else f"{same[1]} {same[0]:.2f}"]
                cells += [ratio(row[o], same[0]) for o in ours]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
