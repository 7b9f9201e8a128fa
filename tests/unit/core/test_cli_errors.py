"""Misuses of `net-cds call` are one line saying what to change, never a Python traceback."""

from __future__ import annotations

import pytest

from cds_service.cli import main
from cds_service.samples import list_samples


@pytest.fixture(autouse=True)
def _databases_in_tmp(tmp_path, monkeypatch):
    """The CLI reads its settings from the environment: keep its databases out of the checkout."""
    monkeypatch.setenv("NET_CDS_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    monkeypatch.setenv("NET_CDS_JTI_DB", str(tmp_path / "jti.sqlite3"))


def _files(tmp_path):
    (tmp_path / "broken.json").write_text('{"resourceType": "Bundle", ', encoding="utf-8")
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    return {"missing": (tmp_path / "nope.json", "cannot read it"),
            "not JSON": (tmp_path / "broken.json", "not valid JSON"),
            "not a Bundle": (tmp_path / "list.json", "not a FHIR Bundle"),
            "not text": (tmp_path / "binary.json", "not a text file"),
            "a folder": (tmp_path, "cannot read it")}


@pytest.mark.parametrize("option", ["--draft", "--bundle"])
@pytest.mark.parametrize("case", ["missing", "not JSON", "not a Bundle", "not text", "a folder"])
def test_a_bad_draft_or_bundle_file_is_one_line_naming_the_file(tmp_path, capsys, option, case):
    path, says = _files(tmp_path)[case]
    code = main(["call", "order-sign", "--patient", "net-pnet-gastrinoma", option, str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert err.startswith(f"{option} {path}: {says}")


def test_order_sign_without_drafts_says_there_were_none(capsys):
    without = next(s for s in list_samples() if not s.draft and s.rules != ("scope",))
    assert main(["call", "order-sign", "--patient", without.id]) == 0
    out = capsys.readouterr().out
    assert "no draft orders to check" in out and "--draft FILE" in out
    assert "no guidance" not in out
    assert next(s.id for s in list_samples() if s.draft) in out  # names samples that have drafts


def test_an_empty_draft_bundle_also_says_there_were_none(tmp_path, capsys):
    empty = tmp_path / "empty.json"
    empty.write_text('{"resourceType": "Bundle", "type": "collection", "entry": []}', encoding="utf-8")
    assert main(["call", "order-sign", "--patient", "net-pnet-gastrinoma", "--draft", str(empty)]) == 0
    assert "no draft orders to check" in capsys.readouterr().out


def test_no_guidance_is_still_said_when_drafts_were_checked(capsys):
    assert main(["call", "order-sign", "--patient", "net-no-nen"]) == 0  # a draft, but no NEN: no card
    out = capsys.readouterr().out
    assert "No cards: the service has no guidance for this patient." in out
