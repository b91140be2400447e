"""Quotes (DEV-) and simulations through the policy service's HTTP routes, on SQLite and
PostgreSQL: priced by the tariff, kept, read back, e-mailed as a PDF through a real SMTP
server, handed to an adviser; simulations on the demo contracts; every refusal changes
nothing."""
import io
import re
from datetime import date, timedelta
from typing import Iterator

import pypdf
import pytest

from tests.conftest import RunningServices, identity_assertion, running_services
from tests.reference_services.helpers import KARIM, MARIE, SOPHIE, count, execute, query, today_paris
from tests.reference_services.smtp import SmtpRecorder

CAR = {"vehicle_model": "Renault Clio", "vehicle_year": 2019, "bonus_malus": 0.85, "usage": "trajets",
       "parking": "rue", "young_driver": False}
HOME = {"housing": "appartement", "rooms": 3, "postcode": "79000", "occupant": "locataire"}
TABLES = ("quotes", "handoffs", "outbox", "customer_requests", "contracts")


def quote(services, product="auto", risk=None, headers=None, **body):
    response = services.post("/v1/quotes", json={"product": product, "risk": risk or CAR, **body},
                             headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def snapshot(services):
    return {table: count(services, table) for table in TABLES}


def test_a_car_quote_has_three_formulas_from_the_least_to_the_most_covering_and_is_kept(services):
    body = quote(services)
    assert re.fullmatch(rf"DEV-{today_paris().year}-\d{{6}}", body["reference"])
    assert (body["product"], body["tariff_version"], body["expired"]) == ("auto", "2026-12-v1", False)
    assert body["valid_until"] == (today_paris() + timedelta(days=30)).isoformat()
    assert body["risk"]["vehicle_group"] == 3 and body["risk"]["deductible_eur"] == 300
    assert body["factors"]["bonus_malus"] == 0.85 and body["factors"]["parking"] == 1.05
    formulas = body["formulas"]
    assert [f["code"] for f in formulas] == ["tiers", "tiers_etendu", "tous_risques"]
    premiums = [f["annual_premium_cents"] for f in formulas]
    assert premiums == sorted(premiums) and len(set(premiums)) == 3
    for formula in formulas:
        assert formula["summary"].endswith(".") and formula["guarantees"][0] == "Responsabilité civile"
        assert formula["monthly_premium_cents"] == round(formula["annual_premium_cents"] / 12)
    assert services.get(f"/v1/quotes/{body['reference']}").json() == body


def test_a_home_quote_takes_a_surface_instead_of_rooms(services):
    risk = {**HOME, "rooms": None, "surface_m2": 68, "deductible_eur": 300}
    body = quote(services, "habitation", risk)
    assert [f["code"] for f in body["formulas"]] == ["essentielle", "confort", "confort_plus"]
    assert (body["risk"]["rooms"], body["risk"]["zone"]) == (3, 1)
    assert {f["deductible_eur"] for f in body["formulas"]} == {300}


def test_quote_references_follow_each_other(services):
    first, second = quote(services), quote(services)
    assert int(second["reference"][-6:]) == int(first["reference"][-6:]) + 1


def test_an_identified_customers_quote_is_hers(services):
    body = quote(services, customer_id=MARIE, headers={"X-Identity-Assertion": identity_assertion(MARIE)})
    assert query(services, "SELECT customer_id FROM quotes WHERE reference = ?", [body["reference"]]) == [(MARIE,)]


def test_an_expired_quote_is_still_readable_and_says_so(services):
    reference = quote(services)["reference"]
    execute(services, "UPDATE quotes SET valid_until = ? WHERE reference = ?",
            [(today_paris() - timedelta(days=1)).isoformat(), reference])
    assert services.get(f"/v1/quotes/{reference}").json()["expired"] is True


@pytest.mark.parametrize("reference", ["DEV-2026-999999", "dev-2026-99999", "TRF-2026-000001", "x" * 300])
def test_an_unknown_quote_is_not_found(services, reference):
    response = services.get(f"/v1/quotes/{reference}")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "quote_not_found")


@pytest.mark.parametrize("body, fields", [
    ({"product": "moto", "risk": CAR}, {"product"}),
    ({"product": "auto"}, {"risk"}),
    ({"product": "auto", "risk": "clio"}, {"risk"}),
    ({"product": "auto", "risk": {**CAR, "vehicle_year": 1970}}, {"risk.vehicle_year"}),
    ({"product": "auto", "risk": {**CAR, "usage": "rallye", "bonus_malus": 9}}, {"risk.usage", "risk.bonus_malus"}),
    ({"product": "habitation", "risk": {**HOME, "postcode": "ABCDE"}}, {"risk.postcode"}),
    ({"product": "habitation", "risk": CAR}, {"risk.vehicle_model", "risk.vehicle_year", "risk.bonus_malus",
                                              "risk.usage", "risk.parking", "risk.young_driver", "risk.housing",
                                              "risk.rooms", "risk.postcode", "risk.occupant"}),
    ({"product": "auto", "risk": CAR, "price": 1}, {"price"}),
    ({"product": "auto", "risk": {**CAR, "x" * 5000: 1}}, {"risk." + "x" * 100}),
])
def test_a_bad_quote_request_is_refused_field_by_field_and_keeps_nothing(services, body, fields):
    before = snapshot(services)
    response = services.post("/v1/quotes", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error" and set(error["fields"]) == fields
    assert snapshot(services) == before


def test_a_quote_naming_a_customer_needs_her_identity_and_keeps_nothing_without(services):
    before = snapshot(services)
    for headers, code in (({}, "identity_required"),
                          ({"X-Identity-Assertion": identity_assertion(KARIM)}, "identity_forbidden")):
        response = services.post("/v1/quotes", json={"product": "auto", "risk": CAR, "customer_id": MARIE},
                                 headers=headers)
        assert response.json()["error"]["code"] == code
    assert snapshot(services) == before


def test_quote_routes_need_the_service_token(services):
    reference = quote(services)["reference"]
    for method, path in (("POST", "/v1/quotes"), ("GET", f"/v1/quotes/{reference}"),
                         ("POST", f"/v1/quotes/{reference}/email"), ("POST", f"/v1/quotes/{reference}/follow-up"),
                         ("POST", f"/v1/customers/{MARIE}/contracts/AUT-482913/simulations")):
        response = services.request(method, path, authorized=False, json={})
        assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")


# --- the follow-up: a hand-off the advisers' console lists


def quote_handoffs_counted(services) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = services.get("/metrics", authorized=False).text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "oyat_handoffs_total" and sample.labels.get("reason") == "quote"
               and sample.labels.get("channel") == "widget")


def test_an_anonymous_visitor_asks_for_a_formula_and_an_adviser_gets_the_quote(services):
    body = quote(services)
    counted = quote_handoffs_counted(services)
    response = services.post(f"/v1/quotes/{body['reference']}/follow-up", json={
        "formula": "tiers_etendu", "channel": "widget", "contact": "06 12 34 56 78",
        "conversation_id": "widget:abc"})
    assert response.status_code == 201, response.text
    handoff = response.json()
    assert re.fullmatch(r"TRF-\d{4}-\d{6}", handoff["reference"]) and handoff["status"] == "waiting"
    (row,) = query(services, "SELECT reason, summary, contact, customer_id, conversation_id FROM handoffs "
                             "WHERE reference = ?", [handoff["reference"]])
    reason, summary, contact, customer_id, conversation_id = row
    formula = body["formulas"][1]
    assert (reason, contact, customer_id, conversation_id) == ("quote", "+33612345678", None, "widget:abc")
    monthly = f"{formula['monthly_premium_cents'] // 100},{formula['monthly_premium_cents'] % 100:02d} €"
    for expected in (body["reference"], "Tiers étendu", f"{monthly} par mois", "Renault Clio de 2019"):
        assert expected in summary
    assert quote_handoffs_counted(services) == counted + 1  # the operators' hand-off count


def test_an_identified_customer_asks_for_a_formula_without_a_contact(services):
    reference = quote(services, "habitation", HOME)["reference"]
    response = services.post(f"/v1/quotes/{reference}/follow-up",
                             json={"formula": "confort", "channel": "rest", "customer_id": MARIE},
                             headers={"X-Identity-Assertion": identity_assertion(MARIE)})
    assert response.status_code == 201
    assert query(services, "SELECT customer_id, contact FROM handoffs WHERE reference = ?",
                 [response.json()["reference"]]) == [(MARIE, None)]


@pytest.mark.parametrize("body, status, code, field", [
    ({"formula": "tiers", "channel": "widget"}, 422, "validation_error", "contact"),
    ({"formula": "tiers", "channel": "widget", "contact": "demain"}, 422, "validation_error", "contact"),
    ({"formula": "or", "channel": "widget", "contact": "a@example.fr"}, 422, "validation_error", "formula"),
    ({"formula": "tiers", "contact": "a@example.fr"}, 422, "validation_error", "channel"),
    ({"formula": "tiers", "channel": "rest", "customer_id": MARIE}, 401, "identity_required", None),
])
def test_a_bad_follow_up_files_nothing(services, body, status, code, field):
    reference = quote(services)["reference"]
    before = snapshot(services)
    response = services.post(f"/v1/quotes/{reference}/follow-up", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    if field:
        assert field in response.json()["error"]["fields"]
    assert snapshot(services) == before


def test_a_follow_up_of_an_unknown_quote_files_nothing(services):
    before = snapshot(services)
    response = services.post("/v1/quotes/DEV-2026-999999/follow-up",
                             json={"formula": "tiers", "channel": "widget", "contact": "a@example.fr"})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "quote_not_found")
    assert snapshot(services) == before


# --- simulations on the customer's contracts

SIMULATE = f"/v1/customers/{MARIE}/contracts/AUT-482913/simulations"


def test_a_lower_deductible_on_maries_car_costs_more_from_next_month(services):
    response = services.post(SIMULATE, json={"deductible_eur": 150})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["current"]["monthly_premium_cents"] == 4890 and body["current"]["annual_premium_cents"] == 58680
    assert body["current"]["deductible_eur"] == 300 and body["simulated"]["deductible_eur"] == 150
    # The deductible's factor goes from 1.00 to 1.10: 10 % more on the contract's premium.
    assert body["simulated"]["annual_premium_cents"] == 64548
    assert body["simulated"]["monthly_premium_cents"] == 5379
    assert (body["difference_annual_cents"], body["difference_monthly_cents"]) == (5868, 489)
    first_of_next_month = (today_paris().replace(day=1) + timedelta(days=32)).replace(day=1)
    assert (body["effective_rule"], body["effective_date"]) == ("next_month", first_of_next_month.isoformat())
    assert body["deductible_levels"] == [150, 250, 300, 500, 800]
    assert body["simulated"]["guarantees"] == body["current"]["guarantees"]


def test_removing_a_guarantee_costs_less_from_the_next_due_date(services):
    body = services.post(SIMULATE, json={"remove_guarantees": ["dommages_tous_accidents"]}).json()
    assert body["difference_annual_cents"] < 0 and body["difference_monthly_cents"] < 0
    assert "dommages_tous_accidents" not in {g["code"] for g in body["simulated"]["guarantees"]}
    assert (body["effective_rule"], body["effective_date"]) == ("next_due_date", "2027-03-01")


def test_a_guarantee_in_no_formula_can_be_added_to_a_contract(services):
    body = services.post(SIMULATE, json={"add_guarantees": ["protection_juridique"]}).json()
    assert body["simulated"]["guarantees"][-1] == {"code": "protection_juridique", "label": "Protection juridique"}
    assert body["difference_monthly_cents"] > 0 and body["effective_rule"] == "next_month"


def test_adding_a_guarantee_to_karims_car_and_the_home_contract_of_marie(services):
    body = services.post(f"/v1/customers/{KARIM}/contracts/AUT-559120/simulations",
                         json={"add_guarantees": ["dommages_tous_accidents"]}).json()
    assert body["current"]["monthly_premium_cents"] == 3950 and body["difference_monthly_cents"] > 0
    assert body["simulated"]["guarantees"][-1] == {"code": "dommages_tous_accidents", "label": "Dommages tous accidents"}
    home = services.post(f"/v1/customers/{MARIE}/contracts/HAB-120034/simulations",
                         json={"add_guarantees": ["objets_de_valeur"], "deductible_eur": 300}).json()
    assert home["current"]["monthly_premium_cents"] == 2340
    assert home["effective_rule"] == "next_due_date"  # a higher deductible is less cover


@pytest.mark.parametrize("path, body, status, code, field", [
    (SIMULATE, {"deductible_eur": 200}, 422, "validation_error", "deductible_eur"),
    (SIMULATE, {"deductible_eur": "150"}, 422, "validation_error", "deductible_eur"),
    (SIMULATE, {}, 422, "validation_error", "deductible_eur"),
    (SIMULATE, {"add_guarantees": ["bris_de_glace"]}, 422, "validation_error", "add_guarantees"),
    (SIMULATE, {"add_guarantees": ["rayures"]}, 422, "validation_error", "add_guarantees"),
    (SIMULATE, {"remove_guarantees": ["responsabilite_civile_auto"]}, 422, "validation_error", "remove_guarantees"),
    (SIMULATE, {"remove_guarantees": "bris_de_glace"}, 422, "validation_error", "remove_guarantees"),
    (SIMULATE, {"franchise": 150}, 422, "validation_error", "franchise"),
    (f"/v1/customers/{SOPHIE}/contracts/HAB-099812/simulations", {"deductible_eur": 300}, 409,
     "contract_terminated", None),
    (f"/v1/customers/{SOPHIE}/contracts/PRO-700215/simulations", {"deductible_eur": 300}, 422,
     "validation_error", "contract_number"),
    (f"/v1/customers/{MARIE}/contracts/AUT-559120/simulations", {"deductible_eur": 300}, 404,
     "contract_not_found", None),
])
def test_a_bad_simulation_is_refused_and_changes_nothing(services, path, body, status, code, field):
    before = snapshot(services)
    contracts = query(services, "SELECT contract_number, premium_cents, franchise_cents FROM contracts ORDER BY 1")
    response = services.post(path, json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    if field:
        assert field in response.json()["error"]["fields"]
    assert snapshot(services) == before
    assert query(services, "SELECT contract_number, premium_cents, franchise_cents FROM contracts ORDER BY 1") == contracts


def test_the_allowed_values_are_named_in_the_refusal(services):
    fields = services.post(f"/v1/customers/{KARIM}/contracts/AUT-559120/simulations",
                           json={"add_guarantees": ["rayures"], "deductible_eur": 1}).json()["error"]["fields"]
    assert fields["deductible_eur"] == "franchise attendue parmi : 150, 250, 300, 500, 800"
    assert fields["add_guarantees"] == "garantie attendue parmi : dommages_tous_accidents, garantie_conducteur, protection_juridique"
    fields = services.post(SIMULATE, json={"add_guarantees": ["bris_de_glace"]}).json()["error"]["fields"]
    assert fields["add_guarantees"] == "garantie attendue parmi : protection_juridique"


def test_a_simulation_on_another_customers_contract_is_an_unknown_contract(services):
    response = services.post(f"/v1/customers/{KARIM}/contracts/AUT-482913/simulations", json={"deductible_eur": 150})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "contract_not_found")
    assert "4890" not in response.text and "Dupont" not in response.text


def test_a_simulation_needs_the_customers_identity(services):
    response = services.post(SIMULATE, json={"deductible_eur": 150}, identified_as=KARIM)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "identity_forbidden")


# --- the quote by e-mail, its PDF attached, through a real SMTP server


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpRecorder]:
    recorder = SmtpRecorder().start()
    try:
        yield recorder
    finally:
        recorder.stop()


@pytest.fixture(scope="module")
def mailing_services(smtp: SmtpRecorder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServices]:
    workdir = tmp_path_factory.mktemp("quote-mailing-services")
    with running_services(workdir, f"sqlite:///{workdir / 'oyat.db'}", extra_env={"SMTP_URL": smtp.url}) as running:
        yield running


def test_a_quote_is_emailed_with_its_pdf_attached(mailing_services, smtp):
    smtp.received.clear()
    body = quote(mailing_services, "habitation", HOME)
    response = mailing_services.post(f"/v1/quotes/{body['reference']}/email", json={"email": "visiteur@example.fr"})
    assert response.status_code == 202
    assert response.json()["sent_to"] != "visiteur@example.fr" and "@example.fr" in response.json()["sent_to"]
    (received,) = smtp.wait_for(1)
    assert received.recipients == ["visiteur@example.fr"]
    assert body["reference"] in received.message["Subject"]
    text = received.message.get_body(preferencelist=("plain",)).get_content()
    assert body["reference"] in text and "0825 07 11 22" in text
    (attachment,) = list(received.message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"devis-{body['reference']}.pdf"
    reader = pypdf.PdfReader(io.BytesIO(attachment.get_content()))
    pdf = "\n".join(page.extract_text() for page in reader.pages)
    confort = body["formulas"][1]
    for expected in ("Devis d'assurance habitation", body["reference"], "Essentielle", "Confort Plus",
                     "Code postal : 79000 (zone 1)", "2026-12-v1",
                     f"{confort['monthly_premium_cents'] // 100},{confort['monthly_premium_cents'] % 100:02d} €"):
        assert expected in pdf, expected
    valid_until = date.fromisoformat(body["valid_until"])
    assert str(valid_until.year) in pdf


@pytest.mark.parametrize("payload", [{"email": "pas-une-adresse"}, {"email": "06 12 34 56 78"}, {}, {"email": "a@b.fr", "cc": "x"}])
def test_a_bad_address_sends_nothing(mailing_services, payload):
    reference = quote(mailing_services)["reference"]
    before = count(mailing_services, "outbox")
    response = mailing_services.post(f"/v1/quotes/{reference}/email", json=payload)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")
    assert count(mailing_services, "outbox") == before


def test_an_unknown_quote_is_not_emailed(mailing_services):
    before = count(mailing_services, "outbox")
    response = mailing_services.post("/v1/quotes/DEV-2026-999999/email", json={"email": "a@example.fr"})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "quote_not_found")
    assert count(mailing_services, "outbox") == before


# --- another tariff behind the same API (TARIFF_RULES_FILE)


@pytest.fixture(scope="module")
def insurers_tariff_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServices]:
    import yaml

    from reference_services.policy.tariff import RULES_FILE

    workdir = tmp_path_factory.mktemp("insurers-tariff")
    rules = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    rules["version"] = "assureur-2027-01"
    rules["products"]["auto"]["formulas"] = rules["products"]["auto"]["formulas"][1:]  # two formulas
    (workdir / "tarif.yml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    with running_services(workdir, f"sqlite:///{workdir / 'oyat.db'}",
                          extra_env={"TARIFF_RULES_FILE": str(workdir / "tarif.yml")}) as running:
        yield running


def test_the_insurers_own_rules_file_prices_behind_the_same_api(insurers_tariff_services, services):
    body = quote(insurers_tariff_services)
    assert body["tariff_version"] == "assureur-2027-01"
    assert [f["code"] for f in body["formulas"]] == ["tiers_etendu", "tous_risques"]
    reference = quote(services)["formulas"][1:]
    assert body["formulas"] == reference  # same figures: only the formulas offered changed


def test_a_broken_rules_file_stops_the_policy_service_at_its_start_with_the_reason(tmp_path):
    import subprocess
    import sys

    from harness.servers import free_port
    from tests.conftest import REPO_ROOT, TEST_CHANNEL_ASSERTION_SECRET

    (tmp_path / "rules.yml").write_text("version: x\nproducts: [", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}",
           "SERVICES_API_TOKEN": "t", "DOCUMENT_LINK_SECRET": "s", "IDENTITY_ASSERTION_SECRET": "i",
           "CHANNEL_ASSERTION_SECRET": TEST_CHANNEL_ASSERTION_SECRET,
           "TARIFF_RULES_FILE": str(tmp_path / "rules.yml")}
    finished = subprocess.run([sys.executable, "-m", "reference_services.cli", "serve", "--service", "policy",
                               "--host", "127.0.0.1", "--port", str(free_port())],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode != 0
    assert f"RulesError: {tmp_path / 'rules.yml'}" in finished.stderr


def test_a_quote_is_emailed_three_times_at_most(mailing_services):
    reference = quote(mailing_services)["reference"]
    for number in range(3):
        response = mailing_services.post(f"/v1/quotes/{reference}/email", json={"email": f"v{number}@example.fr"})
        assert response.status_code == 202
    before = count(mailing_services, "outbox")
    response = mailing_services.post(f"/v1/quotes/{reference}/email", json={"email": "v9@example.fr"})
    assert (response.status_code, response.json()["error"]["fields"]) == (
        422, {"email": "ce devis a déjà été envoyé 3 fois"})
    assert count(mailing_services, "outbox") == before
