"""The services' background rounds: each runs again after its pause, a failed round is
logged and tried again sooner, and stopping the server stops them."""
import asyncio
import logging

from reference_services.background import run_in_background


class App:
    """What run_in_background uses of a sanic app: its listeners."""

    def __init__(self) -> None:
        self.listeners = {}

    def register_listener(self, listener, event) -> None:
        self.listeners[event] = listener


async def test_a_round_runs_again_a_failure_is_retried_sooner_and_stopping_ends_it(caplog):
    app, rounds = App(), []

    async def one_round(app_given) -> None:
        assert app_given is app
        rounds.append(len(rounds))
        if len(rounds) == 2:
            raise ConnectionError("database unreachable")

    run_in_background(app, "test round", one_round, every_seconds=0.05, retry_seconds=0.01)
    with caplog.at_level(logging.ERROR, logger="reference_services.background"):
        await app.listeners["after_server_start"](app, None)
        for _ in range(200):
            if len(rounds) >= 4:
                break
            await asyncio.sleep(0.01)
        await app.listeners["before_server_stop"](app, None)
    assert len(rounds) >= 4  # went on after the failed one
    assert "test round failed: ConnectionError" in caplog.text
    stopped_at = len(rounds)
    await asyncio.sleep(0.1)
    assert len(rounds) == stopped_at
