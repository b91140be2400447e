"""The training data and the domain are consistent (what `rasa data validate` checks)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC_INTENTS = """greet goodbye thank affirm deny bot_challenge ask_capabilities request_human cancel repeat
out_of_scope inform login_problem forgot_password lost_identifier account_locked sms_code_issue
declare_claim claim_status send_documents expert_visit indemnification_info request_attestation
contract_info payment_info change_payment_method modify_coverage terminate_contract
update_personal_info beneficiary_clause bonus_malus request_quote contact_info complaint
document_retention data_privacy""".split()
SPEC_ENTITIES = "claim_type product contract_number claim_number customer_id date plate email phone_number".split()


UNUSED_RESPONSE = re.compile(r"The utterance '(\w+)' is not used in any story or rule\.")
NO_NLU_EXAMPLES = re.compile(r"The intent '(\w+)' is listed in the domain file, but is not found in the NLU training data\.")
# Intents only connectors send (never typed, so never trained): a file received.
CONNECTOR_ONLY_INTENTS = {"attach_document"}


def test_rasa_data_validate_is_clean():
    """No error, and no warning but two: responses that only forms or custom actions
    utter (Rasa cannot see those uses), each of which must really be uttered; intents
    only connectors send, which have no training examples on purpose."""
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(ROOT / "domain"))
    form_questions = {f"utter_ask_{slot}" for form in domain.form_names for slot in domain.required_slots_for_form(form)}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "data", "validate", "--config", "config.yml",
         "--domain", "domain", "--data", "data"],
        cwd=ROOT, capture_output=True, text=True,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    warnings = [line for line in output.splitlines() if "UserWarning:" in line]
    # Custom actions utter responses, and so do the telephone channel (its re-prompts)
    # and the server's action endpoint (its apology when the action server fails).
    actions_source = "\n".join(
        path.read_text()
        for folder in ("actions", "connectors", "bot")
        for path in (ROOT / folder).rglob("*.py")
    )
    from core.labels import REQUESTS, request_title_response

    # What each request is called: the name is built from the request's intent.
    request_titles = {request_title_response(intent) for intent in REQUESTS}
    for warning in warnings:
        untrained = NO_NLU_EXAMPLES.search(warning)
        if untrained and untrained.group(1) in CONNECTOR_ONLY_INTENTS:
            continue
        unused = UNUSED_RESPONSE.search(warning)
        assert unused, warning
        response = unused.group(1)
        if response in request_titles:
            continue
        assert response in form_questions or f'"{response}"' in actions_source, f"{response} is uttered nowhere"


def test_every_intent_and_entity_of_the_spec_is_in_the_domain_and_the_data():
    from rasa.shared.core.domain import Domain
    from rasa.shared.nlu.training_data.loading import load_data

    domain = Domain.load(str(ROOT / "domain"))
    nlu = load_data(str(ROOT / "data" / "nlu"))
    assert set(SPEC_INTENTS) <= set(domain.intents)
    assert set(SPEC_INTENTS) <= nlu.intents
    assert set(SPEC_ENTITIES) <= set(domain.entities)


def test_every_response_has_french_text():
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(ROOT / "domain"))
    for name, variants in domain.responses.items():
        assert variants and all(variant.get("text") for variant in variants), name


def _examples(path: Path):
    """(intent, plain text) of every example of an NLU file, entity annotations removed."""
    import yaml

    annotation = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
    for block in yaml.safe_load(path.read_text()).get("nlu", []):
        for line in (block.get("examples") or "").splitlines():
            if "intent" in block and line.strip().startswith("- "):
                yield block["intent"], annotation.sub(r"\1", line.strip()[2:])


def _comparable(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def test_no_held_out_example_is_in_the_training_data():
    """The held-out figures mean something only if training never saw those sentences."""
    held_out = {
        _comparable(text) for held_out_set in sorted((ROOT / "tests" / "nlu").glob("*.yml"))
        for _, text in _examples(held_out_set)
    }
    leaked = [
        f"{path.name}: {text}"
        for path in sorted((ROOT / "data" / "nlu").glob("*.yml"))
        for _, text in _examples(path)
        if _comparable(text) in held_out
    ]
    assert not leaked, leaked


MESSAGING_BUTTON_TITLE_LIMIT = 20  # WhatsApp reply buttons and Messenger quick replies


def test_every_button_title_fits_the_messaging_apps_without_being_cut():
    from rasa.shared.core.domain import Domain

    from core.labels import REQUESTS, request_title_response

    domain = Domain.load(str(ROOT / "domain"))
    titles = {
        button["title"]
        for variants in domain.responses.values()
        for variant in variants
        for button in variant.get("buttons") or []
    } | {variant["text"] for intent in REQUESTS for variant in domain.responses[request_title_response(intent)]}
    too_long = sorted(title for title in titles if len(title) > MESSAGING_BUTTON_TITLE_LIMIT)
    assert not too_long, too_long


class _RecordedErrors:
    """Stands in for the interpolator's logger: what it would have logged."""

    def __init__(self) -> None:
        self.errors = []

    def exception(self, event, **details):
        self.errors.append((event, details))

    error = exception


def test_every_button_payload_comes_out_of_rasa_as_the_intent_and_entities_it_stands_for(monkeypatch):
    """Rasa fills a response's `{...}` with slots: a payload's JSON braces, written single,
    are an unknown slot (an error and its stack in the log at every question); written
    doubled, Rasa gives back the payload with single braces, which its NLU reads."""
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator, interpolator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message

    recorded = _RecordedErrors()
    monkeypatch.setattr(interpolator, "structlogger", recorded)
    domain = Domain.load(str(ROOT / "domain"))
    generator = TemplatedNaturalLanguageGenerator(domain.responses)
    slots = DialogueStateTracker.from_events("s", [], domain.slots).current_slot_values()
    payloads = []
    for name, variants in domain.responses.items():
        for variant in variants:
            if variant.get("buttons"):
                filled = generator._fill_response({"buttons": variant["buttons"]}, slots)
                payloads += [(name, button["payload"]) for button in filled["buttons"]]
    assert recorded.errors == []
    for name, payload in payloads:
        if not payload.startswith("/"):
            continue
        message = YAMLStoryReader.unpack_regex_message(Message(data={"text": payload}), domain=domain,
                                                       entity_extractor_name="RegexMessageHandler")
        assert message.get("intent", {}).get("name") in domain.intents, (name, payload)
        assert "{" not in payload or message.get("entities"), (name, payload)
        assert all(entity["entity"] in domain.entities for entity in message.get("entities") or []), (name, payload)


def test_every_regex_of_the_training_data_takes_linear_time_on_adversarial_text():
    """Rasa runs them on every message (RegexFeaturizer, RegexEntityExtractor), in the
    server's turn."""
    import yaml

    from tests.adversarial_text import PERSONAL_DATA, slow_texts

    patterns = {
        block["regex"]: example.strip()[2:]
        for path in sorted((ROOT / "data" / "nlu").glob("*.yml"))
        for block in yaml.safe_load(path.read_text()).get("nlu", [])
        if "regex" in block
        for example in block["examples"].strip().splitlines()
    }
    assert patterns
    for name, pattern in patterns.items():
        assert slow_texts(re.compile(pattern, re.IGNORECASE), PERSONAL_DATA) == {}, name
