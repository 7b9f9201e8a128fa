"""GET /cds-services: the discovery document (CDS Hooks 2.0 §Discovery)."""

from __future__ import annotations

from urllib.parse import unquote


def test_discovery_lists_the_services_with_required_fields_and_version(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = {s["id"]: s for s in response.get_json()["services"]}
    assert set(services) == {"net-patient-view", "net-order-sign", "net-order-select"}
    assert services["net-patient-view"]["hook"] == "patient-view"
    assert services["net-order-sign"]["hook"] == "order-sign"
    assert services["net-order-select"]["hook"] == "order-select"
    assert services["net-order-select"]["prefetch"] == services["net-order-sign"]["prefetch"]
    for service in services.values():
        for key in ("title", "description", "usageRequirements", "prefetch"):
            assert isinstance(service[key], (str, dict)) and service[key], key
        assert service["version"] == "2.0.1"  # CDS Hooks version implemented (3.0 ballot field)
        short = service["extension"]["org.net-cds.source-attributes"]
        assert short["knowledgeBase"]["version"] == "2" and short["details"] == "/cds-services/source-attributes"


def test_prefetch_templates_use_only_root_context_tokens_and_r4_syntax(client):
    services = client.get("/cds-services").get_json()["services"]
    for service in services:
        for key, template in service["prefetch"].items():
            assert "{{context.patientId}}" in template, key
            assert template.count("{{") == 1, f"{key} uses a token other than context.patientId"
            assert "sort:" not in template, "legacy sort syntax"
            assert "|" not in template, f"{key}: system|code must be URL-encoded"


def test_prefetch_fetches_what_the_decision_model_needs(client):
    prefetch = client.get("/cds-services").get_json()["services"][0]["prefetch"]
    decoded = {key: unquote(value) for key, value in prefetch.items()}
    assert decoded["patient"] == "Patient/{{context.patientId}}"
    assert "http://loinc.org|29593-1" in decoded["pathology"]  # Ki-67
    assert "http://loinc.org|9811-1" in decoded["labs"]  # chromogranin A
    assert "http://loinc.org|35591-7" in decoded["labs"]  # CrCl (Cockcroft-Gault), PRRT eligibility
    assert "http://loinc.org|97509-4" in decoded["status"]  # disease status
    assert decoded["imaging"].endswith("category=imaging")  # SSTR imaging without a LOINC code
    resource_types = {value.split("?")[0].split("/")[0] for value in decoded.values()}
    assert {"Condition", "Observation", "DiagnosticReport", "MedicationStatement", "MedicationRequest",
            "MedicationAdministration", "ServiceRequest", "Procedure"} <= resource_types


def test_cors_preflight_and_post_carry_cors_headers(client):
    origin = "https://sandbox.cds-hooks.org"
    preflight = client.options("/cds-services/net-patient-view", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type, Authorization"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    post = client.post("/cds-services/net-patient-view", json={}, headers={"Origin": origin})
    assert post.headers.get("Access-Control-Allow-Origin") == origin


def test_cors_refuses_unknown_origins(client):
    response = client.get("/cds-services", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
