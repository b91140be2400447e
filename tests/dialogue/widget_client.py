"""A socket.io client speaking to the widget channel as the widget does (long-polling)."""

import io
import itertools
import queue
from typing import Any, Dict, List, Optional, Tuple

import requests
import socketio
from PIL import Image
from requests.adapters import HTTPAdapter

TURN_TIMEOUT_SECONDS = 60
# Each client uploads from a loopback address of its own (127.0.0.0/8 all reaches the
# machine), as each visitor comes from theirs: the per-address allowances of one test
# never reach another's.
_loopback_hosts = itertools.count(1)


def new_loopback_address() -> str:
    """127.0.0.2, 127.0.0.3... (never a network or broadcast-looking .0 or .255)."""
    number = next(_loopback_hosts)
    return f"127.{number // (254 * 256) % 256}.{number // 254 % 256}.{number % 254 + 1}"


class FromAddress(HTTPAdapter):
    """Connections that leave from `address`."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def jpeg_photo(width: int = 320, height: int = 240) -> bytes:
    """A real small JPEG: a kitchen-floor-coloured gradient."""
    image = Image.new("RGB", (width, height))
    image.putdata([(120 + x % 100, 80 + y % 80, 40) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


class WidgetClient:
    def __init__(self, rasa_url: str, address: Optional[str] = None, origin: Optional[str] = None) -> None:
        """A socket to the widget channel; `origin`: the web page a browser would say opened it."""
        self.url = rasa_url
        self.address = address or new_loopback_address()
        self.http = requests.Session()
        self.http.mount("http://", FromAddress(self.address))
        self.events: "queue.Queue[Tuple[str, Any]]" = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        for name in ("session_confirm", "history", "bot_uttered", "bot_typing"):
            self.sio.on(name, self._recorder(name))
        self.sio.connect(rasa_url, transports=["polling"], socketio_path="/socket.io", wait_timeout=20,
                         headers={"Origin": origin} if origin else {})
        self.session_id: Optional[str] = None

    def _recorder(self, name: str):
        return lambda data=None: self.events.put((name, data))

    def next_event(self, *names: str) -> Tuple[str, Any]:
        while True:
            name, data = self.events.get(timeout=TURN_TIMEOUT_SECONDS)
            if name in names:
                return name, data

    def open(self, session_id: Any = None, **custom_data: Any) -> List[Dict[str, Any]]:
        """Opens (or resumes) a conversation; returns its history."""
        self.sio.emit("session_request", {"session_id": session_id, "customData": custom_data})
        _, self.session_id = self.next_event("session_confirm")
        return self.next_event("history")[1]

    def answer(self) -> List[Dict[str, Any]]:
        """The assistant's messages until it stops typing."""
        messages = []
        while True:
            name, data = self.next_event("bot_uttered", "bot_typing")
            if name == "bot_uttered":
                messages.append(data)
            elif data is False:
                return messages

    def say(self, text: Any, **custom_data: Any) -> List[Dict[str, Any]]:
        self.emit(text, **custom_data)
        return self.answer()

    def emit(self, text: Any, **custom_data: Any) -> None:
        self.sio.emit("user_uttered", {"message": text, "customData": custom_data})

    def emit_raw(self, event_json: str) -> None:
        """An event whose JSON (`["name", data]`) is written by hand, for JSON the client library
        would refuse to write; engine.io adds its message type, socket.io's is 2 (an event)."""
        self.sio.eio.send("2" + event_json)

    def refusal(self) -> str:
        """The text of a polite refusal (no typing indicator: nothing reached the assistant)."""
        name, data = self.next_event("bot_uttered", "bot_typing")
        assert name == "bot_uttered", "the message reached the assistant"
        return data["text"]

    def upload(self, filename: str, content: bytes, content_type: str, socket_id: Optional[str] = None,
               session_id: Optional[str] = None) -> requests.Response:
        return self.http.post(
            f"{self.url}/webhooks/widget/upload",
            data={"session_id": session_id or self.session_id, "socket_id": socket_id or self.sio.get_sid()},
            files={"file": (filename, content, content_type)},
            timeout=30,
        )

    def close(self) -> None:
        # An engine.io close ends the socket on the server too; the client's own disconnect
        # would wait for the pending long-poll (up to 25 s).
        self.sio.eio.disconnect(abort=True)
        self.http.close()


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(message.get("text") or "" for message in messages)
