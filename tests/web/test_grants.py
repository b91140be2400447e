"""The grants the console keeps between polls: per session and hand-off, never past their
expiry, a read grant never standing for a write one."""

from datetime import datetime, timedelta, timezone

from web.console.grants import Grant, Grants

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
REFERENCE = "TRF-2026-000001"


def grant(scope: str = "read", minutes: float = 15) -> Grant:
    return Grant(f"token-{scope}", scope, NOW + timedelta(minutes=minutes), "widget:abc")


def test_a_grant_serves_its_session_and_hand_off_only():
    grants = Grants()
    grants.keep("session-a", REFERENCE, grant())
    assert grants.get("session-a", REFERENCE, now=NOW) == grant()
    assert grants.get("session-b", REFERENCE, now=NOW) is None
    assert grants.get("session-a", "TRF-2026-000002", now=NOW) is None


def test_a_grant_about_to_expire_is_asked_for_again():
    grants = Grants()
    grants.keep("session", REFERENCE, grant(minutes=15))
    assert grants.get("session", REFERENCE, now=NOW + timedelta(minutes=13)) is not None
    assert grants.get("session", REFERENCE, now=NOW + timedelta(minutes=14, seconds=1)) is None


def test_a_read_grant_never_stands_for_a_write_one():
    grants = Grants()
    grants.keep("session", REFERENCE, grant("read"))
    assert grants.get("session", REFERENCE, write=True, now=NOW) is None
    grants.keep("session", REFERENCE, grant("write"))
    assert grants.get("session", REFERENCE, write=True, now=NOW).token == "token-write"


def test_logging_out_forgets_every_grant_of_the_session():
    grants = Grants()
    grants.keep("session", REFERENCE, grant())
    grants.keep("session", "TRF-2026-000002", grant())
    grants.keep("other", REFERENCE, grant())
    grants.forget("session")
    assert grants.get("session", REFERENCE, now=NOW) is None
    assert grants.get("session", "TRF-2026-000002", now=NOW) is None
    assert grants.get("other", REFERENCE, now=NOW) is not None
