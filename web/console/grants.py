"""The grants the policy service gave this web process, per adviser session and hand-off.

The console polls a conversation every 1.5 s; asking the policy service for the hand-off
(and a fresh grant) each time would record an opening each time. The grant it gave with the
page is kept here, in memory, until a minute before it expires; then the hand-off is asked
for again. Kept by the session token's hash: a grant serves only the session it was given to.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Dict, Optional, Tuple

MARGIN = timedelta(minutes=1)
MOST = 10_000  # beyond, the expired ones are forgotten, then the oldest


@dataclass(frozen=True)
class Grant:
    token: str
    scope: str
    expires_at: datetime
    conversation_id: str

    @property
    def writes(self) -> bool:
        return self.scope == "write"


def _key(session: str, reference: str) -> Tuple[str, str]:
    return hashlib.sha256(session.encode()).hexdigest(), reference


class Grants:
    def __init__(self) -> None:
        self._grants: Dict[Tuple[str, str], Grant] = {}

    def get(self, session: str, reference: str, *, write: bool = False,
            now: Optional[datetime] = None) -> Optional[Grant]:
        """The grant still good for a minute at least (a write one when `write`)."""
        grant = self._grants.get(_key(session, reference))
        now = now or datetime.now(timezone.utc)
        if grant is None or grant.expires_at - MARGIN <= now or (write and not grant.writes):
            return None
        return grant

    def keep(self, session: str, reference: str, grant: Grant) -> None:
        if len(self._grants) >= MOST:
            now = datetime.now(timezone.utc)
            for key in [key for key, kept in self._grants.items() if kept.expires_at <= now]:
                del self._grants[key]
            while len(self._grants) >= MOST:
                del self._grants[next(iter(self._grants))]
        self._grants[_key(session, reference)] = grant

    def forget(self, session: str, reference: Optional[str] = None) -> None:
        """This hand-off's grant, or every grant of the session (logout)."""
        if reference is not None:
            self._grants.pop(_key(session, reference), None)
            return
        hashed = _key(session, "")[0]
        for key in [key for key in self._grants if key[0] == hashed]:
            del self._grants[key]
