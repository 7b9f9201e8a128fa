"""The fleet as a hospital runs it: nginx, two replicas, PostgreSQL (fixtures in conftest.py).

Tests that break something (a replica killed, the database stopped) bring it back before they end.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter

import psycopg
import pytest
import requests

from cds_service.samples import get_sample
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request, prefetch_from_bundle
from cds_service.web.errors import UNAUTHORIZED_BODY

pytestmark = pytest.mark.fleet

PV = "/cds-services/net-patient-view"
FEEDBACK = PV + "/feedback"
SAMPLE = "net-pnet-insulinoma"  # a warning card with override reasons, so feedback can be overridden


def hook_body(sample: str = SAMPLE) -> bytes:
    service = load_services()["net-patient-view"]
    prefetch = prefetch_from_bundle(service, get_sample(sample).bundle(), sample)
    return json.dumps(hook_request(service, sample, prefetch=prefetch)).encode()


def call(fleet, base: str, body: bytes | None = None, token: str | None = None,
         timeout: float = 30) -> requests.Response:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token or fleet.token(PV)}"}
    return requests.post(base + PV, data=body or hook_body(), headers=headers, timeout=timeout)


def feedback_body(card: dict, outcome: str = "overridden") -> dict:
    entry: dict = {"card": card["uuid"], "outcome": outcome, "outcomeTimestamp": "2026-12-05T09:30:00Z"}
    if outcome == "overridden":
        entry["overrideReason"] = {"reason": card["overrideReasons"][0]}
    else:
        entry["acceptedSuggestions"] = [{"id": card["suggestions"][0]["uuid"]}]
    return {"feedback": [entry]}


def send_feedback(fleet, base: str, body: dict) -> requests.Response:
    return requests.post(base + FEEDBACK, json=body, headers=fleet.headers(FEEDBACK), timeout=30)


def scrape(fleet) -> Counter:
    """The fleet's metrics: each replica's /metrics (loopback, no proxy) added up, as Prometheus would."""
    total: Counter = Counter()
    for replica in fleet.replicas:
        text = requests.get(replica.url + "/metrics", timeout=10).text
        for line in text.splitlines():
            match = re.fullmatch(r"(net_cds_[a-z_]+)(?:\{(.*)\})? (\S+)", line)
            if match:
                total[(match.group(1), frozenset(re.findall(r'(\w+)="([^"]*)"', match.group(2) or "")))] += \
                    float(match.group(3))
    return total


def metric(samples: Counter, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_calls_through_the_proxy_reach_both_replicas_with_one_request_id(fleet):
    answers = [call(fleet, fleet.nginx.url) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6
    assert all(a.json()["cards"] for a in answers)
    ids = [a.headers["X-Request-Id"] for a in answers]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and len(set(ids)) == 6
    by_id = access_lines_of(fleet, ids)
    assert {by_id[i]["upstream"] for i in ids} == {f"127.0.0.1:{r.port}" for r in fleet.replicas}


def access_lines_of(fleet, ids: list[str], deadline_s: float = 30.0) -> dict[str, dict]:
    """nginx writes the access line after the client has its answer: read until every id is there."""
    stop = time.monotonic() + deadline_s
    while True:
        text = (fleet.nginx.folder / "access.log").read_text()
        by_id = {line["request_id"]: line for line in map(json.loads, text.splitlines())}
        if all(i in by_id for i in ids) or time.monotonic() > stop:
            return by_id
        time.sleep(0.1)


def test_a_token_replayed_on_the_other_replica_is_refused(fleet):
    first, second = fleet.replicas
    token = fleet.token(PV)
    assert call(fleet, first.url, token=token).status_code == 200
    replay = call(fleet, second.url, token=token)
    assert replay.status_code == 401 and replay.json() == UNAUTHORIZED_BODY  # the same answer for every reason
    through_proxy = fleet.token(PV)
    assert call(fleet, fleet.nginx.url, token=through_proxy).status_code == 200
    assert call(fleet, fleet.nginx.url, token=through_proxy).status_code == 401  # a new request id: a replay


def test_feedback_sent_through_both_replicas_is_stored_once(fleet):
    card = next(c for c in call(fleet, fleet.nginx.url).json()["cards"] if c.get("overrideReasons"))
    body = feedback_body(card)
    first, second = fleet.replicas
    assert send_feedback(fleet, first.url, body).json() == {"stored": 1, "duplicate": 0}
    assert send_feedback(fleet, second.url, body).json() == {"stored": 0, "duplicate": 1}
    assert send_feedback(fleet, fleet.nginx.url, body).json() == {"stored": 0, "duplicate": 1}
    with psycopg.connect(fleet.postgres.url) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM feedback WHERE card_uuid = %s", (card["uuid"],)).fetchone()
    assert rows == 1


def test_metrics_count_what_was_sent(fleet):
    before = scrape(fleet)
    answers = [call(fleet, fleet.nginx.url) for _ in range(4)]
    answers.append(call(fleet, fleet.replicas[0].url))
    answers.append(call(fleet, fleet.replicas[1].url))
    cards = [c for a in answers for c in a.json()["cards"]]
    assert requests.post(fleet.nginx.url + PV, data=hook_body(), timeout=30,
                         headers={"Content-Type": "application/json", "Authorization": "Bearer x"}).status_code == 401
    card = next(c for c in cards if c.get("overrideReasons"))
    assert send_feedback(fleet, fleet.nginx.url, feedback_body(card)).json()["stored"] == 1
    after = scrape(fleet)

    def grew(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert grew("net_cds_hook_calls_total", service="net-patient-view", status="200") == 6
    assert grew("net_cds_hook_duration_seconds_count", service="net-patient-view") == 6
    for (topic, indicator), count in Counter((c["source"]["topic"]["code"], c["indicator"]) for c in cards).items():
        assert grew("net_cds_cards_total", service="net-patient-view", topic=topic, indicator=indicator) == count
    assert grew("net_cds_auth_failures_total", reason="malformed-token") == 1
    assert grew("net_cds_feedback_total", service="net-patient-view", topic=card["source"]["topic"]["code"],
                outcome="overridden", reason=card["overrideReasons"][0]["code"]) == 1
    proxied = requests.get(fleet.nginx.url + "/metrics", timeout=10)
    assert proxied.status_code == 404 and b"net_cds" not in proxied.content


def test_fifty_slow_clients_do_not_hold_up_normal_calls(fleet):
    """50 clients send their headers and a few bytes of body, then stall: nginx holds them while it
    reads, so the replicas' workers (two sync workers each) never see them."""
    slow = []
    try:
        for _ in range(50):
            sock = socket.create_connection(("127.0.0.1", fleet.nginx.port), timeout=5)
            sock.sendall(f"POST {PV} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         f"Content-Length: 100000\r\nAuthorization: Bearer {fleet.token(PV)}\r\n\r\n{{".encode())
            slow.append(sock)
        answers = [call(fleet, fleet.nginx.url, timeout=20) for _ in range(8)]
        assert [a.status_code for a in answers] == [200] * 8
        assert all(a.json()["cards"] for a in answers)
    finally:
        for sock in slow:
            sock.close()


def test_a_replica_killed_under_load_fails_no_hook_call(fleet):
    body = hook_body()
    results: list[int | str] = []
    lock = threading.Lock()
    started = threading.Event()

    def client() -> None:
        with requests.Session() as session:
            for _ in range(25):
                try:
                    answer = session.post(fleet.nginx.url + PV, data=body, timeout=30,
                                          headers={"Content-Type": "application/json", **fleet.headers(PV)})
                    outcome: int | str = answer.status_code
                except requests.RequestException as exc:
                    outcome = type(exc).__name__
                with lock:
                    results.append(outcome)
                    if len(results) >= 20:
                        started.set()

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        assert started.wait(timeout=120), "the load did not get going"
        fleet.replicas[0].kill()
        for thread in threads:
            thread.join(timeout=180)
    finally:
        fleet.ensure_running()
    assert len(results) == 100
    assert Counter(results) == {200: 100}


def test_postgres_restart_feedback_503_then_back_hooks_unaffected(fleet):
    card = next(c for c in call(fleet, fleet.nginx.url).json()["cards"] if c.get("overrideReasons"))
    fleet.postgres.stop()
    try:
        down = send_feedback(fleet, fleet.nginx.url, feedback_body(card))
        assert down.status_code == 503
        answers = [call(fleet, fleet.nginx.url) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 6
        assert requests.get(fleet.replicas[0].url + "/readyz", timeout=10).status_code == 503
    finally:
        fleet.postgres.start()
    deadline = time.monotonic() + 30  # each replica tries the database again 2 s after its last failure
    while True:
        back = send_feedback(fleet, fleet.nginx.url, feedback_body(card))
        if back.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert back.json() == {"stored": 1, "duplicate": 0}
    assert call(fleet, fleet.nginx.url).status_code == 200
    # the cards answered during the outage waited in the replicas' queues and are written now
    outage_cards = [c["uuid"] for a in answers for c in a.json()["cards"]]
    while True:
        with psycopg.connect(fleet.postgres.url) as conn:
            (issued,) = conn.execute("SELECT count(*) FROM issued_cards WHERE card_uuid = ANY(%s)",
                                     (outage_cards,)).fetchone()
        if issued == len(outage_cards) or time.monotonic() > deadline + 30:
            break
        time.sleep(0.5)
    assert issued == len(outage_cards)

