
import jwt
import pytest

from actions.common.identity import identified_customer, message_channel_phone
from actions.identification import RENEW_BEFORE_SECONDS, ActionIdentifyFromToken
from tests.actions.helpers import (
    CONVERSATION,
    JWT_SECRET,
    KARIM,
    MARIE,
    espace_client_token,
    identified,
    make_tracker,
    slot_sets,
)
from tests.conftest import identity_assertion

# The policy service verifies the tokens: the actions call the test services.
pytestmark = pytest.mark.usefixtures("client")
UNKNOWN_CUSTOMER = "10000099"


async def identify(domain, dispatcher, token, slots=None, events=None):
    tracker = make_tracker(domain, slots=slots, text="bonjour", metadata={"auth_token": token}, events=events)
    return slot_sets(await ActionIdentifyFromToken().run(dispatcher, tracker, domain))


async def test_a_valid_espace_client_token_identifies_the_customer(domain, dispatcher):
    slots = await identify(domain, dispatcher, espace_client_token(MARIE))
    assert slots["authenticated_customer_id"] == MARIE
    assert slots["customer_identified"] is True
    assert slots.get("session_token_refused", False) is False


async def test_the_identity_comes_with_the_policy_services_assertion_for_this_conversation(domain, dispatcher):
    slots = await identify(domain, dispatcher, espace_client_token(MARIE))
    tracker = make_tracker(domain, slots=slots)
    identity = identified_customer(tracker)
    assert identity == MARIE and identity.assertion == slots["identity_assertion"]


async def test_a_valid_token_of_a_customer_the_insurer_does_not_know_identifies_nobody(domain, dispatcher):
    slots = await identify(domain, dispatcher, espace_client_token(UNKNOWN_CUSTOMER))
    assert slots["session_customer_unknown"] is True  # the answers say so (domain/identification.yml)
    assert slots.get("session_token_refused", False) is False
    assert slots.get("authenticated_customer_id") is None and slots.get("customer_identified", False) is False


async def test_a_proven_identity_is_not_checked_again_with_every_message(domain, dispatcher, unreachable_services):
    tracker = make_tracker(domain, slots=identified(MARIE), text="merci", metadata={"auth_token": espace_client_token(MARIE)})
    assert await ActionIdentifyFromToken().run(dispatcher, tracker, domain) == []  # no call made


@pytest.mark.parametrize("assertion", [
    pytest.param(lambda: identity_assertion(MARIE, conversation_id=CONVERSATION, minutes=RENEW_BEFORE_SECONDS / 60 - 1),
                 id="near-expiry"),
    pytest.param(lambda: identity_assertion(MARIE, conversation_id="another-conversation"), id="another-conversation"),
    pytest.param(lambda: None, id="none"),
])
async def test_the_token_is_exchanged_again_when_the_assertion_is_not_good_for_long(domain, dispatcher, assertion):
    old = assertion()
    slots = await identify(domain, dispatcher, espace_client_token(MARIE), slots=identified(MARIE, identity_assertion=old))
    assert slots["authenticated_customer_id"] == MARIE and slots["identity_assertion"] not in (None, old)


async def test_a_token_of_another_customer_is_exchanged_even_with_a_fresh_assertion(domain, dispatcher):
    slots = await identify(domain, dispatcher, espace_client_token(KARIM), slots=identified(MARIE))
    assert slots["authenticated_customer_id"] == KARIM


def test_an_assertion_issued_for_another_conversation_proves_nothing_here(domain):
    tracker = make_tracker(domain, slots=identified(MARIE, identity_assertion=identity_assertion(
        MARIE, conversation_id="another-conversation")))
    identity = identified_customer(tracker)
    assert identity == MARIE and identity.assertion is None  # the services are not even called with it


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(espace_client_token(MARIE, minutes=-1), id="expired"),
        pytest.param(espace_client_token(MARIE, secret="someone-else"), id="forged"),
        pytest.param(jwt.encode({"sub": MARIE, "exp": 4102444800}, JWT_SECRET, algorithm="HS512"), id="wrong-algorithm"),
        pytest.param(jwt.encode({"sub": MARIE, "exp": 4102444800}, key=None, algorithm="none"), id="unsigned"),
        pytest.param(jwt.encode({"sub": MARIE}, JWT_SECRET, algorithm="HS256"), id="no-expiry"),
        pytest.param(jwt.encode({"sub": "../admin", "exp": 4102444800}, JWT_SECRET, algorithm="HS256"), id="bad-subject"),
        pytest.param("not a token", id="garbage"),
        pytest.param({"sub": MARIE}, id="not-a-string"),
    ],
)
async def test_an_invalid_token_is_refused_and_the_conversation_stays_anonymous(domain, dispatcher, token):
    slots = await identify(domain, dispatcher, token)
    assert slots.get("authenticated_customer_id") is None
    assert slots.get("customer_identified", False) is False
    assert slots["session_token_refused"] is True  # so the answers can say why


async def test_an_invalid_token_drops_an_earlier_identification(domain, dispatcher):
    slots = await identify(domain, dispatcher, espace_client_token(MARIE, minutes=-1), slots=identified(MARIE))
    assert slots["authenticated_customer_id"] is None
    assert slots["customer_identified"] is False


async def test_a_valid_token_after_a_refused_one_clears_the_refusal(domain, dispatcher):
    slots = await identify(domain, dispatcher, espace_client_token(MARIE), slots={"session_token_refused": True})
    assert slots["session_token_refused"] is False and slots["authenticated_customer_id"] == MARIE


async def test_a_message_without_token_keeps_the_identification(domain, dispatcher):
    tracker = make_tracker(domain, slots=identified(MARIE), text="merci")
    assert await ActionIdentifyFromToken().run(dispatcher, tracker, domain) == []


async def test_another_customer_never_sees_the_previous_customers_declaration(domain, dispatcher):
    slots = await identify(
        domain,
        dispatcher,
        espace_client_token(KARIM),
        slots={**identified(MARIE), "claim_place": "12 rue Ricard, Niort", "claim_contract": "HAB-120034"},
    )
    assert slots["authenticated_customer_id"] == KARIM
    assert slots["claim_place"] is None and slots["claim_contract"] is None
    assert slots["procedure_owner"] == KARIM


async def test_the_same_customer_coming_back_keeps_their_declaration(domain, dispatcher):
    # After a session restart the identity is gone but the declaration stays with its owner.
    slots = await identify(
        domain,
        dispatcher,
        espace_client_token(MARIE),
        slots={"procedure_owner": MARIE, "claim_place": "12 rue Ricard, Niort"},
    )
    assert slots["authenticated_customer_id"] == MARIE
    assert "claim_place" not in slots


def test_a_refused_identity_is_announced_once_per_turn():
    from actions.common.identity import identity_refused_answer

    first = identity_refused_answer({"next_action": "validate_claim_form", "tracker": {"events": [
        {"event": "user", "text": "dans la cuisine"}]}})
    assert first["responses"] == [{"response": "utter_identity_expired"}]
    assert {"event": "followup", "name": "action_listen"} not in first["events"]  # the form goes on
    again = identity_refused_answer({"next_action": "action_ask_claim_contract", "tracker": {"events": [
        {"event": "user", "text": "dans la cuisine"},
        {"event": "bot", "text": "Par sécurité...", "metadata": {"utter_action": "utter_identity_expired"}}]}})
    assert again["responses"] == [] and {"event": "followup", "name": "action_listen"} in again["events"]


@pytest.mark.parametrize("phone, verified", [
    ("+33612345678", "+33612345678"),
    ("+33612345678\n", None),
    (" +33612345678", None),
    ("+３３６１２３４５６７８", None),  # full-width digits are no number a channel verified
    ("+336", None),
])
def test_only_a_whole_e164_number_counts_as_the_channels_verified_phone(domain, phone, verified):
    assert message_channel_phone(make_tracker(domain, metadata={"channel_phone": phone})) == verified
