"""/ready of each process answers 200 only when what the process needs answers: the services'
database, the action server's claim outbox, the Rasa server's model, action server,
conversations and Redis; 503 naming what does not, while /health (alive) stays as it was."""
import asyncio
import os
import sys
from types import SimpleNamespace

import pytest
import requests

from bot.operations import rasa_checks
from core.observability import redis_check
from harness.engines import PostgresServer, RedisServer, missing_engines
from harness.servers import free_port, start, stop, wait_until_up
from tests.conftest import REPO_ROOT, running_services
from tests.dialogue.conftest import ACTION_SERVER_TOKEN


def ready(url: str) -> requests.Response:
    return requests.get(f"{url}/ready", timeout=15)


def test_every_process_of_a_running_stack_is_ready(operated_stack):
    rasa = ready(operated_stack.rasa.url)
    assert rasa.status_code == 200, rasa.text
    assert rasa.json()["checks"] == {"model": "ok", "action_server": "ok", "conversations_database": "ok"}
    for url in (operated_stack.rasa.actions_url, operated_stack.services.base_url, operated_stack.web_url):
        answer = ready(url)
        assert answer.status_code == 200 and answer.json()["status"] == "ready", (url, answer.text)
    for url in (operated_stack.rasa.url, operated_stack.rasa.actions_url, operated_stack.services.base_url,
                operated_stack.web_url):
        for path in ("/metrics", "/ready"):  # relayed by the public entry: not for outside callers
            assert requests.get(url + path, headers={"X-Forwarded-For": "203.0.113.7"}, timeout=10).status_code == 404


@pytest.mark.skipif("postgresql" in missing_engines(), reason="PostgreSQL is not installed (Debian package postgresql)")
def test_the_services_and_the_action_server_are_not_ready_while_their_database_is_down(tmp_path):
    postgres = PostgresServer().start(tmp_path / "postgresql.log")
    try:
        outbox_url = postgres.create_database("claim_outbox")
        with running_services(tmp_path, postgres.create_database("oyat")) as services:
            port, log = free_port(), tmp_path / "actions.log"
            actions = start([sys.executable, "-m", "actions.server", "--actions", "actions", "--port", str(port)],
                            cwd=REPO_ROOT, log_path=log, env={
                                **os.environ, "PYTHONPATH": str(REPO_ROOT), "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
                                "CLAIM_OUTBOX_URL": outbox_url, "POLICY_SERVICE_URL": services.base_url,
                                "CLAIMS_SERVICE_URL": services.base_url, "OFFICE_HOURS": "24/7"})
            actions_url = f"http://127.0.0.1:{port}"
            try:
                wait_until_up(f"{actions_url}/health", actions, 60, log)
                assert ready(services.base_url).json() == {"status": "ready", "checks": {"database": "ok"}}
                assert ready(actions_url).json() == {"status": "ready", "checks": {"claim_outbox_database": "ok"}}

                postgres.stop()

                down = ready(services.base_url)
                assert down.status_code == 503 and down.json()["status"] == "not_ready"
                assert down.json()["checks"]["database"] != "ok"
                down = ready(actions_url)
                assert down.status_code == 503 and down.json()["checks"]["claim_outbox_database"] != "ok"
                assert requests.get(f"{actions_url}/health", timeout=10).status_code == 200  # alive all the same
            finally:
                stop(actions)
    finally:
        postgres.stop()


def test_the_rasa_server_is_not_ready_without_its_action_server_or_a_model(operated_stack, monkeypatch):
    monkeypatch.delenv("REDIS_HOST", raising=False)
    endpoint = SimpleNamespace(url=f"http://127.0.0.1:{free_port()}/webhook")  # nobody listens there
    agent = SimpleNamespace(is_ready=lambda: True, action_endpoint=endpoint, tracker_store=None, lock_store=None)
    checks = asyncio.run(rasa_checks(SimpleNamespace(ctx=SimpleNamespace(agent=agent))))
    assert checks["model"] == "ok" and checks["action_server"].startswith("failed")
    agent.action_endpoint = SimpleNamespace(url=f"{operated_stack.rasa.actions_url}/webhook")
    assert asyncio.run(rasa_checks(SimpleNamespace(ctx=SimpleNamespace(agent=agent))))["action_server"] == "ok"
    agent.is_ready = lambda: False
    assert asyncio.run(rasa_checks(SimpleNamespace(ctx=SimpleNamespace(agent=agent))))["model"] == "not_loaded"
    assert asyncio.run(rasa_checks(SimpleNamespace(ctx=SimpleNamespace(agent=None)))) == {"model": "not_loaded"}


@pytest.mark.skipif("redis-server" in missing_engines(), reason="Redis is not installed (Debian package redis-server)")
def test_redis_is_checked_with_its_password_and_fails_once_stopped(tmp_path):
    redis = RedisServer().start(tmp_path / "redis.log")
    try:
        assert asyncio.run(redis_check("127.0.0.1", redis.port, redis.password)) == "ok"
        assert asyncio.run(redis_check("127.0.0.1", redis.port, "wrong")) != "ok"
    finally:
        redis.stop()
    assert asyncio.run(redis_check("127.0.0.1", redis.port, redis.password)) != "ok"
