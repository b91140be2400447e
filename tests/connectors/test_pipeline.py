"""The channel pipeline: every channel hands its messages to the assistant through it, and
its refusals are told in the domain's words."""

import asyncio
import importlib
import inspect
import pkgutil
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.utils.endpoints import EndpointConfig

import connectors
from connectors import rate_limit
from connectors.apology import ApologizingActionEndpoint
from connectors.guard import CLIENT_SOURCE, MAX_MESSAGE_LENGTH
from connectors.pipeline import REFUSAL_RESPONSES, ChannelPipeline, PipelineChannel, Refusal, refusal_words
from tests.connectors.channel_server import project_domain

CHANNELS = ("rest", "widget", "ivr", "whatsapp", "telegram", "messenger", "audiocodes", "jambonz")


def input_channels():
    """Every input channel class the connectors package defines."""
    found = set()
    for module in pkgutil.iter_modules(connectors.__path__):
        imported = importlib.import_module(f"connectors.{module.name}")
        found |= {cls for _, cls in inspect.getmembers(imported, inspect.isclass)
                  if issubclass(cls, InputChannel) and cls.__module__ == imported.__name__}
    return found - {PipelineChannel}


def test_every_channel_hands_its_messages_through_the_pipeline():
    channels = input_channels()
    assert {channel.name() for channel in channels} == set(CHANNELS)
    for channel in channels:
        # Rasa calls `blueprint`: the pipeline's, which gives the channel's routes no other way in.
        assert issubclass(channel, PipelineChannel) and channel.blueprint is PipelineChannel.blueprint, channel


@pytest.mark.parametrize("code", sorted(REFUSAL_RESPONSES))
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_refusal_is_a_response_of_the_domain_on_every_channel(code, channel):
    refusal = Refusal(code, 2.5, values={"max_megabytes": 10})  # the file refusals' own figure
    words = refusal_words(SimpleNamespace(domain=project_domain()), refusal, channel)
    assert words and "{" not in words


def test_a_refusal_says_its_figures():
    agent = SimpleNamespace(domain=project_domain())
    assert "Patientez 3 secondes avant" in refusal_words(agent, Refusal("too_many_messages", 2.2), "rest")
    assert "Patientez 1 seconde avant" in refusal_words(agent, Refusal("too_many_messages", 0.1), "widget")
    assert f"({MAX_MESSAGE_LENGTH} caractères au plus)" in refusal_words(agent, Refusal("too_long"), "telegram")


def test_the_phone_has_its_own_words_for_too_many_messages():
    agent = SimpleNamespace(domain=project_domain())
    spoken = refusal_words(agent, Refusal("too_many_messages", 3), "ivr")
    assert "redites-moi" in spoken and spoken != refusal_words(agent, Refusal("too_many_messages", 3), "rest")


class Assistant:
    """Records what reaches it; has the action server's endpoint as Rasa's agent does."""

    def __init__(self) -> None:
        self.domain = project_domain()
        self.action_endpoint = EndpointConfig("http://127.0.0.1:9/webhook")
        self.processor = SimpleNamespace(action_endpoint=self.action_endpoint)
        self.received = []

    async def handle(self, message: UserMessage) -> None:
        self.received.append(message)


def receive(pipeline, agent, conversation, text, **kwargs):
    async def run():
        arrival = await pipeline.arrive(conversation)
        return await pipeline.receive(agent, arrival, CollectingOutputChannel(), text, "ip:192.0.2.7", **kwargs)

    return asyncio.run(run())


def test_a_message_reaches_the_assistant_with_the_channels_source_and_an_apology_in_place():
    agent = Assistant()
    pipeline = ChannelPipeline("rest", agent.handle)
    refusal = receive(pipeline, agent, "rest:conversation-of-the-test", "bonjour",
                      client_metadata={"auth_token": "t", "attachments": [{"id": "forged"}], CLIENT_SOURCE: "ivr:+33"},
                      channel_metadata={"channel_phone": "+33612345678"})
    assert refusal is None
    (message,) = agent.received
    assert (message.text, message.input_channel) == ("bonjour", "rest")
    assert message.metadata == {"auth_token": "t", "channel_phone": "+33612345678", CLIENT_SOURCE: "ip:192.0.2.7"}
    for holder in (agent, agent.processor):
        assert isinstance(holder.action_endpoint, ApologizingActionEndpoint)


@pytest.mark.parametrize("text, code", [("  \x00 ", "empty"), ("x" * (MAX_MESSAGE_LENGTH + 1), "too_long")])
def test_empty_or_oversized_text_is_refused_before_the_assistant(text, code):
    agent = Assistant()
    assert receive(ChannelPipeline("whatsapp", agent.handle), agent, "whatsapp:abc", text) == Refusal(code)
    assert agent.received == []


def test_unreadable_client_metadata_is_refused():
    agent = Assistant()
    refusal = receive(ChannelPipeline("widget", agent.handle), agent, "widget:abc", "bonjour",
                      client_metadata="{not json")
    assert refusal == Refusal("metadata") and agent.received == []


def test_a_message_the_channel_composed_is_taken_as_is():
    agent = Assistant()
    pipeline = ChannelPipeline("ivr", agent.handle, shortcuts=False)
    assert receive(pipeline, agent, "ivr:call", "/greet", composed=True) is None
    assert receive(pipeline, agent, "ivr:call", '/inform{"customer_id": "10000001"}') is None
    assert [m.text for m in agent.received] == ["/greet", 'inform{"customer_id": "10000001"}']


def test_a_conversation_over_its_rate_limit_is_refused_with_the_wait(monkeypatch):
    monkeypatch.setattr(rate_limit, "_limiter", rate_limit.RateLimiter(rate_limit.Limit(1, 60),
                                                                       rate_limit.Limit(1000, 60)))
    agent = Assistant()
    pipeline = ChannelPipeline("telegram", agent.handle)
    assert receive(pipeline, agent, "telegram:abc", "un") is None
    refusal = receive(pipeline, agent, "telegram:abc", "deux")
    assert refusal.code == "too_many_messages" and 59 < refusal.wait_seconds <= 60
    assert [m.text for m in agent.received] == ["un"]
