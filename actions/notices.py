"""The customer's consent to be told here when their claim moves, and STOP (issue 15).

After a claim is filed (or queued while the claims service is down) on the widget or a
messaging app, the customer is asked once, in the conversation, whether to be told here
of the expert's visit and the indemnity. « Oui » records the consent with the services
along with the address the channel signed for this very message (`channel_reply_address`,
core/reply_address.py): the action server never reads it, it passes it on. A claim still
waiting in the claim outbox carries the consent when the services cannot take it now: the
outbox records it once the claim is filed (actions/claim_outbox.py).

« STOP », « arrêter les notifications » withdraws on any channel: an identified customer's
consents, else those of the address the message came from. A bare « stop » is read as a
cancel, which stops a form in progress; outside any form it withdraws too
(action_nothing_to_cancel).

The phone line and the REST API are never asked: the channel signs no address there.
"""
import logging
import re
import unicodedata
from typing import Any, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.claim_outbox import claim_outbox
from actions.common.identity import identified_customer
from actions.common.messages import latest_intent
from core import reply_address
from core.service_client import CustomerIdentity, ServiceRefusal, ServiceUnavailable, services
from core.slots import CLAIM_FILING_PENDING

logger = logging.getLogger(__name__)

NOTICE_CONSENT_PENDING = "notice_consent_pending"
NOTICE_CONSENT_ASKED = "notice_consent_asked"
# The words that alone withdraw, as the platforms' own opt-out keyword (read as a cancel by
# the NLU, which must keep stopping forms with them).
STOP_WORDS = frozenset({"stop", "stopp", "stoppe", "stop stop", "stop svp", "stop merci", "stop stp"})
_NOT_LETTERS = re.compile(r"[^a-z ]+")


def signed_address(tracker: Tracker) -> Optional[str]:
    """The address the channel signed for the latest message, as it came."""
    value = ((tracker.latest_message or {}).get("metadata") or {}).get(reply_address.METADATA_KEY)
    return value if isinstance(value, str) and value else None


def notice_channel(tracker: Tracker) -> Optional[str]:
    """The latest message's channel, when notices can reach the customer there."""
    channel = tracker.get_latest_input_channel()
    return channel if channel in reply_address.NOTICE_CHANNELS else None


def is_stop_word(text: Optional[str]) -> bool:
    """« STOP », « Stop ! », « stop svp »: the opt-out keyword alone."""
    plain = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return " ".join(_NOT_LETTERS.sub(" ", plain).split()) in STOP_WORDS


async def offer_claim_notices(dispatcher: CollectingDispatcher, tracker: Tracker,
                              customer: Optional[CustomerIdentity]) -> List[EventType]:
    """Asks whether to be told here when the claim moves, once per conversation (one
    customer, one channel), and not when the customer already agreed on this channel."""
    channel = notice_channel(tracker)
    if customer is None or channel is None or signed_address(tracker) is None:
        return []
    if tracker.get_slot(NOTICE_CONSENT_ASKED):
        return []
    try:
        consents = await services().list_notice_consents(customer)
        if any(getattr(consent, "channel", None) == channel for consent in consents):
            return [SlotSet(NOTICE_CONSENT_ASKED, True)]
    except (ServiceUnavailable, ServiceRefusal, AttributeError) as error:
        # Not known: asked (a second consent on the same channel replaces the first).
        logger.info("notice consents not read: %s", type(error).__name__)
    dispatcher.utter_message(response="utter_notices_offer")
    return [SlotSet(NOTICE_CONSENT_PENDING, True), SlotSet(NOTICE_CONSENT_ASKED, True)]


class ActionOfferClaimNotices(Action):
    """The question, once the customer put off the filing of a queued claim."""

    def name(self) -> Text:
        return "action_offer_claim_notices"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not tracker.get_slot(CLAIM_FILING_PENDING):
            return []
        return await offer_claim_notices(dispatcher, tracker, identified_customer(tracker))


class ActionNoticeConsent(Action):
    """The answer to the question: « oui » records the consent (or, the services out of
    reach, hands it to the claim waiting in the outbox), « non » records nothing."""

    def name(self) -> Text:
        return "action_notice_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        done = [SlotSet(NOTICE_CONSENT_PENDING, False)]
        if latest_intent(tracker) != "affirm":
            dispatcher.utter_message(response="utter_notices_consent_declined")
            return done
        customer, channel, signed = identified_customer(tracker), notice_channel(tracker), signed_address(tracker)
        if customer is None or channel is None or signed is None:
            dispatcher.utter_message(response="utter_notices_consent_failed")
            return done
        try:
            await services().record_notice_consent(customer, channel, tracker.sender_id, signed)
        except ServiceUnavailable:
            if tracker.get_slot(CLAIM_FILING_PENDING) and await _kept_with_queued_claims(tracker, customer, signed):
                dispatcher.utter_message(response="utter_notices_consent_given_queued")
                return done
            dispatcher.utter_message(response="utter_notices_consent_failed")
            return done
        except ServiceRefusal as refusal:
            logger.warning("notice consent refused: %s", refusal.code)
            dispatcher.utter_message(response="utter_notices_consent_failed")
            return done
        queued = bool(tracker.get_slot(CLAIM_FILING_PENDING))
        dispatcher.utter_message(response="utter_notices_consent_given_queued" if queued else "utter_notices_consent_given")
        return done


async def _kept_with_queued_claims(tracker: Tracker, customer: CustomerIdentity, signed: str) -> bool:
    """Hands the consent to this conversation's claims waiting in the outbox, recorded when
    they are filed; whether one took it."""
    try:
        return await claim_outbox().keep_notice_consent(tracker.sender_id, str(customer), signed) > 0
    except (SQLAlchemyError, OSError) as error:
        logger.error("claim outbox unavailable: %s", type(error).__name__)
        return False


async def stop_notices(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """Withdraws the consents of the identified customer, else of the address the message
    came from, and says so."""
    done: List[EventType] = [SlotSet(NOTICE_CONSENT_PENDING, False)]
    customer, signed = identified_customer(tracker), signed_address(tracker)
    if customer is None and signed is None:
        dispatcher.utter_message(response="utter_notices_stop_where")
        return done
    try:
        if customer is not None:
            await services().withdraw_notice_consents(customer=customer)
        if signed is not None:  # and the address's, whoever agreed there
            await services().withdraw_notice_consents(reply_address_assertion=signed)
    except (ServiceUnavailable, ServiceRefusal) as error:
        logger.warning("notice consents not withdrawn: %s", getattr(error, "code", type(error).__name__))
        dispatcher.utter_message(response="utter_notices_stop_failed")
        return done
    dispatcher.utter_message(response="utter_notices_stopped")
    return done


class ActionStopNotifications(Action):
    def name(self) -> Text:
        return "action_stop_notifications"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return await stop_notices(dispatcher, tracker)


class ActionNothingToCancel(Action):
    """A cancel with nothing in progress: a bare « STOP » withdraws the notices, anything
    else has nothing to cancel."""

    def name(self) -> Text:
        return "action_nothing_to_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if is_stop_word((tracker.latest_message or {}).get("text")):
            return await stop_notices(dispatcher, tracker)
        dispatcher.utter_message(response="utter_nothing_to_cancel")
        events: List[Any] = []
        if tracker.get_slot(NOTICE_CONSENT_PENDING):
            events.append(SlotSet(NOTICE_CONSENT_PENDING, False))
        return events

