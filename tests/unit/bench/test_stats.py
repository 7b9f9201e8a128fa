"""The benchmark harness's percentile math (functional only: no timing assertions)."""

import math

import pytest

from bench.stats import overhead_summary, percentile, summarize


def test_percentile_interpolates_linearly() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 40.0
    assert percentile(values, 50) == 25.0
    assert percentile(values, 95) == pytest.approx(38.5)


def test_percentile_ignores_input_order_and_handles_edge_cases() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_percentile_matches_rank_definition_on_1_to_100() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 50) == pytest.approx(50.5)


def test_summarize_reports_throughput_and_percentiles() -> None:
    summary = summarize([1.0, 2.0, 3.0, 4.0], wall_s=2.0, errors=1)
    assert summary["requests"] == 4
    assert summary["errors"] == 1
    assert summary["rps"] == 2.0
    assert summary["p50_ms"] == 2.5
    assert summary["max_ms"] == 4.0


def test_overhead_is_latency_minus_the_calls_own_slowest_fhir_request() -> None:
    latencies = [20.0, 30.0, 12.0, 50.0]
    slowest = [10.0, None, 2.0, 15.0]  # the second call reported no FHIR figure: left out
    added = overhead_summary(latencies, slowest)
    assert added is not None and added["requests"] == 3
    assert added["p50_ms"] == 10.0 and added["max_ms"] == 35.0
    assert added["fhir_slowest_p50_ms"] == 10.0


def test_overhead_is_none_without_fhir_figures() -> None:
    assert overhead_summary([5.0, 6.0], [None, None]) is None
    with pytest.raises(ValueError):
        overhead_summary([5.0], [])


def test_cpu_probe_reports_a_capacity_between_zero_and_its_process_count() -> None:
    from bench.cpu_probe import cpu_capacity

    result = cpu_capacity(processes=2, iterations=1_000_000)
    assert result["processes"] == 2 and result["alone_s"] > 0 and result["together_s"] > 0
    assert result["capacity"] == pytest.approx(2 * result["alone_s"] / result["together_s"], abs=0.006)
    assert 0 < result["capacity"] <= 3  # above 2 only by timer and CPU-frequency noise on such short loops
