"""Each flow of the assistant is found by one name: its domain, its NLU examples, its rules
and stories, its test stories, its actions and their tests all carry that name; the few
files shared by several flows are listed here with the reason."""

from typing import Dict, List, Set

import pytest
import yaml

from tests.conftest import REPO_ROOT

FLOWS = [
    "conversation",
    "handoff",
    "login_help",
    "identification",
    "claim_declaration",
    "claim_follow_up",
    "claim_documents",
    "attestation",
    "contracts",
    "quotes",
    "simulations",
    "alerts",
    "notices",
]

# Where a flow has no file of its own, and why.
EXCEPTIONS: Dict[str, str] = {
    "data/nlu/identification.yml": "the identification asks for values, not requests: the identifiers, "
    "dates of birth and codes are `inform` examples in data/nlu/inform.yml, shared by every form",
}

# Files that serve several flows (or none), with the reason.
SHARED: Dict[str, str] = {
    "domain/faults.yml": "what the Rasa server says itself when the action server fails",
    "domain/phone.yml": "the words of the telephone line alone",
    "domain/channels.yml": "what a channel says about a message it cannot pass on",
    "data/nlu/entities.yml": "synonyms and regexes of the entities every flow reads",
    "data/nlu/inform.yml": "values given inside any procedure",
    "data/nlu/narratives.yml": "long messages in customers' own words, for the requests of every flow",
    "data/nlu/contrasts.yml": "examples that separate intents of different flows",
    "actions/__init__.py": "the package",
    "actions/server.py": "the action server's entry point",
    "actions/operations.py": "the action server's metrics, request ids and readiness (issue 16)",
    "actions/identification_dialogue.py": "the identification: the dialogue, next to the token check",
    "actions/claim_outbox.py": "the claim declaration: confirmed claims kept while the claims service is down",
}

# Intents whose examples are not in their flow's NLU file, and why.
INTENTS_TRAINED_ELSEWHERE: Dict[str, str] = {
    "inform": "answers to every procedure's questions (data/nlu/inform.yml and each form's own answers)",
    "attach_document": "sent only by the connectors, with the files in the metadata; never typed",
}

FLOW_PLACES = ["domain/{}.yml", "data/nlu/{}.yml", "data/stories/{}.yml", "tests/stories/test_{}.yml",
               "actions/{}.py"]
FOLDERS = {"domain": "*.yml", "data/nlu": "*.yml", "data/stories": "*.yml", "tests/stories": "*.yml",
           "actions": "*.py"}


def _yaml(relative: str) -> dict:
    return yaml.safe_load((REPO_ROOT / relative).read_text()) or {}


def _intent_names(entries: List) -> Set[str]:
    return {entry if isinstance(entry, str) else next(iter(entry)) for entry in entries}


@pytest.mark.parametrize("flow", FLOWS)
def test_each_flow_has_its_domain_nlu_stories_test_stories_and_actions_under_its_name(flow):
    for place in FLOW_PLACES:
        relative = place.format(flow)
        assert (REPO_ROOT / relative).is_file() or relative in EXCEPTIONS, f"{flow}: no {relative}"
    if (REPO_ROOT / f"actions/{flow}.py").is_file():
        assert (REPO_ROOT / f"tests/actions/test_{flow}.py").is_file(), f"{flow}: its actions have no tests"


def test_every_file_of_the_assistant_belongs_to_a_flow_or_says_why_it_is_shared():
    flow_files = {place.format(flow) for flow in FLOWS for place in FLOW_PLACES}
    for folder, pattern in FOLDERS.items():
        for path in sorted((REPO_ROOT / folder).glob(pattern)):
            relative = path.relative_to(REPO_ROOT).as_posix()
            assert relative in flow_files or relative in SHARED, (
                f"{relative} is named after no flow: rename it after its flow, move its content to the "
                "flows' files, or list it in SHARED with the reason"
            )


def test_the_exceptions_are_still_needed_and_the_shared_files_still_exist():
    for relative in EXCEPTIONS:
        assert not (REPO_ROOT / relative).exists(), f"{relative} exists now: drop its exception"
    for relative in SHARED:
        # channels.yml may be absent while it is being written
        assert (REPO_ROOT / relative).exists() or relative == "domain/channels.yml", f"{relative} is gone"


@pytest.mark.parametrize("flow", FLOWS)
def test_a_flows_intents_are_trained_in_its_own_nlu_file(flow):
    declared = _intent_names(_yaml(f"domain/{flow}.yml").get("intents", []))
    nlu = f"data/nlu/{flow}.yml"
    trained = {entry["intent"] for entry in _yaml(nlu).get("nlu", []) if "intent" in entry} \
        if (REPO_ROOT / nlu).is_file() else set()
    assert declared - trained <= set(INTENTS_TRAINED_ELSEWHERE), f"{flow}: intents without examples in {nlu}"
    assert trained - declared <= set(INTENTS_TRAINED_ELSEWHERE), f"{flow}: {nlu} trains another flow's intents"
