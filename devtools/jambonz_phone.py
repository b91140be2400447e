"""`make phone GATEWAY=jambonz`: the phone simulator's call carried as jambonz carries it.

Posts the webhooks a jambonz feature server posts (docs.jambonz.org: the call webhook,
gather's and dial's action hooks, the call status webhook), signed with
JAMBONZ_WEBHOOK_SECRET as jambonz signs them, and follows the verbs answered (the next
hook is the last gather's, dial's or redirect's). The verbs are shown as the simulator
shows the line's actions.
"""

import json
import re
import time
import uuid
from typing import Any, Dict, List, Optional

import requests

from connectors.jambonz import sign

ACCOUNT_SID = "9351f46a-678c-43f5-b8a6-d4eb58d131af"
OUR_NUMBER = "+33180000000"
# dial's dial_call_status for the simulator's transfer outcomes.
DIAL_STATUS = {"completed": "completed", "failed": "failed", "busy": "busy", "no_answer": "no-answer"}


class JambonzGateway:
    """One call's webhooks; `send` takes the simulator's events and gives back its actions."""

    def __init__(self, url: str, secret: str, caller: Optional[str] = None) -> None:
        self.base_url = url.rstrip("/")
        self.secret = secret
        self.call_sid = str(uuid.uuid4())
        self.caller = caller
        self.hook: Optional[str] = None

    def post(self, path: str, payload: Dict[str, Any]) -> requests.Response:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Jambonz-Signature": sign(body, self.secret, int(time.time()))}
        answer = requests.post(self.base_url + path, data=body, headers=headers, timeout=60)
        if answer.status_code in (401, 403):
            raise RuntimeError("la ligne refuse la signature : relancez « make run » pour qu'il lise .env")
        if answer.status_code not in (200, 204):
            raise RuntimeError(f"{answer.status_code} {answer.text[:300]}")
        return answer

    def payload(self, **more: Any) -> Dict[str, Any]:
        return {"call_sid": self.call_sid, "direction": "inbound", "from": self.caller or "anonymous",
                "to": OUR_NUMBER, "call_status": "in-progress", "account_sid": ACCOUNT_SID, **more}

    def send(self, kind: str, **fields: Any) -> Dict[str, Any]:
        if kind == "start":
            self.caller = fields.get("caller") or self.caller
            return {"actions": self.follow("/webhooks/jambonz/call", self.payload())}
        if kind == "hangup":
            self.post("/webhooks/jambonz/status", self.payload(call_status="completed"))
            return {"actions": []}
        if kind == "utterance":
            result = {"reason": "speechDetected", "speech": {"is_final": True, "language_code": "fr-FR",
                                                             "alternatives": fields["alternatives"]}}
        elif kind == "dtmf":
            result = {"reason": "dtmfDetected", "digits": fields["digits"]}
        elif kind == "no_input":
            result = {"reason": "timeout"}
        else:  # transfer_status
            result = {"dial_call_status": DIAL_STATUS[fields["status"]]}
        return {"actions": self.follow(self.hook or "", self.payload(**result))}

    def follow(self, path: str, payload: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Posts, shows the fillers' redirects as jambonz follows them, returns the actions."""
        verbs = self.post(path, payload).json()
        actions: List[Dict[str, Any]] = []
        while True:
            actions += actions_of(verbs)
            hooks = [verb["actionHook"] for verb in verbs if verb["verb"] in ("gather", "dial", "redirect")]
            self.hook = hooks[-1] if hooks else None
            if not verbs or verbs[-1]["verb"] != "redirect":
                return actions
            verbs = self.post(self.hook, self.payload()).json()


def actions_of(verbs: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The simulator's actions for jambonz verbs."""
    actions: List[Dict[str, Any]] = []
    for verb in verbs:
        if verb["verb"] == "say":
            actions.append({"type": "say", "text": _plain(verb["text"])})
        elif verb["verb"] == "gather":
            if "say" in verb:
                actions.append({"type": "say", "text": _plain(verb["say"]["text"])})
            actions.append({"type": "listen", "timeout_seconds": verb.get("timeout", 8),
                            "dtmf": {"max_digits": verb.get("numDigits") or verb.get("maxDigits")}})
        elif verb["verb"] == "dial":
            actions.append({"type": "transfer", "target": verb["target"][0].get("number", ""),
                            "sip_headers": verb.get("headers", {})})
        elif verb["verb"] == "hangup":
            actions.append({"type": "hangup", "reason": ""})
    return actions


def _plain(ssml: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", ssml)).replace(" .", ".").replace(" ,", ",").strip()
