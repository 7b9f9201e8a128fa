"""A small synthetic Bulk Data export, written once per session by tools/make_bulk_export.py."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from cds_service.config import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tools"))
import make_bulk_export  # noqa: E402

PATIENTS = 80


@pytest.fixture(scope="session")
def bulk_export(tmp_path_factory) -> Path:
    """80 patients, half of them copies of the NET samples, Medications shared by reference, 2 files per type."""
    out = tmp_path_factory.mktemp("bulk") / "export"
    make_bulk_export.build(out, PATIENTS, nen_fraction=0.5, seed=7, files_per_type=2, gz=False)
    return out


@pytest.fixture(scope="session")
def bulk_export_gz(tmp_path_factory) -> Path:
    """The same patients, gzipped, three files per type."""
    out = tmp_path_factory.mktemp("bulk-gz") / "export"
    make_bulk_export.build(out, PATIENTS, nen_fraction=0.5, seed=7, files_per_type=3, gz=True)
    return out


@pytest.fixture
def export_without_medications(bulk_export, tmp_path) -> Path:
    """The export with its Medication files left out (folder form: no manifest)."""
    out = tmp_path / "no-medications"
    out.mkdir()
    for item in bulk_export.iterdir():
        if item.suffix == ".ndjson" and not item.name.startswith("Medication."):
            shutil.copy(item, out / item.name)
    return out
