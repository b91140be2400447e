"""The chat widget in a real browser: headless Debian chromium driven by Playwright,
against the real stack (pages, Rasa with the widget channel, actions, services).

Each test leaves a screenshot in test-results/widget/<test>.png.
"""

import io
import os
import re
import sys
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect, sync_playwright
from pypdf import PdfReader

from harness.servers import start, stop, wait_until_up
from tests.dialogue.widget_client import jpeg_photo

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-results" / "widget"
CHROMIUM = "/usr/bin/chromium"  # the Debian package (system-packages.txt); never downloaded
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
TURN_TIMEOUT_MS = 60_000
MARIE = "10000001"


@pytest.fixture(scope="module")
def widget_site(rasa_stack, tmp_path_factory):
    """The pages, served by `python -m web.site`, talking to the test Rasa."""
    port, log = rasa_stack.site_port, tmp_path_factory.mktemp("widget_site") / "site.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_PUBLIC_URL": rasa_stack.url,
        "ESPACE_CLIENT_JWT_SECRET": rasa_stack.jwt_secret,
    }
    process = start([sys.executable, "-m", "web.site", "--port", str(port)], ROOT, env, log)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/favicon.ico", process, 30, log)
        yield rasa_stack.site_origin
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A phone-sized page in a fresh browser context; no script error allowed."""
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"))
    context.close()
    assert errors == []


def open_widget(page: Page) -> None:
    page.get_by_role("button", name="Une question ? Discutons").click()
    expect(page.get_by_role("button", name="Envoyer")).to_be_enabled(timeout=TURN_TIMEOUT_MS)


def bot_bubbles(page: Page):
    return page.locator(".oyat-message.oyat-bot")


def answer_after(page: Page, before: int) -> str:
    """The assistant's new messages once it has stopped typing."""
    page.wait_for_function(
        "before => document.querySelectorAll('.oyat-message.oyat-bot').length > before"
        " && document.querySelector('.oyat-typing').textContent === ''",
        arg=before, timeout=TURN_TIMEOUT_MS,
    )
    return "\n".join(bot_bubbles(page).all_inner_texts()[before:])


def say(page: Page, text: str) -> str:
    before = bot_bubbles(page).count()
    box = page.get_by_role("textbox", name="Votre message")
    box.fill(text)
    box.press("Enter")
    return answer_after(page, before)


def press(page: Page, title: str) -> str:
    """Presses a button the assistant offered in its latest answer."""
    before = bot_bubbles(page).count()
    page.locator(".oyat-quick-replies button:enabled", has_text=title).first.click()
    return answer_after(page, before)


def attach(page: Page, filename: str, content: bytes, mime_type: str) -> str:
    before = bot_bubbles(page).count()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Joindre une photo ou un PDF").click()
    chooser.value.set_files({"name": filename, "mimeType": mime_type, "buffer": content})
    return answer_after(page, before)


def test_a_customer_declares_a_claim_with_a_photo_and_gets_a_claim_number(page, widget_site, services):
    page.goto(f"{widget_site}/espace-client?client={MARIE}")
    open_widget(page)

    assert "type de sinistre" in say(page, "je veux déclarer un sinistre")
    assert "Quand" in press(page, "Dégât des eaux")
    received = attach(page, "cuisine.jpg", jpeg_photo(), "image/jpeg")
    assert "cuisine.jpg" in received and "Quand" in received
    expect(page.locator(".oyat-user .oyat-file-status").last).to_have_text("Envoyé")
    assert "Où" in say(page, "hier vers 18h")
    assert "ce qui s'est passé" in say(page, "dans la cuisine de mon appartement")
    assert "dégâts" in say(page, "le tuyau sous l'évier a lâché pendant que j'étais au travail")
    assert "autre personne" in say(page, "le parquet de la cuisine est gonflé")
    assert "témoins" in press(page, "Non, personne")
    summary = press(page, "Aucun témoin")
    assert "HAB-120034" in summary and "cuisine.jpg" in summary
    filed = press(page, "Oui, enregistrer")
    claim_number = re.search(r"SIN-\d{4}-\d{6}", filed).group(0)

    claim = services.get(f"/v1/customers/{MARIE}/claims/{claim_number}").json()
    assert claim["contract_number"] == "HAB-120034" and claim["channel"] == "widget"
    assert [(d["filename"], d["content_type"]) for d in claim["documents"]] == [("cuisine.jpg", "image/jpeg")]

    # Back on the page later: the declaration is still there, photo included.
    page.reload()
    log = page.get_by_role("log", name="Conversation avec l'assistant")
    expect(log).to_contain_text(claim_number, timeout=TURN_TIMEOUT_MS)
    expect(log.locator(".oyat-user .oyat-file")).to_have_text(["cuisine.jpg"])

    # The whole conversation fits the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator("#oyat-chat").bounding_box()["width"] == PHONE["width"]


def test_a_reload_keeps_the_conversation(page, widget_site):
    page.goto(widget_site + "/")
    open_widget(page)
    greeting = say(page, "bonjour")
    assert "Bonjour" in greeting

    page.reload()
    # The widget opens again by itself, with the conversation so far.
    expect(page.get_by_role("button", name="Envoyer")).to_be_enabled(timeout=TURN_TIMEOUT_MS)
    log = page.get_by_role("log", name="Conversation avec l'assistant")
    expect(log.locator(".oyat-user")).to_have_text([re.compile("bonjour")])
    expect(bot_bubbles(page).first).to_contain_text("Bonjour")
    # ...and it goes on: the buttons of the last answer still work.
    assert press(page, "Une attestation")


def test_an_anonymous_visitor_asking_for_contracts_is_asked_to_identify(page, widget_site):
    page.goto(widget_site + "/")
    open_widget(page)
    answer = say(page, "quels sont mes contrats")
    assert "identifiant client" in answer
    assert "AUT-482913" not in answer and "HAB-120034" not in answer


def test_the_widget_works_with_the_keyboard_alone(page, widget_site):
    page.goto(widget_site + "/")
    launcher = page.get_by_role("button", name="Une question ? Discutons")
    for _ in range(20):
        if launcher.evaluate("button => button === document.activeElement"):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    box = page.get_by_role("textbox", name="Votre message")
    expect(box).to_be_focused()
    expect(page.get_by_role("button", name="Envoyer")).to_be_enabled(timeout=TURN_TIMEOUT_MS)

    before = bot_bubbles(page).count()
    page.keyboard.type("bonjour")
    page.keyboard.press("Enter")
    assert "Bonjour" in answer_after(page, before)

    # Back from the text box: the attach button, then the last button offered.
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="Joindre une photo ou un PDF")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    offered = page.locator(".oyat-quick-replies button").last
    expect(offered).to_be_focused()
    title = offered.inner_text()
    before = bot_bubbles(page).count()
    page.keyboard.press("Enter")
    assert answer_after(page, before)
    expect(page.locator(".oyat-user").last).to_contain_text(title)

    page.keyboard.press("Escape")
    expect(page.locator("#oyat-chat")).to_be_hidden()
    expect(launcher).to_be_focused()


def test_the_attestation_is_a_pdf_the_customer_can_open(page, widget_site):
    page.goto(f"{widget_site}/espace-client?client={MARIE}")
    open_widget(page)
    say(page, "il me faut une attestation d'assurance pour ma voiture")
    link = page.get_by_role("link", name=re.compile("Attestation AUT-482913.pdf"))
    expect(link).to_have_attribute("target", "_blank")  # opens next to the conversation
    pdf = requests.get(link.get_attribute("href"), timeout=10)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"].startswith("application/pdf")
    assert "AUT-482913" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)


def choose_file(page: Page, name: str, mime_type: str, content: bytes) -> None:
    """Picks a file to send, without waiting for an answer (a refused one gets an alert)."""
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Joindre une photo ou un PDF").click()
    chooser.value.set_files({"name": name, "mimeType": mime_type, "buffer": content})


def test_a_refused_file_is_explained_in_the_conversation(page, widget_site):
    page.goto(f"{widget_site}/espace-client?client={MARIE}")
    open_widget(page)
    choose_file(page, "notes.txt", "text/plain", b"pas une photo")
    expect(page.get_by_role("alert")).to_contain_text("photos (JPEG", timeout=TURN_TIMEOUT_MS)
    expect(page.locator(".oyat-user .oyat-file-status").last).to_have_text("Non envoyé")


def test_an_anonymous_visitor_is_told_files_come_with_a_claim_declaration(page, widget_site):
    page.goto(widget_site + "/")
    open_widget(page)
    choose_file(page, "cuisine.jpg", "image/jpeg", jpeg_photo())
    expect(page.get_by_role("alert")).to_contain_text("déclaration de sinistre", timeout=TURN_TIMEOUT_MS)
    expect(page.locator(".oyat-user .oyat-file-status").last).to_have_text("Non envoyé")


def test_the_screen_reader_hears_the_conversation(page, widget_site):
    page.goto(widget_site + "/")
    open_widget(page)
    log = page.get_by_role("log", name="Conversation avec l'assistant")
    expect(log).to_have_attribute("aria-live", "polite")
    say(page, "bonjour")
    expect(log.locator(".oyat-bot").last).to_contain_text("Assistant :")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
