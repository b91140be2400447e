"""Real servers for the tests: free ports; processes (start, wait until up, stop) and
servers on an event loop in a thread of the test process."""

import asyncio
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, List, Mapping, Optional, Union

import requests

from harness.processes import free_port  # noqa: F401  (one way to choose ports, for tests too)


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


def wait_for(condition: Callable[[], Any], seconds: float, what: Union[str, Callable[[], str]],
             interval: float = 0.05) -> Any:
    """The first true value of `condition()`; after `seconds`, fails saying `what` was awaited
    (a callable `what` is asked at the failure, to tell what was seen meanwhile)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what() if callable(what) else what}: not met within {seconds} s")


class LoopThread:
    """An asyncio loop in a daemon thread: servers on it answer the test's real HTTP requests
    while the test itself runs synchronously."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread: Optional[threading.Thread] = None

    def start(self, setup: Callable[[], Awaitable[Any]], seconds: float = 10) -> Any:
        """Runs `setup()` on the loop, then keeps the loop running; what `setup` returned."""
        ready = threading.Event()
        started: List[Any] = []

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            started.append(self.loop.run_until_complete(setup()))
            ready.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        if not ready.wait(seconds):
            raise RuntimeError(f"the server did not start within {seconds} s")
        return started[0]

    def run(self, coroutine: Awaitable[Any], seconds: float = 10) -> Any:
        """Runs a coroutine on the loop and waits for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(seconds)

    def call_soon(self, callback: Callable[[], Any]) -> None:
        self.loop.call_soon_threadsafe(callback)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self._thread is not None:
            self._thread.join(10)
