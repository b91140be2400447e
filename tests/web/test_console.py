"""The advisers' console over HTTP, against the real policy service: login, lock-out,
session expiry, CSRF and origin checks, what an adviser and a supervisor see, headers."""

import html
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from harness.servers import stop
from tests.conftest import TEST_ADVISER_DEMO_PASSWORD
from tests.reference_services.helpers import db_time, execute, query
from tests.web.conftest import ConsoleUser, adviser_id, file_handoff, new_adviser, serve_site

LOGIN_LABELS = ('<label for="identifiant">Identifiant</label>', '<label for="mot_de_passe">Mot de passe</label>',
                ">Se connecter</button>")
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def logged_in(console: str, services, role: str = "adviser") -> tuple:
    adviser = new_adviser(services, role)
    user = ConsoleUser(console)
    assert user.log_in(adviser["login"], adviser["password"]).status_code == 303
    return user, adviser


def status_of(services, reference: str) -> str:
    return query(services, "SELECT status FROM handoffs WHERE reference = ?", (reference,))[0][0]


def queue_rows(page: str, status: str) -> list:
    """The references listed in one section of the queue."""
    section = re.search(rf'<section class="queue-section queue-{status}".*?</section>', page, re.S).group(0)
    return re.findall(r'data-reference="(TRF-\d{4}-\d{6})"', section)


# --- login -----------------------------------------------------------------------------------

def test_without_a_session_the_console_shows_the_login_form(user):
    page = user.get("/conseiller")
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    for label in LOGIN_LABELS:
        assert label in page.text
    assert "<script>" not in page.text  # the page's script is a file (CSP: script-src 'self')


def test_the_demo_adviser_logs_in_and_gets_a_strict_http_only_cookie(user):
    answer = user.log_in("conseiller", TEST_ADVISER_DEMO_PASSWORD)
    assert answer.status_code == 303 and answer.headers["Location"] == "/conseiller"
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("oyat_conseiller=")
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/conseiller"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http here; behind https, see below
    queue = user.get("/conseiller")
    assert "Camille Martin (conseiller)" in queue.text and "Se déconnecter" in queue.text
    assert "Référence du transfert" in queue.text


def test_behind_an_https_proxy_the_cookie_is_secure(console, services):
    adviser = new_adviser(services)
    user = ConsoleUser(console)
    answer = user.post("/conseiller/connexion", {"identifiant": adviser["login"], "mot_de_passe": adviser["password"]},
                       origin=f"https://{console.split('://')[1]}", headers={"X-Forwarded-Proto": "https"})
    assert answer.status_code == 303 and "Secure" in answer.headers["Set-Cookie"]


@pytest.mark.parametrize("known", [True, False])
def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(user, services, known):
    login = new_adviser(services)["login"] if known else "nobody-of-that-name"
    password = "not-the-password-4242"
    answer = user.log_in(login, password)
    assert answer.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in answer.text
    assert "Set-Cookie" not in answer.headers
    assert f'value="{login}"' in answer.text  # the login typed is kept, never the password
    assert password not in answer.text


def test_five_failures_in_a_row_lock_the_account_and_the_console_says_for_how_long(console, services):
    adviser = new_adviser(services)
    user = ConsoleUser(console)
    answers = [user.log_in(adviser["login"], "wrong-password") for _ in range(5)]
    assert [answer.status_code for answer in answers] == [401, 401, 401, 401, 423]
    assert "Compte bloqué" in answers[-1].text and "réessayez dans 15 minutes" in answers[-1].text
    # Even the right password, now.
    locked = user.log_in(adviser["login"], adviser["password"])
    assert locked.status_code == 423 and "réessayez dans 15 minutes" in locked.text
    assert user.session is None


def test_an_oversized_login_is_refused_without_asking_the_service(user):
    answer = user.log_in("conseiller", "x" * 5000)
    assert answer.status_code == 401 and "Identifiant ou mot de passe incorrect." in answer.text


def test_after_login_the_adviser_goes_on_to_the_hand_off_they_asked_for_and_nowhere_else(console, services):
    reference = file_handoff(services)
    adviser = new_adviser(services)
    user = ConsoleUser(console)
    login_page = user.get(f"/conseiller/transferts/{reference}")
    assert f'name="suite" value="/conseiller/transferts/{reference}"' in login_page.text
    answer = user.post("/conseiller/connexion", {"identifiant": adviser["login"], "mot_de_passe": adviser["password"],
                                                 "suite": f"/conseiller/transferts/{reference}"})
    assert answer.headers["Location"] == f"/conseiller/transferts/{reference}"
    for elsewhere in ("https://evil.example/", "//evil.example/conseiller", "/conseiller/../admin"):
        other = ConsoleUser(console)
        answer = other.post("/conseiller/connexion", {"identifiant": adviser["login"],
                                                      "mot_de_passe": adviser["password"], "suite": elsewhere})
        assert answer.headers["Location"] == "/conseiller", elsewhere


def test_a_login_posted_from_another_site_is_refused(console, services):
    adviser = new_adviser(services)
    for origin in ("https://evil.example", "null", None):
        user = ConsoleUser(console)
        answer = user.post("/conseiller/connexion", {"identifiant": adviser["login"],
                                                     "mot_de_passe": adviser["password"]}, origin=origin)
        assert answer.status_code == 403 and user.session is None, origin
        assert "Requête refusée" in answer.text


# --- sessions ----------------------------------------------------------------------------------

def test_an_expired_session_sends_the_adviser_back_to_the_login(console, services):
    user, adviser = logged_in(console, services)
    assert user.get("/conseiller/file").status_code == 200
    execute(services, "UPDATE adviser_sessions SET expires_at = ? WHERE adviser_id = ?",
            (db_time(datetime.now(timezone.utc) - timedelta(minutes=1)), adviser_id(services, adviser["login"])))
    # The script's poll gets a 401 (the page then reloads)...
    assert user.get("/conseiller/file").status_code == 401
    # ...and the page is the login form saying why, the cookie gone.
    page = user.get("/conseiller")
    assert "Session expirée, reconnectez-vous." in page.text and LOGIN_LABELS[0] in page.text
    assert "Max-Age=0" in page.headers["Set-Cookie"]
    assert user.session is None


def test_an_idle_session_ends_too(console, services):
    user, adviser = logged_in(console, services)
    execute(services, "UPDATE adviser_sessions SET last_seen_at = ? WHERE adviser_id = ?",
            (db_time(datetime.now(timezone.utc) - timedelta(hours=1)), adviser_id(services, adviser["login"])))
    assert "Session expirée, reconnectez-vous." in user.get("/conseiller").text


def test_logging_out_ends_the_session_at_the_policy_service(console, services):
    user, _ = logged_in(console, services)
    token = user.session
    answer = user.post("/conseiller/deconnexion")
    assert answer.status_code == 303 and "Max-Age=0" in answer.headers["Set-Cookie"]
    # The old cookie, shown again, opens nothing.
    replay = ConsoleUser(console)
    replay.http.cookies.set("oyat_conseiller", token, path="/conseiller")
    assert "Session expirée" in replay.get("/conseiller").text


def test_a_forged_cookie_opens_nothing(user):
    for token in ("forged-token", "x" * 300, "é"):
        user.http.cookies.set("oyat_conseiller", token, path="/conseiller")
        page = user.get("/conseiller")
        assert page.status_code == 200 and LOGIN_LABELS[0] in page.text and "Se déconnecter" not in page.text


# --- CSRF and origins ---------------------------------------------------------------------------

def test_a_post_without_the_csrf_token_with_a_wrong_one_or_from_another_site_is_refused(console, services):
    user, _ = logged_in(console, services)
    reference = file_handoff(services)
    user.get(f"/conseiller/transferts/{reference}")
    take = f"/conseiller/transferts/{reference}/prise-en-charge"
    other, _ = logged_in(console, services)  # a real token, of another session
    refused = [
        user.post(take, csrf=""),
        user.post(take, csrf="0" * 64),
        user.post(take, csrf=other.csrf),
        user.post(take, origin="https://evil.example"),
        user.post(take, origin="null"),
        user.post(take, origin=None),  # neither Origin nor Referer
        user.post(take, origin=None, headers={"Referer": "https://evil.example/conseiller"}),
    ]
    for answer in refused:
        assert answer.status_code == 403 and "Requête refusée" in answer.text
    assert status_of(services, reference) == "waiting"
    # The same from the console's page (a Referer of the console, as a browser may send it) is taken.
    answer = user.post(take, origin=None, headers={"Referer": f"{console}/conseiller/transferts/{reference}"})
    assert answer.status_code == 303 and status_of(services, reference) == "taken"


def test_the_script_sends_the_csrf_token_as_a_header(console, services):
    user, _ = logged_in(console, services)
    reference = file_handoff(services)
    user.get(f"/conseiller/transferts/{reference}")
    answer = user.post(f"/conseiller/transferts/{reference}/prise-en-charge", csrf="",
                       headers={"X-CSRF-Token": user.csrf, "Accept": "application/json"})
    assert answer.status_code == 200 and answer.json() == {"ok": True, "error": None,
                                                           "done": "taken_without_conversation"}
    wrong = user.post(f"/conseiller/transferts/{reference}/cloture", csrf="",
                      headers={"X-CSRF-Token": "1" * 64, "Accept": "application/json"})
    assert wrong.status_code == 403 and wrong.json() == {"ok": False, "error": "csrf"}


def test_logging_out_needs_the_csrf_token_too(console, services):
    user, _ = logged_in(console, services)
    assert user.post("/conseiller/deconnexion", csrf="").status_code == 403
    assert "Se déconnecter" in user.get("/conseiller").text


# --- what each one sees ---------------------------------------------------------------------------

def test_the_queue_lists_a_new_hand_off_with_its_channel_customer_waiting_time_and_summary(console, services):
    user, _ = logged_in(console, services)
    anonymous = file_handoff(services, summary="Derniers messages du client :\n- ma voiture est en panne")
    marie = file_handoff(services, customer_id="10000001", channel="ivr")
    execute(services, "UPDATE handoffs SET created_at = ? WHERE reference = ?",
            (db_time(datetime.now(timezone.utc) - timedelta(minutes=12, seconds=20)), anonymous))
    page = user.get("/conseiller").text
    waiting = queue_rows(page, "waiting")
    assert waiting.index(marie) < waiting.index(anonymous)  # newest first
    row = re.search(rf'<tr data-reference="{anonymous}">.*?</tr>', page, re.S).group(0)
    assert "Site web" in row and "Non identifié" in row and "12 min" in row and "ma voiture est en panne" in row
    row = re.search(rf'<tr data-reference="{marie}">.*?</tr>', page, re.S).group(0)
    assert "Téléphone" in row and "Marie Dupont (client n° 10000001)" in row
    # The script's refresh: the same lists, alone.
    assert queue_rows(user.get("/conseiller/file").text, "waiting")[:2] == waiting[:2]


def test_an_adviser_sees_the_waiting_ones_and_their_own_and_a_supervisor_sees_everything(console, services):
    first, first_adviser = logged_in(console, services)
    second, _ = logged_in(console, services)
    supervisor, _ = logged_in(console, services, "supervisor")
    reference = file_handoff(services)
    first.get(f"/conseiller/transferts/{reference}")
    assert first.post(f"/conseiller/transferts/{reference}/prise-en-charge").status_code == 303

    assert reference in queue_rows(first.get("/conseiller").text, "taken")
    second_queue = second.get("/conseiller").text
    assert reference not in second_queue
    refused = second.get(f"/conseiller/transferts/{reference}")
    assert refused.status_code == 403 and "pris en charge par un autre conseiller" in refused.text
    # Taking it from under the first adviser: refused by the policy service.
    second.get("/conseiller")
    answer = second.post(f"/conseiller/transferts/{reference}/prise-en-charge")
    assert answer.headers["Location"] == f"/conseiller/transferts/{reference}?erreur=handoff_taken"
    assert query(services, "SELECT a.login FROM handoffs h JOIN advisers a ON a.id = h.taken_by "
                           "WHERE h.reference = ?", (reference,)) == [(first_adviser["login"],)]

    supervised = supervisor.get("/conseiller").text
    assert reference in queue_rows(supervised, "taken")
    page = supervisor.get(f"/conseiller/transferts/{reference}")
    assert page.status_code == 200 and first_adviser["display_name"] in page.text
    assert ">Clore</button>" in page.text and ">Prendre en charge</button>" not in page.text
    assert 'id="message-form"' not in page.text  # only the taker writes
    answer = supervisor.post(f"/conseiller/transferts/{reference}/cloture")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("?fait=closed")
    assert status_of(services, reference) == "closed"


def test_the_script_reads_no_conversation_of_another_advisers_hand_off(console, services):
    first, _ = logged_in(console, services)
    second, _ = logged_in(console, services)
    reference = file_handoff(services, conversation_id=f"widget:{reference_suffix()}")
    first.get(f"/conseiller/transferts/{reference}")
    first.post(f"/conseiller/transferts/{reference}/prise-en-charge")
    poll = f"/conseiller/transferts/{reference}/conversation"
    answer = second.get(poll, headers={"Accept": "application/json"})
    assert answer.status_code == 403 and answer.json() == {"ok": False, "error": "handoff_not_yours"}
    assert ConsoleUser(console).get(poll).status_code == 401  # nor anyone without a session
    # Its own hand-off without conversation: nothing to read, nothing refused.
    own = file_handoff(services, channel="ivr")
    answer = second.get(f"/conseiller/transferts/{own}/conversation?apres=12.5")
    assert answer.status_code == 200 and answer.json() == {"html": "", "after": 12.5, "paused": False}


def test_the_hand_off_page_shows_the_identified_customers_file(console, services):
    user, _ = logged_in(console, services)
    reference = file_handoff(services, customer_id="10000001")
    page = user.get(f"/conseiller/transferts/{reference}").text
    assert "Dossier du client" in page
    assert "AUT-482913" in page and "HAB-120034" in page
    assert "Marie Dupont" in page


def test_an_anonymous_visitors_call_back_contact_is_shown(console, services):
    user, _ = logged_in(console, services)
    reference = file_handoff(services, contact="0612345678")
    page = user.get(f"/conseiller/transferts/{reference}").text
    assert "à rappeler" in page and "Client non identifié : pas de dossier." in page


def test_what_customers_wrote_is_shown_as_text_never_as_markup(console, services):
    user, _ = logged_in(console, services)
    reference = file_handoff(services, summary='Derniers messages du client :\n- <script>alert("x")</script><img src=x>')
    for page in (user.get("/conseiller").text, user.get(f"/conseiller/transferts/{reference}").text):
        assert "<script>alert" not in page and "<img src=x>" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x&gt;" in page


def test_a_hand_off_without_conversation_is_taken_and_closed_with_a_call_back_to_make(console, services):
    user, _ = logged_in(console, services)
    reference = file_handoff(services, channel="ivr")
    page = user.get(f"/conseiller/transferts/{reference}").text
    assert "Pas de conversation écrite" in page and ">Prendre en charge</button>" in page
    answer = user.post(f"/conseiller/transferts/{reference}/prise-en-charge")
    assert answer.headers["Location"] == f"/conseiller/transferts/{reference}?fait=taken_without_conversation"
    page = user.get(answer.headers["Location"]).text
    assert "Transfert pris en charge. Pas de conversation écrite : contactez le client." in page
    assert ">Clore</button>" in page and 'id="message-form"' not in page
    assert user.post(f"/conseiller/transferts/{reference}/cloture").headers["Location"].endswith("?fait=closed")
    assert '<span class="status status-closed">Clos</span>' in user.get(f"/conseiller/transferts/{reference}").text


def test_with_the_assistant_unreachable_the_page_says_the_conversation_cannot_be_read(console, services):
    user, _ = logged_in(console, services)
    reference = file_handoff(services, conversation_id=f"widget:{reference_suffix()}")
    page = html.unescape(user.get(f"/conseiller/transferts/{reference}").text)
    assert "Le serveur de l'assistant ne répond pas" in page
    answer = user.post(f"/conseiller/transferts/{reference}/prise-en-charge")
    assert answer.headers["Location"].endswith("?erreur=conversation_unavailable")
    assert status_of(services, reference) == "taken"  # the policy service recorded it; the pause is to retry


def test_a_message_empty_or_too_long_is_refused_before_anything_is_recorded(console, services):
    user, _ = logged_in(console, services)
    reference = file_handoff(services)
    user.get(f"/conseiller/transferts/{reference}")
    path = f"/conseiller/transferts/{reference}/messages"
    assert user.post(path, {"message": "   "}).headers["Location"].endswith("?erreur=message_empty")
    assert user.post(path, {"message": "x" * 2001}).headers["Location"].endswith("?erreur=message_too_long")
    assert query(services, "SELECT COUNT(*) FROM handoff_events WHERE kind = 'message' AND text LIKE 'xxx%'") == [(0,)]
    # A body far beyond any form: refused by the web process itself.
    huge = user.post(path, {"message": "x" * 200_000})
    assert huge.status_code == 413


def test_a_reference_is_searched_and_a_malformed_one_is_told(console, services):
    user, _ = logged_in(console, services)
    reference = file_handoff(services)
    answer = user.get("/conseiller/recherche", params={"reference": f"  {reference.lower()} "}, allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["Location"] == f"/conseiller/transferts/{reference}"
    answer = user.get("/conseiller/recherche", params={"reference": "TRF-<b>"})
    assert answer.status_code == 200 and "Référence invalide" in answer.text and "<b>" not in answer.text
    for path in ("/conseiller/transferts/TRF-2026-12", "/conseiller/transferts/..%2F..%2Fetc",
                 "/conseiller/transferts/TRF-2099-999999"):
        page = user.get(path)
        assert page.status_code == 404 and "Aucun transfert ne porte cette référence." in page.text, path


# --- headers -----------------------------------------------------------------------------------

def test_every_answer_of_the_console_carries_the_security_headers(console, services):
    user, _ = logged_in(console, services)
    reference = file_handoff(services)
    answers = [
        user.get("/conseiller"), user.get("/conseiller/file"), user.get(f"/conseiller/transferts/{reference}"),
        user.get(f"/conseiller/transferts/{reference}/conversation"), user.get("/conseiller/static/console.js"),
        user.get("/conseiller/nothing-here"), ConsoleUser(console).get("/conseiller"),
        user.post(f"/conseiller/transferts/{reference}/prise-en-charge", csrf=""),
    ]
    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.url, name)
        policy = answer.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy


def test_without_its_token_the_console_says_it_is_not_configured(services, tmp_path):
    process, url = serve_site(services, tmp_path, ADVISER_CONSOLE_TOKEN="")
    try:
        page = requests.get(url + "/conseiller", timeout=10)
        assert page.status_code == 503 and "ADVISER_CONSOLE_TOKEN" in page.text
    finally:
        stop(process)


def reference_suffix() -> str:
    return uuid.uuid4().hex


@pytest.mark.parametrize("hours, said", [
    ("24/7", "24 h sur 24, 7 jours sur 7.\nOuvert"),
    # Closed every day but the first minute of Monday: closed now, whatever the test's time.
    ("lun 00:00-00:01", "le lundi de 0 h à 0 h 01.\nFermé"),
])
def test_the_queue_says_the_office_hours_and_whether_customers_are_offered_an_adviser_now(
        services, tmp_path, hours, said):
    process, url = serve_site(services, tmp_path, OFFICE_HOURS=hours)
    try:
        user, _ = logged_in(url, services)
        page = html.unescape(user.get("/conseiller").text)
        shown = re.sub(r"<[^>]+>", "", page[page.index('class="office-hours"'):]).split("</p>")[0]
        assert said in shown
    finally:
        stop(process)


def test_office_hours_that_do_not_read_stop_the_web_process_at_start(services, tmp_path):
    with pytest.raises(RuntimeError):
        serve_site(services, tmp_path, OFFICE_HOURS="tous les jours sauf le dimanche")
