"""One turn at a time per conversation across every Rasa replica: Rasa's Redis lock
store, made atomic.

Rasa 3.6's RedisLockStore changes a conversation's ticket lock by reading it, changing
it in the process and writing it back. Two replicas taking a ticket at the same moment
both read the same lock and both get the same ticket: both handle their message at
once and each saves a turn the other did not see (caught by the scale-out test,
tests/dialogue/test_scale_out.py). Here every change of a lock is a Redis transaction
(WATCH/MULTI/EXEC, retried when another replica changed the lock meanwhile), and a
message waiting for the lock looks again every few milliseconds, not every second.

Configured in endpoints.production.yml (`type: bot.lock_store.AtomicRedisLockStore`)
with the settings of Rasa's Redis lock store (url, port, password, db, key_prefix).
"""
import json
from typing import Any, AsyncContextManager, Callable, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# How often a message waiting for its conversation's lock looks again (Rasa: 1 s).
POLL_SECONDS = 0.01

Change = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], Any]]


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose ticket locks change in Redis transactions."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    def lock(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
             wait_time_in_seconds: float = POLL_SECONDS) -> AsyncContextManager[TicketLock]:
        return super().lock(conversation_id, lock_lifetime, wait_time_in_seconds)

    def _change(self, conversation_id: Text, change: Change) -> Any:
        """Applies `change` to the stored lock atomically (None: no lock / delete it)."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> Any:
            stored = pipe.get(key)
            lock, result = change(TicketLock.from_dict(json.loads(stored)) if stored else None)
            pipe.multi()
            if lock is None:
                pipe.delete(key)
            else:
                pipe.set(key, lock.dumps())
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Tuple[TicketLock, int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        def without_expired(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, without_expired)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        def served(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
                if not lock.is_someone_waiting():
                    lock = None
            return lock, None

        self._change(conversation_id, served)
