"""The advisers' console on the policy service: advisers log in (argon2id, locked after
five failures), hold sessions that end when idle or old, see and take hand-offs by their
role, write only in those they took; every opening and change is recorded; the console's
token opens these routes and nothing else, and the services' token does not open them."""
import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from core import adviser_grant
from tests.conftest import (
    TEST_ADVISER_CONSOLE_TOKEN,
    TEST_ADVISER_DEMO_PASSWORD,
    TEST_ADVISER_GRANT_SECRET,
)
from tests.reference_services.helpers import MARIE, PASSWORD, count, execute, minutes_ago, new_adviser, query


def console(services, method, path, session=None, *, token=TEST_ADVISER_CONSOLE_TOKEN, **kwargs):
    """A call as the advisers' console makes it: its token, the adviser's session."""
    headers = dict(kwargs.pop("headers", None) or {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if session is not None:
        headers["X-Adviser-Session"] = session
    return services.request(method, path, authorized=False, identified_as=None, headers=headers, **kwargs)


def log_in(services, login, password=PASSWORD):
    return console(services, "POST", "/v1/adviser-sessions", json={"login": login, "password": password})


def session_of(services, role="adviser") -> tuple[str, str]:
    """(login, session) of a new adviser, logged in."""
    login = new_adviser(services, role)
    response = log_in(services, login)
    assert response.status_code == 201, response.text
    return login, response.json()["session"]


def file_handoff(services, conversation_id="auto", **more) -> str:
    conversation_id = uuid.uuid4().hex if conversation_id == "auto" else conversation_id
    body = {"channel": "widget", "reason": "demande explicite", "summary": "Veut parler à un conseiller.",
            "conversation_id": conversation_id, **more}
    response = services.post("/v1/handoffs", json=body, identified_as=more.get("customer_id"))
    assert response.status_code == 201, response.text
    return response.json()["reference"]


def events(services, reference):
    """(kind, adviser login, text) of every recorded event, in order."""
    return query(services, "SELECT e.kind, a.login, e.text FROM handoff_events e JOIN handoffs h ON h.id = e.handoff_id"
                           " LEFT JOIN advisers a ON a.id = e.adviser_id WHERE h.reference = ? ORDER BY e.id",
                 [reference])


# --- logging in


def test_an_adviser_logs_in_and_gets_a_session_stored_only_as_its_hash(services):
    login = new_adviser(services)
    response = log_in(services, login)
    assert response.status_code == 201
    body = response.json()
    assert body["adviser"] == {"login": login, "display_name": f"Agent {login}", "role": "adviser"}
    assert len(body["session"]) >= 40
    stored = query(services, "SELECT s.token_hash FROM adviser_sessions s JOIN advisers a ON a.id = s.adviser_id"
                             " WHERE a.login = ?", [login])
    assert stored == [(hashlib.sha256(body["session"].encode()).hexdigest(),)]
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=9, minutes=59) < expires - datetime.now(timezone.utc) <= timedelta(hours=10)
    current = console(services, "GET", "/v1/adviser-sessions/current", body["session"])
    assert current.status_code == 200
    assert current.json()["adviser"]["login"] == login


def test_the_login_is_read_regardless_of_case(services):
    login = new_adviser(services)
    response = log_in(services, login.upper())
    assert response.status_code == 201 and response.json()["adviser"]["login"] == login


def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(services):
    login = new_adviser(services)
    wrong = log_in(services, login, "not the password")
    unknown = log_in(services, f"nobody-{uuid.uuid4().hex[:8]}", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "adviser_login_refused"


def test_the_password_is_stored_as_argon2id_never_in_clear(services):
    login = new_adviser(services)
    log_in(services, login)
    [(stored,)] = query(services, "SELECT password_hash FROM advisers WHERE login = ?", [login])
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_five_failures_lock_the_adviser_even_against_the_right_password(services):
    login = new_adviser(services)
    answers = [log_in(services, login, f"wrong {n}") for n in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 423]
    locked = log_in(services, login)  # the right one
    assert locked.status_code == 423
    error = locked.json()["error"]
    assert error["code"] == "adviser_locked"
    assert 14 * 60 < error["retry_after_seconds"] <= 15 * 60
    assert locked.headers["Retry-After"] == str(error["retry_after_seconds"])
    # Fifteen minutes later the right password opens again, and the count starts over.
    execute(services, "UPDATE advisers SET locked_until = ? WHERE login = ?", [minutes_ago(1), login])
    assert log_in(services, login).status_code == 201
    assert query(services, "SELECT failed_logins FROM advisers WHERE login = ?", [login]) == [(0,)]


def test_a_success_resets_the_count_of_failures(services):
    login = new_adviser(services)
    for _ in range(4):
        assert log_in(services, login, "wrong").status_code == 401
    assert log_in(services, login).status_code == 201
    for _ in range(4):
        assert log_in(services, login, "wrong").status_code == 401
    assert log_in(services, login).status_code == 201


def test_the_demo_advisers_open_with_the_demo_password(services):
    for login, name, role in (("conseiller", "Camille Martin", "adviser"),
                              ("superviseur", "Julien Roche", "supervisor")):
        response = log_in(services, login, TEST_ADVISER_DEMO_PASSWORD)
        assert response.status_code == 201
        assert response.json()["adviser"] == {"login": login, "display_name": name, "role": role}


@pytest.mark.parametrize("body", [
    {"login": "conseiller"}, {"password": "x"}, {"login": "", "password": "x"},
    {"login": "a" * 65, "password": "x"}, {"login": "conseiller", "password": "p" * 257},
    {"login": "conseiller", "password": "x", "role": "supervisor"},
])
def test_malformed_logins_are_refused_before_any_check(services, body):
    response = console(services, "POST", "/v1/adviser-sessions", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


# --- sessions


@pytest.mark.parametrize("session", [None, "", "forged-session-token", "x" * 500])
def test_adviser_routes_refuse_a_missing_or_unknown_session(services, session):
    for method, path in (("GET", "/v1/adviser-sessions/current"), ("GET", "/v1/handoffs"),
                         ("GET", f"/v1/handoffs/{file_handoff(services)}")):
        response = console(services, method, path, session)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "adviser_session_invalid"


def test_a_session_idle_too_long_ends(services):
    login, session = session_of(services)
    execute(services, "UPDATE adviser_sessions SET last_seen_at = ? WHERE adviser_id ="
                      " (SELECT id FROM advisers WHERE login = ?)", [minutes_ago(31), login])
    response = console(services, "GET", "/v1/adviser-sessions/current", session)
    assert response.status_code == 401 and response.json()["error"]["code"] == "adviser_session_invalid"
    assert count(services, "adviser_sessions a JOIN advisers b ON b.id = a.adviser_id", "b.login = ?", [login]) == 0


def test_using_a_session_keeps_it_alive(services):
    login, session = session_of(services)
    execute(services, "UPDATE adviser_sessions SET last_seen_at = ? WHERE adviser_id ="
                      " (SELECT id FROM advisers WHERE login = ?)", [minutes_ago(29), login])
    assert console(services, "GET", "/v1/handoffs", session).status_code == 200
    [(seen,)] = query(services, "SELECT last_seen_at FROM adviser_sessions WHERE adviser_id ="
                                " (SELECT id FROM advisers WHERE login = ?)", [login])
    seen = seen if isinstance(seen, datetime) else datetime.fromisoformat(seen)
    assert datetime.now(timezone.utc) - seen.replace(tzinfo=timezone.utc) < timedelta(minutes=1)


def test_a_session_ends_after_ten_hours_however_used(services):
    login, session = session_of(services)
    execute(services, "UPDATE adviser_sessions SET expires_at = ? WHERE adviser_id ="
                      " (SELECT id FROM advisers WHERE login = ?)", [minutes_ago(1), login])
    assert console(services, "GET", "/v1/adviser-sessions/current", session).status_code == 401


def test_logging_out_ends_the_session(services):
    _login, session = session_of(services)
    assert console(services, "DELETE", "/v1/adviser-sessions/current", session).status_code == 204
    assert console(services, "GET", "/v1/adviser-sessions/current", session).status_code == 401


def test_an_adviser_whose_console_polls_counts_as_available(services):
    before = services.get("/v1/advisers/available").json()["available"]
    login, session = session_of(services)
    assert services.get("/v1/advisers/available").json()["available"] == before + 1
    execute(services, "UPDATE adviser_sessions SET last_seen_at = ? WHERE adviser_id ="
                      " (SELECT id FROM advisers WHERE login = ?)", [minutes_ago(3), login])
    assert services.get("/v1/advisers/available").json()["available"] == before


# --- who may call


def test_the_console_token_is_required_on_every_adviser_route(services):
    _login, session = session_of(services)
    reference = file_handoff(services)
    routes = [("POST", "/v1/adviser-sessions", {"json": {"login": "conseiller", "password": "x"}}),
              ("GET", "/v1/adviser-sessions/current", {}), ("DELETE", "/v1/adviser-sessions/current", {}),
              ("GET", "/v1/handoffs", {}), ("GET", f"/v1/handoffs/{reference}", {}),
              ("POST", f"/v1/handoffs/{reference}/take", {}),
              ("POST", f"/v1/handoffs/{reference}/messages", {"json": {"text": "Bonjour"}}),
              ("POST", f"/v1/handoffs/{reference}/close", {})]
    for token in (None, "wrong-token", services.token):  # the services' token is no console's
        for method, path, kwargs in routes:
            response = console(services, method, path, session, token=token, **kwargs)
            assert response.status_code == 401, (token, method, path)
            assert response.json()["error"]["code"] == "unauthorized"
    # Nothing happened: the session is alive, the hand-off waits, nobody read it.
    assert console(services, "GET", "/v1/adviser-sessions/current", session).status_code == 200
    assert events(services, reference) == [("filed", None, None)]


def test_the_console_token_opens_none_of_the_services_routes(services):
    for method, path in (("GET", f"/v1/customers/{MARIE}/contracts"), ("POST", "/v1/handoffs"),
                         ("GET", "/v1/advisers/available")):
        response = console(services, method, path, json={"channel": "widget", "reason": "r", "summary": "s"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


# --- hand-offs


def test_an_adviser_sees_waiting_handoffs_and_their_own_a_supervisor_every_one(services):
    mine_login, mine = session_of(services)
    _other_login, other = session_of(services)
    _boss_login, boss = session_of(services, "supervisor")
    waiting, taken_by_me, taken_by_other = (file_handoff(services) for _ in range(3))
    assert console(services, "POST", f"/v1/handoffs/{taken_by_me}/take", mine).status_code == 200
    assert console(services, "POST", f"/v1/handoffs/{taken_by_other}/take", other).status_code == 200

    def listed(session, **params):
        response = console(services, "GET", "/v1/handoffs", session, params=params)
        assert response.status_code == 200
        return [handoff["reference"] for handoff in response.json()["handoffs"]]

    seen = listed(mine)
    assert waiting in seen and taken_by_me in seen and taken_by_other not in seen
    assert seen.index(waiting) > seen.index(taken_by_me)  # newest first
    assert {waiting, taken_by_me, taken_by_other} <= set(listed(boss))
    assert taken_by_me in listed(mine, status="taken") and waiting not in listed(mine, status="taken")
    assert console(services, "GET", "/v1/handoffs", mine, params={"status": "lost"}).status_code == 422
    summary = next(h for h in console(services, "GET", "/v1/handoffs", mine).json()["handoffs"]
                   if h["reference"] == taken_by_me)
    assert summary["taken_by"] == {"login": mine_login, "display_name": f"Agent {mine_login}"}
    assert summary["status"] == "taken" and summary["waiting_seconds"] >= 0


def test_an_adviser_cannot_open_a_handoff_another_took_but_a_supervisor_can(services):
    _a, first = session_of(services)
    _b, second = session_of(services)
    _c, boss = session_of(services, "supervisor")
    reference = file_handoff(services)
    console(services, "POST", f"/v1/handoffs/{reference}/take", first)
    refused = console(services, "GET", f"/v1/handoffs/{reference}", second)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "handoff_not_yours"
    assert "summary" not in refused.text
    opened = console(services, "GET", f"/v1/handoffs/{reference}", boss)
    assert opened.status_code == 200
    # A supervisor's grant writes (to give the conversation back when closing an abandoned
    # hand-off); their messages are not recorded: only the taker writes to the customer.
    assert opened.json()["grant"]["scope"] == "write"
    refused = console(services, "POST", f"/v1/handoffs/{reference}/messages", boss, json={"text": "Bonjour"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "handoff_not_taken"


def test_every_opening_is_recorded_with_who_and_when(services):
    login, session = session_of(services)
    reference = file_handoff(services)
    for _ in range(2):
        assert console(services, "GET", f"/v1/handoffs/{reference}", session).status_code == 200
    assert events(services, reference) == [("filed", None, None), ("opened", login, None), ("opened", login, None)]
    [(at,)] = query(services, "SELECT MAX(e.created_at) FROM handoff_events e JOIN handoffs h ON h.id = e.handoff_id"
                              " WHERE h.reference = ?", [reference])
    at = at if isinstance(at, datetime) else datetime.fromisoformat(at)
    assert datetime.now(timezone.utc) - at.replace(tzinfo=timezone.utc) < timedelta(minutes=1)
    # The console's history leaves the readings out.
    detail = console(services, "GET", f"/v1/handoffs/{reference}", session).json()
    assert [event["kind"] for event in detail["events"]] == ["filed"]


def test_the_first_adviser_takes_it_the_second_is_told_it_is_taken(services):
    first_login, first = session_of(services)
    _second_login, second = session_of(services)
    reference = file_handoff(services)
    taken = console(services, "POST", f"/v1/handoffs/{reference}/take", first)
    assert taken.status_code == 200
    body = taken.json()
    assert body["status"] == "taken" and body["taken_by"]["login"] == first_login
    assert body["grant"]["scope"] == "write"
    conflict = console(services, "POST", f"/v1/handoffs/{reference}/take", second)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "handoff_taken"
    again = console(services, "POST", f"/v1/handoffs/{reference}/take", first)  # idempotent
    assert again.status_code == 200 and again.json()["taken_by"]["login"] == first_login
    assert [kind for kind, _who, _text in events(services, reference)] == ["filed", "taken", "opened"]


def test_of_advisers_taking_one_at_the_same_moment_exactly_one_gets_it(services):
    sessions = [session_of(services)[1] for _ in range(4)]
    reference = file_handoff(services)
    with ThreadPoolExecutor(len(sessions)) as pool:
        answers = list(pool.map(lambda s: console(services, "POST", f"/v1/handoffs/{reference}/take", s), sessions))
    assert sorted(answer.status_code for answer in answers) == [200, 409, 409, 409]
    assert [kind for kind, _who, _text in events(services, reference)] == ["filed", "taken"]


def test_only_the_adviser_who_took_it_writes_in_it(services):
    taker_login, taker = session_of(services)
    _other, other = session_of(services)
    _boss, boss = session_of(services, "supervisor")
    reference = file_handoff(services)
    message = {"json": {"text": "Bonjour, je suis votre conseillère."}}
    before_take = console(services, "POST", f"/v1/handoffs/{reference}/messages", taker, **message)
    assert before_take.status_code == 409 and before_take.json()["error"]["code"] == "handoff_not_taken"
    console(services, "POST", f"/v1/handoffs/{reference}/take", taker)
    assert console(services, "POST", f"/v1/handoffs/{reference}/messages", other, **message).status_code == 403
    by_boss = console(services, "POST", f"/v1/handoffs/{reference}/messages", boss, **message)
    assert by_boss.status_code == 409 and by_boss.json()["error"]["code"] == "handoff_not_taken"
    sent = console(services, "POST", f"/v1/handoffs/{reference}/messages", taker, **message)
    assert sent.status_code == 201 and "created_at" in sent.json()
    assert events(services, reference)[-1] == ("message", taker_login, "Bonjour, je suis votre conseillère.")
    detail = console(services, "GET", f"/v1/handoffs/{reference}", taker).json()
    assert detail["events"][-1]["kind"] == "message" and detail["events"][-1]["adviser"] == taker_login


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001, "bonjour\x00"])
def test_an_empty_oversized_or_unreadable_message_is_refused(services, text):
    _login, session = session_of(services)
    reference = file_handoff(services)
    console(services, "POST", f"/v1/handoffs/{reference}/take", session)
    response = console(services, "POST", f"/v1/handoffs/{reference}/messages", session, json={"text": text})
    assert response.status_code == 422 and response.json()["error"]["fields"]["text"]
    assert [kind for kind, _who, _text in events(services, reference)] == ["filed", "taken"]


def test_closing_ends_the_writing_and_a_supervisor_may_close_too(services):
    login, session = session_of(services)
    _boss, boss = session_of(services, "supervisor")
    _other, other = session_of(services)
    reference = file_handoff(services)
    console(services, "POST", f"/v1/handoffs/{reference}/take", session)
    assert console(services, "POST", f"/v1/handoffs/{reference}/close", other).status_code == 403
    closed = console(services, "POST", f"/v1/handoffs/{reference}/close", session)
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed" and closed.json()["grant"]["scope"] == "read"
    assert console(services, "POST", f"/v1/handoffs/{reference}/close", session).status_code == 200  # again
    after = console(services, "POST", f"/v1/handoffs/{reference}/messages", session, json={"text": "Encore ?"})
    assert after.status_code == 409 and after.json()["error"]["code"] == "handoff_not_taken"
    assert console(services, "POST", f"/v1/handoffs/{reference}/take", session).status_code == 409
    assert [(kind, who) for kind, who, _text in events(services, reference)] == [
        ("filed", None), ("taken", login), ("closed", login), ("opened", login)]
    # A supervisor closes another adviser's, or a waiting one (an adviser takes it first).
    waiting = file_handoff(services)
    refused = console(services, "POST", f"/v1/handoffs/{waiting}/close", session)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "handoff_not_taken"
    assert console(services, "POST", f"/v1/handoffs/{waiting}/close", boss).json()["status"] == "closed"


@pytest.mark.parametrize("reference", ["TRF-2026-99999", "trf-2026-000001", "TRF-2026-000001x",
                                       "TRF-2026-00000١", "TRF-2026-%00", "TRF-1999-999999"])
def test_a_malformed_or_unknown_reference_is_not_found(services, reference):
    _login, session = session_of(services)
    for method, suffix in (("GET", ""), ("POST", "/take"), ("POST", "/close")):
        response = console(services, method, f"/v1/handoffs/{reference}{suffix}", session)
        assert response.status_code == 404, (reference, suffix)
        assert response.json()["error"]["code"] in ("handoff_not_found", "not_found")


def test_the_grant_opens_that_conversation_only_with_the_takers_scope(services):
    login, session = session_of(services)
    conversation_id = uuid.uuid4().hex
    reference = file_handoff(services, conversation_id)
    now = datetime.now(timezone.utc)
    read = console(services, "GET", f"/v1/handoffs/{reference}", session).json()
    assert read["conversation_id"] == conversation_id and read["grant"]["scope"] == "read"
    grant = adviser_grant.verify(read["grant"]["token"], TEST_ADVISER_GRANT_SECRET, now, conversation_id)
    assert (grant.adviser_login, grant.reference, grant.channel, grant.scope) == (login, reference, "widget", "read")
    with pytest.raises(adviser_grant.GrantRefused) as refused:
        adviser_grant.verify(read["grant"]["token"], TEST_ADVISER_GRANT_SECRET, now, conversation_id, "write")
    assert refused.value.code == "grant_read_only"
    written = console(services, "POST", f"/v1/handoffs/{reference}/take", session).json()["grant"]
    grant = adviser_grant.verify(written["token"], TEST_ADVISER_GRANT_SECRET, now, conversation_id, "write")
    assert grant.writes and grant.adviser_name == f"Agent {login}"
    with pytest.raises(adviser_grant.GrantRefused) as refused:
        adviser_grant.verify(written["token"], TEST_ADVISER_GRANT_SECRET, now, "another-conversation")
    assert refused.value.code == "grant_other_conversation"
    expires = datetime.fromisoformat(written["expires_at"])
    assert timedelta(minutes=14) < expires - now <= timedelta(minutes=16)


def test_a_handoff_without_conversation_gets_no_grant(services):
    _login, session = session_of(services)
    reference = file_handoff(services, None, contact="06 12 34 56 78")
    detail = console(services, "GET", f"/v1/handoffs/{reference}", session).json()
    assert detail["grant"] is None and detail["conversation_id"] is None
    assert detail["contact"] == "+33612345678" and detail["customer"] is None
    assert detail["customer_file"] is None


def test_an_identified_customers_file_comes_with_the_handoff(services):
    _login, session = session_of(services)
    reference = file_handoff(services, customer_id=MARIE)
    detail = console(services, "GET", f"/v1/handoffs/{reference}", session).json()
    assert detail["customer"] == {"customer_id": MARIE, "full_name": "Marie Dupont"}
    own_contracts = services.get(f"/v1/customers/{MARIE}/contracts").json()["contracts"]
    own_claims = services.get(f"/v1/customers/{MARIE}/claims").json()["claims"]
    assert detail["customer_file"] == {"contracts": own_contracts, "claims": own_claims}
    assert own_contracts and own_claims
