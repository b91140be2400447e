"""JSON responses in readable UTF-8 (accents as such, not \\u escapes)."""
from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from sanic.response import HTTPResponse


def json_response(
    body: Any, status: int = 200, headers: Optional[Mapping[str, str]] = None
) -> HTTPResponse:
    return HTTPResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        headers=dict(headers or {}),
        content_type="application/json; charset=utf-8",
    )
