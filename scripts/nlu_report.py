"""Summarises `rasa test nlu` results: intent accuracy and macro-F1, entity precision,
recall and F1, and the worst confusions. Usage: nlu_report.py RESULTS_DIR [--json OUT]."""

import argparse
import json
from pathlib import Path


def summarise(results: Path) -> dict:
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


def show(summary: dict) -> None:
    print(f"intent accuracy  {summary['intent_accuracy']:.3f}   macro-F1 {summary['intent_macro_f1']:.3f}"
          f"   ({summary['intent_examples']} held-out examples)")
    for name, scores in summary["entities"].items():
        print(f"entities ({name})  precision {scores['precision']:.3f}  recall {scores['recall']:.3f}"
              f"  F1 {scores['f1']:.3f}")
    print("weakest intents:")
    for row in summary["worst_intents"]:
        confusions = ", ".join(f"{other} ×{count}" for other, count in row["confused_with"].items())
        print(f"  {row['intent']:<24} F1 {row['f1']:.3f}  {('confused with ' + confusions) if confusions else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    summary = summarise(args.results)
    show(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
