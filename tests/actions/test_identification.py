import datetime as dt

import jwt
import pytest

from actions.identification import ActionIdentifyFromToken
from tests.actions.helpers import (
    JWT_SECRET,
    KARIM,
    MARIE,
    espace_client_token,
    identified,
    make_tracker,
    slot_sets,
)


async def identify(domain, dispatcher, token, slots=None, events=None):
    tracker = make_tracker(domain, slots=slots, text="bonjour", metadata={"auth_token": token}, events=events)
    return slot_sets(await ActionIdentifyFromToken().run(dispatcher, tracker, domain))


async def test_a_valid_espace_client_token_identifies_the_customer(domain, dispatcher):
    slots = await identify(domain, dispatcher, espace_client_token(MARIE))
    assert slots["authenticated_customer_id"] == MARIE
    assert slots["customer_identified"] is True
    assert slots.get("session_token_refused", False) is False


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
