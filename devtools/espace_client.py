"""Session tokens of the espace client (spec §5), as the customer-area page issues them.

The real espace client is the insurer's; this is what the demo pages and the terminal
chat use to act as a logged-in demo customer.
"""

import datetime as dt

import jwt


def issue_session_token(customer_id: str, secret: str, minutes: int = 60) -> str:
    """A JWT signed HS256, `sub` = customer id, expiring in `minutes`."""
    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    return jwt.encode({"sub": customer_id, "exp": expires}, secret, algorithm="HS256")
