"""The worker warm-up runs the real pipeline once and never raises."""

from __future__ import annotations

import logging

from cds_service.config import Settings
from cds_service.warmup import warm_up


def test_warm_up_runs_the_pipeline_on_a_sample(settings, caplog):
    with caplog.at_level(logging.INFO, logger="cds_service.warmup"):
        assert warm_up(settings) > 0
    assert any("warm-up done" in r.message for r in caplog.records)


def test_warm_up_without_samples_or_with_broken_data_does_not_raise(tmp_path):
    assert warm_up(Settings().with_overrides(data_dir=tmp_path)) == 0.0
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "broken.json").write_text("{not json")
    assert warm_up(Settings().with_overrides(data_dir=tmp_path)) == 0.0
