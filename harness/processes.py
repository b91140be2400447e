"""Server processes started by the benchmark and the scale-out test: free loopback
ports, start with a log file, wait until they answer, stop."""
import random
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Mapping, Optional

import requests

# Ports are chosen below the kernel's ephemeral range, where the local ports of
# outgoing connections come from: a server that binds its port seconds after it was
# chosen (Rasa loads its model first) would otherwise find it taken by a connection.
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
PORTS_BELOW_EPHEMERAL = 10000
_handed_out: set = set()


def free_port() -> int:
    """A loopback port nobody listens on, never handed out twice in this process."""
    try:
        first_ephemeral = int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first_ephemeral = 32768  # Linux's default
    low = max(1024, first_ephemeral - PORTS_BELOW_EPHEMERAL)
    for _ in range(1000):
        port = random.randrange(low, first_ephemeral)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port between {low} and {first_ephemeral}")


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
