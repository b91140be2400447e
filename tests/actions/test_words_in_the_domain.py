"""Every word a customer reads or hears is a domain response: the actions name responses
and pass values, never texts of their own, and a service's refusal is told by the
response its code maps to, never by the service's own message."""

import ast
from pathlib import Path

import pytest

from actions.common.refusals import (
    CLAIM_FILING,
    CODE_CHECK,
    OTHER_REFUSAL,
    REFUSAL_RESPONSES,
    refusal_response,
)
from actions.handoff import SOMETHING_ELSE_BUTTON
from core.labels import REQUESTS, request_title_response
from core.service_contract import ErrorCode

ACTIONS = Path(__file__).resolve().parents[2] / "actions"
CORE = ACTIONS.parent / "core"
# Texts an action may write itself because they are no words: none so far.
ALLOWED_LITERALS: set = set()


def _literal_text(node: ast.AST) -> bool:
    """A string written in the code: a constant, or an f-string with words of its own."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value not in ALLOWED_LITERALS
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.Constant) and any(c.isalpha() for c in part.value) for part in node.values)
    return False


def _passes_a_service_message(node: ast.AST) -> bool:
    return any(isinstance(inner, ast.Attribute) and inner.attr == "message" for inner in ast.walk(node))


def _texts_of_their_own(path: Path, root: Path = ACTIONS.parent):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "utter_message":
            texts = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "text")]
            if any(_literal_text(text) for text in texts):
                yield f"{where}: utter_message with a text of its own"
            if any(_passes_a_service_message(k.value) for k in node.keywords):
                yield f"{where}: a service's message passed to the customer"
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "title" and _literal_text(value):
                    yield f"{where}: a button title written in the code"


def test_no_action_writes_a_text_or_a_button_title_of_its_own():
    found = [problem for path in sorted(ACTIONS.rglob("*.py")) for problem in _texts_of_their_own(path)]
    assert not found, found


def test_the_scan_finds_texts_titles_and_service_messages_written_in_an_action(tmp_path):
    example = tmp_path / "example.py"
    example.write_text('''
def run(dispatcher, refusal, name, contract):
    dispatcher.utter_message(text="Bonjour !")
    dispatcher.utter_message(f"Bonjour {name}")
    dispatcher.utter_message(response="utter_refused", reason=refusal.message)
    dispatcher.utter_message(response="utter_choose", buttons=[{"title": contract["label"], "payload": "/a"}])
    return [{"title": "Autre chose", "payload": "/deny"}]
''')
    assert len(list(_texts_of_their_own(example, tmp_path))) == 4


def test_every_refusal_is_told_by_a_response_of_the_domain(domain):
    named = {response for table in REFUSAL_RESPONSES.values() for response in table.values()}
    named |= set(OTHER_REFUSAL.values())
    assert named - set(domain["responses"]) == set()
    assert set(OTHER_REFUSAL) == set(REFUSAL_RESPONSES)


def test_every_refusal_code_of_the_table_is_one_of_the_services_contract():
    codes = {code for table in REFUSAL_RESPONSES.values() for code in table}
    assert all(isinstance(code, ErrorCode) for code in codes), codes


@pytest.mark.parametrize("request_, code, response", [
    (CLAIM_FILING, ErrorCode.date_in_future, "utter_claim_filing_refused_date_in_future"),
    (CLAIM_FILING, "date_in_future", "utter_claim_filing_refused_date_in_future"),
    (CLAIM_FILING, "a_code_not_listed", "utter_claim_filing_refused"),
    (CODE_CHECK, "wrong_code", "utter_identification_wrong_code"),
    (CODE_CHECK, "a_code_not_listed", "utter_identification_code_expired"),
])
def test_a_refusal_code_maps_to_its_response_and_any_other_to_the_request_s_general_answer(request_, code, response):
    assert refusal_response(request_, code) == response


def test_the_button_titles_actions_build_come_from_the_domain(domain):
    assert domain["responses"][SOMETHING_ELSE_BUTTON][0]["text"] == "Autre chose"


def _titles(domain) -> set:
    """Every title a customer reads on a button, and the words a button sends for them
    (« Aucun tiers impliqué »): the domain's buttons and the responses written to be titles."""
    responses = domain["responses"]
    buttons = [button for variants in responses.values() for variant in variants for button in variant.get("buttons") or []]
    titles = {button["title"] for button in buttons}
    titles |= {button["payload"] for button in buttons if not button["payload"].startswith("/")}
    return titles | {variant["text"] for name, variants in responses.items()
                     if name.startswith("utter_button_") or name in {request_title_response(i) for i in REQUESTS}
                     for variant in variants}


def test_no_button_title_is_written_in_the_shared_code_or_the_actions(domain):
    """A button's title (« Mes contrats », « Aucun témoin ») lives in the domain only:
    a copy in Python would not change with it."""
    titles = _titles(domain)
    found = [
        f"{path.relative_to(ACTIONS.parent)}:{node.lineno}: {node.value!r}"
        for folder in (CORE, ACTIONS)
        for path in sorted(folder.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip() in titles
    ]
    assert not found, found


def test_every_request_is_called_by_a_response_of_its_own_flow_s_domain_file():
    import yaml

    for intent in REQUESTS:
        [declaring] = [path for path in sorted((ACTIONS.parent / "domain").glob("*.yml"))
                       if intent in ((yaml.safe_load(path.read_text()) or {}).get("intents") or [])]
        responses = yaml.safe_load(declaring.read_text()).get("responses") or {}
        assert responses.get(request_title_response(intent)), f"{intent}: no title in {declaring.name}"
