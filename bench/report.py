"""The benchmark's figures against the targets: printed, in JSON, and plotted."""
import json
from pathlib import Path
from typing import Dict, List, Optional

# Targets on the 2-core reference machine, and stock Rasa 3.6.21 with the stock
# French pipeline measured there (REST channel, whole conversations).
TARGETS = {
    "turn_p50_alone_ms": 40,
    "turn_p95_alone_ms": 80,
    "turn_to_parse_p50_ratio": 1.5,
    "turns_per_second_at_saturation": 60,
    "rasa_process_mb": 1200,
    "training_seconds": 180,
}
STOCK = {
    "turn_p50_alone_ms": 77,
    "turn_p95_alone_ms": 135,
    "parse_p50_ms": 26,
    "turns_per_second_at_saturation": "19-23",
    "rasa_process_mb": 1700,
}


def summarize(run: Dict) -> Dict:
    """The headline figures of one configuration."""
    levels = run["levels"]
    alone = next(level for level in levels if level["concurrency"] == 1) if levels else {}
    best = max(levels, key=lambda level: level["turns_per_second"]) if levels else {}
    rasa = [mb for name, mb in run.get("memory_mb", {}).items() if name.startswith("rasa")]
    parse_p50 = run["parse"].get("p50_ms")
    return {
        "turn_p50_alone_ms": alone.get("p50_ms"),
        "turn_p95_alone_ms": alone.get("p95_ms"),
        "turn_p99_alone_ms": alone.get("p99_ms"),
        "parse_p50_ms": parse_p50,
        "turn_to_parse_p50_ratio": round(alone["p50_ms"] / parse_p50, 2) if alone.get("p50_ms") and parse_p50 else None,
        "turns_per_second_at_saturation": best.get("turns_per_second"),
        "saturation_concurrency": best.get("concurrency"),
        "errors": sum(level["errors"] for level in levels),
        "rasa_process_mb": max(rasa) if rasa else None,
    }


def verdicts(summary: Dict, training: Optional[Dict]) -> Dict[str, Optional[bool]]:
    """Each target met (True), missed (False) or not measured (None)."""
    def at_most(value: Optional[float], limit: float) -> Optional[bool]:
        return None if value is None else value <= limit

    ratio_limit = TARGETS["turn_to_parse_p50_ratio"]
    throughput = summary["turns_per_second_at_saturation"]
    return {
        "turn_p50_alone_ms": at_most(summary["turn_p50_alone_ms"], TARGETS["turn_p50_alone_ms"]),
        "turn_p95_alone_ms": at_most(summary["turn_p95_alone_ms"], TARGETS["turn_p95_alone_ms"]),
        "turn_to_parse_p50_ratio": at_most(summary["turn_to_parse_p50_ratio"], ratio_limit),
        "turns_per_second_at_saturation": None if throughput is None else (
            throughput >= TARGETS["turns_per_second_at_saturation"] and summary["errors"] == 0),
        "rasa_process_mb": at_most(summary["rasa_process_mb"], TARGETS["rasa_process_mb"]),
        "training_seconds": at_most((training or {}).get("seconds"), TARGETS["training_seconds"]),
    }


def print_report(results: Dict) -> None:
    training = results.get("training") or {}
    print(f"\nModel {results['model']} ({results['model_mb']} MB), loaded in {results['model_load_seconds']} s;"
          f" full training: {training.get('seconds', 'skipped')} s")
    for run in results["runs"]:
        summary = run["summary"]
        print(f"\n== {run['config']}  ({run['url']})")
        print(f"   NLU parse alone: p50 {run['parse']['p50_ms']} ms, p95 {run['parse']['p95_ms']} ms")
        print("   concurrency  turns/s    p50 ms    p95 ms    p99 ms  errors")
        for level in run["levels"]:
            print(f"   {level['concurrency']:>11}  {level['turns_per_second']:>7}  {level['p50_ms']!s:>8}"
                  f"  {level['p95_ms']!s:>8}  {level['p99_ms']!s:>8}  {level['errors']:>6}")
            for sample in level["error_samples"][:3]:
                print(f"      ! {sample}")
        memory = ", ".join(f"{name} {mb} MB" for name, mb in run.get("memory_mb", {}).items()) or "not measured"
        print(f"   peak resident memory: {memory}")
        if run.get("startup_seconds"):
            print("   ready after: " + ", ".join(f"{name} {s:.1f} s" for name, s in run["startup_seconds"].items()))
        print("   target                          measured   target     stock    met")
        for key, met in run["verdicts"].items():
            value = training.get("seconds") if key == "training_seconds" else summary.get(key)
            mark = {True: "yes", False: "NO", None: "-"}[met]
            print(f"   {key:<30} {value!s:>9} {TARGETS[key]!s:>8} {STOCK.get(key, '')!s:>9}    {mark}")


def write_json(results: Dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def plot(runs: List[Dict], path: Path) -> None:
    """Latency percentiles and throughput against concurrency, one colour per configuration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(12, 4.5))
    for index, run in enumerate(runs):
        colour = f"C{index}"
        levels = run["levels"]
        x = [level["concurrency"] for level in levels]
        for key, style in (("p50_ms", "-"), ("p95_ms", "--"), ("p99_ms", ":")):
            latency.plot(x, [level[key] for level in levels], style, color=colour, marker="o", markersize=3,
                         label=f"{run['config']} {key[:3]}")
        throughput.plot(x, [level["turns_per_second"] for level in levels], "-", color=colour, marker="o",
                        label=run["config"])
    for axes in (latency, throughput):
        axes.set_xscale("log", base=2)
        axes.set_xlabel("concurrent conversations")
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=8)
    latency.set_ylabel("turn latency (ms)")
    latency.axhline(TARGETS["turn_p50_alone_ms"], color="grey", linewidth=0.8)
    throughput.set_ylabel("turns per second")
    throughput.axhline(TARGETS["turns_per_second_at_saturation"], color="grey", linewidth=0.8)
    figure.suptitle("Oyat assistant: REST turns against concurrency (grey: targets)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
