"""The assistant's messages turned into the ordered actions the voice gateway performs.

- every text is a `say` (plain text and SSML, written for the ear: connectors.speech);
- buttons become a keypad menu: « Tapez 1 pour …, 2 pour … » (domain responses of the
  agent's domain, domain/phone.yml), and their titles are speech hints;
- a custom payload `{"ivr": "transfer", "reference": ...}` (the hand-off on the phone)
  becomes a `transfer` to the advisers' line carrying the hand-off's reference only, in a
  SIP header: the adviser's console finds the call's hand-off (summary, conversation,
  customer's file) by it, and nothing personal travels through the telephone network;
  `{"ivr": "hangup"}` a `hangup`; either ends the reply, what would come after it is not spoken;
- otherwise the reply ends with a `listen` (speech and keypad).
Images and files are not spoken: on the phone, documents are e-mailed by the actions.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from connectors.pipeline import response_words
from connectors.speech import to_speech

CHANNEL = "ivr"
LISTEN_TIMEOUT_SECONDS = 8
MAX_DIGITS_WITHOUT_MENU = 20
# The keypad menu: each choice ({digit}, {title}), then the menu of all ({choices}, the
# choices but the last one, joined by commas; {last}), or of a single one ({last}).
KEYPAD_CHOICE = "utter_ivr_keypad_choice"
KEYPAD_MENU = "utter_ivr_keypad_menu"
KEYPAD_MENU_OF_ONE = "utter_ivr_keypad_menu_of_one"


@dataclass
class VoiceReply:
    actions: List[Dict[str, Any]]
    # Keypad digit → payload, for the buttons offered in this reply.
    menu: Dict[str, str] = field(default_factory=dict)

    @property
    def ends_call(self) -> bool:
        return any(action["type"] in ("transfer", "hangup") for action in self.actions)

    @property
    def prompt(self) -> List[Dict[str, Any]]:
        """The last thing said and the listen after it: what a re-prompt repeats."""
        if not self.actions or self.actions[-1]["type"] != "listen":
            return []
        says = [action for action in self.actions if action["type"] == "say"]
        return says[-1:] + self.actions[-1:]


def say(text: str) -> Dict[str, Any]:
    spoken = to_speech(text)
    return {"type": "say", "text": spoken.text, "ssml": spoken.ssml}


def listen(menu_size: int = 0, hints: Optional[List[str]] = None,
           timeout_seconds: int = LISTEN_TIMEOUT_SECONDS) -> Dict[str, Any]:
    return {
        "type": "listen",
        "input": ["speech", "dtmf"],
        "timeout_seconds": timeout_seconds,
        "dtmf": {"max_digits": len(str(menu_size)) if menu_size else MAX_DIGITS_WITHOUT_MENU, "finish_on_key": "#"},
        "hints": hints or [],
    }


# The SIP header of a transferred call that names its hand-off (TRF-YYYY-NNNNNN).
HANDOFF_SIP_HEADER = "X-Oyat-Handoff"


def transfer(adviser_line: str, reference: Any) -> Dict[str, Any]:
    headers = {HANDOFF_SIP_HEADER: reference} if isinstance(reference, str) and reference else {}
    return {"type": "transfer", "target": adviser_line, "sip_headers": headers}


def hangup(reason: str) -> Dict[str, Any]:
    return {"type": "hangup", "reason": reason}


def menu_words(agent: Any, titles: List[str]) -> str:
    """« Tapez 1 pour « Vol », 2 pour « Incendie » ou 3 pour « Autre ». »: the keypad menu's
    responses in the agent's domain (domain/phone.yml)."""
    choices = [response_words(agent, KEYPAD_CHOICE, CHANNEL, digit=digit, title=title)
               for digit, title in enumerate(titles, start=1)]
    if len(choices) == 1:
        return response_words(agent, KEYPAD_MENU_OF_ONE, CHANNEL, last=choices[0])
    return response_words(agent, KEYPAD_MENU, CHANNEL, choices=", ".join(choices[:-1]), last=choices[-1])


def voice_reply(messages: List[Dict[str, Any]], adviser_line: str, agent: Any,
                listen_timeout_seconds: int = LISTEN_TIMEOUT_SECONDS) -> VoiceReply:
    """The actions for the assistant's `messages` (as Rasa's collecting channel keeps them);
    `agent`, whose domain has the keypad menu's words."""
    actions: List[Dict[str, Any]] = []
    menu: Dict[str, str] = {}
    hints: List[str] = []
    for message in messages:
        spoken = say(message.get("text") or "")
        if spoken["text"]:
            actions.append(spoken)
        buttons = [b for b in message.get("buttons") or [] if b.get("title") and b.get("payload")]
        if buttons:
            titles = [button["title"] for button in buttons]
            actions.append(say(menu_words(agent, titles)))
            menu = {str(digit): button["payload"] for digit, button in enumerate(buttons, start=1)}
            hints = titles
        custom = message.get("custom")
        instruction = custom.get("ivr") if isinstance(custom, dict) else None
        if instruction == "transfer":
            actions.append(transfer(adviser_line, custom.get("reference")))
            return VoiceReply(actions)
        if instruction == "hangup":
            actions.append(hangup("completed"))
            return VoiceReply(actions)
    actions.append(listen(len(menu), hints, listen_timeout_seconds))
    return VoiceReply(actions, menu)
