"""SMART App Launch end to end: a real authorization server (Authlib, SMART launch context) in front of a
real FHIR test server (sekmet) that accepts only its tokens, and the service's /app as a real process.

Driven with HTTP requests as a browser would follow them (redirects, the cookie, the approval form); the
browser test (tests/browser) drives the same servers in Chromium. The timeline's content is checked
against the profile the hooks build from the same patient.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from tests.integration.smart_launch import SmartStack, running_smart_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def smart_stack(sekmet_server, tmp_path_factory) -> Iterator[SmartStack]:
    with running_smart_stack(sekmet_server, tmp_path_factory.mktemp("smart")) as stack:
        yield stack


def _approve(session: requests.Session, page: requests.Response, **choices: str) -> requests.Response:
    """Submit the authorization server's approval form as a user clicking Approve would."""
    assert page.status_code == 200 and "<form" in page.text, page.text[:500]
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page.text)[1])
    return session.post(urljoin(page.url, action), data={**choices, "decision": "approve"}, timeout=60)


def test_ehr_launch_reads_the_patient_with_the_clinicians_token(smart_stack: SmartStack):
    session = requests.Session()
    page = session.get(f"{smart_stack.service}/app/launch", params={"iss": smart_stack.fhir, "launch": "launch-1"},
                       timeout=60)
    request = parse_qs(urlsplit(page.url).query)  # the authorization request the app made
    assert page.url.startswith(f"{smart_stack.auth}/authorize")
    assert request["code_challenge_method"] == ["S256"] and len(request["code_challenge"][0]) >= 43
    assert request["aud"] == [smart_stack.fhir] and request["launch"] == ["launch-1"] and request["state"][0]
    scopes = request["scope"][0].split()
    assert {"launch", "openid", "fhirUser", "patient/Observation.rs", "patient/Condition.rs",
            "patient/MedicationStatement.rs", "patient/Patient.r"} <= set(scopes)
    answer = _approve(session, page)
    assert answer.status_code == 200, answer.text[:1000]
    assert answer.url == f"{smart_stack.service}/app/timeline"
    smart_stack.check_timeline(answer.text, smart_stack.patient)
    assert answer.headers["Cache-Control"] == "no-store"
    assert "code=" not in answer.url


def test_standalone_launch_lets_the_user_pick_the_patient(smart_stack: SmartStack):
    session = requests.Session()
    page = session.get(f"{smart_stack.service}/app/standalone", timeout=60)
    request = parse_qs(urlsplit(page.url).query)
    assert "launch/patient" in request["scope"][0].split() and "launch" not in request
    answer = _approve(session, page, patient=smart_stack.other_patient)
    assert answer.status_code == 200, answer.text[:1000]
    smart_stack.check_timeline(answer.text, smart_stack.other_patient)


def test_the_fhir_server_demands_the_authorization_servers_token(smart_stack: SmartStack):
    url = f"{smart_stack.fhir}/Patient/{smart_stack.patient}"
    assert requests.get(url, timeout=60).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer forged"}, timeout=60).status_code == 401


def test_launch_from_a_server_not_on_the_allowlist_is_400(smart_stack: SmartStack):
    answer = requests.get(f"{smart_stack.service}/app/launch", params={"iss": "http://127.0.0.1:9/fhir",
                                                                       "launch": "launch-1"}, timeout=60)
    assert answer.status_code == 400
    assert answer.json()["issue"][0]["expression"] == ["iss"]
    missing = requests.get(f"{smart_stack.service}/app/launch", params={"iss": smart_stack.fhir}, timeout=60)
    assert missing.status_code == 400 and missing.json()["issue"][0]["expression"] == ["launch"]


def test_a_callback_with_a_forged_state_or_no_session_is_refused(smart_stack: SmartStack):
    session = requests.Session()
    page = session.get(f"{smart_stack.service}/app/launch", params={"iss": smart_stack.fhir, "launch": "launch-1"},
                       timeout=60)
    assert page.status_code == 200
    forged = session.get(f"{smart_stack.service}/app/callback", params={"code": "x", "state": "forged"},
                         timeout=60, allow_redirects=False)
    assert forged.status_code == 401 and "x" not in forged.text.replace("exception", "")
    assert requests.get(f"{smart_stack.service}/app/callback", params={"code": "x", "state": "y"},
                        timeout=60).status_code == 400  # no launch in progress in this browser
    assert requests.get(f"{smart_stack.service}/app/timeline", timeout=60).status_code == 401
