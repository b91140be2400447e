"""Registers the Telegram channel's webhook with Telegram: `setWebhook` with the secret token.

    python -m connectors.telegram_webhook set --url https://assistant.example.fr/webhooks/telegram/webhook
    python -m connectors.telegram_webhook info
    python -m connectors.telegram_webhook delete

Reads TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN and TELEGRAM_API_URL (core.settings, `.env`
included). Telegram then sends each update to the URL with the header
`X-Telegram-Bot-Api-Secret-Token: <TELEGRAM_SECRET_TOKEN>`, which connectors.telegram checks,
and only the updates the channel answers (`ALLOWED_UPDATES`: reactions, polls, member
changes are not asked for). Exit code 0 when Telegram took the request, 1 when it refused
or could not be reached, 2 for a setting or an argument that does not do.
"""

import argparse
import asyncio
import json
import re
import sys
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

import aiohttp

from core.settings import SettingsError, read

# The updates connectors.telegram handles.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
# Telegram's rule for secret_token: 1 to 256 characters, A-Z a-z 0-9 _ -.
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
TIMEOUT_SECONDS = 20


class Refused(Exception):
    """Telegram refused the request, or could not be reached."""


async def call(api_url: str, bot_token: str, method: str, payload: Dict[str, Any]) -> Any:
    """A Bot API method's `result`; Refused with Telegram's description otherwise."""
    url = f"{api_url.rstrip('/')}/bot{bot_token}/{method}"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)) as session:
            async with session.post(url, json=payload) as answer:
                body = await answer.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        raise Refused(f"Telegram unreachable: {type(error).__name__}") from None
    if not isinstance(body, dict) or not body.get("ok"):
        description = body.get("description") if isinstance(body, dict) else None
        raise Refused(f"Telegram refused {method}: {description or 'no description'}")
    return body.get("result")


def webhook_settings(url: str, secret_token: str, drop_pending_updates: bool = False) -> Dict[str, Any]:
    """setWebhook's parameters; ValueError when the URL or the secret would not do."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("--url must be an https URL (Telegram sends webhooks over HTTPS only)")
    if not _SECRET_TOKEN.fullmatch(secret_token or ""):
        raise ValueError("TELEGRAM_SECRET_TOKEN must be 1 to 256 characters among A-Z a-z 0-9 _ -")
    return {"url": url, "secret_token": secret_token, "allowed_updates": ALLOWED_UPDATES,
            "drop_pending_updates": drop_pending_updates}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.telegram_webhook",
                                     description="The Telegram channel's webhook, as Telegram knows it.")
    commands = parser.add_subparsers(dest="command", required=True)
    set_command = commands.add_parser("set", help="setWebhook: the URL, with the secret token")
    set_command.add_argument("--url", required=True, help="https://<host>/webhooks/telegram/webhook")
    set_command.add_argument("--drop-pending-updates", action="store_true",
                             help="forget the updates Telegram kept while no webhook answered")
    commands.add_parser("info", help="getWebhookInfo: the URL Telegram uses, pending updates, last error")
    commands.add_parser("delete", help="deleteWebhook")
    arguments = parser.parse_args(argv)
    try:
        bot_token, api_url = read("TELEGRAM_BOT_TOKEN"), read("TELEGRAM_API_URL")
        if not bot_token:
            raise SettingsError("TELEGRAM_BOT_TOKEN is not set")
        if arguments.command == "set":
            method, payload = "setWebhook", webhook_settings(
                arguments.url, read("TELEGRAM_SECRET_TOKEN"), arguments.drop_pending_updates)
        else:
            method, payload = {"info": "getWebhookInfo", "delete": "deleteWebhook"}[arguments.command], {}
    except (SettingsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(call(api_url, bot_token, method, payload))
    except Refused as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if method == "setWebhook":
        print(f"webhook set: {arguments.url} (secret token sent, updates: {', '.join(ALLOWED_UPDATES)})")
    else:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
