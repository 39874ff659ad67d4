"""Percentiles and a small table printer shared by the benchmarks."""

from __future__ import annotations

import statistics


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile; q in [0, 100]."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(samples_s: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 50), 1),
        "p95": round(percentile(ms, 95), 1),
        "p99": round(percentile(ms, 99), 1),
        "mean": round(statistics.fmean(ms), 1) if ms else float("nan"),
    }


def print_latency_table(latency: object, path: str) -> None:
    """Markdown rows per load level: Rasa directly, the path under test, and their ratio."""
    assert isinstance(latency, dict)
    print("| customers | path | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for key, row in latency.items():
        n = key.split("_")[0]
        for name in ("rasa", path):
            s = row[name]
            print(f"| {n} | {name} | {s['p50']} | {s['p95']} | {s['p99']} |")
        r = row["ratio"]
        print(f"| {n} | {path} / rasa | {r['p50']}x | {r['p95']}x | {r['p99']}x |")
