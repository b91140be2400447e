"""The console's figures and review of misunderstood messages on the policy service: an
adviser's session for the figures, a supervisor's for the review; the intent picked is one
of the domain's and is recorded with who picked it."""
import json
import uuid
from datetime import datetime, timezone

from tests.reference_services.helpers import db_time, execute, query
from tests.reference_services.test_advisers import console, session_of

FIGURES = {"days": [{"day": "2026-12-01", "channel": "widget", "conversations": 2, "contained": 1,
                     "containment_rate": 0.5, "customer_messages": 5, "fallback_messages": 1,
                     "fallback_rate": 0.2, "handoffs": 1, "handoff_rate": 0.5, "claims_declared": 1,
                     "attestations_issued": 0}],
           "top_intents": [{"intent": "declare_claim", "count": 3}]}


def stored_review(services, text: str) -> int:
    """A message to review, as `make stats` stores it; its id."""
    now = db_time(datetime.now(timezone.utc))
    execute(services, "INSERT INTO training_reviews (text, text_key, predicted_intent, confidence, reason, channel,"
                      " first_seen_on, last_seen_on, occurrences, status, created_at)"
                      " VALUES (?, ?, 'contract_info', 0.31, 'nlu_fallback', 'widget', '2026-12-01', '2026-12-01',"
                      " 2, 'pending', ?)", (text, f"key-{text}", now))
    return query(services, "SELECT id FROM training_reviews WHERE text = ?", (text,))[0][0]


def stored_figures(services) -> None:
    execute(services, "INSERT INTO statistics_snapshots (computed_at, figures) VALUES (?, ?)",
            (db_time(datetime.now(timezone.utc)), json.dumps(FIGURES)))


def training_answers(services) -> dict:
    """One real answer of each route (test_contract_answers)."""
    stored_figures(services)
    # A sentence of its own: the services' database is shared by the whole session.
    review_id = stored_review(services, f"ma tortue a mange le contrat {uuid.uuid4().hex[:6]}")
    _, supervisor = session_of(services, "supervisor")
    return {
        "getStatistics": console(services, "GET", "/v1/statistics", supervisor),
        "listTrainingReviews": console(services, "GET", "/v1/training-reviews", supervisor),
        "reviewTrainingMessage": console(services, "POST", f"/v1/training-reviews/{review_id}", supervisor,
                                         json={"intent": "out_of_scope"}),
    }


def test_every_adviser_reads_the_latest_figures(services):
    stored_figures(services)
    _, session = session_of(services)
    answer = console(services, "GET", "/v1/statistics", session)
    assert answer.status_code == 200
    assert answer.json()["days"] == FIGURES["days"] and answer.json()["computed_at"]


def test_figures_need_an_adviser_session_and_the_console_token(services):
    assert console(services, "GET", "/v1/statistics").status_code == 401
    _, session = session_of(services)
    assert console(services, "GET", "/v1/statistics", session, token="wrong").status_code == 401
    # The services' own token does not open the console's routes.
    assert services.get("/v1/statistics", headers={"X-Adviser-Session": session}).status_code == 401


def test_only_supervisors_review_messages(services):
    review_id = stored_review(services, "je voudrais un truc pour mon velo electrique")
    _, adviser = session_of(services)
    listed = console(services, "GET", "/v1/training-reviews", adviser)
    assert listed.status_code == 403 and listed.json()["error"]["code"] == "supervisor_only"
    posted = console(services, "POST", f"/v1/training-reviews/{review_id}", adviser, json={"intent": "greet"})
    assert posted.status_code == 403
    assert query(services, "SELECT status FROM training_reviews WHERE id = ?", (review_id,)) == [("pending",)]


def test_a_supervisor_picks_an_intent_of_the_domain_and_it_is_recorded(services):
    review_id = stored_review(services, "jveux changer le compte ou vous prelevez")
    login, supervisor = session_of(services, "supervisor")
    pending = console(services, "GET", "/v1/training-reviews", supervisor).json()["reviews"]
    assert review_id in [review["id"] for review in pending]

    unknown = console(services, "POST", f"/v1/training-reviews/{review_id}", supervisor, json={"intent": "fly_me"})
    assert unknown.status_code == 422 and "intent" in unknown.json()["error"]["fields"]
    reviewed = console(services, "POST", f"/v1/training-reviews/{review_id}", supervisor,
                       json={"intent": "change_payment_method"})
    assert reviewed.status_code == 200, reviewed.text
    assert (reviewed.json()["status"], reviewed.json()["chosen_intent"], reviewed.json()["reviewed_by"]) == (
        "reviewed", "change_payment_method", login)
    pending = console(services, "GET", "/v1/training-reviews", supervisor).json()["reviews"]
    assert review_id not in [review["id"] for review in pending]
    missing = console(services, "POST", "/v1/training-reviews/999999999", supervisor, json={"intent": "greet"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "training_review_not_found"


def test_the_answers_are_the_contracts_models_member_for_member(services):
    from core.service_contract import ROUTES

    routes = {route.operation_id: route for route in ROUTES}
    for name, answer in training_answers(services).items():
        _, model = routes[name].answers[answer.status_code]
        parsed = model.parse_obj(answer.json())
        assert json.loads(parsed.json(exclude_unset=True)) == answer.json(), name
