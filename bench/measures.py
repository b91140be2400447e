"""What the benchmark measures besides the conversations: a full training, the time
to load the model, the resident memory of every process of the stack."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, Optional

import psutil

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

# As the Rasa server loads it (bot/rasa_server.py: its version check and runtime patches,
# among them the loader for prediction only).
LOAD_MODEL = """
import json, sys, time
from rasa.core.agent import Agent
from bot.startup import install_runtime_patches
install_runtime_patches()
started = time.perf_counter()
agent = Agent.load(sys.argv[1])
assert agent.is_ready()
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def full_training_seconds() -> Dict:
    """`rasa train` of the current config, domain and data into a temporary folder,
    with an empty training cache: the time a change of the pipeline costs."""
    with tempfile.TemporaryDirectory(prefix="oyat-bench-train-") as folder:
        env = {**os.environ, "RASA_CACHE_DIRECTORY": str(Path(folder) / "cache")}
        started = time.monotonic()
        result = subprocess.run(
            [str(VENV_BIN / "rasa"), "train", "--config", "config.yml", "--domain", "domain", "--data", "data",
             "--out", folder, "--fixed-model-name", "bench"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )
        seconds = time.monotonic() - started
        if result.returncode != 0:
            raise RuntimeError(f"training failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
        size = (Path(folder) / "bench.tar.gz").stat().st_size
    return {"seconds": round(seconds, 1), "model_mb": round(size / 2**20, 1)}


def model_load_seconds(model: Path) -> float:
    """Loading the model into a fresh process (unpacking it, building every component)."""
    result = subprocess.run([str(VENV_BIN / "python"), "-c", LOAD_MODEL, str(model)],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    return round(json.loads(result.stdout.strip().splitlines()[-1])["seconds"], 2)


def tree_rss(pid: int) -> int:
    """Resident memory of a process and its children (nginx's workers, PostgreSQL's backends)."""
    try:
        process = psutil.Process(pid)
        tree = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for member in tree:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


class MemorySampler:
    """Samples the resident memory of named processes in the background; keeps the peak."""

    def __init__(self, processes: Dict[str, int], every_seconds: float = 0.5) -> None:
        self.processes = processes
        self.every_seconds = every_seconds
        self.peak: Dict[str, int] = dict.fromkeys(processes, 0)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def sample(self) -> None:
        for name, pid in self.processes.items():
            self.peak[name] = max(self.peak[name], tree_rss(pid))

    def __enter__(self) -> "MemorySampler":
        def loop() -> None:
            while not self._stop.wait(self.every_seconds):
                self.sample()

        self.sample()
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    def peak_mb(self) -> Dict[str, float]:
        return {name: round(rss / 2**20) for name, rss in self.peak.items()}
