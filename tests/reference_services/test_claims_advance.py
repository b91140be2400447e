"""The back-office moves a claim from the command line (`python -m reference_services.cli
claims advance`): the claim, its phase history and the customer's notice change together,
and the customer who agreed reads what happened in words written for them."""
from __future__ import annotations

import subprocess
import sys

from tests.reference_services.helpers import count, query
from tests.reference_services.test_notices import consent, customer_with_contract, file_claim


def advance(services, *args):
    return subprocess.run([sys.executable, "-m", "reference_services.cli", "claims", "advance", *args],
                          env=services.env, cwd=services.workdir, capture_output=True, text=True,
                          timeout=60)


def notices_of(services, claim_number):
    return query(services, "SELECT event, text, channel, status FROM notices WHERE claim_number = ? "
                           "ORDER BY id", (claim_number,))


def phases_of(services, claim_number):
    return [row[0] for row in query(
        services, "SELECT e.phase FROM claim_phase_events e JOIN claims c ON c.id = e.claim_id "
                  "WHERE c.claim_number = ? ORDER BY e.at, e.id", (claim_number,))]


def claim_row(services, claim_number):
    (row,) = query(services, "SELECT phase, expert_appointment, amount_paid_cents FROM claims "
                             "WHERE claim_number = ?", (claim_number,))
    return row


def test_setting_then_moving_the_experts_visit_tells_the_customer_each_time(services):
    customer_id, contract, _ = customer_with_contract(services)
    claim_number = file_claim(services, customer_id, contract, channel="whatsapp")
    consent(services, customer_id, "whatsapp", "+33699100001", "whatsapp:+33699100001")

    done = advance(services, claim_number, "--phase", "expertise", "--expert-visit", "2026-12-10T14:00")
    assert done.returncode == 0, done.stderr
    assert f"{claim_number}: phase declaration → expertise" in done.stdout
    assert claim_row(services, claim_number)[0] == "expertise"
    assert phases_of(services, claim_number) == ["declaration", "expertise"]

    moved = advance(services, claim_number, "--expert-visit", "2026-12-11T09:30")
    assert moved.returncode == 0, moved.stderr
    assert notices_of(services, claim_number) == [
        ("expert_visit_set", f"Votre sinistre {claim_number} : la visite de l'expert est fixée au "
                             "jeudi 10 décembre à 14 h.", "whatsapp", "queued"),
        ("expert_visit_moved", f"Votre sinistre {claim_number} : la visite de l'expert est déplacée au "
                               "vendredi 11 décembre à 9 h 30 (au lieu du jeudi 10 décembre à 14 h).",
         "whatsapp", "queued"),
    ]
    assert "notice #" in moved.stdout and "queued on whatsapp" in moved.stdout


def test_the_same_command_twice_tells_the_customer_once(services):
    customer_id, contract, _ = customer_with_contract(services)
    claim_number = file_claim(services, customer_id, contract, channel="telegram")
    consent(services, customer_id, "telegram", "tg-adv-1", "telegram:tg-adv-1")
    for _ in range(2):
        assert advance(services, claim_number, "--phase", "expertise",
                       "--expert-visit", "2026-12-10T14:00").returncode == 0
    again = advance(services, claim_number, "--phase", "expertise", "--expert-visit", "2026-12-10T14:00")
    assert "nothing to change" in again.stdout
    assert len(notices_of(services, claim_number)) == 1
    assert phases_of(services, claim_number) == ["declaration", "expertise"]


def test_the_indemnity_then_the_closing_are_told_with_the_amount_in_euros(services):
    customer_id, contract, _ = customer_with_contract(services)
    claim_number = file_claim(services, customer_id, contract, channel="widget")
    consent(services, customer_id, "widget", f"conv-{claim_number}", f"conv-{claim_number}")
    done = advance(services, claim_number, "--paid", "412", "--closed")
    assert done.returncode == 0, done.stderr
    assert claim_row(services, claim_number)[::2] == ("cloture", 41200)
    assert phases_of(services, claim_number) == ["declaration", "indemnisation", "cloture"]
    (paid, closed) = notices_of(services, claim_number)
    assert paid[0] == "indemnity_paid" and "nous avons versé votre indemnité de 412,00\u00a0€" in paid[1]
    assert closed[:2] == ("closed", f"Votre sinistre {claim_number} est clôturé. Une question ? "
                                    "Écrivez-moi ici ou appelez le 0825 07 11 22.")


def test_a_customer_who_never_agreed_gets_no_notice_but_the_claim_moves(services):
    customer_id, contract, _ = customer_with_contract(services)
    claim_number = file_claim(services, customer_id, contract)
    done = advance(services, claim_number, "--phase", "expertise", "--expert-visit", "2026-12-10T14:00")
    assert done.returncode == 0 and "no notice" in done.stdout
    assert claim_row(services, claim_number)[0] == "expertise"
    assert count(services, "notices", "claim_number = ?", (claim_number,)) == 0


def test_an_unknown_claim_or_a_wrong_value_changes_nothing(services):
    unknown = advance(services, "SIN-2026-999999", "--closed")
    assert unknown.returncode == 1 and "no claim SIN-2026-999999" in unknown.stderr
    customer_id, contract, _ = customer_with_contract(services)
    claim_number = file_claim(services, customer_id, contract)
    for args in (["--phase", "termine"], ["--expert-visit", "demain"], ["--paid", "beaucoup"]):
        refused = advance(services, claim_number, *args)
        assert refused.returncode == 1, args
    assert claim_row(services, claim_number) == ("declaration", None, 0)
