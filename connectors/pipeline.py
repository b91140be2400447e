"""What every channel does with a customer's message, in one place.

A channel parses its platform (a REST body, a socket.io event, a signed webhook, a
call event); everything between that and the assistant is done here, the same way
for every channel, in this order:

1. counted by the rate limits (connectors.rate_limit): the client's address as soon as a
   request arrives (`check_address`), the conversation when its message arrives
   (`arrive`); beyond, refused (`too_many_messages`);
2. the metadata a client sent screened (connectors.guard.screen_metadata): bounded, of
   JSON values, the reserved keys only channels set (`attachments`, the caller's
   number...) dropped;
3. the text screened (connectors.guard.screen_text): empty or oversized, refused;
4. the `/intent` rule: typed `/intent{...}` is read as plain text unless it is a payload
   the assistant offered in its last answer (never on the phone: nothing said is a payload);
5. handed to the assistant with its source (`client_source`) and, on the widget and the
   messaging apps, the address notices may reach the customer at, signed
   (`channel_reply_address`, connectors.reply_addresses), the action server's
   endpoint answering with an apology when it fails (connectors.apology), wrapped again
   for each message so that a model loaded later apologizes too.

A channel gets the pipeline, never Rasa's handler (PipelineChannel.blueprint), so no
channel can hand a message on without these steps. A refusal has a code; the customer
gets the domain response REFUSAL_RESPONSES names for it (domain/channels.yml, the
channel's own variant where there is one), rendered from the loaded model's domain.
"""

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, Set, Text, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from sanic import Blueprint

from connectors.apology import answer_when_actions_fail
from connectors.guard import (
    CLIENT_SOURCE,
    MAX_MESSAGE_LENGTH,
    UnreadableJson,
    offered_payloads,
    read_json,
    screen_metadata,
    screen_text,
    without_shortcut,
)
from connectors.rate_limit import check_rate, rate_limiter
from connectors.reply_addresses import METADATA_KEY as REPLY_ADDRESS
from connectors.reply_addresses import signed_reply_address
from core.logs import reset_request_id, set_request_id
from core.metrics import TURNS, channel_label

logger = logging.getLogger(__name__)

# Every refusal a channel answers with words, and the domain response saying it.
REFUSAL_RESPONSES = {
    "too_many_messages": "utter_channel_too_many_messages",
    "empty": "utter_channel_empty_message",
    "too_long": "utter_channel_message_too_long",
    "metadata": "utter_channel_unreadable_message",
    "no_session": "utter_channel_no_session",
    "no_file": "utter_channel_no_file",
    "not_multipart": "utter_channel_not_multipart",
    "file_not_received": "utter_channel_file_not_received",
    # Files a customer sends (connectors.attachments.file_refusal).
    "file_empty": "utter_channel_file_empty",
    "file_too_large": "utter_channel_file_too_large",
    "file_unsupported_type": "utter_channel_file_unsupported_type",
    "file_not_taken": "utter_channel_file_not_taken",
    "files_unavailable": "utter_channel_files_unavailable",
    "too_many_files": "utter_channel_too_many_files",
}
# Where else a customer may put a file, said inside the file refusals ({secure_messaging}).
SECURE_MESSAGING_RESPONSE = "utter_channel_secure_messaging"

Handler = Callable[[UserMessage], Awaitable[Any]]


@dataclass(frozen=True)
class Refusal:
    """Why a message is not handed to the assistant: a key of REFUSAL_RESPONSES, and for
    `too_many_messages` the seconds to wait; `values`, the response's other placeholders
    (a file's size limit, the wait for more files)."""

    code: str
    wait_seconds: Optional[float] = None
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Arrival:
    """A conversation's message counted by the rate limit when it arrived (ChannelPipeline.arrive)."""

    conversation: str
    refusal: Optional[Refusal] = None


def seconds_label(wait_seconds: float) -> str:
    """`wait_seconds` as the customer reads it: « 1 seconde », « 3 secondes »."""
    seconds = max(1, math.ceil(wait_seconds))
    return f"{seconds} seconde{'s' if seconds > 1 else ''}"


def refusal_words(agent: Any, refusal: Refusal, channel: Text) -> Text:
    """What the customer is told: the refusal's response in the agent's domain, the
    channel's variant when it has one."""
    values = {"max_length": MAX_MESSAGE_LENGTH,
              "wait": seconds_label(refusal.wait_seconds or 0),
              "secure_messaging": response_words(agent, SECURE_MESSAGING_RESPONSE, channel),
              **refusal.values}
    return response_words(agent, REFUSAL_RESPONSES[refusal.code], channel, **values)


def response_words(agent: Any, response: Text, channel: Text, **values: Any) -> Text:
    """A response of the agent's domain as the channel says it (its variant when it has
    one), its placeholders filled with `values`; "" when the domain lacks it."""
    responses = agent.domain.responses if getattr(agent, "domain", None) is not None else {}
    generated = TemplatedNaturalLanguageGenerator(responses).generate_from_slots(response, {}, channel, **values)
    if not generated or not generated.get("text"):
        logger.error("the domain has no text for %s: the model predates domain/channels.yml", response)
        return ""
    return generated["text"]


async def offered_payloads_of(agent: Any, conversation: Text) -> Set[Text]:
    """The payloads of the buttons of the assistant's last answer in a conversation."""
    store = getattr(agent, "tracker_store", None)
    tracker = await store.retrieve(conversation) if store is not None else None
    return offered_payloads(tracker.events if tracker else [])


class ChannelPipeline:
    """One channel's way to the assistant (its messages' `input_channel` is `channel`)."""

    def __init__(self, channel: Text, on_new_message: Handler, shortcuts: bool = True) -> None:
        rate_limiter()  # a bad RATE_LIMIT_* setting stops the server now
        self.channel = channel
        self.shortcuts = shortcuts
        self._on_new_message = on_new_message

    async def check_address(self, address: Optional[Text]) -> Optional[Refusal]:
        """Counts a request from a client's address (before its body is even read)."""
        return _too_many(await check_rate(ip=address))

    async def arrive(self, conversation: Text, address: Optional[Text] = None) -> Arrival:
        """Counts a conversation's message (and its address's, when given) as it arrives."""
        return Arrival(conversation, _too_many(await check_rate(ip=address, sender=conversation)))

    @staticmethod
    def client_metadata(raw: Any) -> Tuple[Dict[Text, Any], Optional[Refusal]]:
        """The metadata a client sent (an object, or JSON text as some widgets send it),
        screened: its reserved keys dropped; or the refusal when it is not acceptable."""
        if isinstance(raw, str):
            try:
                raw = read_json(raw)
            except UnreadableJson:
                return {}, Refusal("metadata")
        screened = screen_metadata(raw)
        return screened.metadata, Refusal("metadata") if screened.problem else None

    async def receive(
        self,
        agent: Any,
        arrival: Arrival,
        output: OutputChannel,
        text: Any,
        source: Text,
        client_metadata: Any = None,
        channel_metadata: Optional[Dict[Text, Any]] = None,
        composed: bool = False,
    ) -> Optional[Refusal]:
        """Hands a message to the assistant, or says why not.

        `text` is what the customer typed, said or pressed; `composed` marks a message the
        channel itself wrote (a received file, a call starting, a keypad choice among the
        buttons offered), whose text is taken as is. `client_metadata` is what the client
        sent along (screened); `channel_metadata` what the channel itself knows (a file
        stored, the caller's verified number), kept as is; `source` is the message's
        connectors.guard.CLIENT_SOURCE."""
        if arrival.refusal is not None:
            return arrival.refusal
        metadata, refusal = self.client_metadata(client_metadata)
        if refusal is not None:
            return refusal
        if not composed:
            screened = screen_text(text)
            if screened.refusal:
                return Refusal(screened.refusal)
            text = await self._without_shortcut(agent, arrival.conversation, screened.text)
        metadata = {**metadata, **(channel_metadata or {}), CLIENT_SOURCE: source}
        signed_address = await signed_reply_address(self.channel, arrival.conversation)
        if signed_address:  # where notices may reach this customer (core/reply_address.py)
            metadata[REPLY_ADDRESS] = signed_address
        if agent is not None:
            answer_when_actions_fail(agent)  # again after a model reload
        TURNS.labels(channel_label(self.channel)).inc()
        turn = set_request_id()  # the turn's correlation id, sent on to the actions and services
        try:
            await self._on_new_message(UserMessage(
                text, output, arrival.conversation, input_channel=self.channel, metadata=metadata))
        finally:
            reset_request_id(turn)
        return None

    def words(self, agent: Any, refusal: Refusal) -> Text:
        """The refusal's words on this channel."""
        return refusal_words(agent, refusal, self.channel)

    async def _without_shortcut(self, agent: Any, conversation: Text, text: Text) -> Text:
        if not text.startswith("/"):
            return text
        offered = await offered_payloads_of(agent, conversation) if self.shortcuts else set()
        return without_shortcut(text, offered)


def _too_many(wait_seconds: Optional[float]) -> Optional[Refusal]:
    return None if wait_seconds is None else Refusal("too_many_messages", wait_seconds)


class PipelineChannel(InputChannel):
    """An input channel whose routes get the pipeline, never Rasa's handler: every message
    it hands on goes through the same steps. Subclasses define `routes`, not `blueprint`.
    `shortcuts` False: the `/intent` rule never lets a payload through (the phone)."""

    shortcuts = True
    # The channel its messages come from (their `input_channel`, the responses' variant): by
    # default its own name; a voice gateway's protocol speaks for the telephone line (`ivr`).
    pipeline_channel: Optional[Text] = None

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        handler = self.around_assistant(on_new_message)
        return self.routes(ChannelPipeline(self.pipeline_channel or self.name(), handler, shortcuts=self.shortcuts))

    def around_assistant(self, on_new_message: Handler) -> Handler:
        """What the channel does around the assistant's handling of a message that went
        through the pipeline (by default nothing: the handler itself)."""
        return on_new_message

    def routes(self, pipeline: ChannelPipeline) -> Blueprint:
        raise NotImplementedError("a channel defines its routes")
