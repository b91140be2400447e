"""Server processes started by the benchmark and the scale-out test: free loopback
ports, start with a log file, wait until they answer, stop."""
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Mapping, Optional

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    """One server process with its log."""

    name: str
    popen: subprocess.Popen
    log_path: Path
    started_at: float
    url: str = ""  # where it serves, once known

    @classmethod
    def start(cls, name: str, command: List[str], cwd: Path, env: Mapping[str, str], log_path: Path,
              user: Optional[str] = None) -> "Process":
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                command, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                user=user, group=user if user else None, stdin=subprocess.DEVNULL,
            )
        return cls(name, popen, log_path, time.monotonic())

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self, characters: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:]

    def wait_until(self, ready: Callable[[], bool], seconds: float, what: str) -> float:
        """Waits until `ready()`; returns the seconds since the start. Fails with the log."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({what}):\n{self.log_tail()}")
            try:
                if ready():
                    return time.monotonic() - self.started_at
            except Exception:  # not up yet: refused connection, database starting...
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: {what} not ready in {seconds} s:\n{self.log_tail()}")

    def wait_for_http(self, url: str, seconds: float) -> float:
        return self.wait_until(lambda: requests.get(url, timeout=2).status_code < 500, seconds, url)

    def stop(self, seconds: float = 20, how: int = signal.SIGTERM) -> None:
        """Sends `how` (SIGTERM unless the server wants another), kills after `seconds`."""
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(how)
        try:
            self.popen.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def stop_all(processes: List[Process]) -> None:
    """Stops the processes, last started first."""
    for process in reversed(processes):
        process.stop()
