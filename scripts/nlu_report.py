"""NLU quality on held-out example sets, as `rasa test nlu` measures it, plus what a
customer actually gets: the right request first, or among the two best requests (the
two buttons of « Vouliez-vous dire … ? » when the assistant hesitates).

Usage: nlu_report.py --model MODEL --out DIR SET.yml [SET.yml ...]
Per set: DIR/<set>/ holds rasa test nlu's reports and confusion matrix; DIR/summary.json,
summary.txt and the printed report hold every set's figures."""

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[1]
FALLBACK_INTENT = "nlu_fallback"
TOP = 2


def summarise(results: Path) -> Dict[str, Any]:
    """The figures of `rasa test nlu`'s reports in RESULTS."""
    intents = json.loads((results / "intent_report.json").read_text())
    entity_files = sorted(results.glob("*Extractor_report.json")) + sorted(results.glob("DIETClassifier_report.json"))
    summary = {
        "intent_accuracy": round(intents["accuracy"], 4),
        "intent_macro_f1": round(intents["macro avg"]["f1-score"], 4),
        "intent_examples": intents["macro avg"]["support"],
        "worst_intents": sorted(
            ({"intent": name, "f1": round(scores["f1-score"], 3), "confused_with": scores.get("confused_with", {})}
             for name, scores in intents.items() if isinstance(scores, dict) and "f1-score" in scores
             and name not in ("macro avg", "micro avg", "weighted avg")),
            key=lambda row: row["f1"],
        )[:8],
        "entities": {},
    }
    for path in entity_files:
        report = json.loads(path.read_text())
        overall = report.get("micro avg") or report.get("weighted avg") or {}
        summary["entities"][path.name.replace("_report.json", "")] = {
            "precision": round(overall.get("precision", 0.0), 4),
            "recall": round(overall.get("recall", 0.0), 4),
            "f1": round(overall.get("f1-score", 0.0), 4),
            "per_entity": {
                name: round(scores["f1-score"], 3)
                for name, scores in report.items()
                if isinstance(scores, dict) and "f1-score" in scores and "avg" not in name and name != "no_entity"
            },
        }
    return summary


def ranking_figures(predictions: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Right intent first and among the two best requests of the ranking. As in rasa test
    nlu, a fallback does not hide the ranking: after one, the assistant offers the two best
    requests as buttons, so the first of them is what the customer is offered first."""
    first = among_two = fell_back = 0
    misses = []
    for row in predictions:
        ranking = [name for name in row["ranking"] if name != FALLBACK_INTENT]
        fell_back += row["predicted"] == FALLBACK_INTENT
        first += ranking[:1] == [row["intent"]]
        if row["intent"] in ranking[:TOP]:
            among_two += 1
        else:
            misses.append({"text": row["text"], "intent": row["intent"], "ranking": ranking[:TOP]})
    count = len(predictions) or 1
    return {
        "examples": len(predictions),
        "right_first": round(first / count, 4),
        "right_among_first_two": round(among_two / count, 4),
        "fallback_rate": round(fell_back / count, 4),
        "missed_by_both": misses,
    }


async def evaluate(model: Path, sets: List[Path], out: Path) -> Dict[str, Any]:
    """Loads the model once and runs rasa test nlu's own evaluation on every set, keeping
    the whole pipeline's answer to each message for its intent ranking."""
    from rasa.core.agent import Agent
    from rasa.nlu.test import run_evaluation
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # The model names our own components (bot/nlu.*), and the report is the
    # only thing this script prints.
    sys.path.insert(0, str(ROOT))
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    agent = Agent.load(model_path=str(model))
    parsed_by_text: Dict[str, Dict[str, Any]] = {}
    parse_message = agent.processor.parse_message

    async def parse_and_keep(message, *args, **kwargs):
        parsed = await parse_message(message, *args, **kwargs)
        parsed_by_text[message.text] = {
            "predicted": (parsed.get("intent") or {}).get("name"),
            "ranking": [candidate["name"] for candidate in parsed.get("intent_ranking") or []],
        }
        return parsed

    agent.processor.parse_message = parse_and_keep
    summaries = {}
    for data in sets:
        results = out / data.stem
        results.mkdir(parents=True, exist_ok=True)
        await run_evaluation(str(data), agent.processor, output_directory=str(results), errors=True,
                             domain_path=str(ROOT / "domain"))
        predictions = [
            {"text": example.get("text"), "intent": example.get("intent"), **parsed_by_text[example.get("text")]}
            for example in load_data(str(data)).intent_examples
        ]
        summaries[data.stem] = {"path": str(data), **ranking_figures(predictions), **summarise(results)}
    return summaries


def report(summaries: Dict[str, Any]) -> str:
    lines = []
    for name, summary in summaries.items():
        lines.append(f"{name} ({summary['path']}, {summary['examples']} held-out examples)")
        lines.append(f"  right intent first {summary['right_first']:.3f}   among the first two "
                     f"{summary['right_among_first_two']:.3f}   fell back {summary['fallback_rate']:.3f}")
        lines.append(f"  intent accuracy {summary['intent_accuracy']:.3f}   macro-F1 {summary['intent_macro_f1']:.3f}")
        for extractor, scores in summary["entities"].items():
            lines.append(f"  entities ({extractor})  precision {scores['precision']:.3f}"
                         f"  recall {scores['recall']:.3f}  F1 {scores['f1']:.3f}")
        lines.append("  weakest intents:")
        for row in summary["worst_intents"]:
            confusions = ", ".join(f"{other} ×{count}" for other, count in row["confused_with"].items())
            lines.append(f"    {row['intent']:<24} F1 {row['f1']:.3f}"
                         f"  {('confused with ' + confusions) if confusions else ''}".rstrip())
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("sets", type=Path, nargs="+")
    args = parser.parse_args()
    summaries = asyncio.run(evaluate(args.model, args.sets, args.out))
    text = report(summaries)
    (args.out / "summary.json").write_text(json.dumps(summaries, indent=2, ensure_ascii=False))
    (args.out / "summary.txt").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
