"""Fixtures to run actions the way Rasa calls them, against a real services instance."""

from typing import Any, Dict

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import claim_outbox as claim_outbox_module
from core import service_client as services_module
from core.service_client import ServicesClient
from tests.actions.helpers import JWT_SECRET


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load("domain").as_dict()


@pytest.fixture
async def client(services) -> ServicesClient:
    """The actions' services client, pointed at the test services for this test."""
    client = ServicesClient(services.base_url, services.base_url, services.token, timeout_seconds=5, retries=1)
    services_module.use_services(client)
    yield client
    services_module.use_services(None)
    await client.close()


@pytest.fixture
async def unreachable_services() -> ServicesClient:
    """A client whose services are down (nothing listens on the port)."""
    client = ServicesClient("http://127.0.0.1:9", "http://127.0.0.1:9", "token", timeout_seconds=1, retries=1)
    services_module.use_services(client)
    yield client
    services_module.use_services(None)
    await client.close()


@pytest.fixture(autouse=True)
async def claim_outbox(tmp_path):
    """Each test its own claim outbox (claims queued while the claims service is down)."""
    outbox = claim_outbox_module.ClaimOutbox(f"sqlite:///{tmp_path / 'claim_outbox.db'}")
    claim_outbox_module.use_claim_outbox(outbox)
    yield outbox
    claim_outbox_module.use_claim_outbox(None)
    await outbox.close()


@pytest.fixture(autouse=True)
def espace_client_secret(monkeypatch):
    monkeypatch.setenv("ESPACE_CLIENT_JWT_SECRET", JWT_SECRET)


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()
