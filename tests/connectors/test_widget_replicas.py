"""Several Rasa replicas, one widget: with REDIS_HOST set, a message for a conversation's room
sent by any replica (an adviser's, from the replica the console reached) reaches the widget
wherever its socket is connected (python-socketio's Redis manager)."""

import queue
import time

import pytest
import socketio

from connectors.widget import SOCKET_IO_CHANNEL, WidgetInput, WidgetOutput, socket_client_manager
from tests.connectors.channel_server import ChannelServer

SESSION = "5" * 32


def environment(redis_server):
    return {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_server.port), "REDIS_PASSWORD": redis_server.password}


@pytest.fixture
def two_replicas(redis_server, monkeypatch):
    for name, value in environment(redis_server).items():
        monkeypatch.setenv(name, value)
    servers = [ChannelServer(WidgetInput.from_credentials(None)).start() for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


def test_a_message_sent_by_another_replica_reaches_the_widget(two_replicas):
    connected, other = two_replicas
    received: "queue.Queue" = queue.Queue()
    client = socketio.Client(reconnection=False)
    for name in ("session_confirm", "history", "bot_uttered"):
        client.on(name, lambda data=None, name=name: received.put((name, data)))
    client.connect(f"http://127.0.0.1:{connected.port}", transports=["polling"], socketio_path="/socket.io",
                   wait_timeout=20)
    try:
        client.emit("session_request", {"session_id": SESSION})
        assert received.get(timeout=10) == ("session_confirm", SESSION)
        assert received.get(timeout=10)[0] == "history"
        # The other replica has no socket of this conversation: it sends to its room, through Redis.
        assert not other.run(_room_members(other, f"widget:{SESSION}"))
        output = WidgetOutput(other.channel.sio, "bot_uttered")
        deadline = time.monotonic() + 15
        while True:  # until the first replica listens to Redis (it subscribes at its first socket)
            other.run(output.send_response(f"widget:{SESSION}", {"text": "Bonjour, ici votre conseillère."}))
            try:
                assert received.get(timeout=0.5) == ("bot_uttered", {"text": "Bonjour, ici votre conseillère."})
                break
            except queue.Empty:
                assert time.monotonic() < deadline, "the message never reached the other replica's widget"
        # Not to another conversation's sockets.
        other.run(output.send_response(f"widget:{'6' * 32}", {"text": "pour quelqu'un d'autre"}))
        time.sleep(0.5)
        assert [data for _, data in _drain(received) if data == {"text": "pour quelqu'un d'autre"}] == []
    finally:
        client.eio.disconnect(abort=True)


async def _room_members(server, room):
    return list(server.channel.sio.manager.get_participants("/", room))


def _drain(received):
    items = []
    while not received.empty():
        items.append(received.get_nowait())
    return items


def test_the_replicas_share_their_emits_only_with_redis(redis_server):
    assert socket_client_manager({}) is None
    manager = socket_client_manager(environment(redis_server))
    assert manager.redis_url == f"redis://127.0.0.1:{redis_server.port}/1"  # the lock store's database 1
    assert manager.redis_options["password"] == redis_server.password  # never written in the URL
    assert manager.channel == SOCKET_IO_CHANNEL


def test_without_redis_a_replica_still_answers_its_own_sockets(monkeypatch):
    from harness.servers import free_port

    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", str(free_port()))  # nothing listens there
    server = ChannelServer(WidgetInput.from_credentials(None)).start()
    client = socketio.Client(reconnection=False)
    received: "queue.Queue" = queue.Queue()
    client.on("session_confirm", lambda data=None: received.put(data))
    try:
        client.connect(f"http://127.0.0.1:{server.port}", transports=["polling"], socketio_path="/socket.io",
                       wait_timeout=20)
        started = time.monotonic()
        client.emit("session_request", {"session_id": SESSION})
        assert received.get(timeout=10) == SESSION
        assert time.monotonic() - started < 5
    finally:
        client.eio.disconnect(abort=True)
        server.stop()
