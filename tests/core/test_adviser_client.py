"""The console's client of the policy service (core/adviser_client.py) against the real
services: typed answers of the contract, typed refusals, an unreachable service told as
such; and the action server's side of the console (core/service_client.py): a hand-off
filed with its conversation and call-back contact, the advisers available."""
import uuid
from datetime import datetime, timezone

import pytest
from aiohttp import web

from core import adviser_grant
from core.adviser_client import AdviserRefused, AdviserServices, ServiceUnavailable
from core.service_client import CustomerIdentity, ServiceRefusal, ServicesClient
from core.service_contract import ErrorCode, HandoffDetail, HandoffSummary
from tests.conftest import (
    TEST_ADVISER_CONSOLE_TOKEN,
    TEST_ADVISER_DEMO_PASSWORD,
    TEST_ADVISER_GRANT_SECRET,
    identity_assertion,
)
from tests.reference_services.helpers import new_adviser


@pytest.fixture
async def advisers(services):
    client = AdviserServices(services.base_url, TEST_ADVISER_CONSOLE_TOKEN, timeout=5)
    yield client
    await client.close_client()


@pytest.fixture
async def action_server(services):
    client = ServicesClient(services.base_url, services.base_url, services.token, timeout_seconds=5)
    yield client
    await client.close()


async def test_an_adviser_logs_in_takes_answers_and_closes_a_handoff(advisers, action_server):
    conversation_id = str(uuid.uuid4())
    filed = await action_server.file_handoff(None, "widget", "demande explicite", "Veut un conseiller.",
                                             conversation_id=conversation_id, contact="06 12 34 56 78")
    opened = await advisers.login("conseiller", TEST_ADVISER_DEMO_PASSWORD)
    assert opened.adviser.display_name == "Camille Martin" and opened.adviser.role == "adviser"
    session = opened.session
    assert (await advisers.current(session)).adviser.login == "conseiller"
    assert await action_server.advisers_available() >= 1

    waiting = await advisers.handoffs(session, status="waiting")
    assert all(isinstance(handoff, HandoffSummary) for handoff in waiting)
    assert filed.reference in [handoff.reference for handoff in waiting]

    detail = await advisers.handoff(session, filed.reference)
    assert isinstance(detail, HandoffDetail)
    assert (detail.conversation_id, detail.contact, detail.status) == (conversation_id, "+33612345678", "waiting")
    assert detail.grant.scope == "read" and detail.customer_file is None

    taken = await advisers.take(session, filed.reference)
    assert taken.status == "taken" and taken.taken_by.login == "conseiller"
    grant = adviser_grant.verify(taken.grant.token, TEST_ADVISER_GRANT_SECRET, datetime.now(timezone.utc),
                                 conversation_id, "write")
    assert grant.adviser_name == "Camille Martin"
    recorded = await advisers.send(session, filed.reference, "Bonjour, je suis Camille.")
    assert recorded.created_at.tzinfo is not None
    closed = await advisers.close(session, filed.reference)
    assert closed.status == "closed"
    assert [event.kind for event in closed.events] == ["filed", "taken", "message", "closed"]
    assert closed.events[2].text == "Bonjour, je suis Camille."

    await advisers.logout(session)
    with pytest.raises(AdviserRefused) as refused:
        await advisers.current(session)
    assert refused.value.code == ErrorCode.adviser_session_invalid and refused.value.status == 401


async def test_refusals_come_back_typed_with_their_code(services, advisers, action_server):
    with pytest.raises(AdviserRefused) as refused:
        await advisers.login(new_adviser(services), "pas le mot de passe")
    assert (refused.value.status, refused.value.code) == (401, ErrorCode.adviser_login_refused)
    session = (await advisers.login("superviseur", TEST_ADVISER_DEMO_PASSWORD)).session
    with pytest.raises(AdviserRefused) as refused:
        await advisers.handoff(session, "TRF-2026-999999")
    assert refused.value.code == ErrorCode.handoff_not_found
    with pytest.raises(AdviserRefused) as refused:  # quoted, never a path of its own
        await advisers.handoff(session, "../../v1/openapi.json")
    assert refused.value.status == 404
    filed = await action_server.file_handoff(None, "rest", "r", "s")
    with pytest.raises(AdviserRefused) as refused:
        await advisers.send(session, filed.reference, "x" * 2001)
    assert refused.value.code == ErrorCode.validation_error


async def test_a_locked_adviser_is_told_how_long_to_wait(services):
    login = new_adviser(services, password="le bon mot de passe")
    client = AdviserServices(services.base_url, TEST_ADVISER_CONSOLE_TOKEN)
    try:
        for _ in range(5):
            with pytest.raises(AdviserRefused):
                await client.login(login, "wrong")
        with pytest.raises(AdviserRefused) as refused:
            await client.login(login, "le bon mot de passe")
    finally:
        await client.close_client()
    assert refused.value.code == ErrorCode.adviser_locked
    assert 14 * 60 < refused.value.retry_after_seconds <= 15 * 60


async def test_the_services_token_does_not_open_the_advisers_routes(services):
    client = AdviserServices(services.base_url, services.token)
    try:
        with pytest.raises(AdviserRefused) as refused:
            await client.login("conseiller", TEST_ADVISER_DEMO_PASSWORD)
    finally:
        await client.close_client()
    assert refused.value.code == ErrorCode.unauthorized


async def test_a_policy_service_out_of_reach_or_off_contract_is_unavailable(unused_tcp_port):
    client = AdviserServices(f"http://127.0.0.1:{unused_tcp_port}", TEST_ADVISER_CONSOLE_TOKEN, timeout=1)
    try:
        with pytest.raises(ServiceUnavailable):
            await client.current("some-session")
    finally:
        await client.close_client()

    async def off_contract(_request):
        return web.json_response({"handoffs": [{"reference": "TRF-2026-000001"}]})

    app = web.Application()
    app.router.add_get("/v1/handoffs", off_contract)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    client = AdviserServices(f"http://127.0.0.1:{unused_tcp_port}", TEST_ADVISER_CONSOLE_TOKEN, timeout=1)
    try:
        with pytest.raises(ServiceUnavailable):
            await client.handoffs("some-session")
    finally:
        await client.close_client()
        await runner.cleanup()


async def test_an_identified_customers_handoff_carries_the_conversation(services, action_server):
    marie = CustomerIdentity("10000001", identity_assertion("10000001"))
    filed = await action_server.file_handoff(marie, "whatsapp", "demande explicite", "Sinistre en cours.",
                                             conversation_id="wa-conversation-1")
    assert filed.status == "waiting"
    with pytest.raises(ServiceRefusal) as refused:
        await action_server.file_handoff(None, "widget", "r", "s", contact="pas un numéro")
    assert refused.value.code == ErrorCode.validation_error and "contact" in refused.value.details["fields"]

