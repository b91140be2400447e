"""A Rasa server started as the Procfile starts it, with the phone line as its only channel
(no REST, no widget to hook the set-up on): its logs are masked, and a caller hears the
apology when the action server is down. Starts the real server with the trained model
(about a minute)."""

import json
import os
import sys
import uuid
from pathlib import Path

import pytest
import requests

from harness.servers import free_port, start, stop, wait_until_up
from tests.dialogue.conftest import trained_model  # noqa: F401 (the fixture, shared)

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_TOKEN = "test-ivr-gateway-token-0123456789"
SPOKEN_NUMBER = "06 98 76 54 32"


@pytest.fixture(scope="module")
def phone_only_server(trained_model, tmp_path_factory):  # noqa: F811
    workdir = tmp_path_factory.mktemp("phone-only")
    port = free_port()
    endpoints = workdir / "endpoints.yml"  # an action server nobody listens to
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{free_port()}/webhook"\n')
    credentials = workdir / "credentials.yml"
    credentials.write_text('connectors.ivr.IvrInput:\n  adviser_line: "+33825071122"\n')
    env = {**os.environ, "IVR_GATEWAY_TOKEN": GATEWAY_TOKEN,
           "IVR_DATABASE_URL": f"sqlite:///{workdir / 'ivr.db'}", "ACTION_SERVER_TIMEOUT_SECONDS": "5"}
    log = workdir / "rasa.log"
    process = start([sys.executable, "-m", "bot.rasa_server", "run", "--model", str(trained_model),
                     "--endpoints", str(endpoints), "--credentials", str(credentials), "--port", str(port),
                     "--debug"], ROOT, env, log)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/webhooks/ivr/", process, 300, log)
        yield f"http://127.0.0.1:{port}/webhooks/ivr/events", log
    finally:
        stop(process)


def send(url: str, call_id: str, kind: str, **fields) -> dict:
    answer = requests.post(url, timeout=60, headers={"Authorization": f"Bearer {GATEWAY_TOKEN}"},
                           data=json.dumps({"event_id": str(uuid.uuid4()), "call_id": call_id, "type": kind,
                                            **fields}))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_phone_only_server_apologizes_when_the_action_server_is_down_and_masks_its_logs(phone_only_server):
    url, log = phone_only_server
    call = f"call-{uuid.uuid4().hex}"
    send(url, call, "start", caller="06 12 34 56 78")
    reply = send(url, call, "utterance", final=True, alternatives=[
        {"transcript": f"je voudrais une attestation d'assurance, rappelez-moi au {SPOKEN_NUMBER}", "confidence": 0.9}])
    said = " ".join(action["text"] for action in reply["actions"] if action["type"] == "say")
    # The domain's apology, in its words for the phone (domain/faults.yml).
    assert "je rencontre un problème technique" in said and "Rappelez dans quelques minutes" in said
    assert reply["actions"][-1]["type"] == "listen"
    logged = log.read_text(errors="replace")
    assert "[téléphone]" in logged  # the debug logs tell the message, masked
    assert SPOKEN_NUMBER not in logged and "698765432" not in logged and "612345678" not in logged
