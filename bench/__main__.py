"""`make bench` (python -m bench): see README.md, section "Benchmark".

    python -m bench                                   the default configuration (make run's)
    python -m bench --stack production --replicas 1 2 the production one, with 1 then 2 Rasa replicas
    python -m bench --stack default production        both, compared in one plot
    python -m bench --url http://host:5005            a stack already running (tokens from .env)
"""
import argparse
import asyncio
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

import psutil
from dotenv import load_dotenv

from bench.load import measure_parse, run_level, warm_up
from bench.measures import MemorySampler, full_training_seconds, model_load_seconds
from bench.report import STOCK, TARGETS, plot, print_report, summarize, verdicts, write_json
from harness.stack import ROOT, Stack, start_default, start_production


def arguments(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", nargs="+", choices=["default", "production"], default=["default"],
                        help="configurations to start and measure (default: default)")
    parser.add_argument("--replicas", nargs="+", type=int, default=[2],
                        help="production: Rasa replicas behind nginx, one run per number (default: 2)")
    parser.add_argument("--action-servers", type=int, default=2, help="production: action servers (default: 2)")
    parser.add_argument("--url", help="measure the stack already running there instead of starting one")
    parser.add_argument("--concurrency", type=int, default=32, help="most conversations at once (default: 32)")
    parser.add_argument("--levels", type=lambda text: [int(n) for n in text.split(",")],
                        help="concurrency levels, comma-separated (default: 1, 2, 4, ... up to --concurrency)")
    parser.add_argument("--seconds", type=float, default=20, help="duration of each level (default: 20)")
    parser.add_argument("--parse-seconds", type=float, default=10, help="duration of the parse measure (default: 10)")
    parser.add_argument("--skip-training", action="store_true", help="do not time a full training")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench.json",
                        help="JSON results; the plot goes next to it (.png)")
    return parser.parse_args(argv)


def levels_up_to(concurrency: int) -> List[int]:
    levels, level = [], 1
    while level < concurrency:
        levels.append(level)
        level *= 2
    return levels + [concurrency]


def current_model() -> Path:
    model = subprocess.run(["bash", "scripts/train.sh"], cwd=ROOT, check=True, stdout=subprocess.PIPE,
                           env={**os.environ, "VENV": str(Path(sys.executable).parent.parent)}).stdout
    return ROOT / model.decode().strip()


def measure(url: str, api_token: str, jwt_secret: str, args: argparse.Namespace,
            processes: Dict[str, int]) -> Dict:
    """Warm-up, the parse alone, then every concurrency level, memory sampled throughout."""
    with MemorySampler(processes) as memory:
        warm = asyncio.run(warm_up(url, jwt_secret))
        if warm["errors"]:
            raise RuntimeError(f"the stack at {url} answers wrongly: {warm['error_samples']}")
        parse = asyncio.run(measure_parse(url, api_token, args.parse_seconds))
        levels = []
        for concurrency in args.levels or levels_up_to(args.concurrency):
            print(f"   {concurrency} conversation(s) at once for {args.seconds:.0f} s", flush=True)
            levels.append(asyncio.run(run_level(url, jwt_secret, concurrency, args.seconds)))
    return {"url": url, "parse": parse, "levels": levels, "memory_mb": memory.peak_mb() if processes else {}}


def run_started_stack(config: str, model: Path, args: argparse.Namespace, replicas: int = 1) -> Dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"oyat-bench-{config}-"))
    print(f"== starting the {config} configuration"
          + (f" ({replicas} Rasa replicas)" if config == "production" else "") + f"; logs in {workdir}", flush=True)
    stack: Stack = (start_default(model, workdir) if config == "default"
                    else start_production(model, workdir, replicas, args.action_servers))
    try:
        run = measure(stack.url, stack.api_token, stack.jwt_secret, args, stack.memory_processes())
    except BaseException:
        print(f"   (logs kept in {workdir})", file=sys.stderr)
        stack.stop()
        raise
    stack.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    return {"config": stack.config, **run, "startup_seconds": {k: round(v, 1) for k, v in stack.startup_seconds.items()}}


def main(argv: Optional[List[str]] = None) -> int:
    args = arguments(argv)
    os.chdir(ROOT)
    model = current_model()
    training = None
    if not args.skip_training:
        print("== timing a full training (empty cache, temporary folder)", flush=True)
        training = full_training_seconds()
    results = {
        "machine": {"cpus": psutil.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                    "python": platform.python_version()},
        "model": str(model.relative_to(ROOT)),
        "model_mb": round(model.stat().st_size / 2**20, 1),
        "model_load_seconds": model_load_seconds(model),
        "training": training,
        "targets": TARGETS,
        "stock_rasa": STOCK,
        "runs": [],
    }
    if args.url:
        load_dotenv(ROOT / ".env", override=False)
        print(f"== measuring the stack at {args.url}", flush=True)
        run = measure(args.url, os.environ["RASA_API_TOKEN"], os.environ["ESPACE_CLIENT_JWT_SECRET"], args, {})
        results["runs"].append({"config": "url", **run})
    else:
        for config in args.stack:
            for replicas in (args.replicas if config == "production" else [1]):
                results["runs"].append(run_started_stack(config, model, args, replicas))
    for run in results["runs"]:
        run["summary"] = summarize(run)
        run["verdicts"] = verdicts(run["summary"], training)
    write_json(results, args.out)
    plot(results["runs"], args.out.with_suffix(".png"))
    print_report(results)
    print(f"\nresults: {args.out}, plot: {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
