"""Two requests in one message: both served, one after the other.

« une attestation, et aussi où en est mon sinistre » is one message but two requests;
parsed whole, the NLU hesitates between them (a fallback) or keeps one. Here:

- `parse_message`: a message whose clauses are joined by a connective (« et aussi »,
  « et puis », « ensuite », « également »…) or are separate sentences has each clause
  parsed by the same NLU model. When two clauses ask for two different requests, the
  message is the first request (its intent, its entities) and carries the second in its
  parse data (`second_request`: intent, entities, the clause's words). Cost: nothing for
  a message without a connective or a sentence boundary; otherwise one NLU parse per
  clause (at most MAX_CLAUSES), a few milliseconds each.
- at the end of each turn, the second request waits in the slot `next_request` until
  the first request's procedure is over (no form active, no question with buttons left
  unanswered: identification, a choice of contract, a read-back to confirm…). It is
  then announced (utter_next_request) and served as the customer's next message, with
  the metadata of the message that came in (identity token, caller's number), so that
  every rule applies to it as if it had been typed: an identification done for the
  first request serves the second as well.

An action may put a message there too (`announce` false): a request typed in the
middle of a procedure is set aside and served at once, as typed.
"""
import logging
import re
import uuid
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from core.labels import REQUESTS, request_title_response
from core.next_request import waiting_requests
from core.slots import NEXT_REQUEST

logger = logging.getLogger(__name__)

SECOND_REQUEST = "second_request"
ANNOUNCEMENT_RESPONSE = "utter_next_request"
# Requests a message may chain: every request of the help menu but the help menu itself.
CHAINABLE_INTENTS = frozenset(REQUESTS) - {"ask_capabilities"}
# The customer stops: nothing more is served.
DROPPING_INTENTS = frozenset({"cancel", "goodbye"})
# Below it, a clause is not trusted to be a request of its own.
MIN_CLAUSE_CONFIDENCE = 0.7
MAX_CLAUSES = 4
MAX_SPLIT_LENGTH = 600
# Requests served after the first in one turn (one resumed after the identification,
# then the second).
MAX_CHAINED = 3

_QUESTION_START = (r"(?:o[uù]|quand|combien|comment|pourquoi|quel(?:le)?s?|est[- ]ce|pouvez|pourriez|"
                   r"je\s+voudrais|je\s+veux|j'aimerais|j['’]ai\s+besoin|il\s+me\s+faut|faut)\b")
# Where a message turns to another request: the end of a sentence, a connective, or
# « et » followed by a question or a request.
_SEPARATOR = re.compile(
    r"[.?!;\n]+\s*"
    r"|\s*,?\s*\b(?:et\s+aussi|et\s+puis|et\s+ensuite|et\s+en\s+plus|et\s+(?:é|e)galement|"
    r"puis|ensuite|(?:é|e)galement|aussi|de\s+plus|en\s+plus|par\s+ailleurs|autre\s+chose)\b[\s,:]*"
    r"|\s*,?\s+et\s+(?=" + _QUESTION_START + r")",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]{2,}")


def clauses(text: str) -> List[Tuple[int, int]]:
    """The spans of the message's clauses (fewer than two: nothing to split)."""
    if not text or text.startswith("/") or len(text) > MAX_SPLIT_LENGTH:
        return []
    spans, start = [], 0
    for separator in _SEPARATOR.finditer(text):
        spans.append((start, separator.start()))
        start = separator.end()
    spans.append((start, len(text)))
    return [(begin, end) for begin, end in spans if _WORD.search(text[begin:end])]


def _confident_request(parse_data: Dict[str, Any]) -> Optional[str]:
    intent = parse_data.get("intent") or {}
    if intent.get("name") in CHAINABLE_INTENTS and (intent.get("confidence") or 0) >= MIN_CLAUSE_CONFIDENCE:
        return intent["name"]
    return None


def with_second_request(whole: Dict[str, Any], parsed_clauses: List[Tuple[Tuple[int, int], Dict[str, Any]]]
                        ) -> Dict[str, Any]:
    """The whole message's parse data, made the first request and carrying the second,
    when two clauses ask for two different requests; else unchanged."""
    requests: List[Tuple[Tuple[int, int], Dict[str, Any], str]] = []
    for span, parse_data in parsed_clauses:
        intent = _confident_request(parse_data)
        if intent is not None and intent not in {seen for _, _, seen in requests}:
            requests.append((span, parse_data, intent))
    if len(requests) < 2:
        return whole
    (_, first, _), ((second_start, second_end), second, second_intent) = requests[0], requests[1]
    outside_second = [entity for entity in whole.get("entities") or []
                      if not second_start <= entity.get("start", -1) < second_end]
    return {
        **whole,
        "intent": first["intent"],
        "intent_ranking": first.get("intent_ranking") or [first["intent"]],
        "entities": outside_second,
        SECOND_REQUEST: {
            "intent": second_intent,
            "confidence": second["intent"].get("confidence"),
            "entities": second.get("entities") or [],
            "text": second.get("text") or "",
        },
    }


def question_waiting(tracker: Any) -> bool:
    """True when the turn ended on something the customer must answer first: a form's
    question, or a question with buttons (an offer, a read-back, « vouliez-vous dire »)."""
    if tracker.active_loop_name or tracker.is_paused():
        return True
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered):
            return bool((event.data or {}).get("buttons"))
    return False


async def _announce(processor: MessageProcessor, output_channel: Any, tracker: Any, intent: str) -> None:
    # What the request is called: a domain response, like the sentence around it.
    named = await processor.nlg.generate(request_title_response(intent), tracker, output_channel.name())
    title = (named or {}).get("text") or ""
    generated = await processor.nlg.generate(
        ANNOUNCEMENT_RESPONSE, tracker, output_channel.name(), request=title[:1].lower() + title[1:])
    if not generated:
        return
    text = generated.get("text")
    data = {key: value for key, value in generated.items() if key != "text"}
    announcement = BotUttered(text, data, {"utter_action": ANNOUNCEMENT_RESPONSE})
    tracker.update(announcement)
    await output_channel.send_response(tracker.sender_id, announcement.message())


def _servable(pending: Any) -> bool:
    """A second request of the customer's, or a message an action set aside (any intent)."""
    if not isinstance(pending, dict) or not isinstance(pending.get("intent"), str):
        return False
    return pending.get("announce") is False or pending["intent"] in CHAINABLE_INTENTS


async def serve_next_request(processor: MessageProcessor, output_channel: Any, tracker: Any) -> bool:
    """Serves the first request waiting in `next_request` when nothing else waits for
    the customer; True when one was served."""
    latest = tracker.latest_message
    parse_data = latest.parse_data if latest is not None else {}
    carried = (parse_data or {}).pop(SECOND_REQUEST, None)
    waiting = waiting_requests(tracker.get_slot(NEXT_REQUEST))
    if isinstance(carried, dict):
        waiting.append(carried)
    if latest is not None and (latest.intent or {}).get("name") in DROPPING_INTENTS:
        waiting = []
    waiting = [request for request in waiting if _servable(request)]
    if (waiting or None) != tracker.get_slot(NEXT_REQUEST):
        tracker.update(SlotSet(NEXT_REQUEST, waiting or None))
    if not waiting:
        return False
    last_action = next((event for event in reversed(tracker.events) if isinstance(event, ActionExecuted)), None)
    if question_waiting(tracker) or last_action is None or last_action.action_name != ACTION_LISTEN_NAME:
        return False
    pending, rest = waiting[0], waiting[1:]
    tracker.update(SlotSet(NEXT_REQUEST, rest or None))
    if pending.get("announce", True):
        await _announce(processor, output_channel, tracker, pending["intent"])
    text = str(pending.get("text") or "")
    confidence = pending.get("confidence") or 1.0
    intent = {"name": pending["intent"], "confidence": confidence}
    entities = [entity for entity in pending.get("entities") or [] if isinstance(entity, dict)]
    tracker.update(UserUttered(
        text, intent, entities, {"text": text, "intent": intent, "entities": entities, "intent_ranking": [intent]},
        input_channel=latest.input_channel if latest is not None else None,
        message_id=uuid.uuid4().hex,
        metadata=latest.metadata if latest is not None else None,
    ), processor.domain)
    logger.debug("serving the request set aside: %s", pending["intent"])
    await processor.run_action_extract_slots(output_channel, tracker)
    await _original_prediction_loop(processor, output_channel, tracker)
    return True


_original_parse_message = MessageProcessor.parse_message
_original_prediction_loop = MessageProcessor._run_prediction_loop


async def parse_message(self: MessageProcessor, message: UserMessage, tracker: Any = None,
                        only_output_properties: bool = True) -> Dict[str, Any]:
    whole = await _original_parse_message(self, message, tracker, only_output_properties)
    spans = clauses(message.text or "")
    if not 2 <= len(spans) <= MAX_CLAUSES:
        return whole
    parsed = []
    for begin, end in spans:
        clause = UserMessage(message.text[begin:end].strip(), sender_id=message.sender_id,
                             input_channel=message.input_channel, metadata=message.metadata)
        parsed.append(((begin, end), await _original_parse_message(self, clause, tracker, only_output_properties)))
    return with_second_request(whole, parsed)


async def run_prediction_loop(self: MessageProcessor, output_channel: Any, tracker: Any) -> None:
    await _original_prediction_loop(self, output_channel, tracker)
    if not self._should_handle_message(tracker):  # paused: an adviser has it, nothing is set aside
        return
    for _ in range(MAX_CHAINED):
        if not await serve_next_request(self, output_channel, tracker):
            break


def serve_two_requests() -> None:
    """Installs both (running it again changes nothing)."""
    MessageProcessor.parse_message = parse_message
    MessageProcessor._run_prediction_loop = run_prediction_loop
