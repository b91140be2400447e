"""The console's « Statistiques » page (every adviser: figures and SVG charts drawn on the
server) and « À revoir » (supervisors: pick the intent of a message the assistant hesitated
on), through the real web process and policy service, as a browser without a script."""
import html
import re

from tests.reference_services.helpers import query
from tests.reference_services.test_training_reviews import stored_figures, stored_review
from tests.web.conftest import ConsoleUser, new_adviser


def logged_in(console, services, role):
    adviser = new_adviser(services, role)
    user = ConsoleUser(console)
    assert user.log_in(adviser["login"], adviser["password"]).status_code == 303
    return user


def test_an_adviser_sees_the_figures_as_charts_and_a_table(console, services):
    stored_figures(services)
    user = logged_in(console, services, "adviser")
    page = user.get("/conseiller/statistiques")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3 and "<script" not in page.text.split("</head>")[1]
    assert "http://" not in re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", page.text.split("</head>")[1])
    table = page.text.split('id="chiffres"')[1]
    assert "01/12/2026" in table and "50 %" in table and "20 %" in table  # containment, fallback
    assert "declare_claim" in page.text
    # An adviser has no « À revoir » link, and the page refuses them.
    assert "/conseiller/a-revoir" not in page.text
    refused = user.get("/conseiller/a-revoir")
    assert refused.status_code == 403 and "réservée aux superviseurs" in html.unescape(refused.text)


def test_the_pages_need_a_session(console):
    user = ConsoleUser(console)
    for path in ("/conseiller/statistiques", "/conseiller/a-revoir"):
        page = user.get(path)
        assert 'name="mot_de_passe"' in page.text and "<svg" not in page.text


def test_a_supervisor_picks_the_intent_of_a_message_and_it_leaves_the_list(console, services):
    review_id = stored_review(services, "jpeux plus payer par cheque, je veux payer par virement")
    user = logged_in(console, services, "supervisor")
    page = user.get("/conseiller/a-revoir")
    assert page.status_code == 200 and "jpeux plus payer par cheque" in page.text
    assert f'action="/conseiller/a-revoir/{review_id}"' in page.text
    assert '<option value="out_of_scope">hors sujet</option>' in page.text
    assert '<option value="change_payment_method"' in page.text

    # Without the page's CSRF token: refused, nothing recorded.
    forged = user.post(f"/conseiller/a-revoir/{review_id}", {"intention": "greet"}, csrf="")
    assert forged.status_code == 403
    assert query(services, "SELECT status FROM training_reviews WHERE id = ?", (review_id,)) == [("pending",)]

    done = user.post(f"/conseiller/a-revoir/{review_id}", {"intention": "change_payment_method"})
    assert done.status_code == 303 and done.headers["Location"].endswith("fait=reviewed")
    assert query(services, "SELECT status, chosen_intent FROM training_reviews WHERE id = ?", (review_id,)) == [
        ("reviewed", "change_payment_method")]
    after = user.get(done.headers["Location"])
    assert "Message revu" in after.text and "jpeux plus payer par cheque" not in after.text
