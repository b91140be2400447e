import json

import pytest
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from bot.action_connections import KeptAliveEndpoint, dumps


def test_a_call_is_written_as_the_standard_library_would_read_it():
    call = {"next_action": "action_x", "tracker": {"events": [{"event": "user", "text": "été", "confidence": 0.25}],
                                                   "slots": {"n": None, "ok": True}}}
    assert json.loads(dumps(call)) == call


def test_what_orjson_cannot_write_is_written_by_the_standard_library():
    assert json.loads(dumps({"big": 2**70, 3: "non-string key"})) == {"big": 2**70, "3": "non-string key"}


@pytest.mark.asyncio
async def test_calls_to_the_action_server_reuse_one_connection_and_carry_the_whole_call():
    received, peers = [], set()

    async def webhook(request):
        received.append(await request.json())
        peers.add(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    endpoint = KeptAliveEndpoint.of(EndpointConfig(f"http://127.0.0.1:{port}/webhook"))
    try:
        calls = [{"next_action": f"action_{n}", "tracker": {"events": [{"event": "user", "text": "é" * n}]}}
                 for n in range(3)]
        for call in calls:
            assert await endpoint.request(method="post", json=call) == {"events": [], "responses": []}
        assert received == calls
        assert len(peers) == 1
    finally:
        await endpoint._client.close()
        await runner.cleanup()
