"""Every long-running process serves its metrics at /metrics on its own port; after a
conversation held through the REST channel and a phone call, a scraper reading them with
the client's own parser (prometheus_client.parser), and a real Prometheus (Debian's
package) scraping every process, see the figures of what happened:
turns by channel, intents, fallbacks, turn and action latencies, service errors by code,
claims filed, attestations issued, hand-offs, the outbox backlog, phone events. No label
carries anything personal."""
import os
import re
import shutil
import uuid
from typing import Dict, FrozenSet, Tuple

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from harness.servers import free_port, start, stop, wait_for, wait_until_up
from tests.dialogue.conftest import IVR_GATEWAY_TOKEN
from tests.operations.live_conversations import LOST_CANDIDATES, Conversation, not_understood

MARIE, KARIM, SOPHIE = "10000001", "10000002", "10000003"
Samples = Dict[Tuple[str, FrozenSet[Tuple[str, str]]], float]


def scrape(url: str) -> Tuple[str, Samples]:
    answer = requests.get(f"{url}/metrics", timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return answer.text, samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and wanted <= sample_labels)


def phone_call(stack) -> None:
    call_id = f"metrics-call-{uuid.uuid4()}"
    for event in ({"type": "start", "caller": "+33612345678"}, {"type": "hangup"}):
        answer = requests.post(f"{stack.url}/webhooks/ivr/events", timeout=60,
                               headers={"Authorization": f"Bearer {IVR_GATEWAY_TOKEN}"},
                               json={"event_id": str(uuid.uuid4()), "call_id": call_id, **event})
        assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def scrapes(operated_stack):
    """Every process's metrics before and after the conversations, and what was said."""
    stack = operated_stack
    urls = {"rasa": stack.rasa.url, "actions": stack.rasa.actions_url, "services": stack.services.base_url,
            "web": stack.web_url}
    before = {name: scrape(url)[1] for name, url in urls.items()}

    marie = Conversation(stack.rasa, MARIE)
    marie.say("mon pare brise est fissure depuis ce matin")
    marie.say("sur le parking du boulot a Niort")
    marie.say("non aucun")
    filed = marie.say("oui c bon")
    assert re.search(r"SIN-\d{4}-\d{6}", filed), filed
    attestation = Conversation(stack.rasa, SOPHIE).say("il me faut mon attestation décennale")
    assert "http" in attestation, attestation
    marie.say("je veux parler à quelqu'un")
    handed_off = marie.say("oui")
    assert re.search(r"TRF-\d{4}-\d{6}", handed_off), handed_off
    visitor = Conversation(stack.rasa)
    visitor.say("c'est quoi mon bonus ?")
    visitor.say(KARIM)
    visitor.say("01/01/1990")
    visitor.say("123456")  # no code was sent for a wrong birth date: the policy service says wrong_code
    lost = Conversation(stack.rasa)  # words no request is made of: the NLU falls back
    lost.say(not_understood(stack.rasa))
    phone_call(stack.rasa)

    after = {name: scrape(url) for name, url in urls.items()}
    return before, {name: samples for name, (_, samples) in after.items()}, {
        name: text for name, (text, _) in after.items()}


def moved(scrapes, process: str, name: str, **labels: str) -> float:
    before, after, _ = scrapes
    return total(after[process], name, **labels) - total(before[process], name, **labels)


def test_the_rasa_server_counts_turns_by_channel_intents_fallbacks_and_turn_latency(scrapes):
    assert moved(scrapes, "rasa", "oyat_turns_total", channel="rest") >= 12
    assert moved(scrapes, "rasa", "oyat_turns_total", channel="ivr") >= 1
    assert moved(scrapes, "rasa", "oyat_turn_seconds_count", channel="rest") >= 12
    assert moved(scrapes, "rasa", "oyat_turn_seconds_sum", channel="rest") > 0
    assert moved(scrapes, "rasa", "oyat_intents_total") >= 12
    assert moved(scrapes, "rasa", "oyat_intents_total", intent="request_human") >= 1
    assert moved(scrapes, "rasa", "oyat_fallbacks_total") >= 1


def test_the_rasa_server_counts_the_phone_lines_events(scrapes):
    assert moved(scrapes, "rasa", "oyat_phone_events_total", event="start", outcome="answered") == 1
    assert moved(scrapes, "rasa", "oyat_phone_events_total", event="hangup", outcome="answered") == 1


def test_the_action_server_times_each_action_and_counts_the_services_refusals_by_code(scrapes):
    assert moved(scrapes, "actions", "oyat_action_seconds_count") >= 5
    assert moved(scrapes, "actions", "oyat_action_seconds_bucket", le="+Inf") >= 5
    assert moved(scrapes, "actions", "oyat_service_errors_total", service="policy", code="wrong_code") >= 1
    _, after, _ = scrapes
    assert after["actions"][("oyat_outbox_backlog", frozenset({("outbox", "claims")}))] == 0  # nothing queued


def test_the_services_count_claims_attestations_and_hand_offs_and_show_the_outbox_backlog(scrapes):
    assert moved(scrapes, "services", "oyat_claims_filed_total", channel="rest") == 1
    assert moved(scrapes, "services", "oyat_attestations_issued_total") == 1
    assert moved(scrapes, "services", "oyat_handoffs_total", channel="rest") == 1
    _, after, _ = scrapes
    assert ("oyat_outbox_backlog", frozenset({("outbox", "messages")})) in after["services"]


def test_the_web_site_serves_the_same_metrics_and_its_process(scrapes):
    _, after, texts = scrapes
    assert "# TYPE oyat_turns_total counter" in texts["web"]
    assert total(after["web"], "process_resident_memory_bytes") > 0


PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


@pytest.mark.skipif(not os.access(PROMETHEUS, os.X_OK), reason="Prometheus is not installed (Debian package prometheus)")
def test_a_real_prometheus_scrapes_every_process_and_sees_the_figures(operated_stack, scrapes, tmp_path):
    stack = operated_stack
    targets = {"rasa": stack.rasa.url, "actions": stack.rasa.actions_url, "services": stack.services.base_url,
               "web": stack.web_url}
    jobs = "".join(f"  - job_name: {name}\n    static_configs:\n      - targets: ['{url.split('//')[1]}']\n"
                   for name, url in targets.items())
    config = tmp_path / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: 1s\nscrape_configs:\n{jobs}")
    port, log = free_port(), tmp_path / "prometheus.log"
    prometheus = start([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                        f"--web.listen-address=127.0.0.1:{port}"], cwd=tmp_path, env=dict(os.environ), log_path=log)
    api = f"http://127.0.0.1:{port}/api/v1"

    def query(expression: str) -> Dict[str, float]:
        answer = requests.get(f"{api}/query", params={"query": expression}, timeout=10).json()
        return {result["metric"].get("job", ""): float(result["value"][1]) for result in answer["data"]["result"]}

    try:
        wait_until_up(f"http://127.0.0.1:{port}/-/ready", prometheus, 60, log)
        wait_for(lambda: query("up") == dict.fromkeys(targets, 1.0), 60, lambda: f"targets up: {query('up')}")
        _, after, _ = scrapes
        turns = wait_for(lambda: query('sum by (job) (oyat_turns_total{channel="rest"})'), 30, "oyat_turns_total")
        assert turns["rasa"] >= total(after["rasa"], "oyat_turns_total", channel="rest")
        assert query("sum by (job) (oyat_claims_filed_total)")["services"] >= 1
        assert query("sum by (job) (oyat_attestations_issued_total)")["services"] >= 1
        assert query("sum by (job) (oyat_handoffs_total)")["services"] >= 1
        assert query("sum by (job) (oyat_action_seconds_count)")["actions"] >= 5
        assert query("sum by (job) (oyat_fallbacks_total)")["rasa"] >= 1
        assert "web" in query("process_resident_memory_bytes")
    finally:
        stop(prometheus)


def test_no_metric_carries_personal_data(scrapes):
    _, _, texts = scrapes
    for text in texts.values():
        for personal in (MARIE, KARIM, SOPHIE, "+33612345678", "@", "SIN-", "TRF-", "Niort", *LOST_CANDIDATES):
            assert personal not in text
