// The demo page's feedback: an override reason or an accepted suggestion is sent to the service's own
// feedback endpoint (CDS Hooks 2.0 §Feedback), as an EHR sends it; the card says what the service answered.
"use strict";

function feedbackItem(button, card) {
  const item = { card: card.dataset.card, outcomeTimestamp: new Date().toISOString() };
  if (button.classList.contains("reason")) {
    item.outcome = "overridden";
    item.overrideReason = { reason: { system: button.dataset.system, code: button.dataset.code,
                                      display: button.dataset.display } };
  } else {
    item.outcome = "accepted";
    item.acceptedSuggestions = [{ id: button.dataset.suggestion }];
  }
  return item;
}

async function sendFeedback(button) {
  const card = button.closest("article.card");
  const panel = button.closest("[data-service]");
  const status = card.querySelector(".feedback-status");
  const item = feedbackItem(button, card);
  const what = item.outcome === "overridden" ? `dismissed: ${button.dataset.display}` : "suggestion accepted";
  status.classList.remove("error");
  try {
    const response = await fetch(`/cds-services/${encodeURIComponent(panel.dataset.service)}/feedback`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ feedback: [item] }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const said = body.issue && body.issue[0] ? body.issue[0].diagnostics : "";
      throw new Error(`HTTP ${response.status} ${said}`.trim());
    }
    status.textContent = `Feedback sent (${what}); the service stored ${body.stored}.`;
    card.querySelectorAll("button.reason, button.accept").forEach((b) => { b.disabled = true; });
  } catch (error) {
    status.classList.add("error");
    status.textContent = `Feedback not sent: ${error.message}`;
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.reason, button.accept");
  if (button && !button.disabled) {
    sendFeedback(button);
  }
});
