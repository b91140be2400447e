"""A customer on a messaging app, as the real stack sees them: their messages are the
platform's webhooks, the answers the platform API calls the fake platform recorded."""

import itertools
import time
from typing import Any, Dict, List, Tuple

import requests

_ids = itertools.count(1)


def unique_id() -> int:
    """An id no other message of the run has: the channels drop a redelivered one."""
    return time.time_ns() // 1000 + next(_ids)


class MessagingUser:
    """Sends webhooks to `url`; a subclass says how a message is signed and what it was answered."""

    url: str

    def __init__(self, platform) -> None:
        self.platform = platform

    def webhook(self, message: Any) -> Tuple[bytes, Dict[str, str]]:
        """The raw body carrying `message`, and the headers that authenticate it."""
        raise NotImplementedError

    def replies(self) -> List[Dict[str, Any]]:
        """The API calls that answered this user, in order."""
        raise NotImplementedError

    def text_of(self, replies: List[Dict[str, Any]]) -> str:
        raise NotImplementedError

    def send(self, message: Any, expect: str) -> List[Dict[str, Any]]:
        """Sends one message; answers the turn's replies, once one of them says `expect`."""
        body, headers = self.webhook(message)
        before = len(self.replies())
        answer = requests.post(self.url, data=body, timeout=10,
                               headers={"Content-Type": "application/json", **headers})
        assert answer.status_code == 200
        self.platform.wait_for(lambda: expect in self.text_of(self.replies()[before:]), seconds=60)
        return self._settled(before)

    def _settled(self, before: int) -> List[Dict[str, Any]]:
        """The turn's replies, once no more arrive."""
        count = -1
        while count != len(self.replies()):
            count = len(self.replies())
            time.sleep(0.7)
        return self.replies()[before:]
