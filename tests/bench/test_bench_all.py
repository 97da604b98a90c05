"""The single benchmark command's report: every target recorded in a results file is
found, at any depth, and printed as met or MISSED; a benchmark that fails or writes no
results says so instead of passing silently."""

from __future__ import annotations

import json
from pathlib import Path

from bench.all import BENCHES, Bench, summary, targets_in

ROOT = Path(__file__).resolve().parents[2]


def test_targets_are_found_at_any_depth() -> None:
    record = {
        "targets_met": {"sqlite p95 <= 50 ms": True},
        "results": [{"database": "sqlite", "target_met": False},
                    {"database": "postgres", "target_met": True}],
        "per_size": {"1024": {"targets_met": {"peak within 16 MiB": False}}},
    }
    assert sorted(targets_in(record)) == [
        ("per_size 1024 peak within 16 MiB", False),
        ("postgres", True),
        ("sqlite", False),
        ("sqlite p95 <= 50 ms", True),
    ]


def test_the_summary_says_met_missed_failed_and_none(tmp_path: Path) -> None:
    with_targets = tmp_path / "a.json"
    with_targets.write_text(json.dumps({"targets_met": {"x": True, "y": False}}))
    without = tmp_path / "b.json"
    without.write_text(json.dumps({"ratio": 1.2}))
    lines = summary([
        (Bench("bench_a", "a"), 0, 3.0, with_targets),
        (Bench("bench_b", "b"), 0, 1.0, without),
        (Bench("bench_c", "c"), 2, 1.0, tmp_path / "c.json"),
        (Bench("bench_d", "d"), 0, 1.0, tmp_path / "missing.json"),
    ])
    assert lines == [
        "bench_a (3 s): x: met",
        "bench_a (3 s): y: MISSED",
        "bench_b (1 s): no target set, ratios only",
        "bench_c (1 s): FAILED to run (exit 2)",
        f"bench_d (1 s): no results file at {tmp_path / 'missing.json'}",
    ]


def test_every_benchmark_is_in_the_single_command() -> None:
    modules = {p.stem for p in (ROOT / "bench").glob("bench_*.py")}
    assert modules == {b.module for b in BENCHES}
    for bench in BENCHES:  # a --quick is passed only to those that take it
        source = (ROOT / "bench" / f"{bench.module}.py").read_text()
        assert bench.has_quick == ('"--quick"' in source), bench.module
