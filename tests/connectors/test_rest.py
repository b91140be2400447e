"""The REST channel served for real, with a scripted assistant behind it: what reaches the
assistant, and which senders may key a conversation."""
import uuid

import pytest
import requests

from connectors.rest import GuardedRestInput, unguessable_sender
from tests.connectors.channel_server import ChannelServer


@pytest.fixture
def rest():
    server = ChannelServer(GuardedRestInput()).start()
    yield server
    server.stop()


def test_the_source_of_a_message_is_set_by_the_channel_not_the_client(rest):
    sender = str(uuid.uuid4())
    body = {"sender": sender, "message": "bonjour", "metadata": {"client_source": "ip:203.0.113.7"}}
    assert requests.post(rest.url, json=body, timeout=10).status_code == 200
    [message] = rest.agent.received
    assert message.metadata["client_source"] == "ip:127.0.0.1"
    assert message.sender_id == f"rest:{sender}"


@pytest.mark.parametrize("sender", [str(uuid.uuid4()), uuid.uuid4().hex, "terminal-5b3d4c8ea1f0"])
def test_random_senders_key_a_conversation(sender):
    assert unguessable_sender(sender)


@pytest.mark.parametrize("sender", [
    "demo", "10000001", "client-1", "aaaaaaaaaaaaaaaaaaaa", "1234123412341234", "abcd" * 40,
    f"{uuid.uuid4()}\n", 12345678901234567890, None,
])
def test_senders_anyone_could_guess_or_no_text_are_refused(sender):
    assert not unguessable_sender(sender)
