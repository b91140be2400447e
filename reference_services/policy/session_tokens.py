"""The espace-client session token (spec §5): a JWT signed HS256 with
ESPACE_CLIENT_JWT_SECRET, `sub` = customer id, with `exp`. The policy service
verifies it and answers an identity assertion; nothing else holds the secret."""
from __future__ import annotations

import logging
import re
from typing import Any, Optional

import jwt

logger = logging.getLogger(__name__)

_CUSTOMER_ID = re.compile(r"[0-9]{8}")  # ASCII digits only (\d matches those of other scripts too)


def customer_id_from_session_token(token: Any, secret: str) -> Optional[str]:
    """The customer id of a valid token; None when forged, expired, malformed or unsigned."""
    if not isinstance(token, str) or not secret:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as error:
        logger.info("espace-client token refused: %s", type(error).__name__)
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and _CUSTOMER_ID.fullmatch(subject) else None
