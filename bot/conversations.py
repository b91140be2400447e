"""The stored conversations, for retention and data-protection requests.

Works on the table of Rasa's SQL tracker store (`events`: one row per event, JSON
in `data`, the slot name in `action_name` for slot events), where endpoints.yml
puts it. A customer's conversations are those where they were identified: a slot
event setting `authenticated_customer_id` or `procedure_owner` to their id.

Retention (`CONVERSATION_RETENTION_DAYS`, default 90): a conversation silent for
longer is deleted whole; in a conversation still going on, the sessions before the
current one lose their events older than that (the current session is what Rasa
reloads: it is kept whole).
"""
import json
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import Engine

from core.settings import default, read
from core.slots import AUTHENTICATED_CUSTOMER_ID, PROCEDURE_OWNER

DEFAULT_RETENTION_DAYS = default("CONVERSATION_RETENTION_DAYS")
IDENTITY_SLOTS = (AUTHENTICATED_CUSTOMER_ID, PROCEDURE_OWNER)


def retention_days(environ: Optional[Mapping[str, str]] = None) -> int:
    """CONVERSATION_RETENTION_DAYS (default: os.environ); SettingsError, a ValueError, naming it."""
    return read("CONVERSATION_RETENTION_DAYS", environ)


def tracker_store_url(endpoints_file: Path) -> str:
    """The database of the SQL tracker store configured in `endpoints_file`."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    config = read_endpoint_config(str(endpoints_file), "tracker_store")
    if config is None:
        raise ValueError(f"{endpoints_file} configures no tracker store")
    settings = config.kwargs
    url = SQLTrackerStore.get_db_url(
        settings.get("dialect", "sqlite"), config.url, settings.get("port"),
        settings.get("db", "rasa.db"), settings.get("username"), settings.get("password"),
        settings.get("login_db"), settings.get("query"),
    )
    return url if isinstance(url, str) else url.render_as_string(hide_password=False)


class ConversationStore:
    """The tracker store's `events` table, read and pruned directly."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, future=True, hide_parameters=True)

    def conversations_of(self, customer_id: str) -> List[str]:
        """The conversation ids (senders) where this customer was identified."""
        query = text("SELECT sender_id, data FROM events WHERE type_name = 'slot' "
                     "AND action_name IN :slots").bindparams(bindparam("slots", expanding=True))
        with self.engine.connect() as connection:
            rows = connection.execute(query, {"slots": list(IDENTITY_SLOTS)})
            senders = {sender for sender, data in rows if json.loads(data).get("value") == customer_id}
        return sorted(senders)

    def events(self, sender_ids: Sequence[str]) -> Dict[str, List[Dict[str, Any]]]:
        """The stored events of these conversations, oldest first."""
        found: Dict[str, List[Dict[str, Any]]] = {sender: [] for sender in sender_ids}
        with self.engine.connect() as connection:
            for sender in sender_ids:
                rows = connection.execute(
                    text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"),
                    {"sender": sender})
                found[sender] = [json.loads(data) for (data,) in rows]
        return found

    def delete(self, sender_ids: Sequence[str]) -> int:
        """Deletes these conversations; returns how many events went."""
        deleted = 0
        with self.engine.begin() as connection:
            for sender in sender_ids:
                deleted += connection.execute(
                    text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender}).rowcount
        return deleted

    def purge(self, older_than: float) -> Dict[str, int]:
        """Applies the retention period: `older_than` is the oldest timestamp kept."""
        with self.engine.begin() as connection:
            silent = [sender for (sender,) in connection.execute(
                text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"),
                {"cutoff": older_than})]
            whole = 0
            for sender in silent:
                whole += connection.execute(
                    text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender}).rowcount
            past_sessions = connection.execute(text(
                # The current session starts where Rasa starts it: at the latest session_started.
                "DELETE FROM events WHERE timestamp < :cutoff AND timestamp < ("
                "  SELECT MAX(latest.timestamp) FROM events AS latest"
                "  WHERE latest.sender_id = events.sender_id AND latest.type_name = 'session_started')"
            ), {"cutoff": older_than}).rowcount
        return {"conversations_deleted": len(silent), "events_deleted": whole + past_sessions}

    def close(self) -> None:
        self.engine.dispose()
