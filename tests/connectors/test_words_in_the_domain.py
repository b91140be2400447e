"""Every sentence a customer reads or hears from a channel is a domain response
(domain/channels.yml, rendered by connectors.pipeline.refusal_words): no channel module
writes a French sentence of its own. What is written in French in connectors/ is for
developers (the JSON errors of the APIs integrators call), or speech vocabulary."""

import ast
import re
from pathlib import Path
from typing import Dict, Iterator, List

CONNECTORS = Path(__file__).resolve().parents[2] / "connectors"

# Where French may be written in a channel module, by module and enclosing function (or
# constant), with the reason. Each one must still hold French (no stale entries).
ALLOWED: Dict[str, str] = {
    "guard.py:METADATA_PROBLEMS": "REST API error: why an integrator's metadata is refused (customers get "
                                  "utter_channel_unreadable_message)",
    "rest.py:NOT_AN_OBJECT": "REST API error for the integrator",
    "rest.py:TOO_LARGE": "REST API error for the integrator",
    "rest.py:TOO_DEEP": "REST API error for the integrator",
    "rest.py:GuardedRestInput.routes.receive": "REST API error for the integrator: how to choose a `sender`",
    "messaging.py:forbidden": "webhook error for the platform (Meta, Telegram), never shown to a customer",
    "messaging.py:too_large": "webhook error for the platform",
    "messaging.py:webhook_body": "webhook error for the platform",
    "ivr.py:IvrInput.routes.receive": "telephone gateway API error, never spoken",
    "call_core.py:CallCore._answer": "telephone gateway API error, never spoken",
    "ivr.py:_decode": "telephone gateway API error, never spoken",
    "audiocodes.py:AudiocodesInput._checked": "AudioCodes Bot API error for VoiceAI Connect, never spoken",
    "audiocodes.py:AudiocodesInput.routes.create": "AudioCodes Bot API error, never spoken",
    "audiocodes.py:AudiocodesInput.routes.refresh": "AudioCodes Bot API error, never spoken",
    "audiocodes.py:_activities": "AudioCodes Bot API error: which field is invalid",
    "audiocodes.py:_event": "AudioCodes Bot API error: which field is invalid",
    "audiocodes.py:_identifier": "AudioCodes Bot API error: which field is invalid",
    "ivr_events.py:authenticate": "telephone gateway API error, never spoken",
    "ivr_events.py:parse_event": "telephone gateway API error: which field is invalid",
    "ivr_events.py:_utterance": "telephone gateway API error: which field is invalid",
    "speech.py:_email": "speech vocabulary: how a masked e-mail address in a response is read aloud "
                        "(a noun phrase in the response's sentence, like « arobase »)",
    "speech.py:_masked_phone": "speech vocabulary: how a masked phone number in a response is read aloud "
                               "(a noun phrase in the response's sentence)",
}

# French words that English log messages and identifiers do not use.
FRENCH = re.compile(
    r"[àâçéèêëîïôûùüœ«»]|\b(?:le|la|les|des|du|un|une|votre|vous|pour|est|dans|ce|cette|je|ne|pas|et|ou)\b",
    re.IGNORECASE)


def _french(text: str) -> bool:
    return len(text.split()) >= 2 and bool(FRENCH.search(text))


def _docstrings(tree: ast.AST) -> set:
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def _scopes(tree: ast.Module) -> Iterator[tuple]:
    """(the qualified name of the function, class or module constant, its node) of each
    top-level statement and of every function or class within, innermost last."""
    def walk(node: ast.AST, prefix: str) -> Iterator[tuple]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                yield name, child
                yield from walk(child, f"{name}.")
            elif not prefix and isinstance(child, (ast.Assign, ast.AnnAssign)):
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                yield ".".join(t.id for t in targets if isinstance(t, ast.Name)), child
            else:
                yield from walk(child, prefix)
    yield from walk(tree, "")


def french_sentences(path: Path) -> List[str]:
    """`<module>:<scope>` of every French string (or f-string's words) written in the module
    outside docstrings, the innermost function or constant holding it."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = _docstrings(tree)
    owner: Dict[int, str] = {}
    for name, scope in _scopes(tree):  # outer scopes first: inner ones overwrite
        for node in ast.walk(scope):
            owner[id(node)] = name
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if _french(node.value):
                found.append(f"{path.name}:{owner.get(id(node), '<module>')}")
    return sorted(set(found))


def test_no_channel_writes_a_sentence_for_the_customer():
    found = [where for path in sorted(CONNECTORS.rglob("*.py")) for where in french_sentences(path)]
    assert set(found) - set(ALLOWED) == set(), "words for a customer belong in domain/channels.yml"


def test_every_allowed_place_still_writes_french():
    found = {where for path in sorted(CONNECTORS.rglob("*.py")) for where in french_sentences(path)}
    assert set(ALLOWED) - found == set(), "drop the stale entries of ALLOWED"


def test_the_scan_finds_sentences_sent_or_kept_in_a_channel_module(tmp_path):
    example = tmp_path / "example.py"
    example.write_text('''
"""Un module : sa documentation peut être en français."""
PLACE = "votre espace client"
logger.info("file refused: %s", code)

async def refuse(output, sender, wait):
    """Dit pourquoi."""
    await output.send_text_message(sender, f"Réessayez dans {wait}, ou appelez-nous.")

class Channel:
    def routes(self):
        async def receive(request):
            return response.json({"text": "Ce fichier est vide."})
''')
    assert french_sentences(example) == [
        "example.py:Channel.routes.receive", "example.py:PLACE", "example.py:refuse"]
