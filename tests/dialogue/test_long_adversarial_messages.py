"""Messages and metadata crafted against the masking patterns, through the REST channel
with the real stack: each is answered and stored masked, as any other message. (A digit
followed by 2,000 spaces held the Rasa server, and every conversation on it, for minutes:
the street-address pattern backtracked in cubic time.)"""

import uuid

import pytest

from connectors.guard import MAX_MESSAGE_LENGTH
from tests.adversarial_text import PERSONAL_DATA

SHAPES = ["spaces after a digit", "unicode spaces", "spaces after a word", "street then spaces",
          "at signs", "jwt starts", "dotted words", "phone numbers", "born"]


@pytest.mark.parametrize("shape", SHAPES)
def test_a_long_adversarial_message_is_answered_and_stored_masked(rasa_stack, shape):
    sender = f"test-{uuid.uuid4()}"
    text = PERSONAL_DATA[shape][: MAX_MESSAGE_LENGTH - 40].rstrip() + " marie.dupont@example.fr"
    # Metadata of the same shape, within what a client may send (connectors.guard).
    assert rasa_stack.say(sender, text, note=PERSONAL_DATA[shape][:1000])
    (stored,) = [event for event in rasa_stack.tracker(sender)["events"] if event["event"] == "user"]
    assert "marie.dupont" not in stored["text"] and stored["text"].endswith("[e-mail]")
