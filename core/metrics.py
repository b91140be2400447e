"""The Prometheus metrics of every process, in one place (prometheus-client).

Each long-running process serves its own registry at `/metrics` on its own port
(core/observability.py): the Rasa server 5005, the action server 5055, the policy
service 5101, the claims service 5102, the web site 8080. A metric is declared here once
and moves only in the process that does the thing it counts (the others show it at 0).

Labels never carry personal data nor anything a customer typed: channels, intents and
actions of the model, error codes of the contract, kinds and reasons the code fixes,
each passed through `bounded()` so that an unexpected value becomes "other" (a label
value never grows with the traffic).

| metric | where it moves |
| --- | --- |
| `oyat_turns_total{channel}` | connectors/pipeline.py: a message handed to the assistant |
| `oyat_turn_seconds{channel}` | bot/turn_metrics.py: Rasa's handling of one message |
| `oyat_intents_total{intent}` | bot/turn_metrics.py: the intent of each message |
| `oyat_fallbacks_total{kind}` | bot/turn_metrics.py: `nlu` (nlu_fallback), `core` (action_default_fallback) |
| `oyat_action_seconds{action}` | actions/server.py: one call of the action server |
| `oyat_service_errors_total{service, code}` | core/service_client.py: a refusal's code, `unavailable`, `unreachable`, `outside_contract` |
| `oyat_handoffs_total{channel, reason}` | policy service: a hand-off filed |
| `oyat_claims_filed_total{channel}` | claims service: a new claim stored |
| `oyat_attestations_issued_total{kind}` | policy service: an attestation generated |
| `oyat_outbox_backlog{outbox}` | at each scrape: `messages` (policy service: e-mails and SMS queued or being sent), `claims` (action server: claims confirmed during an outage, not filed yet) |
| `oyat_phone_events_total{event, outcome}` | connectors/call_core.py: a voice gateway's event |
"""
import re
from typing import Iterable, Optional, Tuple

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

OTHER = "other"
# The channels of the product (connectors.guard.CHANNELS) and the socket.io name of the widget.
CHANNELS = frozenset({"rest", "widget", "socketio", "ivr", "whatsapp", "telegram", "messenger"})
# A name the code or the model gives (intent, action, code, kind): never free text.
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # memory, CPU, open files of this process
PlatformCollector(registry=REGISTRY)

# A turn on 2 cores: tens of milliseconds to seconds (an action server calling the services).
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 30.0)
ACTION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)

TURNS = Counter("oyat_turns", "Customers' messages handed to the assistant, by channel",
                ["channel"], registry=REGISTRY)
TURN_SECONDS = Histogram("oyat_turn_seconds", "Time the Rasa server took to answer one message",
                         ["channel"], buckets=TURN_BUCKETS, registry=REGISTRY)
INTENTS = Counter("oyat_intents", "Intents of the customers' messages", ["intent"], registry=REGISTRY)
FALLBACKS = Counter("oyat_fallbacks", "Messages the assistant did not understand: nlu (below the "
                    "NLU threshold) or core (no confident next action)", ["kind"], registry=REGISTRY)
ACTION_SECONDS = Histogram("oyat_action_seconds", "Time the action server took to run one action",
                           ["action"], buckets=ACTION_BUCKETS, registry=REGISTRY)
SERVICE_ERRORS = Counter("oyat_service_errors", "Calls to the policy and claims services that failed, "
                         "by service and error code", ["service", "code"], registry=REGISTRY)
HANDOFFS = Counter("oyat_handoffs", "Hand-offs to an adviser filed, by channel and reason",
                   ["channel", "reason"], registry=REGISTRY)
CLAIMS_FILED = Counter("oyat_claims_filed", "Claims filed (new ones, not replays), by channel",
                       ["channel"], registry=REGISTRY)
ATTESTATIONS_ISSUED = Counter("oyat_attestations_issued", "Insurance certificates generated, by kind",
                              ["kind"], registry=REGISTRY)
OUTBOX_BACKLOG = Gauge("oyat_outbox_backlog", "Messages waiting in an outbox (queued or being sent)",
                       ["outbox"], registry=REGISTRY)
PHONE_EVENTS = Counter("oyat_phone_events", "Events of the voice gateways, by type and outcome "
                       "(answered, replayed, or the refusal's code)", ["event", "outcome"], registry=REGISTRY)


def bounded(value: Optional[str], allowed: Optional[Iterable[str]] = None) -> str:
    """`value` as a label: among `allowed` when given, else a short lowercase name; "other" otherwise."""
    text = str(value or "")
    if allowed is not None:
        return text if text in allowed else OTHER
    return text if _NAME.fullmatch(text) else OTHER


def channel_label(channel: Optional[str]) -> str:
    return bounded(channel, CHANNELS)


def exposition() -> Tuple[bytes, str]:
    """This process's metrics in Prometheus's text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
