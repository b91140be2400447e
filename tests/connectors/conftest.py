"""Fixtures of the channel tests: a fake platform API, and the services for received files."""

import pytest
from sanic import Sanic

from connectors import rate_limit, upload_limits
from core import service_client as services_module
from core.service_client import ServicesClient
from tests.connectors.fake_platform import FakePlatformApi

# Channel tests start several sanic apps in one process: sanic's start-up rewriting of
# its own methods must start from the originals each time, which its test mode does.
# Set before any app starts, whatever the order of the tests.
Sanic.test_mode = True


@pytest.fixture(scope="session")
def platform_api():
    api = FakePlatformApi().start()
    yield api
    api.stop()


@pytest.fixture
def fake_api(platform_api):
    """The fake platform API, with no call recorded yet."""
    platform_api.clear()
    platform_api.files.clear()
    return platform_api


@pytest.fixture
def claims_service(services):
    """Received files go to the test claims service (connectors use the actions' client)."""
    services_module.use_services(ServicesClient(services.base_url, services.base_url, services.token, retries=0))
    yield services
    services_module.use_services(None)


@pytest.fixture(autouse=True)
def fresh_rate_limits(monkeypatch):
    """Each test starts with full buckets: the limiter is process-wide, the test users are not."""
    monkeypatch.setattr(rate_limit, "_limiter", rate_limit.RateLimiter.from_environment({}))


@pytest.fixture(autouse=True)
def fresh_upload_allowances(monkeypatch):
    """Each test starts with no file counted against the process-wide allowances."""
    monkeypatch.setattr(upload_limits, "_allowances", None)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A Redis server of the tests' own, as production's (password, nothing saved)."""
    from harness.engines import RedisServer, missing_engines

    if "redis-server" in missing_engines():
        pytest.skip("Debian package redis-server not installed")
    server = RedisServer().start(tmp_path_factory.mktemp("redis") / "redis.log")
    yield server
    server.stop()


@pytest.fixture
def unreachable_redis():
    """SharedRedis clients of a Redis that does not answer (nothing listens on its port)."""
    from connectors.shared_state import SharedRedis
    from harness.servers import free_port

    port = free_port()
    return lambda: SharedRedis.from_environment({"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(port)})
