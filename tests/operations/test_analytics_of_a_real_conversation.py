"""The figures and the messages to review from conversations held with the real Rasa server
and action server (the operated stack of tests/operations/conftest.py): what Rasa really
stores (responses' names, channels, the NLU's parse) is what operations/analytics.py reads."""
import re
import uuid

import pytest

from operations import analytics, training_review
from tests.operations.live_conversations import Conversation, not_understood
from tests.reference_services.helpers import MARIE, SOPHIE


@pytest.fixture(scope="module")
def stored(operated_stack):
    """Three conversations on the REST channel: a claim then a hand-off, an attestation, a
    customer not understood. Their conversations as the analytics read them, the messages to
    review, and the words not understood."""
    stack = operated_stack.rasa
    lost_words = not_understood(stack)
    tag = f"analytics-{uuid.uuid4().hex[:8]}"
    marie, sophie, lost = Conversation(stack, MARIE), Conversation(stack, SOPHIE), Conversation(stack)
    for conversation in (marie, sophie, lost):
        conversation.sender = f"{tag}-{conversation.sender}"
    marie.say("mon pare brise est fissure depuis ce matin")
    marie.say("sur le parking du boulot a Niort")
    marie.say("non aucun")
    assert re.search(r"SIN-\d{4}-\d{6}", marie.say("oui c bon"))
    marie.say("je veux parler à quelqu'un")
    assert re.search(r"TRF-\d{4}-\d{6}", marie.say("oui"))
    assert "http" in sophie.say("il me faut mon attestation décennale")
    lost.say(lost_words)
    url = f"sqlite:///{stack.conversations_db}"
    mine = [c for c in analytics.conversations(analytics.stored_events(url)) if tag in c.sender_id]
    hesitations = training_review.hesitations(analytics.stored_events(url), training_review.fallback_threshold())
    return mine, hesitations, lost_words


def test_a_real_conversation_counts_its_claim_attestation_hand_off_and_fallback(stored):
    mine, _, _ = stored
    assert len(mine) == 3 and {c.channel for c in mine} == {"rest"}
    result = analytics.figures(mine)
    [today] = result.days
    assert (today.conversations, today.handoffs, today.contained) == (3, 1, 2)
    assert today.claims_declared == 1 and today.attestations_issued == 1
    assert today.fallback_messages >= 1
    assert "request_attestation" in dict(result.top_intents)


def test_the_words_not_understood_are_listed_for_review(stored):
    _, hesitations, lost_words = stored
    reasons = {h.text: h.reason for h in hesitations}
    assert reasons.get(lost_words) in ("core_fallback", "nlu_fallback")
