"""The consent to be told here when a claim moves, asked after the filing, and STOP
(actions/notices.py), against the real services."""
import datetime as dt
import uuid

import pytest

from actions.claim_outbox import FILED, PENDING, REFUSED, file_due_claims
from actions.notices import (
    NOTICE_CONSENT_ASKED,
    NOTICE_CONSENT_PENDING,
    ActionNothingToCancel,
    ActionNoticeConsent,
    ActionOfferClaimNotices,
    ActionStopNotifications,
    is_stop_word,
    offer_claim_notices,
)
from core import reply_address
from tests.actions.helpers import CONVERSATION, MARIE, as_identified, identified, make_tracker, responses, slot_sets
from tests.conftest import as_customer, reply_address_assertion

WHATSAPP_NUMBER = "33612345678"


def signed(channel="whatsapp", address=WHATSAPP_NUMBER, conversation=CONVERSATION, minutes=5):
    return reply_address_assertion(channel, address if channel != "widget" else conversation, conversation,
                                   minutes=minutes)


def tracker_on(domain, channel="whatsapp", *, customer=MARIE, signature="default", intent=None, text="",
               **slots):
    """The latest message came on `channel`, with the address it signed (None: none)."""
    metadata = {}
    if signature == "default" and channel in reply_address.NOTICE_CHANNELS:
        signature = signed(channel)
    if signature not in (None, "default"):
        metadata[reply_address.METADATA_KEY] = signature
    tracker = make_tracker(domain, slots={**(identified(customer) if customer else {}), **slots},
                           text=text, intent=intent, metadata=metadata)
    tracker.events[0]["input_channel"] = channel
    return tracker


def consents(services, customer=MARIE):
    answer = services.get(f"/v1/customers/{customer}/notice-consents", headers=as_customer(customer))
    assert answer.status_code == 200, answer.text
    return answer.json()["consents"]


@pytest.fixture
def no_consent(services):
    """Marie starts without any consent."""
    services.post("/v1/notice-consents/withdraw", json={"customer_id": MARIE}, headers=as_customer(MARIE))
    yield


# --- the question ---------------------------------------------------------------------

@pytest.mark.parametrize("channel", ["widget", "whatsapp", "telegram", "messenger"])
async def test_asked_once_on_the_widget_and_the_messaging_apps(client, domain, dispatcher, no_consent, channel):
    events = await offer_claim_notices(dispatcher, tracker_on(domain, channel), as_identified(MARIE))

    assert responses(dispatcher) == ["utter_notices_offer"]
    assert slot_sets(events) == {NOTICE_CONSENT_PENDING: True, NOTICE_CONSENT_ASKED: True}
    assert [b["title"] for b in _offer_buttons(domain)] == ["Oui", "Non"]


def _offer_buttons(domain):
    [variant] = domain["responses"]["utter_notices_offer"]
    assert variant["text"] == ("Voulez-vous que je vous prévienne ici quand votre sinistre avance "
                               "(visite de l'expert, indemnisation) ?")
    return variant["buttons"]


@pytest.mark.parametrize("channel, slots", [
    ("ivr", {}), ("rest", {}), ("whatsapp", {NOTICE_CONSENT_ASKED: True}),
], ids=["the phone line", "the REST API", "asked already in this conversation"])
async def test_not_asked_on_the_phone_nor_rest_nor_twice(client, domain, dispatcher, no_consent, channel, slots):
    events = await offer_claim_notices(dispatcher, tracker_on(domain, channel, **slots), as_identified(MARIE))
    assert responses(dispatcher) == [] and events == []


async def test_not_asked_without_an_address_the_channel_signed(client, domain, dispatcher, no_consent):
    events = await offer_claim_notices(dispatcher, tracker_on(domain, "whatsapp", signature=None),
                                       as_identified(MARIE))
    assert responses(dispatcher) == [] and events == []


async def test_not_asked_again_once_agreed_on_that_channel(client, domain, dispatcher, no_consent, services):
    await ActionNoticeConsent().run(dispatcher, tracker_on(domain, "telegram", intent="affirm"), domain)
    later = make_dispatcher()
    events = await offer_claim_notices(later, tracker_on(domain, "telegram"), as_identified(MARIE))
    assert responses(later) == [] and slot_sets(events) == {NOTICE_CONSENT_ASKED: True}
    # ...but asked on another channel
    elsewhere = make_dispatcher()
    await offer_claim_notices(elsewhere, tracker_on(domain, "widget"), as_identified(MARIE))
    assert responses(elsewhere) == ["utter_notices_offer"]


def make_dispatcher():
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


# --- the answer -----------------------------------------------------------------------

async def test_yes_records_the_consent_with_the_signed_address(client, domain, dispatcher, no_consent, services):
    events = await ActionNoticeConsent().run(
        dispatcher, tracker_on(domain, "whatsapp", intent="affirm", text="oui", **{NOTICE_CONSENT_PENDING: True}),
        domain)

    assert responses(dispatcher) == ["utter_notices_consent_given"]
    assert slot_sets(events) == {NOTICE_CONSENT_PENDING: False}
    assert [c["channel"] for c in consents(services)] == ["whatsapp"]


async def test_no_records_nothing(client, domain, dispatcher, no_consent, services):
    await ActionNoticeConsent().run(dispatcher, tracker_on(domain, "widget", intent="deny", text="non"), domain)
    assert responses(dispatcher) == ["utter_notices_consent_declined"]
    assert consents(services) == []


async def test_a_forged_address_records_nothing(client, domain, dispatcher, no_consent, services):
    forged = reply_address.issue("guessed-" + "x" * 32, "whatsapp", "33700000000", CONVERSATION,
                                 dt.datetime.now(dt.timezone.utc))
    await ActionNoticeConsent().run(dispatcher, tracker_on(domain, "whatsapp", intent="affirm", signature=forged),
                                    domain)
    assert responses(dispatcher) == ["utter_notices_consent_failed"]
    assert consents(services) == []


async def test_yes_with_the_services_down_and_no_claim_waiting_says_so(unreachable_services, domain, dispatcher):
    await ActionNoticeConsent().run(dispatcher, tracker_on(domain, "telegram", intent="affirm"), domain)
    assert responses(dispatcher) == ["utter_notices_consent_failed"]


def water_leak():
    return {
        "contract_number": "HAB-120034", "claim_type": "degat_des_eaux",
        "occurred_on": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
        "place": "cuisine", "circumstances": "fuite sous l'évier", "damage": "parquet gonflé",
        "third_party": None, "witnesses": None, "channel": "whatsapp",
    }


async def test_a_queued_claim_carries_the_consent_recorded_once_it_is_filed(
        domain, dispatcher, claim_outbox, unreachable_services, services, no_consent):
    key = str(uuid.uuid4())
    await claim_outbox.queue(key, as_identified(MARIE), CONVERSATION, water_leak(), [], 1_800_000_000.0)
    offered = make_dispatcher()
    events = await ActionOfferClaimNotices().run(
        offered, tracker_on(domain, "whatsapp", claim_filing_pending=True), domain)
    assert responses(offered) == ["utter_notices_offer"] and slot_sets(events)[NOTICE_CONSENT_PENDING] is True

    # « oui » while every service is down: the consent goes with the waiting claim
    await ActionNoticeConsent().run(
        dispatcher, tracker_on(domain, "whatsapp", intent="affirm", claim_filing_pending=True), domain)
    assert responses(dispatcher) == ["utter_notices_consent_given_queued"]
    assert (await claim_outbox.get(key)).notice_consent

    # the services back, the worker files the claim and records the consent with it
    from core.service_client import ServicesClient

    back = ServicesClient(services.base_url, services.base_url, services.token, timeout_seconds=5, retries=0)
    try:
        assert await file_due_claims(claim_outbox, back, 1_800_000_000.0) == {FILED: 1, PENDING: 0, REFUSED: 0}
    finally:
        await back.close()
    entry = await claim_outbox.get(key)
    assert entry.status == FILED and entry.notice_consent is None  # nothing of it kept here
    assert [c["channel"] for c in consents(services)] == ["whatsapp"]


# --- STOP -------------------------------------------------------------------------------

async def test_stop_withdraws_the_identified_customers_consents(client, domain, dispatcher, no_consent, services):
    await ActionNoticeConsent().run(make_dispatcher(), tracker_on(domain, "widget", intent="affirm"), domain)
    await ActionNoticeConsent().run(make_dispatcher(), tracker_on(domain, "whatsapp", intent="affirm"), domain)
    assert len(consents(services)) == 2

    # said on the phone line, identified: every consent of the customer
    events = await ActionStopNotifications().run(dispatcher, tracker_on(domain, "ivr", intent="stop_notifications"),
                                                 domain)
    assert responses(dispatcher) == ["utter_notices_stopped"]
    assert slot_sets(events) == {NOTICE_CONSENT_PENDING: False}
    assert consents(services) == []


async def test_stop_from_the_address_withdraws_without_identification(client, domain, dispatcher, no_consent,
                                                                      services):
    await ActionNoticeConsent().run(make_dispatcher(), tracker_on(domain, "whatsapp", intent="affirm"), domain)

    # a new conversation on the same number, not identified: a bare « STOP »
    await ActionNothingToCancel().run(
        dispatcher, tracker_on(domain, "whatsapp", customer=None, intent="cancel", text="STOP"), domain)
    assert responses(dispatcher) == ["utter_notices_stopped"]
    assert consents(services) == []


async def test_stop_anonymous_where_nothing_is_signed_says_where_to_say_it(client, domain, dispatcher):
    await ActionStopNotifications().run(dispatcher, tracker_on(domain, "rest", customer=None), domain)
    assert responses(dispatcher) == ["utter_notices_stop_where"]


async def test_stop_with_the_services_down_says_to_try_again(unreachable_services, domain, dispatcher):
    await ActionStopNotifications().run(dispatcher, tracker_on(domain, "telegram"), domain)
    assert responses(dispatcher) == ["utter_notices_stop_failed"]


async def test_another_cancel_with_nothing_in_progress_still_has_nothing_to_cancel(client, domain, dispatcher):
    events = await ActionNothingToCancel().run(
        dispatcher, tracker_on(domain, "whatsapp", intent="cancel", text="laisse tomber"), domain)
    assert responses(dispatcher) == ["utter_nothing_to_cancel"] and events == []


@pytest.mark.parametrize("text, stop", [
    ("STOP", True), ("stop", True), ("Stop !", True), ("stop svp", True), (" STOP. ", True),
    ("arrête", False), ("stop la déclaration", False), ("annuler", False), ("", False),
])
def test_the_opt_out_keyword_alone(text, stop):
    assert is_stop_word(text) is stop
