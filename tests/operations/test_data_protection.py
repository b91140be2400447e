"""Data-protection requests: export and erase one customer's data, conversations included."""
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.conversations import ConversationStore
from bot.tracker_store import MaskingSQLTrackerStore
from core.clock import now_utc
from core.db import create_sync_engine
from core.settings import Settings
from operations.privacy import KEPT, PrivacyRequests, UnknownCustomer
from reference_services.claims.models import Claim
from reference_services.cli import init_database
from reference_services.policy.models import (
    CodeBudget,
    Contract,
    Customer,
    GeneratedDocument,
    Handoff,
    IdentificationCounter,
    OneTimeCode,
    OutboxMessage,
)
from tests.reference_services.helpers import KARIM, MARIE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(tmp_path):
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'oyat.db'}",
                                  "SERVICES_API_TOKEN": "token", "DOCUMENT_LINK_SECRET": "secret",
                                  "IDENTITY_ASSERTION_SECRET": "signing"})
    init_database(settings)
    return settings


@pytest.fixture
def session(settings):
    engine = create_sync_engine(settings)
    with Session(engine, future=True) as session:
        yield session
    engine.dispose()


@pytest.fixture
async def conversations_url(tmp_path):
    """Marie's and Karim's conversations, and an anonymous one, stored as Rasa stores them."""
    store = MaskingSQLTrackerStore(domain=Domain.load(str(ROOT / "domain")), dialect="sqlite",
                                   db=str(tmp_path / "conversations.db"))
    for sender, customer_id, text in (("conv-marie", MARIE, "attestation auto"),
                                      ("conv-karim", KARIM, "mon bonus"), ("conv-anon", None, "bonjour")):
        tracker = await store.get_or_create_tracker(sender)
        tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
        if customer_id:
            tracker.update(SlotSet("authenticated_customer_id", customer_id))
        await store.save(tracker)
    return str(store.engine.url)


@pytest.fixture
def requests(session, conversations_url):
    conversations = ConversationStore(conversations_url)
    session.add_all([
        OutboxMessage(channel="sms", recipient="+33612345678", subject=None, status="sent", created_at=now_utc(),
                      body="Oyat Assurance : votre code de vérification est 482913. Il est valable 10 minutes."),
        OutboxMessage(channel="email", recipient="marie.dupont@example.fr", subject="Mot de passe", status="sent",
                      created_at=now_utc(), body="https://connexion.oyat-assurances.fr/reinitialisation?jeton=Sx9_secret"),
        OutboxMessage(channel="sms", recipient="+33723456789", subject=None, status="sent", created_at=now_utc(),
                      body="code 111111"),
        OneTimeCode(check_id="a" * 32, customer_id=MARIE, code_hash="0" * 64, conversation_hash="c" * 64,
                    created_at=now_utc(), expires_at=now_utc(), attempts=0),
        CodeBudget(customer_id=MARIE, requester="*", hour_started_at=now_utc(), codes_this_hour=1,
                   day_started_at=now_utc(), codes_this_day=1),
        Handoff(reference="TRF-2026-000001", customer_id=MARIE, channel="rest", reason="demande du client",
                summary="Derniers messages du client : ...", status="waiting", created_at=now_utc()),
        GeneratedDocument(document_id="b" * 32, customer_id=MARIE, contract_number="AUT-482913",
                          document_type="attestation", kind="standard", reference="ATT-2026-AAAA0001",
                          valid_from=date.today(), valid_to=date.today() + timedelta(days=30),
                          filename="attestation.pdf", content_type="application/pdf", content=b"%PDF",
                          created_at=now_utc()),
    ])
    session.commit()
    yield PrivacyRequests(session, conversations)
    conversations.close()


def rows(session, model, *conditions):
    return session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()


def test_an_export_holds_the_customers_data_and_their_conversations_only(requests):
    export = requests.export(MARIE)

    assert export["customer"]["email"] == "marie.dupont@example.fr"
    assert sorted(c["contract_number"] for c in export["contracts"]) == ["AUT-482913", "HAB-120034"]
    assert [c["claim_number"] for c in export["claims"]] == ["SIN-2026-000731"]
    assert [c["conversation_id"] for c in export["conversations"]] == ["conv-marie"]
    assert any(e.get("text") == "attestation auto" for e in export["conversations"][0]["events"])
    assert len(export["messages_sent"]) == 2 and len(export["attestations"]) == 1
    assert export["identification"]["codes_sent_in_the_last_day"] == 1
    everything = json.dumps(export, ensure_ascii=False)
    assert KARIM not in everything and "karim" not in everything.lower()


def test_an_export_leaves_out_the_codes_and_links_of_the_messages_sent(requests):
    bodies = " ".join(message["body"] for message in requests.export(MARIE)["messages_sent"])
    assert "482913" not in bodies and "Sx9_secret" not in bodies


def test_erasure_deletes_conversations_messages_and_codes_and_keeps_what_the_law_requires(requests, session):
    result = requests.erase(MARIE)

    assert result["erased"] == {"conversations": 1, "conversation_events": result["erased"]["conversation_events"],
                                "messages_sent": 2, "one_time_codes": 1, "identification_code_budgets": 1,
                                "attestations": 1, "handoffs": 1, "notices": 0, "notice_consents": 0}
    assert result["erased"]["conversation_events"] > 0 and result["kept"] == KEPT
    assert requests.conversations.conversations_of(MARIE) == []
    for model, column in ((OneTimeCode, OneTimeCode.customer_id), (Handoff, Handoff.customer_id),
                          (GeneratedDocument, GeneratedDocument.customer_id),
                          (CodeBudget, CodeBudget.customer_id)):
        assert rows(session, model, column == MARIE) == 0
    assert rows(session, OutboxMessage, OutboxMessage.recipient.in_(["+33612345678", "marie.dupont@example.fr"])) == 0
    assert rows(session, Customer, Customer.customer_id == MARIE) == 1
    assert rows(session, Contract, Contract.customer_id == MARIE) == 2
    assert rows(session, Claim, Claim.customer_id == MARIE) == 1


def test_the_claim_notices_and_their_consents_are_exported_and_erased_with_the_customer(requests, session):
    from reference_services.notices.models import Notice, NoticeConsent

    for customer_id, address in ((MARIE, "+33612345678"), (KARIM, "+33723456789")):
        consent = NoticeConsent(customer_id=customer_id, channel="whatsapp", address=address,
                                conversation_id=f"whatsapp:{address}", given_at=now_utc())
        session.add(consent)
        session.flush()
        session.add(Notice(dedup_key=f"claim:{customer_id}:closed:", customer_id=customer_id, consent_id=consent.id,
                           kind="claim_event", event="closed", channel="whatsapp", address=address,
                           conversation_id=consent.conversation_id, text="Votre sinistre est clôturé.",
                           template_parameters="[]", status="delivered", attempts=1, created_at=now_utc()))
    session.commit()
    export = requests.export(MARIE)
    assert [c["address"] for c in export["notice_consents"]] == ["+33612345678"]
    assert [n["text"] for n in export["notices"]] == ["Votre sinistre est clôturé."]
    erased = requests.erase(MARIE)["erased"]
    assert (erased["notices"], erased["notice_consents"]) == (1, 1)
    assert rows(session, NoticeConsent, NoticeConsent.customer_id == MARIE) == 0
    assert rows(session, Notice, Notice.customer_id == KARIM) == 1


def test_erasing_one_customer_leaves_the_others_untouched(requests, session):
    requests.erase(MARIE)
    assert requests.conversations.conversations_of(KARIM) == ["conv-karim"]
    assert rows(session, OutboxMessage, OutboxMessage.recipient == "+33723456789") == 1
    assert requests.export(KARIM)["conversations"][0]["conversation_id"] == "conv-karim"


def test_an_unknown_customer_is_said_so(requests):
    with pytest.raises(UnknownCustomer):
        requests.export("99999999")
    with pytest.raises(UnknownCustomer):
        requests.erase("99999999")


def cli(settings, conversations_url, *args):
    env = {"DATABASE_URL": settings.database_url, "SERVICES_API_TOKEN": "token",
           "DOCUMENT_LINK_SECRET": "secret", "IDENTITY_ASSERTION_SECRET": "signing", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "operations.cli", "privacy", "--conversations-url", conversations_url,
                           *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_command_line_exports_erases_and_purges(requests, settings, conversations_url):
    exported = cli(settings, conversations_url, "export", MARIE)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["conversations"][0]["conversation_id"] == "conv-marie"

    erased = cli(settings, conversations_url, "erase", MARIE)
    assert erased.returncode == 0 and json.loads(erased.stdout)["erased"]["conversations"] == 1

    purged = cli(settings, conversations_url, "purge", "--days", "30")
    assert purged.returncode == 0 and json.loads(purged.stdout)["conversations_deleted"] == 0

    unknown = cli(settings, conversations_url, "export", "99999999")
    assert unknown.returncode == 1 and "99999999" in unknown.stderr


@pytest.mark.parametrize("days", ["0", "-5", "1.5", "trente"])
def test_a_purge_keeping_less_than_a_day_is_refused_and_deletes_nothing(requests, session, settings,
                                                                       conversations_url, days):
    messages = rows(session, OutboxMessage)

    refused = cli(settings, conversations_url, "purge", "--days", days)

    assert refused.returncode == 2 and "--days" in refused.stderr
    exported = cli(settings, conversations_url, "export", MARIE)
    assert json.loads(exported.stdout)["conversations"][0]["conversation_id"] == "conv-marie"
    session.expire_all()
    assert rows(session, OutboxMessage) == messages


def test_the_command_line_reads_the_conversations_of_the_endpoints_the_rasa_server_uses(monkeypatch):
    from operations.cli import build_parser

    monkeypatch.setenv("RASA_ENDPOINTS", "endpoints.production.yml")
    assert build_parser().parse_args(["privacy", "purge"]).endpoints == "endpoints.production.yml"
    monkeypatch.delenv("RASA_ENDPOINTS")
    assert build_parser().parse_args(["privacy", "purge"]).endpoints == "endpoints.yml"


def test_purge_forgets_identification_counters_and_code_budgets_after_a_day(session, conversations_url):
    now, two_days_ago = now_utc(), now_utc() - timedelta(days=2)
    session.add_all([
        IdentificationCounter(scope="source", key_hash="old", failures=2, locks=1, updated_at=two_days_ago),
        IdentificationCounter(scope="source", key_hash="still-locked", failures=0, locks=8, updated_at=two_days_ago,
                              locked_until=now + timedelta(hours=1)),
        IdentificationCounter(scope="conversation", key_hash="recent", failures=1, locks=0, updated_at=now),
        CodeBudget(customer_id=MARIE, requester="*", hour_started_at=two_days_ago, codes_this_hour=3,
                   day_started_at=two_days_ago, codes_this_day=3),
        CodeBudget(customer_id=KARIM, requester="*", hour_started_at=now, codes_this_hour=1,
                   day_started_at=now, codes_this_day=1),
    ])
    session.commit()
    conversations = ConversationStore(conversations_url)
    try:
        purged = PrivacyRequests(session, conversations).purge(90)
    finally:
        conversations.close()
    assert purged["identification_counters_deleted"] == 2
    assert sorted(session.execute(select(IdentificationCounter.key_hash)).scalars()) == ["recent", "still-locked"]
    assert list(session.execute(select(CodeBudget.customer_id)).scalars()) == [KARIM]
