"""jambonz as the tests play it: webhooks shaped and signed as jambonz sends them
(docs.jambonz.org webhooks; the signature of jambonz-feature-server's base-requestor:
`Jambonz-Signature: t=<unix>,v1=<HMAC-SHA256 of "<t>.<JSON body>">`), and every verb
array answered checked by the vendor's own package, @jambonz/verb-specifications
(tests/connectors/jambonz_validate.js, run by node from node_modules)."""

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests

from connectors.jambonz import sign

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_SID = "9351f46a-678c-43f5-b8a6-d4eb58d131af"
APPLICATION_SID = "0dddaabf-0a30-43e3-84e8-426873b1a78b"
OUR_NUMBER = "+33180000000"


class VerbValidator:
    """One node process validating verb arrays with @jambonz/verb-specifications."""

    def __init__(self) -> None:
        if not (ROOT / "node_modules" / "@jambonz" / "verb-specifications").is_dir():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)
        self._node = subprocess.Popen(["node", str(ROOT / "tests" / "connectors" / "jambonz_validate.js")],
                                      cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._lock = threading.Lock()

    def check(self, verbs: Any) -> None:
        """Fails unless `verbs` is a verb array valid for jambonz, and as we mean it."""
        with self._lock:
            self._node.stdin.write(json.dumps(verbs) + "\n")
            self._node.stdin.flush()
            verdict = json.loads(self._node.stdout.readline())
        assert verdict["ok"], f"{verdict['error']}: {json.dumps(verbs, ensure_ascii=False)}"
        for verb in verbs:  # what the package does not check
            for hook in (verb.get("actionHook"),):
                assert hook is None or hook.startswith("/"), verb
            if verb["verb"] == "gather":
                assert set(verb["input"]) <= {"speech", "digits"}, verb
            if verb["verb"] == "say":
                assert verb["text"], verb

    def close(self) -> None:
        self._node.stdin.close()
        self._node.wait(timeout=10)


def call_payload(call_sid: str, caller: Optional[str], **more: Any) -> Dict[str, Any]:
    """The call's attributes jambonz sends with every webhook (its « call.json »)."""
    return {
        "call_sid": call_sid, "direction": "inbound", "from": caller or "anonymous", "to": OUR_NUMBER,
        "call_id": f"{call_sid[:8]}-2776-123d-a6a1-02c1ac3bd8f3", "sip_status": 200, "sip_reason": "OK",
        "call_status": "in-progress", "account_sid": ACCOUNT_SID, "application_sid": APPLICATION_SID,
        "caller_name": "", "trace_id": "6789ce9ca1076b36002cc78d5cc5c9fb", **more,
    }


def speech(*alternatives: Any) -> Dict[str, Any]:
    """gather's actionHook payload for speech: (transcript, confidence) pairs."""
    return {"reason": "speechDetected", "speech": {
        "is_final": True, "language_code": "fr-FR",
        "alternatives": [{"transcript": text, "confidence": confidence} for text, confidence in alternatives]}}


def digits(pressed: str) -> Dict[str, Any]:
    return {"reason": "dtmfDetected", "digits": pressed}


TIMEOUT = {"reason": "timeout"}


class Jambonz:
    """Posts to the Rasa server's jambonz webhooks as a jambonz feature server does, and
    follows the verbs it is answered: the next action hook is the last gather's or dial's."""

    def __init__(self, base_url: str, secret: str, validator: VerbValidator,
                 timings: Optional[List[float]] = None) -> None:
        self.base_url = base_url.rstrip("/")  # http://host:port
        self.secret = secret
        self.validator = validator
        self.timings = timings if timings is not None else []  # seconds each answer took

    def post(self, path: str, payload: Dict[str, Any], secret: Optional[str] = None,
             timestamp: Optional[int] = None, header: Optional[str] = None) -> requests.Response:
        body = json.dumps(payload).encode()  # JSON.stringify: what jambonz signs and sends
        signature = header if header is not None else sign(
            body, self.secret if secret is None else secret, int(time.time()) if timestamp is None else timestamp)
        headers = {"Content-Type": "application/json"}
        if signature:
            headers["Jambonz-Signature"] = signature
        started = time.monotonic()
        answer = requests.post(self.base_url + path, data=body, headers=headers, timeout=30)
        self.timings.append(time.monotonic() - started)
        return answer

    def verbs(self, path: str, payload: Dict[str, Any]) -> List[Dict[str, Any]]:
        answer = self.post(path, payload)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"].startswith("application/json")
        verbs = answer.json()
        self.validator.check(verbs)
        return verbs


class Call:
    """One call on jambonz: its webhooks, posted where the last verbs say."""

    def __init__(self, jambonz: Jambonz, call_sid: str, caller: Optional[str]) -> None:
        self.jambonz, self.call_sid, self.caller = jambonz, call_sid, caller
        self.last: List[Dict[str, Any]] = []

    def payload(self, **more: Any) -> Dict[str, Any]:
        return call_payload(self.call_sid, self.caller, **more)

    def start(self) -> List[Dict[str, Any]]:
        self.last = self.jambonz.verbs("/webhooks/jambonz/call", self.payload())
        return self.last

    def next_hook(self) -> str:
        hooks = [verb["actionHook"] for verb in self.last if verb["verb"] in ("gather", "dial", "redirect")]
        assert hooks, f"no hook to follow in {self.last}"
        return hooks[-1]

    def hook(self, result: Dict[str, Any]) -> List[Dict[str, Any]]:
        """What the last gather (or dial) collected, posted to its actionHook."""
        self.last = self.jambonz.verbs(self.next_hook(), self.payload(**result))
        return self.last

    def say(self, text: str, confidence: float = 0.93) -> List[Dict[str, Any]]:
        return self.hook(speech((text, confidence)))

    def press(self, keys: str) -> List[Dict[str, Any]]:
        return self.hook(digits(keys))

    def silence(self) -> List[Dict[str, Any]]:
        return self.hook(TIMEOUT)

    def status(self, call_status: str) -> requests.Response:
        return self.jambonz.post("/webhooks/jambonz/status", self.payload(call_status=call_status))


def spoken(verbs: List[Dict[str, Any]]) -> str:
    """Everything the caller hears, say verbs and gather prompts, as SSML."""
    texts = [verb["text"] for verb in verbs if verb["verb"] == "say"]
    texts += [verb["say"]["text"] for verb in verbs if verb["verb"] == "gather" and "say" in verb]
    return " ".join(texts)


def kinds(verbs: List[Dict[str, Any]]) -> List[str]:
    return [verb["verb"] for verb in verbs]
