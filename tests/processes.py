"""Real server processes for the tests: free ports, start, wait until up, stop."""

import socket
import subprocess
import time
from pathlib import Path
from typing import List, Mapping

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: List[str], cwd: Path, env: Mapping[str, str], log_path: Path) -> subprocess.Popen:
    with log_path.open("wb") as log:
        return subprocess.Popen(command, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(url: str, process: subprocess.Popen, seconds: float, log_path: Path) -> None:
    """Waits until `url` answers below 500; fails with the process's log otherwise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited:\n{log_path.read_text(errors='replace')[-4000:]}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {seconds} s:\n{log_path.read_text(errors='replace')[-4000:]}")


def stop(process: subprocess.Popen, seconds: float = 20) -> None:
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
