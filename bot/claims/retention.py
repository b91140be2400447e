"""The claims service deletes, by itself, the files nobody attached to a claim.

A file sent during a declaration that is then abandoned, or by a visitor who never
identified, is deleted `UNATTACHED_UPLOAD_RETENTION_HOURS` (24) after it arrived: at
start, then every PURGE_INTERVAL_SECONDS. The claims service does it because it holds
the uploads folder (on Kubernetes, a volume only its pod mounts); the nightly
retention purge (`bot.cli privacy purge`) runs elsewhere and could not reach the files.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, Optional

from bot.claims.uploads import purge_unattached_uploads
from bot.clock import now_utc

logger = logging.getLogger(__name__)

# A file is deleted at most this long after its retention ran out.
PURGE_INTERVAL_SECONDS = 15 * 60
# After a failure (database unreachable...), the next attempt comes sooner.
RETRY_SECONDS = 60


async def purge_once(app: Any) -> int:
    """Deletes the unattached uploads past their retention; how many."""
    settings = app.ctx.settings
    cutoff = now_utc() - timedelta(hours=settings.unattached_upload_retention_hours)
    async with app.ctx.sessionmaker() as session:
        purged = await purge_unattached_uploads(session, settings.uploads_dir, cutoff)
    if purged:
        logger.info("files never attached to a claim deleted: %d", purged)
    return purged


async def purge_periodically(app: Any) -> None:
    while True:
        try:
            await purge_once(app)
            wait = PURGE_INTERVAL_SECONDS
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the service keeps serving; the next round tries again
            logger.error("purge of unattached files failed: %s", type(error).__name__)
            wait = RETRY_SECONDS
        await asyncio.sleep(wait)


def install_unattached_upload_purge(app: Any) -> None:
    """Runs the purge while the server runs (the database engine is open by then)."""
    task: Optional[asyncio.Task] = None

    async def start(app: Any, _loop: Any) -> None:
        nonlocal task
        task = asyncio.get_running_loop().create_task(purge_periodically(app))

    async def stop(app: Any, _loop: Any) -> None:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")
