"""The claims service deletes, by itself, the files nobody attached to a claim.

A file sent during a declaration that is then abandoned, or by a visitor who never
identified, is deleted `UNATTACHED_UPLOAD_RETENTION_HOURS` (24) after it arrived: at
start, then every PURGE_INTERVAL_SECONDS. The claims service does it because it holds
the uploads folder (on Kubernetes, a volume only its pod mounts); the nightly
retention purge (`operations.cli privacy purge`) runs elsewhere and could not reach the files.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from core.clock import now_utc
from reference_services.background import run_in_background
from reference_services.claims.uploads import purge_unattached_uploads

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


def install_unattached_upload_purge(app: Any) -> None:
    """Runs the purge while the claims service runs."""
    run_in_background(app, "purge of unattached files", purge_once, PURGE_INTERVAL_SECONDS, RETRY_SECONDS)
