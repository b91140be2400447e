"""The address notices may be sent to, signed for each message of the channels that can
write to a customer later (core/reply_address.py).

On the widget the address is the conversation itself (the notifier writes to its socket);
on WhatsApp, Telegram and Messenger it is the platform address the message came from, as
connectors/recipients.py remembered it as the message arrived. The action server passes
it on, unread, when the customer agrees to be told here when their claim moves (or says
STOP): only the services read it. No CHANNEL_ASSERTION_SECRET: no address, and the
customer is never asked.
"""
from typing import Optional

from connectors.recipients import recipients
from core import reply_address
from core.clock import now_utc
from core.settings import read

METADATA_KEY = reply_address.METADATA_KEY


async def signed_reply_address(channel: str, conversation: str) -> Optional[str]:
    """The signed address of the customer of `conversation` on `channel`, or None (a channel
    that cannot write later, no secret, an address not known)."""
    if channel not in reply_address.NOTICE_CHANNELS:
        return None
    secret = read(reply_address.SECRET_VARIABLE)
    if not secret:
        return None
    if channel == "widget":
        address: Optional[str] = conversation
    else:
        found = await recipients().find(conversation)
        address = found.address if found is not None and found.platform == channel else None
    if not address:
        return None
    return reply_address.issue(secret, channel, address, conversation, now_utc())
