"""The assistant's messages turned into the ordered actions the voice gateway performs.

- every text is a `say` (plain text and SSML, written for the ear: connectors.speech);
- buttons become a keypad menu: « Tapez 1 pour …, 2 pour … », and their titles are
  speech hints;
- a custom payload `{"ivr": "transfer", ...}` (the hand-off on the phone) becomes a
  `transfer` to the advisers' line with the context of the call, `{"ivr": "hangup"}` a
  `hangup`; either ends the reply, what would come after it is not spoken;
- otherwise the reply ends with a `listen` (speech and keypad).
Images and files are not spoken: on the phone, documents are e-mailed by the actions.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from connectors.speech import to_speech

LISTEN_TIMEOUT_SECONDS = 8
MAX_DIGITS_WITHOUT_MENU = 20


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


def hangup(reason: str) -> Dict[str, Any]:
    return {"type": "hangup", "reason": reason}


def menu_words(titles: List[str]) -> str:
    """« Tapez 1 pour « Vol », 2 pour « Incendie » ou 3 pour « Autre ». »"""
    choices = [f"{digit} pour « {title} »" for digit, title in enumerate(titles, start=1)]
    if len(choices) > 1:
        choices = [", ".join(choices[:-1]) + " ou " + choices[-1]]
    return f"Tapez {choices[0]}."


def voice_reply(messages: List[Dict[str, Any]], adviser_line: str,
                listen_timeout_seconds: int = LISTEN_TIMEOUT_SECONDS) -> VoiceReply:
    """The actions for the assistant's `messages` (as Rasa's collecting channel keeps them)."""
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
            actions.append(say(menu_words(titles)))
            menu = {str(digit): button["payload"] for digit, button in enumerate(buttons, start=1)}
            hints = titles
        custom = message.get("custom")
        instruction = custom.get("ivr") if isinstance(custom, dict) else None
        if instruction == "transfer":
            context = {key: value for key, value in custom.items() if key != "ivr"}
            actions.append({"type": "transfer", "target": adviser_line, "context": context})
            return VoiceReply(actions)
        if instruction == "hangup":
            actions.append(hangup("completed"))
            return VoiceReply(actions)
    actions.append(listen(len(menu), hints, listen_timeout_seconds))
    return VoiceReply(actions, menu)
