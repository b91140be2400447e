"""`make phone GATEWAY=audiocodes`: the phone simulator's call carried as AudioCodes
VoiceAI Connect carries it (AC Bot API, HTTP mode).

Posts what VoiceAI Connect posts (the create request to the bot URL, then activities,
and disconnect, to the URLs it answered, resolved against the bot URL), with
AUDIOCODES_TOKEN as its bearer token, and shows the activities answered as the simulator
shows the line's actions.
"""

import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List
from urllib.parse import urljoin

import requests

# transferStatus value for the simulator's transfer outcomes.
TRANSFER_STATUS = {"completed": {"status": "answered"}, "failed": {"status": "failed", "reasonCode": "error"},
                   "busy": {"status": "failed", "reasonCode": "busy"},
                   "no_answer": {"status": "failed", "reasonCode": "no-answer"}}


class AudiocodesGateway:
    """One conversation; `send` takes the simulator's events and gives back its actions."""

    def __init__(self, url: str, token: str) -> None:
        self.bot_url = f"{url.rstrip('/')}/webhooks/audiocodes/webhook"
        self.token = token
        self.conversation = str(uuid.uuid4())
        self.urls: Dict[str, str] = {}

    def post(self, url: str, body: Dict[str, Any]) -> Dict[str, Any]:
        answer = requests.post(url, json=body, headers={"Authorization": f"Bearer {self.token}"}, timeout=60)
        if answer.status_code in (401, 403):
            raise RuntimeError("la ligne refuse le jeton de .env : relancez « make run » pour qu'il le lise")
        if answer.status_code != 200:
            raise RuntimeError(f"{answer.status_code} {answer.text[:300]}")
        return answer.json()

    def send(self, kind: str, **fields: Any) -> Dict[str, Any]:
        if kind == "start":
            created = self.post(self.bot_url, {"conversation": self.conversation, "id": str(uuid.uuid4()),
                                               "timestamp": _now()})
            self.urls = {name: urljoin(self.bot_url, created[name])
                         for name in ("activitiesURL", "refreshURL", "disconnectURL")}
            activity = _activity("event", name="start", parameters={"caller": fields.get("caller"),
                                                                    "callee": "0180000000"})
        elif kind == "hangup":
            self.post(self.urls["disconnectURL"], {"conversation": self.conversation, "reason": "Client Side",
                                                   "reasonCode": "client-disconnected"})
            return {"actions": []}
        elif kind == "utterance":
            best = fields["alternatives"][0]
            activity = _activity("message", text=best["transcript"], parameters={"confidence": best["confidence"]})
        elif kind == "dtmf":
            activity = _activity("event", name="DTMF", value=fields["digits"])
        elif kind == "no_input":
            activity = _activity("event", name="noUserInput", value=1)
        else:  # transfer_status
            activity = _activity("event", name="transferStatus", value=TRANSFER_STATUS[fields["status"]])
        answered = self.post(self.urls["activitiesURL"], {"conversation": self.conversation, "activities": [activity]})
        return {"actions": actions_of(answered["activities"])}


def actions_of(activities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The simulator's actions for VoiceAI Connect activities."""
    actions: List[Dict[str, Any]] = []
    for activity in activities:
        params = activity.get("activityParams") or {}
        if activity["type"] == "message":
            actions.append({"type": "say", "text": activity["text"]})
            dtmf = activity.get("sessionParams") or {}
            if params.get("bargeIn"):  # the last message before the caller's turn
                actions.append({"type": "listen", "timeout_seconds": 8,
                                "dtmf": {"max_digits": dtmf.get("dtmfCollectMaxDigits")}})
        elif activity.get("name") == "transfer":
            headers = {h["name"]: h["value"] for h in params.get("transferSipHeaders", [])}
            actions.append({"type": "transfer", "target": params["transferTarget"], "sip_headers": headers})
        elif activity.get("name") == "hangup":
            actions.append({"type": "hangup", "reason": params.get("hangupReason", "")})
    return actions


def _activity(kind: str, **fields: Any) -> Dict[str, Any]:
    return {"id": str(uuid.uuid4()), "timestamp": _now(), "type": kind, "language": "fr-FR", **fields}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
