"""LOG_FORMAT=json: each process writes one JSON object per line, personal data masked as in
plain logs, and the lines of one customer's turn carry one correlation id in the Rasa
server, the action server and the services (sent along as X-Request-Id)."""
import time
import uuid
from pathlib import Path

from core.logs import JsonLogFormatter, json_lines, reset_request_id, set_request_id
from devtools.espace_client import issue_session_token

SOPHIE = "10000003"
PHONE_TYPED = "0698765432"


def tail_after(path: Path, offset: int) -> str:
    return path.read_bytes()[offset:].decode("utf-8", errors="replace")


def settled_tail(path: Path, offset: int) -> str:
    """What the process wrote since `offset`, once it stopped writing (its last line of the turn
    may follow the answer by a moment)."""
    previous = None
    for _ in range(50):
        current = tail_after(path, offset)
        if current == previous:
            return current
        previous = current
        time.sleep(0.2)
    return previous


def test_one_turn_has_one_id_across_the_rasa_server_the_action_server_and_the_services(operated_stack):
    logs = {"rasa": operated_stack.rasa_log, "actions": operated_stack.actions_log,
            "services": operated_stack.services.log_path}
    offsets = {name: path.stat().st_size for name, path in logs.items()}
    sender = f"logs-{uuid.uuid4()}"
    token = issue_session_token(SOPHIE, operated_stack.rasa.jwt_secret)
    answer = operated_stack.rasa.say(sender, f"il me faut mon attestation décennale, mon numero est le {PHONE_TYPED}",
                                     auth_token=token)
    assert any("http" in message.get("text", "") for message in answer), answer

    turn = {name: settled_tail(path, offsets[name]) for name, path in logs.items()}
    lines = {name: json_lines(text) for name, text in turn.items()}
    for name, text in turn.items():
        written = [line for line in text.splitlines() if line.strip()]
        assert written and len(lines[name]) == len(written), f"{name}: a line of the turn is not JSON"
        assert PHONE_TYPED not in text and token not in text

    ids = {name: {line["request_id"] for line in objects if "request_id" in line} for name, objects in lines.items()}
    assert len(ids["rasa"]) == 1, ids
    [request_id] = ids["rasa"]
    assert ids["actions"] == {request_id} and ids["services"] == {request_id}, ids
    # Every line the turn made carries it: the Rasa server's processing, each action, each service call.
    assert all(line.get("request_id") == request_id for line in lines["rasa"] if line["logger"].startswith("rasa.core"))
    assert all(line.get("request_id") == request_id for line in lines["actions"]
               if not line["logger"].startswith("sanic"))
    assert all(line.get("request_id") == request_id for line in lines["services"]
               if line["logger"] == "reference_services.requests")
    assert any(line["logger"] == "bot.turns" for line in lines["rasa"])
    assert any(line["message"].startswith("action ") for line in lines["actions"])
    assert any("/attestations answered 201" in line["message"] for line in lines["services"])
    assert {line["process"] for line in lines["rasa"]} == {"rasa"}
    assert {line["process"] for line in lines["actions"]} == {"actions"}
    # What the customer typed is logged masked (the Rasa server logs messages at debug level).
    assert any("[téléphone]" in line["message"] for line in lines["rasa"])


def test_the_json_formatter_writes_the_turns_id_and_the_masked_exception():
    import logging

    formatter = JsonLogFormatter("tests")
    record = logging.LogRecord("oyat", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    token = set_request_id("abcdef0123456789")
    try:
        line = json_lines(formatter.format(record))[0]
    finally:
        reset_request_id(token)
    assert line["message"] == "hello world" and line["request_id"] == "abcdef0123456789"
    assert line["process"] == "tests" and line["level"] == "INFO" and line["time"].endswith("+00:00")
    try:
        raise ValueError("born 1985-03-12, marie.dupont@example.fr")
    except ValueError:
        import sys

        failing = logging.LogRecord("oyat", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = json_lines(formatter.format(failing))[0]
    assert "ValueError" in line["exception"] and "marie.dupont" not in line["exception"]
    assert "1985" not in line["exception"] and "request_id" not in line


def test_an_id_from_outside_is_taken_only_when_it_looks_like_one():
    from core.logs import current_request_id

    token = set_request_id("abc\nINFO forged line")
    try:
        assert current_request_id() != "abc\nINFO forged line" and len(current_request_id()) == 32
    finally:
        reset_request_id(token)
    token = set_request_id("4f1c9a2e-77b3-4c1e-9f0a-2b6d8e1c3a5f")
    try:
        assert current_request_id() == "4f1c9a2e-77b3-4c1e-9f0a-2b6d8e1c3a5f"
    finally:
        reset_request_id(token)
