"""An adviser takes a customer's conversation over in the advisers' console, in a real
browser (headless Debian chromium driven by Playwright), two browser contexts: the customer
in the widget on the espace-client page, the adviser at /conseiller.

The stack is the real one in office hours (`rasa_stack_in_office_hours`: OFFICE_HOURS=24/7):
the test services, an action server, a Rasa server with the widget channel and the adviser
routes, and the web process serving the pages and the console.
Screenshots of the console in test-results/console/.
"""

import html
import os
import re
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect, sync_playwright

from connectors.guard import conversation_id
from harness.servers import start, stop, wait_until_up
from tests.conftest import TEST_ADVISER_DEMO_PASSWORD
from tests.dialogue.test_widget_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    TURN_TIMEOUT_MS,
    answer_after,
    bot_bubbles,
)
from tests.dialogue.widget_client import WidgetClient
from tests.reference_services.helpers import db_time, execute, query
from tests.web.conftest import ConsoleUser, file_handoff

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-results" / "console"
DESKTOP = {"width": 1366, "height": 900}
MARIE = "10000001"
ADVISER_NAME = "Camille Martin"
# The console polls the conversation every 1.5 s and the queue every 5 s.
LIVE_TIMEOUT_MS = 15_000
# How long the assistant is given to (wrongly) answer a paused conversation.
SILENCE_MS = 4_000


@pytest.fixture(scope="module")
def console_site(rasa_stack_in_office_hours, services, tmp_path_factory):
    """The web process (pages, widget, console) next to the stack in office hours, at the
    address its Rasa server accepts browsers from."""
    stack = rasa_stack_in_office_hours
    log = tmp_path_factory.mktemp("console_site") / "site.log"
    env = {
        # The console's token, never the grant secret nor the services' secrets.
        **{name: value for name, value in os.environ.items() if not name.startswith("ADVISER_")},
        "PYTHONPATH": str(ROOT),
        "RASA_PUBLIC_URL": stack.url,
        "RASA_SERVER_URL": stack.url,
        "POLICY_SERVICE_URL": services.base_url,
        "ESPACE_CLIENT_JWT_SECRET": stack.jwt_secret,
        "ADVISER_CONSOLE_TOKEN": services.env["ADVISER_CONSOLE_TOKEN"],
    }
    process = start([sys.executable, "-m", "web.site", "--port", str(stack.site_port)], ROOT, env, log)
    try:
        wait_until_up(f"{stack.site_origin}/favicon.ico", process, 30, log)
        yield stack.site_origin
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser, viewport: dict, errors: list, *, console_errors: bool = False) -> Page:
    context = browser.new_context(viewport=viewport, locale="fr-FR")
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    if console_errors:
        # What the Content-Security-Policy blocks is logged as « Refused to … ».
        page.on("console", lambda message: "Refused to" in message.text and errors.append(message.text))
    return page


def customer_writes(page: Page, text: str) -> int:
    """Sends `text` from the widget without waiting for an answer; the bot bubbles before."""
    before = bot_bubbles(page).count()
    box = page.get_by_role("textbox", name="Votre message")
    box.fill(text)
    box.press("Enter")
    expect(page.locator(".oyat-user").last).to_contain_text(text)
    return before


def test_an_adviser_takes_a_conversation_over_in_the_console_and_gives_it_back(browser, console_site, services):
    site = console_site
    errors: list = []
    customer = new_page(browser, PHONE, errors)
    adviser = new_page(browser, DESKTOP, errors, console_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        # The adviser is at the console first: an adviser is available.
        adviser.goto(f"{site}/conseiller")
        adviser.screenshot(path=str(SCREENSHOTS / "login.png"))
        adviser.get_by_label("Identifiant").fill("conseiller")
        adviser.get_by_label("Mot de passe").fill(TEST_ADVISER_DEMO_PASSWORD)
        adviser.get_by_role("button", name="Se connecter").click()
        expect(adviser.get_by_text(f"{ADVISER_NAME} (conseiller)")).to_be_visible()

        # The customer, in her espace client, asks for an adviser and says yes to the read-back.
        customer.goto(f"{site}/espace-client?client={MARIE}")
        customer.get_by_role("button", name="Une question ? Discutons").click()
        expect(customer.get_by_role("button", name="Envoyer")).to_be_enabled(timeout=TURN_TIMEOUT_MS)
        before = customer_writes(customer, "je veux parler à un conseiller")
        assert "Je l'envoie ?" in answer_after(customer, before)
        before = customer_writes(customer, "oui")
        filed = answer_after(customer, before)
        reference = re.search(r"TRF-\d{4}-\d{6}", filed).group(0)

        # The queue shows it within a refresh, with the customer's name.
        row = adviser.locator(f'tr[data-reference="{reference}"]')
        expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        expect(row).to_contain_text("Marie Dupont")
        expect(row).to_contain_text("Site web")
        adviser.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)

        # Opened: the whole conversation, the customer's file.
        row.get_by_role("link", name=reference).click()
        conversation = adviser.get_by_role("log", name="Conversation avec le client")
        expect(conversation).to_contain_text("je veux parler à un conseiller")
        expect(conversation.locator(".from-assistant").first).to_be_visible()
        expect(adviser.locator(".handoff-side")).to_contain_text("HAB-120034")

        # Taken: the assistant falls silent and the customer is told who joined.
        before = bot_bubbles(customer).count()
        adviser.get_by_role("button", name="Prendre en charge").click()
        expect(adviser.locator(".notice.done")).to_contain_text("Vous avez pris la conversation en charge")
        assert f"{ADVISER_NAME}, de l'équipe des conseillers" in answer_after(customer, before)

        # The adviser writes: the widget shows it live, under the adviser's name.
        before = bot_bubbles(customer).count()
        adviser.get_by_label("Votre message").fill("Bonjour Madame Dupont, je regarde votre dossier.")
        adviser.get_by_role("button", name="Envoyer").click()
        written = customer.locator(".oyat-message.oyat-adviser").last
        expect(written).to_contain_text("Bonjour Madame Dupont, je regarde votre dossier.", timeout=TURN_TIMEOUT_MS)
        expect(written).to_contain_text(f"{ADVISER_NAME}, conseiller Oyat Assurance")
        assert bot_bubbles(customer).count() == before  # not the assistant's words
        expect(adviser.get_by_label("Votre message")).to_have_value("")
        expect(conversation.locator(".from-adviser").last).to_contain_text("je regarde votre dossier")

        # The customer writes: the console shows it live, and the assistant says nothing.
        before = customer_writes(customer, "merci, c'est au sujet de ma franchise auto")
        expect(conversation.locator(".from-customer").last).to_contain_text(
            "au sujet de ma franchise auto", timeout=LIVE_TIMEOUT_MS)
        customer.wait_for_timeout(SILENCE_MS)
        assert bot_bubbles(customer).count() == before
        adviser.screenshot(path=str(SCREENSHOTS / "conversation-taken.png"), full_page=True)

        # Closed: the customer is told, and the assistant answers the next message.
        before = bot_bubbles(customer).count()
        adviser.get_by_role("button", name="Clore").click()
        expect(adviser.locator(".notice.done")).to_contain_text("Transfert clos")
        assert f"{ADVISER_NAME} a quitté la conversation" in answer_after(customer, before)
        before = customer_writes(customer, "quels sont mes contrats")
        assert "HAB-120034" in answer_after(customer, before)
        adviser.screenshot(path=str(SCREENSHOTS / "conversation-closed.png"), full_page=True)

        # The session ends (expired at the policy service): the page's next poll brings the login back.
        execute(services, "UPDATE adviser_sessions SET expires_at = ? WHERE adviser_id = "
                          "(SELECT id FROM advisers WHERE login = 'conseiller')",
                (db_time(datetime.now(timezone.utc) - timedelta(minutes=1)),))
        expect(adviser.locator(".notice.error")).to_contain_text("Session expirée, reconnectez-vous.",
                                                                 timeout=LIVE_TIMEOUT_MS)
        expect(adviser.get_by_role("button", name="Se connecter")).to_be_visible()
    finally:
        customer.screenshot(path=str(SCREENSHOTS / "customer-widget.png"))
        customer.context.close()
        adviser.context.close()
    assert errors == []


# --- what the console says when the customer's channel cannot be written to (over HTTP) ----------

def console_user(console_site: str, services) -> ConsoleUser:
    user = ConsoleUser(console_site)
    assert user.log_in("conseiller", TEST_ADVISER_DEMO_PASSWORD).status_code == 303
    return user


def test_a_rest_conversation_cannot_be_written_to_and_the_console_says_to_call_back(
        console_site, rasa_stack_in_office_hours, services):
    sender = str(uuid.uuid4())
    rasa_stack_in_office_hours.say(sender, "bonjour")
    reference = file_handoff(services, channel="rest", conversation_id=conversation_id("rest", sender))
    user = console_user(console_site, services)
    page = user.get(f"/conseiller/transferts/{reference}")
    assert "bonjour" in page.text  # the conversation is read
    answer = user.post(f"/conseiller/transferts/{reference}/prise-en-charge")
    assert answer.headers["Location"].endswith("?erreur=channel_unreachable")
    page = html.unescape(user.get(answer.headers["Location"]).text)
    assert "Ce canal ne permet pas d'écrire au client après coup : rappelez-le." in page
    # The assistant was not silenced for a customer nobody can write to.
    assert rasa_stack_in_office_hours.tracker(sender)["latest_message"]["text"] == "bonjour"
    assert not rasa_stack_in_office_hours.tracker(sender).get("paused")


def test_a_whatsapp_customer_silent_for_more_than_a_day_is_offered_a_call_back(
        console_site, rasa_stack_in_office_hours, services):
    conversation = f"whatsapp:{uuid.uuid4().hex}"
    stack = rasa_stack_in_office_hours
    answer = requests.put(
        f"{stack.url}/conversations/{conversation}/tracker/events", params={"token": stack.api_token}, timeout=30,
        json=[{"event": "user", "text": "bonjour", "input_channel": "whatsapp", "timestamp": time.time() - 30 * 3600,
               "parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": []}}])
    answer.raise_for_status()
    reference = file_handoff(services, channel="whatsapp", conversation_id=conversation)
    user = console_user(console_site, services)
    user.get(f"/conseiller/transferts/{reference}")
    answer = user.post(f"/conseiller/transferts/{reference}/prise-en-charge",
                       headers={"Accept": "application/json"})
    assert answer.status_code == 409 and answer.json()["error"] == "outside_window"
    page = html.unescape(user.get(f"/conseiller/transferts/{reference}?erreur=outside_window").text)
    assert ("Le client n'a pas écrit depuis plus de 24 h : ce canal n'accepte plus de message. "
            "Proposez-lui un rappel.") in page


def test_without_a_script_the_console_takes_writes_and_closes_with_plain_forms(
        console_site, rasa_stack_in_office_hours, services):
    client = WidgetClient(rasa_stack_in_office_hours.url)
    try:
        client.open()
        assert client.say("bonjour")
        reference = file_handoff(services, conversation_id=f"widget:{client.session_id}")
        user = console_user(console_site, services)
        page = user.get(f"/conseiller/transferts/{reference}")
        assert '<p class="text">bonjour</p>' in page.text

        taken = user.post(f"/conseiller/transferts/{reference}/prise-en-charge")
        assert taken.headers["Location"] == f"/conseiller/transferts/{reference}?fait=taken"
        assert "rejoint la conversation" in client.next_event("bot_uttered")[1]["text"]
        page = user.get(taken.headers["Location"])
        assert 'data-paused="true"' in page.text and '<label for="message">Votre message</label>' in page.text

        sent = user.post(f"/conseiller/transferts/{reference}/messages", {"message": "Je vous rappelle <b>demain</b>."})
        assert sent.headers["Location"].endswith("?fait=sent")
        assert client.next_event("bot_uttered")[1]["text"] == "Je vous rappelle <b>demain</b>."
        page = user.get(sent.headers["Location"]).text
        assert "Je vous rappelle &lt;b&gt;demain&lt;/b&gt;." in page and "Message envoyé." in page

        closed = user.post(f"/conseiller/transferts/{reference}/cloture")
        assert closed.headers["Location"].endswith("?fait=closed")
        assert "a quitté la conversation" in client.next_event("bot_uttered")[1]["text"]
        page = user.get(closed.headers["Location"]).text
        assert 'data-paused="false"' in page and 'id="message-form"' not in page
    finally:
        client.close()


def test_a_supervisor_closes_a_hand_off_an_adviser_left_and_the_assistant_answers_again(
        console_site, rasa_stack_in_office_hours, services):
    """An adviser who went home leaves a conversation paused: the supervisor's « Clore » gives
    it back to the assistant, the customer told."""
    client = WidgetClient(rasa_stack_in_office_hours.url)
    try:
        client.open()
        assert client.say("bonjour")
        reference = file_handoff(services, conversation_id=f"widget:{client.session_id}")
        adviser = console_user(console_site, services)
        adviser.get(f"/conseiller/transferts/{reference}")
        assert adviser.post(f"/conseiller/transferts/{reference}/prise-en-charge").headers["Location"].endswith(
            "?fait=taken")
        assert "rejoint la conversation" in client.next_event("bot_uttered")[1]["text"]

        supervisor = ConsoleUser(console_site)
        assert supervisor.log_in("superviseur", TEST_ADVISER_DEMO_PASSWORD).status_code == 303
        page = supervisor.get(f"/conseiller/transferts/{reference}").text
        assert 'id="message-form"' not in page  # only the taker writes to the customer
        closed = supervisor.post(f"/conseiller/transferts/{reference}/cloture")
        assert closed.headers["Location"].endswith("?fait=closed")
        assert "a quitté la conversation" in client.next_event("bot_uttered")[1]["text"]
        assert query(services, "SELECT status FROM handoffs WHERE reference = ?", (reference,)) == [("closed",)]
        assert client.say("bonjour")  # the assistant answers again
    finally:
        client.close()
