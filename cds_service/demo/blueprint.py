"""GET / : the demo page. Pick a sample patient; see the cards of opening the chart (patient-view) and of
selecting and signing the sample's drafted order (order-select, order-sign), as the EHR gets them from this
service; send feedback with an override reason; open the patient's timeline when the SMART app is there.

Registered only when NET_CDS_ENV is development or demo (cds_service/app.py): in production `/` is a 404.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, render_template, request, url_for

from cds_service.cards.panel_html import cards_html, resource_summary
from cds_service.demo.ehr import SERVICE_FOR_HOOK, HookCall, call_hook
from cds_service.samples import Sample, list_samples, sample_set_as_of

bp = Blueprint("demo", __name__, template_folder="templates")
DEFAULT_SAMPLE = "net-si-progressing-on-ssa"
ORDER_HOOKS = ("order-select", "order-sign")
TIMELINE_RULE = "/app/sample/<sample_id>"  # t17a's SMART app: a sample's timeline without SMART (dev/demo only)


def _chosen(samples: list[Sample]) -> Sample:
    """The sample named by ?sample= (404 for an unknown one), else the default, else the first."""
    wanted = request.args.get("sample")
    by_id = {s.id: s for s in samples}
    if wanted is not None:
        if wanted not in by_id:
            abort(404, description=f"No sample patient '{wanted}'.")
        return by_id[wanted]
    return by_id.get(DEFAULT_SAMPLE) or samples[0]


def _drafts(sample: Sample) -> list[str]:
    """What the sample's drafted orders are, one line each (the order panel's list)."""
    bundle = sample.draft_orders() or {}
    resources = [(entry.get("resource") or {}) for entry in bundle.get("entry") or ()]
    return [resource_summary(r) for r in resources if r.get("resourceType") not in (None, "Medication")]


def _timeline_url(sample_id: str) -> str | None:
    """The sample's timeline page when the SMART app's sample route is registered, else None."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule == TIMELINE_RULE:
            return url_for(rule.endpoint, sample_id=sample_id)
    return None


def _panel(call: HookCall) -> dict:
    """What the template needs of one call: its cards as the EHR panel shows them, and the raw JSON."""
    problem = None if call.status == 200 else (
        f"The service answered HTTP {call.status}"
        + (" (it requires signed EHR calls: the demo page works with NET_CDS_AUTH=disabled)" if call.status == 401
           else f": {((call.answer.get('issue') or [{}])[0]).get('diagnostics', '')}"))
    return {"hook": call.hook, "service_id": call.service_id, "count": len(call.cards), "problem": problem,
            "cards": cards_html(call.cards, interactive=True, none="No cards for this patient."),
            "request_json": json.dumps(call.request, indent=2), "answer_json": json.dumps(call.answer, indent=2)}


@bp.get("/")
def demo_page() -> str:
    settings = current_app.config["NET_CDS"]
    samples = list_samples(settings)
    if not samples:
        abort(404, description="No sample patients in this data folder.")
    sample = _chosen(samples)
    hook = request.args.get("hook")
    if hook is not None and (hook not in ORDER_HOOKS or sample.draft is None):
        abort(400, description="hook: must be order-select or order-sign, for a sample with a draft order.")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    chart = _panel(call_hook(app, "patient-view", sample))
    orders = _panel(call_hook(app, hook, sample)) if hook else None
    return render_template("demo/page.html", samples=samples, sample=sample, chart=chart, orders=orders,
                           hook=hook, drafts=_drafts(sample), as_of=sample_set_as_of(settings),
                           with_drafts=[s.id for s in samples if s.draft], services=SERVICE_FOR_HOOK,
                           timeline=_timeline_url(sample.id))
