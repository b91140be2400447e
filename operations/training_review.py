"""Conversations back into training: the customer messages where the assistant hesitated,
reviewed by a supervisor in the console, exported as NLU training data.

1. `hesitations(events, threshold)`: from the stored (masked) conversations, the customer
   messages whose intent is nlu_fallback, whose confidence is under the FallbackClassifier's
   threshold (config.yml), or that the assistant answered with « Vouliez-vous dire … ? » or,
   no rule fitting, with utter_default (« Je n'ai pas bien compris »).
   Buttons (« /intent »), and answers the tracker store replaced by a marker, are not
   sentences: left out.
2. `publish(session, found)`: each new sentence becomes a `training_reviews` row of the
   services' database (one per sentence, its occurrences counted); the console's « À revoir »
   page lists the pending ones to supervisors through the policy service, which records the
   intent picked (or « hors sujet »: `out_of_scope`) and who picked it.
3. `export(session, ...)`: the reviewed sentences as NLU YAML, one block per intent, masked,
   deduplicated, without any sentence of the held-out sets (tests/nlu/*.yml) nor one already
   in the training data, nor an intent the domain does not have.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.masking import mask_value
from operations.analytics import FALLBACK_INTENT, paris_day
from reference_services.training.models import TrainingReview

ROOT = Path(__file__).resolve().parents[1]
DID_YOU_MEAN = "utter_did_you_mean"
# The assistant's « Je n'ai pas bien compris » when no rule fits (RulePolicy's core fallback).
DEFAULT_ANSWER = "utter_default"
OUT_OF_SCOPE = "out_of_scope"
MAX_TEXT = 500
# A message the tracker store replaced whole: « [date de naissance] », « [code] »...
_MARKER = re.compile(r"\[[^\]]*\]")


@dataclass
class Hesitation:
    text: str
    predicted_intent: Optional[str]
    confidence: float
    reason: str  # nlu_fallback | low_confidence | did_you_mean | core_fallback
    channel: str
    day: date


def fallback_threshold(config_file: Path = ROOT / "config.yml") -> float:
    """The FallbackClassifier's threshold in config.yml (0.3, Rasa's default, if none)."""
    config = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    for component in config.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return 0.3


def normalized(text: str) -> str:
    """The form two sentences are compared in: no accents, case or extra spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\[\]]+", " ", plain).split())


def text_key(text: str) -> str:
    return hashlib.sha256(normalized(text).encode()).hexdigest()


def _sentence(text: Optional[str]) -> Optional[str]:
    if not text or text.startswith("/"):
        return None
    masked = mask_value(text.strip())[:MAX_TEXT]
    if not _MARKER.sub("", masked).strip(" .,!?"):
        return None  # nothing left but markers
    return masked


def _predicted(parse_data: Dict[str, Any]) -> Tuple[Optional[str], float]:
    """The NLU's best intent other than nlu_fallback, and its confidence."""
    for ranked in [parse_data.get("intent") or {}] + list(parse_data.get("intent_ranking") or []):
        if ranked.get("name") and ranked.get("name") != FALLBACK_INTENT:
            return ranked["name"], float(ranked.get("confidence") or 0.0)
    return None, 0.0


def hesitations(events: Iterable[Tuple[str, Dict[str, Any]]], threshold: float) -> List[Hesitation]:
    """The customer messages where the assistant hesitated, in the stored order."""
    found: List[Hesitation] = []
    last: Dict[str, Optional[Hesitation]] = {}
    for sender_id, event in events:
        kind = event.get("event")
        if kind == "user":
            last[sender_id] = None
            text = _sentence(event.get("text"))
            if text is None or event.get("timestamp") is None:
                continue
            parse_data = event.get("parse_data") or {}
            intent = (parse_data.get("intent") or {}).get("name")
            predicted, confidence = _predicted(parse_data)
            reason = None
            if intent == FALLBACK_INTENT:
                reason = "nlu_fallback"
            elif intent and confidence < threshold:
                reason = "low_confidence"
            hesitation = Hesitation(text, predicted, round(confidence, 4), reason or "",
                                    event.get("input_channel") or "inconnu", paris_day(float(event["timestamp"])))
            if reason:
                found.append(hesitation)
            else:
                last[sender_id] = hesitation  # kept in case « Vouliez-vous dire » follows
        elif kind == "bot" and (event.get("metadata") or {}).get("utter_action") in (DID_YOU_MEAN, DEFAULT_ANSWER):
            pending = last.get(sender_id)
            if pending is not None:
                response = event["metadata"]["utter_action"]
                pending.reason = "did_you_mean" if response == DID_YOU_MEAN else "core_fallback"
                found.append(pending)
                last[sender_id] = None
    return found


def publish(session: Session, found: Sequence[Hesitation], now: datetime) -> int:
    """Adds the new sentences to the review table (a sentence seen again counts once more);
    returns how many new rows. The caller commits."""
    existing = {row.text_key: row for row in session.scalars(select(TrainingReview))}
    added = 0
    for hesitation in found:
        key = text_key(hesitation.text)
        row = existing.get(key)
        if row is not None:
            row.occurrences += 1
            row.last_seen_on = max(row.last_seen_on, hesitation.day)
            continue
        row = TrainingReview(text=hesitation.text, text_key=key, predicted_intent=hesitation.predicted_intent,
                             confidence=hesitation.confidence, reason=hesitation.reason,
                             channel=hesitation.channel[:40], first_seen_on=hesitation.day,
                             last_seen_on=hesitation.day, occurrences=1, status="pending", created_at=now)
        session.add(row)
        existing[key] = row
        added += 1
    return added


def nlu_sentences(paths: Iterable[Path]) -> Set[str]:
    """The normalized examples of NLU YAML files."""
    sentences: Set[str] = set()
    for path in paths:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    sentences.add(normalized(re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}",
                                                    lambda m: m.group(1) or m.group(2) or "", line[2:])))
    return sentences


def export(session: Session, out: Path, heldout: Sequence[Path], training: Sequence[Path],
           intents: Sequence[str]) -> Dict[str, int]:
    """Writes the reviewed sentences to `out` as NLU YAML; returns what was written and left."""
    forbidden = nlu_sentences(heldout)
    known = nlu_sentences(training)
    allowed = set(intents)
    by_intent: Dict[str, List[str]] = defaultdict(list)
    seen: Set[str] = set()
    left = {"heldout": 0, "already_trained": 0, "unknown_intent": 0, "duplicate": 0}
    rows = session.scalars(select(TrainingReview).where(TrainingReview.status == "reviewed")
                           .order_by(TrainingReview.id))
    for row in rows:
        text = mask_value(row.text)
        key = normalized(text)
        if key in forbidden:
            left["heldout"] += 1
        elif key in known:
            left["already_trained"] += 1
        elif row.chosen_intent not in allowed:
            left["unknown_intent"] += 1
        elif key in seen:
            left["duplicate"] += 1
        else:
            seen.add(key)
            by_intent[row.chosen_intent].append(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = ['version: "3.1"', "",
             "# Customers' messages the assistant hesitated on, reviewed in the advisers' console",
             "# (« À revoir ») and exported by `make export-training`: masked, deduplicated, none of",
             "# the held-out sets (tests/nlu). Proposed by pull request; `make eval` shows the effect.",
             "", "nlu:"]
    for intent in sorted(by_intent):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {' '.join(sentence.split())}" for sentence in by_intent[intent])
    if not by_intent:
        lines[-1] = "nlu: []"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"written": sum(len(v) for v in by_intent.values()), **left}
