"""A conversation as the tracker store's database holds it, for privacy assertions.

Timestamps are left out: they are not the customer's words, and their digits can
contain any short number (« 1978 » in 1796217403.4919782)."""
import json
import sqlite3
from typing import Optional


def stored_events_text(database: str, sender_id: Optional[str] = None) -> str:
    """Every stored event (of one conversation when sender_id is given), JSON decoded, accents kept."""
    query, arguments = "SELECT data FROM events ORDER BY id", ()
    if sender_id is not None:
        query, arguments = "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,)
    with sqlite3.connect(database) as connection:
        rows = connection.execute(query, arguments).fetchall()
    events = [json.loads(data) for (data,) in rows]
    for event in events:
        event.pop("timestamp", None)
    return "\n".join(json.dumps(event, ensure_ascii=False) for event in events)
