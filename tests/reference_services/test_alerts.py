"""Alerts the customers set, and the reminder job run at a set clock
(`python -m reference_services.cli alerts run --now ...`): each reminder once, with the
notice period and the last day to terminate for a renewal."""
import itertools
import subprocess
import sys

import pytest

from reference_services.policy.models import Contract
from tests.conftest import REPO_ROOT
from tests.reference_services.helpers import KARIM, MARIE, SOPHIE, count, execute, new_customer, sent_messages

_contract_numbers = itertools.count(1)


def customer_with_contract(services, next_due_date: str) -> tuple[dict, str]:
    """A customer of our own with a copy of Marie's car contract, due on `next_due_date`:
    reminders of one test never mix with another's."""
    customer = new_customer(services)
    number = f"AUT-9{next(_contract_numbers):05d}"
    columns = [column.name for column in Contract.__table__.columns]
    copied = ", ".join("?" if name in ("contract_number", "customer_id", "next_due_date") else name
                       for name in columns)
    execute(services, f"INSERT INTO contracts ({', '.join(columns)}) SELECT {copied} FROM contracts"
                      " WHERE contract_number = 'AUT-482913'",
            [{"contract_number": number, "customer_id": customer["customer_id"],
              "next_due_date": next_due_date}[name]
             for name in columns if name in ("contract_number", "customer_id", "next_due_date")])
    return customer, number


def plain(text: str) -> str:
    """Amounts are written with no-break spaces (« 48,90\u00a0€ »)."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def run_job(services, now: str, *more: str) -> str:
    done = subprocess.run([sys.executable, "-m", "reference_services.cli", "alerts", *(more or ("run", "--now", now))],
                          cwd=REPO_ROOT, env=services.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def set_alert(services, customer_id: str, **body) -> dict:
    response = services.post(f"/v1/customers/{customer_id}/alerts", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_an_alert_is_set_listed_and_cancelled(services):
    customer, contract = customer_with_contract(services, "2027-03-01")
    alert = set_alert(services, customer["customer_id"], kind="due_date", contract_number=contract.lower(),
                      days_before=30, channel="email")
    assert (alert["kind"], alert["contract_number"], alert["days_before"], alert["status"]) == (
        "due_date", contract, 30, "active")
    assert alert["next_reminder_on"] == "2027-01-30"
    listed = services.get(f"/v1/customers/{customer['customer_id']}/alerts").json()["alerts"]
    assert [a["alert_id"] for a in listed] == [alert["alert_id"]]

    again = set_alert(services, customer["customer_id"], kind="due_date", contract_number=contract,
                      days_before=15, channel="sms")
    assert again["alert_id"] == alert["alert_id"] and (again["days_before"], again["channel"]) == (15, "sms")

    path = f"/v1/customers/{customer['customer_id']}/alerts/{alert['alert_id']}"
    assert services.request("DELETE", path).json()["status"] == "cancelled"
    assert services.get(f"/v1/customers/{customer['customer_id']}/alerts").json()["alerts"] == []
    assert services.request("DELETE", path).json()["error"]["code"] == "alert_not_found"


def test_another_customers_alert_is_unknown_and_each_call_needs_the_customers_identity(services):
    alert = set_alert(services, MARIE, kind="renewal", contract_number="HAB-120034", days_before=5,
                      channel="email")
    response = services.request("DELETE", f"/v1/customers/{KARIM}/alerts/{alert['alert_id']}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "alert_not_found"
    assert alert["alert_id"] not in [a["alert_id"] for a in services.get(f"/v1/customers/{KARIM}/alerts").json()["alerts"]]
    for method in ("GET", "POST"):
        refused = services.request(method, f"/v1/customers/{MARIE}/alerts", identified_as=None,
                                   json={"kind": "due_date"})
        assert refused.status_code == 401
    forbidden = services.request("DELETE", f"/v1/customers/{MARIE}/alerts/{alert['alert_id']}", identified_as=KARIM)
    assert forbidden.status_code == 403
    assert services.get(f"/v1/customers/{MARIE}/alerts").json()["alerts"][-1]["alert_id"] == alert["alert_id"]
    services.request("DELETE", f"/v1/customers/{MARIE}/alerts/{alert['alert_id']}")


@pytest.mark.parametrize("customer_id, body, status, code", [
    (MARIE, {"kind": "birthday"}, 422, "validation_error"),
    (MARIE, {"kind": "due_date", "days_before": 400}, 422, "validation_error"),
    (MARIE, {"kind": "due_date", "days_before": "trente"}, 422, "validation_error"),
    (MARIE, {"kind": "due_date", "channel": "pigeon"}, 422, "validation_error"),
    (MARIE, {"kind": "due_date", "contract_number": "AUT-559120"}, 404, "contract_not_found"),
    (SOPHIE, {"kind": "renewal", "contract_number": "HAB-099812"}, 409, "contract_terminated"),
])
def test_refused_alerts_write_nothing(services, customer_id, body, status, code):
    before = count(services, "alerts")
    response = services.post(f"/v1/customers/{customer_id}/alerts", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert count(services, "alerts") == before


def test_a_due_date_reminder_is_sent_once_when_the_due_date_is_near(services):
    customer, contract = customer_with_contract(services, "2027-03-01")
    set_alert(services, customer["customer_id"], kind="due_date", contract_number=contract, days_before=30,
              channel="email")
    run_job(services, "2027-01-29T09:00")
    assert sent_messages(services, customer["email"]) == []

    printed = run_job(services, "2027-02-01T08:00")
    assert f"due_date reminder for {contract} (due 2027-03-01) sent by email" in printed
    [mail] = sent_messages(services, customer["email"])
    assert mail["subject"] == f"Rappel : échéance de votre contrat {contract}"
    assert "1er mars 2027" in mail["body"] and "48,90 € par mois" in plain(mail["body"])
    assert "par prélèvement" in mail["body"]

    run_job(services, "2027-02-01T08:15")
    run_job(services, "2027-02-20")
    assert len(sent_messages(services, customer["email"])) == 1


def test_a_renewal_reminder_gives_the_notice_period_and_the_last_day_to_terminate(services):
    customer, contract = customer_with_contract(services, "2027-03-01")
    set_alert(services, customer["customer_id"], kind="renewal", days_before=90, channel="sms")
    run_job(services, "2026-12-15T10:00")
    [sms] = sent_messages(services, customer["phone"])
    assert "se renouvelle automatiquement le 1er mars 2027" in sms["body"]
    assert "préavis est de 2 mois" in sms["body"] and "au plus tard le 1er janvier 2027" in sms["body"]


def test_a_late_renewal_reminder_says_the_notice_period_is_over(services):
    customer, contract = customer_with_contract(services, "2027-03-01")
    set_alert(services, customer["customer_id"], kind="renewal", contract_number=contract, days_before=30,
              channel="email")
    run_job(services, "2027-02-10")
    [mail] = sent_messages(services, customer["email"])
    assert "a pris fin le 1er janvier 2027" in mail["body"] and "loi Hamon" in mail["body"]


def test_an_unpaid_premium_is_told_once_and_a_cancelled_alert_says_nothing(services):
    customer, contract = customer_with_contract(services, "2027-03-01")
    alert = set_alert(services, customer["customer_id"], kind="unpaid_premium", channel="sms")
    assert alert["next_reminder_on"] is None
    quiet_customer, quiet_contract = customer_with_contract(services, "2027-03-01")
    cancelled = set_alert(services, quiet_customer["customer_id"], kind="due_date", days_before=60,
                          channel="email")
    services.request("DELETE", f"/v1/customers/{quiet_customer['customer_id']}/alerts/{cancelled['alert_id']}")

    run_job(services, "", "unpaid", contract, "--amount-cents", "4890", "--due", "2026-12-05")
    run_job(services, "2026-12-04")
    assert sent_messages(services, customer["phone"]) == []
    run_job(services, "2026-12-06")
    run_job(services, "2026-12-07")
    [sms] = sent_messages(services, customer["phone"])
    assert "prime de 48,90 €" in plain(sms["body"]) and "5 décembre 2026" in sms["body"]
    run_job(services, "2027-01-15")
    assert sent_messages(services, quiet_customer["email"]) == []


def test_a_reminder_for_a_messaging_channel_without_consent_goes_by_email(services):
    customer, contract = customer_with_contract(services, "2027-03-01")
    set_alert(services, customer["customer_id"], kind="due_date", contract_number=contract, days_before=10,
              channel="whatsapp")
    printed = run_job(services, "2027-02-25")
    assert f"{contract} (due 2027-03-01) sent by email" in printed
    assert len(sent_messages(services, customer["email"])) == 1


def test_a_reminder_for_a_messaging_channel_with_consent_is_a_notice_there(services):
    from datetime import datetime, timezone

    from tests.reference_services.helpers import db_time, query

    customer, contract = customer_with_contract(services, "2027-03-01")
    execute(services, "INSERT INTO notice_consents (customer_id, channel, address, conversation_id, given_at)"
                      " VALUES (?, 'telegram', '123456789', 'telegram:123456789', ?)",
            (customer["customer_id"], db_time(datetime.now(timezone.utc))))
    set_alert(services, customer["customer_id"], kind="renewal", contract_number=contract, days_before=70,
              channel="telegram")
    assert f"{contract} (due 2027-03-01) sent by notice" in run_job(services, "2026-12-28")
    run_job(services, "2026-12-29")
    [(kind, channel, text)] = query(services, "SELECT kind, channel, text FROM notices WHERE customer_id = ?",
                                    (customer["customer_id"],))
    assert (kind, channel) == ("reminder_renewal", "telegram")
    assert "au plus tard le 1er janvier 2027" in text
    assert sent_messages(services, customer["email"]) == []
