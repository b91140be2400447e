"""`make phone`: call the running assistant's telephone line from a terminal.

    python -m devtools.phone_simulator [--caller "06 12 34 56 78"] [--url http://localhost:5005] [--gateway jambonz]

It posts to /webhooks/ivr/events exactly what a voice gateway would (docs/ivr-api.md),
authenticated with IVR_GATEWAY_TOKEN (or signed with IVR_SIGNING_SECRET) from `.env`:
- a line of text is what you say (an `utterance`, confidence 0.9; start it with `~`
  to be poorly recognised, confidence 0.2);
- `#1`, `#12031985#`: keys pressed on the keypad (`dtmf`), `#*` repeats the question;
- an empty line: you stay silent (`no_input`);
- Ctrl-D or `/raccrocher`: you hang up.
The assistant's actions are shown as they would be performed: what it says, when it
listens, transfers or hangs up. A transfer is reported back as completed
(`--transfer failed` to try the other outcome).
"""

import argparse
import json
import sys
import time
import uuid
from typing import Any, Dict, List, Optional, TextIO

import requests
from dotenv import load_dotenv

from connectors.ivr_events import SIGNATURE_HEADER, sign
from core.settings import read

MARIE_MOBILE = "06 12 34 56 78"
SPEECH_CONFIDENCE = 0.9
POOR_CONFIDENCE = 0.2


class Gateway:
    """Posts one call's events to the telephone channel."""

    def __init__(self, url: str, token: str, signing_secret: str) -> None:
        self.events_url = f"{url.rstrip('/')}/webhooks/ivr/events"
        self.token, self.signing_secret = token, signing_secret
        self.call_id = f"simulated-{uuid.uuid4()}"

    def send(self, kind: str, **fields: Any) -> Dict[str, Any]:
        body = json.dumps({"event_id": str(uuid.uuid4()), "call_id": self.call_id, "type": kind, **fields}).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        else:
            headers[SIGNATURE_HEADER] = sign(body, self.signing_secret, int(time.time()))
        answer = requests.post(self.events_url, data=body, headers=headers, timeout=60)
        if answer.status_code in (401, 403):
            raise RuntimeError("la ligne refuse le jeton de .env : relancez « make run » pour qu'il le lise")
        if answer.status_code != 200:
            raise RuntimeError(f"{answer.status_code} {answer.text[:300]}")
        return answer.json()


def show(actions: List[Dict[str, Any]], out: TextIO) -> Optional[str]:
    """Prints the actions; returns "transfer" or "hangup" when the call leaves the assistant."""
    for action in actions:
        kind = action["type"]
        if kind == "say":
            print(f"\033[36mOyat\033[0m   {action['text']}", file=out)
        elif kind == "listen":
            keys = action["dtmf"]["max_digits"]
            print(f"       (écoute : parole ou touches, {keys} au plus, {action['timeout_seconds']} s)", file=out)
        elif kind == "transfer":
            reference = action.get("sip_headers", {}).get("X-Oyat-Handoff", "")
            print(f"       (transfert vers le conseiller {action['target']}, référence {reference})", file=out)
            return "transfer"
        elif kind == "hangup":
            print(f"       (l'assistant raccroche : {action.get('reason', '')})", file=out)
            return "hangup"
    return None


def event_for(line: str) -> Dict[str, Any]:
    """The gateway event for what the caller did (a typed line)."""
    line = line.strip()
    if not line:
        return {"kind": "no_input"}
    if line.startswith("#"):
        return {"kind": "dtmf", "digits": line[1:] or "#"}
    confidence = POOR_CONFIDENCE if line.startswith("~") else SPEECH_CONFIDENCE
    return {"kind": "utterance", "final": True,
            "alternatives": [{"transcript": line.lstrip("~").strip(), "confidence": confidence}]}


def call(gateway: Gateway, caller: str, transfer_outcome: str, lines: TextIO, out: TextIO) -> None:
    print(f"Appel de {caller or 'un numéro masqué'} (Entrée seule : silence, #1 : touche 1, Ctrl-D : raccrocher).",
          file=out)
    ended = show(gateway.send("start", caller=caller or None)["actions"], out)
    while ended is None:
        print("\033[33mVous\033[0m   ", end="", file=out, flush=True)
        line = lines.readline()
        if not line or line.strip() == "/raccrocher":
            gateway.send("hangup")
            print("\n(vous raccrochez)", file=out)
            return
        event = event_for(line)
        if event["kind"] == "dtmf" and not all(key in "0123456789*#" for key in event["digits"]):
            print("       (touches possibles : 0 à 9, * et #)", file=out)
            continue
        ended = show(gateway.send(event.pop("kind"), **event)["actions"], out)
        if ended == "transfer":
            print(f"       (la passerelle signale le transfert : {transfer_outcome})", file=out)
            ended = show(gateway.send("transfer_status", status=transfer_outcome)["actions"], out)
            if transfer_outcome == "completed":
                ended = "transfer"
    print("(fin de l'appel)", file=out)


def main(argv: Optional[List[str]] = None) -> int:
    load_dotenv()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:5005", help="the Rasa server")
    parser.add_argument("--caller", default=MARIE_MOBILE, help="the caller's number ('' for a hidden number)")
    parser.add_argument("--transfer", default="completed", choices=["completed", "failed", "busy", "no_answer"],
                        help="what the gateway reports after a transfer")
    parser.add_argument("--gateway", default="ivr", choices=["ivr", "jambonz", "audiocodes"],
                        help="the protocol: ours (/webhooks/ivr/events), jambonz's webhooks or AudioCodes' Bot API")
    args = parser.parse_args(argv)
    gateway = _gateway(args)
    if gateway is None:
        return 2
    try:
        call(gateway, args.caller, args.transfer, sys.stdin, sys.stdout)
    except (requests.RequestException, RuntimeError) as error:
        print(f"\nLa ligne ne répond pas ({error}). L'assistant est-il démarré avec « make run » ?", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stdout)
    return 0


def _gateway(args: argparse.Namespace) -> Any:
    """The gateway of `--gateway` with its credentials from .env; None (said) when they are missing."""
    if args.gateway == "jambonz":
        from devtools.jambonz_phone import JambonzGateway

        secret = read("JAMBONZ_WEBHOOK_SECRET")
        missing = "JAMBONZ_WEBHOOK_SECRET"
        gateway = JambonzGateway(args.url, secret) if secret else None
    elif args.gateway == "audiocodes":
        from devtools.audiocodes_phone import AudiocodesGateway

        token = read("AUDIOCODES_TOKEN")
        missing = "AUDIOCODES_TOKEN"
        gateway = AudiocodesGateway(args.url, token) if token else None
    else:
        token, secret = read("IVR_GATEWAY_TOKEN"), read("IVR_SIGNING_SECRET")
        missing = "IVR_GATEWAY_TOKEN (or IVR_SIGNING_SECRET)"
        gateway = Gateway(args.url, token, secret) if token or secret else None
    if gateway is None:
        print(f"{missing} is not set: add it to .env, as `make run` does.", file=sys.stderr)
    return gateway


if __name__ == "__main__":
    sys.exit(main())
