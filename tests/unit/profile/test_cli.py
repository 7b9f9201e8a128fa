"""`net-cds profile FILE` (issue 3): text with provenance, or JSON; bundles and single resources."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from cds_service.commands.profile import profile_file, record_from_bundle
from tests.unit.profile.builders import ileal_net, ki67, patient, sstr_report

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def _bundle(*resources: dict, kind: str = "collection") -> dict:
    return {"resourceType": "Bundle", "type": kind,
            "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate(resources)]}


def _write(tmp_path: Path, data: object, name: str = "b.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_text_output_shows_values_dates_references_and_notes(tmp_path: Path) -> None:
    path = _write(tmp_path, _bundle(patient(), ileal_net(rid="c-ileum"), ki67(valueString="<3%"),
                                    sstr_report("Ga-68 DOTATATE PET/CT", rid="pet-1")))
    out = io.StringIO()
    assert profile_file(path, today=date(2026, 11, 28), out=out) == 0
    text = out.getvalue()
    assert "primary_site: ileum  [2025-01-10]" in text and "Condition/c-ileum (2025-01-10)" in text
    assert "who_grade: G1" in text and "graded as just below 3" in text
    assert "sstr_status: positive  [2026-10-15]" in text and "DiagnosticReport/pet-1" in text
    assert "PRRT eligibility" in text


@pytest.mark.parametrize("kind", ["collection", "transaction", "searchset"])
def test_json_output_for_each_bundle_type(tmp_path: Path, kind: str) -> None:
    path = _write(tmp_path, _bundle(patient(), ileal_net(), ki67(12), kind=kind))
    out = io.StringIO()
    assert profile_file(path, as_json=True, today=date(2026, 11, 28), out=out) == 0
    data = json.loads(out.getvalue())
    assert data["patient_id"] == "p1" and data["who_grade"]["value"] == "G2"
    assert data["ki67_percent"]["sources"][0]["date"] == "2026-10-01"
    assert data["prrt_eligibility"]["eligible"] is False and data["as_of"] == "2026-11-28"


def test_single_resource_file(tmp_path: Path) -> None:
    out = io.StringIO()
    assert profile_file(_write(tmp_path, ileal_net()), as_json=True, out=out) == 0
    assert json.loads(out.getvalue())["primary_site"]["value"] == "ileum"


def test_patient_is_the_first_patient_in_the_bundle() -> None:
    other = dict(patient(), id="p2")
    assert record_from_bundle(_bundle(ileal_net(), patient(), other)).patient_id == "p1"


def test_unreadable_file_returns_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert profile_file(bad, out=io.StringIO()) == 1
    assert profile_file(_write(tmp_path, [1, 2]), out=io.StringIO()) == 1
    assert profile_file(tmp_path / "missing.json", out=io.StringIO()) == 1


def test_drafts_file_is_classified(tmp_path: Path) -> None:
    draft = {"resourceType": "MedicationRequest", "id": "d1", "status": "draft", "intent": "order",
             "medicationCodeableConcept": {"text": "omeprazole 20 mg"}}
    out = io.StringIO()
    profile_file(_write(tmp_path, _bundle(patient(), ileal_net())), as_json=True,
                 drafts=_write(tmp_path, _bundle(draft), "d.json"), out=out)
    assert json.loads(out.getvalue())["draft_orders"][0]["therapy"] == "ppi"


def test_register_adds_the_profile_command() -> None:
    import argparse

    from cds_service.commands import profile as command

    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["profile", "x.json", "--json", "--as-of", "2026-11-28"])
    assert args.func is command.run and args.json and args.as_of == date(2026, 11, 28)


@pytest.mark.skipif(not (SAMPLES / "net-si-after-prrt-durable.json").exists(), reason="samples not present")
def test_sample_bundle_profile() -> None:
    out = io.StringIO()
    path = SAMPLES / "net-si-after-prrt-durable.json"
    assert profile_file(path, as_json=True, today=date(2026, 11, 28), out=out) == 0
    data = json.loads(out.getvalue())
    assert data["functional_syndrome"]["value"] == "carcinoid-syndrome"
    assert data["line_of_therapy"]["value"] == "after-ssa-prrt"
    prrt = next(t for t in data["therapies"] if t["therapy"] == "prrt")
    assert prrt["administrations"] == 4 and prrt["planned"] == ["2026-12-10"]
    assert data["prrt_response_durable"]["value"] is True
