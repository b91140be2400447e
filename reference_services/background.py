"""Rounds a service runs in the background while it serves (the customers' reminders, the
purge of files never attached to a claim): a round, then a pause, a shorter one after a
failure (the database may be back); started once the server runs (the database engine is
open by then), cancelled when it stops. A failed round never stops the service."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Optional

logger = logging.getLogger(__name__)


def run_in_background(app: Any, name: str, one_round: Callable[[Any], Awaitable[Any]],
                      every_seconds: float, retry_seconds: float) -> None:
    """Runs `one_round(app)` every `every_seconds` while `app` serves; `name` says which in the log."""
    task: Optional[asyncio.Task] = None

    async def repeat() -> None:
        while True:
            try:
                await one_round(app)
                delay = every_seconds
            except asyncio.CancelledError:
                raise
            except Exception as error:  # database unreachable...: the next round tries again
                logger.error("%s failed: %s", name, type(error).__name__)
                delay = retry_seconds
            await asyncio.sleep(delay)

    async def start(app: Any, _loop: Any) -> None:
        nonlocal task
        task = asyncio.get_running_loop().create_task(repeat())

    async def stop(app: Any, _loop: Any) -> None:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")
