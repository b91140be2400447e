"""The notifier: `python -m connectors.notifier` (the Procfile's `notifier`).

In a loop: lease the notices the services queued (the policy service's notice routes) (`POST /v1/notices/lease`, each leased 60 s),
hand each to the Rasa servers (`POST /notices/conversations/<id>`, bot/notices.py), then tell
the services what became of it:

- delivered on the channel → `POST /v1/notices/<id>/delivered`;
- the widget's customer has no page open (409 not_connected), the conversation is gone
  (404), or the platform will never reach the customer (410 recipient_gone: blocked the
  bot, left the platform) → `POST /v1/notices/<id>/fallback`: the services e-mail (or
  text) it instead;
- the platform or the Rasa server failed → `POST /v1/notices/<id>/failed` {"retry": true}:
  the services lease it again later; at the last attempt (the lease says `"last_attempt":
  true`) → the fallback instead, so that the customer is told all the same;
- a notice the Rasa server finds invalid (422) → failed without retry.

Both sides are shown NOTIFIER_TOKEN, which opens their notice routes and nothing else.
Never twice: the Rasa server remembers each notice id it delivered (a notifier killed after
the platform took the message but before `delivered` retries when the lease lapses, and is
answered "duplicate"), and the services never lease a delivered notice again. A notifier
that dies holds nothing: its leases lapse. SIGTERM (or Ctrl-C) ends the loop once the notice
in hand is finished. The logs name notice ids and channels, never a text or an address.
"""
import argparse
import asyncio
import logging
import signal
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)

LEASE_LIMIT = 10
# The Rasa server waits for the platform (connectors.messaging: its own timeout) and the
# conversation's lock: more than a platform's answer, well under the 60-second lease.
RASA_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Outcome:
    """What became of one notice: "delivered", "fallback", "retry" or "failed"."""

    kind: str
    reason: str = ""


class Notifier:
    def __init__(self, services_url: str, rasa_url: str, token: str,
                 services_timeout_seconds: float = 5.0, rasa_timeout_seconds: float = RASA_TIMEOUT_SECONDS) -> None:
        self.services_url = services_url.rstrip("/")
        self.rasa_url = rasa_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._services_timeout = aiohttp.ClientTimeout(total=services_timeout_seconds)
        self._rasa_timeout = aiohttp.ClientTimeout(total=rasa_timeout_seconds)
        self._session: Optional[aiohttp.ClientSession] = None
        self.stopping = asyncio.Event()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _services(self, path: str, body: Dict[str, Any]) -> Tuple[int, Any]:
        async with self._client().post(f"{self.services_url}{path}", json=body,
                                       timeout=self._services_timeout) as answer:
            return answer.status, await answer.json(content_type=None)

    async def lease(self, limit: int = LEASE_LIMIT) -> List[Dict[str, Any]]:
        """The notices due now, leased to this notifier; [] when the services fail."""
        try:
            status, body = await self._services("/v1/notices/lease", {"limit": limit})
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("notices: services unreachable (%s)", type(error).__name__)
            return []
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("notices"), list):
            logger.warning("notices: the services answered %s to the lease", status)
            return []
        return [notice for notice in body["notices"] if isinstance(notice, dict) and "id" in notice]

    async def hand_to_rasa(self, notice: Dict[str, Any]) -> Outcome:
        """Asks the Rasa servers to deliver the notice; what became of it."""
        conversation = quote(str(notice.get("conversation_id") or ""), safe="")
        body = {"notice_id": str(notice["id"]), "channel": notice.get("channel"), "address": notice.get("address"),
                "text": notice.get("text"), "template": notice.get("template")}
        try:
            async with self._client().post(f"{self.rasa_url}/notices/conversations/{conversation}", json=body,
                                           timeout=self._rasa_timeout) as answer:
                status = answer.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            return Outcome("retry", f"rasa unreachable ({type(error).__name__})")
        if status == 200:
            return Outcome("delivered")
        if status in (404, 409, 410):
            return Outcome("fallback", {404: "no_conversation", 409: "not_connected", 410: "recipient_gone"}[status])
        if status in (400, 413, 422):
            return Outcome("failed", f"refused by the rasa server ({status})")
        if status == 401:
            logger.error("notices: the Rasa server refuses NOTIFIER_TOKEN")
        return Outcome("retry", f"rasa answered {status}")

    async def report(self, notice_id: Any, outcome: Outcome) -> bool:
        """Tells the services what became of the notice; False when they did not take it."""
        path = f"/v1/notices/{quote(str(notice_id), safe='')}"
        if outcome.kind == "delivered":
            call = (f"{path}/delivered", {})
        elif outcome.kind == "fallback":
            call = (f"{path}/fallback", {})  # e-mail (the services' default)
        else:
            call = (f"{path}/failed", {"retry": outcome.kind == "retry", "reason": outcome.reason[:200]})
        try:
            status, _ = await self._services(*call)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("notice %s: services unreachable (%s); its lease will lapse", notice_id,
                           type(error).__name__)
            return False
        if status >= 300:
            logger.warning("notice %s: the services answered %s to %s", notice_id, status, call[0].rsplit("/", 1)[-1])
            return False
        return True

    async def handle(self, notice: Dict[str, Any]) -> Outcome:
        outcome = await self.hand_to_rasa(notice)
        if outcome.kind == "retry" and notice.get("last_attempt") is True:
            # The channel failed every time: the customer is told by e-mail rather than never.
            outcome = Outcome("fallback", f"last attempt: {outcome.reason}")
        await self.report(notice["id"], outcome)
        logger.info("notice %s (%s): %s%s", notice["id"], notice.get("channel"), outcome.kind,
                    f" ({outcome.reason})" if outcome.reason else "")
        return outcome

    async def one_pass(self) -> int:
        """Leases and handles the due notices (until none is left or it is told to stop);
        how many it handled."""
        handled = 0
        while not self.stopping.is_set():
            notices = await self.lease()
            for notice in notices:
                if self.stopping.is_set():
                    break  # the others' leases lapse: another pass takes them
                await self.handle(notice)
                handled += 1
            if len(notices) < LEASE_LIMIT:
                break
        return handled

    async def run(self, poll_seconds: float, once: bool = False) -> None:
        try:
            while not self.stopping.is_set():
                await self.one_pass()
                if once:
                    return
                try:
                    await asyncio.wait_for(self.stopping.wait(), timeout=poll_seconds)
                except asyncio.TimeoutError:
                    pass
        finally:
            await self.close()
        logger.info("notifier stopped")

    def stop(self) -> None:
        self.stopping.set()


async def _serve(notifier: Notifier, poll_seconds: float, once: bool) -> None:
    loop = asyncio.get_running_loop()
    for each in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(each, notifier.stop)
    logger.info("notifier started: %s → %s", notifier.services_url, notifier.rasa_url)
    await notifier.run(poll_seconds, once=once)


def main() -> None:
    from core.logs import use_log_format
    from core.masking import mask_every_log_handler
    from core.settings import NotifierSettings

    parser = argparse.ArgumentParser(prog="python -m connectors.notifier",
                                     description="Deliver the claim notices the services queued.")
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    args = parser.parse_args()
    settings = NotifierSettings.at_start("connectors.notifier")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    mask_every_log_handler()
    use_log_format(settings.log_format, "notifier")  # LOG_FORMAT (core/logs.py)
    notifier = Notifier(settings.policy_service_url, settings.rasa_server_url, settings.notifier_token,
                        services_timeout_seconds=settings.services_timeout_seconds)
    asyncio.run(_serve(notifier, settings.notifier_poll_seconds, args.once))


if __name__ == "__main__":
    main()
