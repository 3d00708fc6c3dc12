"""How `make bench` judges a protocol row against its Gemini row: slices in alternation (base, A, base, B, …),
each protocol slice held against the mean of the base slices on either side, the goal the median of the clean
pairs (all pairs when too few are clean), and a row that had errors never passing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import bench
from bench_load import slice_order


def _slice(row: str, rps: float, us: float | None = 400.0, errors: int = 0, noise: float = 0.0) -> dict[str, Any]:
    return {
        "row": row,
        "rps": rps,
        "server_cpu_us_per_req": us,
        "errors": {"status 500": errors} if errors else {},
        "noise_pct": noise,
    }


def _run(slices: list[dict[str, Any]], target: str = "proxy", base: str = "stream") -> dict[str, Any]:
    return {"target": target, "base": base, "slices": slices}


def test_the_slices_alternate_base_and_each_row_and_end_on_the_base() -> None:
    assert slice_order(["stream", "responses", "chat-stream"], 2) == [
        "stream", "responses", "stream", "chat-stream",
        "stream", "responses", "stream", "chat-stream", "stream",
    ]  # fmt: skip


def test_each_row_slice_is_held_against_the_mean_of_its_two_neighbours() -> None:
    run = _run(
        [
            _slice("stream", 2000, 500),
            _slice("responses", 1800, 600),
            _slice("stream", 2200, 460),
            _slice("chat-stream", 2000, 480),
            _slice("stream", 1800, 540),
        ]
    )
    (pair,) = bench.slice_pairs(run, "responses")
    assert pair["rps_ratio"] == pytest.approx(1800 / 2100)
    assert pair["cpu_ratio"] == pytest.approx(480 / 600)  # base over row: below 1 when the row costs more
    assert pair["clean"] is True
    (other,) = bench.slice_pairs(run, "chat-stream")
    assert other["rps_ratio"] == pytest.approx(2000 / 2000)


def test_a_pair_is_unclean_when_any_of_its_three_slices_had_errors_or_noise() -> None:
    run = _run(
        [
            _slice("stream", 2000),
            _slice("responses", 1800),
            _slice("stream", 2000, noise=bench.NOISY_PCT + 1),  # shared by both pairs
            _slice("responses", 1800),
            _slice("stream", 2000),
            _slice("responses", 1800, errors=1),
            _slice("stream", 2000),
            _slice("responses", 1800),
            _slice("stream", 2000),
        ]
    )
    assert [p["clean"] for p in bench.slice_pairs(run, "responses")] == [False, False, False, True]


def test_the_goal_is_the_median_of_the_clean_pairs_with_their_quartiles() -> None:
    slices = [_slice("stream", 1000)]
    for ratio in (0.80, 0.82, 0.88, 0.90, 0.92, 0.95):
        slices += [_slice("responses", 1000 * ratio), _slice("stream", 1000)]
    slices[2]["noise_pct"] = 50.0  # the base slice between the first two pairs: both are out
    summary = bench.slice_summary(_run(slices), "responses")
    assert summary["pairs"] == 6 and summary["clean"] == 4
    assert summary["value"] == 0.91  # the median of 0.88, 0.90, 0.92, 0.95 — not of all six (0.89)
    assert summary["q1"] is not None and summary["q1"] <= summary["value"] <= summary["q3"]
    assert summary["errors"] == 0


def test_with_fewer_than_four_clean_pairs_every_pair_counts() -> None:
    slices = [_slice("stream", 1000)]
    for ratio in (0.70, 0.80, 0.90):
        slices += [_slice("responses", 1000 * ratio), _slice("stream", 1000, noise=50.0)]
    summary = bench.slice_summary(_run(slices), "responses")
    assert summary["clean"] == 0
    assert summary["value"] == 0.8


def _judged(slices: list[dict[str, Any]]) -> dict[str, Any]:
    out = bench.goals([], [1, 32], "proxy", [], [_run(slices)])
    return dict(out["responses_rps_ratio_vs_stream_c32"])


def test_a_row_passes_at_085_of_its_gemini_row_and_fails_below() -> None:
    def run_at(ratio: float) -> list[dict[str, Any]]:
        slices = [_slice("stream", 1000)]
        for _ in range(5):
            slices += [_slice("responses", 1000 * ratio), _slice("stream", 1000)]
        return slices

    passing, failing = _judged(run_at(0.86)), _judged(run_at(0.84))
    assert (passing["value"], passing["pass"]) == (0.86, True)
    assert (failing["value"], failing["pass"]) == (0.84, False)
    assert passing["goal"] == ">= 0.85"


def test_a_row_that_had_errors_does_not_pass_however_fast() -> None:
    slices = [_slice("stream", 1000)]
    for index in range(5):
        slices += [_slice("responses", 1000, errors=1 if index == 2 else 0), _slice("stream", 1000)]
    judged = _judged(slices)
    assert judged["value"] is None and judged["pass"] is False
    assert judged["slices"]["errors"] == 1
