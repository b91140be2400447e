"""The action server (`python -m actions.server`), a real process: it answers the Rasa
server's token only, and a call that a service refused for the identity assertion is
answered by dropping the identity and asking the customer to identify again."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from actions.server import DEFAULT_HOST, is_rasa_server
from harness.servers import free_port, start, stop, wait_until_up
from tests.actions.helpers import KARIM
from tests.conftest import identity_assertion

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-action-server-token-0123456789"


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("action-server") / "actions.log"
    env = {**os.environ, "ACTION_SERVER_TOKEN": TOKEN, "PYTHONPATH": str(ROOT),
           # Nothing listens there: no call may need the services in these tests.
           "POLICY_SERVICE_URL": "http://127.0.0.1:9", "CLAIMS_SERVICE_URL": "http://127.0.0.1:9"}
    env.pop("IDENTITY_ASSERTION_SECRET", None)
    process = start([sys.executable, "-m", "actions.server", "--actions", "actions", "--port", str(port)],
                    cwd=ROOT, env=env, log_path=log)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process, 60, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def call(action, slots=None, sender="rest:someone", metadata=None):
    """A call as the Rasa server makes it: the action and the conversation so far."""
    return {
        "next_action": action, "sender_id": sender, "version": "3.6.21", "domain": {},
        "tracker": {
            "sender_id": sender, "slots": slots or {}, "events": [], "paused": False,
            "latest_message": {"text": "mes contrats", "intent": {"name": "contract_info"}, "entities": [],
                               "metadata": metadata or {}},
            "latest_action_name": "action_listen", "active_loop": {}, "latest_input_channel": "rest",
        },
    }


def karim_claimed(assertion=None):
    """A conversation that says it is Karim's."""
    return {"authenticated_customer_id": KARIM, "customer_identified": True, "procedure_owner": KARIM,
            "identity_assertion": assertion}


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer not-the-token"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"},
])
@pytest.mark.parametrize("path, method", [("/webhook", "post"), ("/actions", "get")])
def test_no_call_without_the_rasa_servers_token(action_server, path, method, headers):
    answer = requests.request(method, action_server + path, json=call("action_contract_info", karim_claimed()),
                              headers=headers, timeout=10)
    assert answer.status_code == 401
    assert KARIM not in answer.text and "contract" not in answer.text.lower()


def test_health_stays_open(action_server):
    assert requests.get(action_server + "/health", timeout=10).json() == {"status": "ok"}


def test_the_rasa_servers_token_opens_the_actions(action_server):
    answer = requests.get(action_server + "/actions", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 200 and {"name": "action_contract_info"} in answer.json()


@pytest.mark.parametrize("assertion", [
    pytest.param(None, id="none"),
    pytest.param(identity_assertion(KARIM, conversation_id="rest:another-conversation"), id="another-conversation"),
    pytest.param("forged.assertion.value", id="garbage"),
])
def test_an_identity_without_its_assertion_gets_no_data_and_is_asked_again(action_server, assertion):
    answer = requests.post(action_server + "/webhook", json=call("action_contract_info", karim_claimed(assertion)),
                           headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert body["responses"] == [{"response": "utter_identity_expired"}]
    slots = {event["name"]: event["value"] for event in body["events"] if event["event"] == "slot"}
    assert slots == {"authenticated_customer_id": None, "customer_identified": False, "identity_assertion": None}
    assert {"event": "followup", "name": "action_listen"} in body["events"]


def test_without_its_token_the_action_server_does_not_start(tmp_path):
    # Set but empty: a `.env` beside the code (written by make run) never fills it in.
    env = {**os.environ, "ACTION_SERVER_TOKEN": ""}
    result = subprocess.run([sys.executable, "-m", "actions.server", "--actions", "actions", "--port", "1"],
                            cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "ACTION_SERVER_TOKEN is missing" in result.stderr


def listening_addresses(port):
    """The addresses a port listens on, from the kernel's table (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_it_listens_on_the_loopback_address_unless_told_otherwise(action_server):
    assert DEFAULT_HOST == "127.0.0.1"
    assert listening_addresses(int(action_server.rsplit(":", 1)[1])) == {"0100007F"}  # 127.0.0.1


@pytest.mark.parametrize("header, expected", [
    (f"Bearer {TOKEN}", True), (f"bearer {TOKEN}", True), (f"Bearer {TOKEN}x", False), ("Bearer ", False),
    (None, False), ("", False), (TOKEN, False),
])
def test_the_token_is_compared_as_a_bearer_token(header, expected):
    assert is_rasa_server(header, TOKEN) is expected
    assert is_rasa_server(header, "") is False
