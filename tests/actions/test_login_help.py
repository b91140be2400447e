from actions.login_help import ActionSendIdentifierReminder, ActionSendPasswordReset
from tests.actions.helpers import MARIE, identified, make_tracker, responses
from tests.reference_services.helpers import sent_messages as outbox_for


async def test_an_identified_customer_gets_a_real_password_reset_email(domain, dispatcher, client, services):
    before = len(outbox_for(services, "marie.dupont@example.fr"))
    await ActionSendPasswordReset().run(dispatcher, make_tracker(domain, slots=identified(MARIE)), domain)
    assert responses(dispatcher) == ["utter_password_reset_sent"]
    assert dispatcher.messages[0]["sent_to"] != "marie.dupont@example.fr"  # masked
    sent = outbox_for(services, "marie.dupont@example.fr")
    assert len(sent) == before + 1
    assert "connexion.oyat-assurances.fr" in sent[-1]["body"]


async def test_an_identified_customer_gets_their_identifier_by_email(domain, dispatcher, client, services):
    await ActionSendIdentifierReminder().run(dispatcher, make_tracker(domain, slots=identified(MARIE)), domain)
    assert responses(dispatcher) == ["utter_identifier_reminder_sent"]
    assert MARIE in outbox_for(services, "marie.dupont@example.fr")[-1]["body"]


async def test_an_anonymous_user_gets_no_email_and_is_asked_to_identify(domain, dispatcher, client, services):
    before = len(outbox_for(services, "marie.dupont@example.fr"))
    await ActionSendPasswordReset().run(dispatcher, make_tracker(domain), domain)
    assert responses(dispatcher) == ["utter_identification_required"]
    assert len(outbox_for(services, "marie.dupont@example.fr")) == before


async def test_when_the_policy_service_is_down_the_customer_gets_the_manual_steps(domain, dispatcher, unreachable_services):
    await ActionSendPasswordReset().run(dispatcher, make_tracker(domain, slots=identified(MARIE)), domain)
    assert responses(dispatcher) == ["utter_login_action_failed"]
