from actions.contracts import (
    ActionBeneficiaryClause,
    ActionBonusMalus,
    ActionContractInfo,
    ActionFileChangeRequest,
    ActionPaymentInfo,
    ActionSetAsideChangeRequest,
    ActionStartChangeRequest,
    ValidateChangeRequestForm,
    confirmation,
)
from tests.actions.helpers import (
    KARIM,
    MARIE,
    SOPHIE,
    entity,
    identified,
    make_tracker,
    responses,
    slot_event,
    slot_sets,
)
from tests.reference_services.helpers import count


def asking(domain, customer, text, entities=(), **slots):
    return make_tracker(domain, slots=identified(customer, **slots), text=text, entities=list(entities))


async def test_contract_information_comes_from_the_customers_contracts(domain, dispatcher, client):
    await ActionContractInfo().run(dispatcher, asking(domain, MARIE, "que couvre mon contrat habitation",
                                                      [entity("product", "habitation")]), domain)
    [summary] = dispatcher.messages
    assert summary["response"] == "utter_contract_summary"
    assert summary["contract_label"].startswith("HAB-120034")
    assert summary["franchise"].startswith("150,00")
    assert "Dégâts des eaux" in summary["guarantees"]
    assert summary["next_due_label"] == "15 janvier 2027"


async def test_a_terminated_contract_is_said_to_be_terminated(domain, dispatcher, client):
    await ActionContractInfo().run(dispatcher, asking(domain, SOPHIE, "mon contrat HAB-099812"), domain)
    assert responses(dispatcher) == ["utter_contract_terminated_summary"]
    assert dispatcher.messages[0]["end_label"] == "30 juin 2025"


async def test_another_customers_contract_is_unknown(domain, dispatcher, client):
    for action in (ActionContractInfo(), ActionPaymentInfo(), ActionBonusMalus()):
        await action.run(dispatcher, asking(domain, MARIE, "et le contrat AUT-559120 ?"), domain)
    assert responses(dispatcher) == ["utter_contract_unknown"] * 3


async def test_payments_tell_premium_frequency_and_next_due_date(domain, dispatcher, client):
    await ActionPaymentInfo().run(dispatcher, asking(domain, MARIE, "combien je paie pour la voiture",
                                                     [entity("product", "auto")]), domain)
    [payment] = dispatcher.messages
    assert payment["contract_number"] == "AUT-482913" and payment["next_due_label"] == "1 mars 2027"
    assert payment["premium"].endswith("€") and payment["frequency_label"]


async def test_the_bonus_malus_coefficient_is_read_from_the_auto_contract(domain, dispatcher, client):
    await ActionBonusMalus().run(dispatcher, asking(domain, MARIE, "c'est quoi mon bonus"), domain)
    [bonus] = dispatcher.messages
    assert bonus["response"] == "utter_bonus_malus"
    assert (bonus["coefficient"], bonus["percent"]) == ("0,68", "32 %")


async def test_the_beneficiary_clause_is_read_and_a_change_offered(domain, dispatcher, client):
    await ActionBeneficiaryClause().run(dispatcher, asking(domain, KARIM, "qui sont mes bénéficiaires"), domain)
    assert responses(dispatcher) == ["utter_beneficiary_clause", "utter_offer_change_request"]
    assert dispatcher.messages[0]["contract_number"] == "PRV-300871"


async def test_a_customer_without_such_a_contract_gets_the_general_rule(domain, dispatcher, client):
    await ActionBeneficiaryClause().run(dispatcher, asking(domain, MARIE, "ma clause bénéficiaire"), domain)
    assert responses(dispatcher) == ["utter_beneficiary_clause_general"]


async def test_the_change_request_kind_follows_what_the_customer_asked(domain, dispatcher):
    request = {"event": "user", "text": "je veux changer de RIB",
               "parse_data": {"intent": {"name": "change_payment_method"}, "entities": []}}
    tracker = make_tracker(domain, slots=identified(MARIE), text="oui", intent="affirm", events=[request])
    events = await ActionStartChangeRequest().run(dispatcher, tracker, domain)
    assert slot_sets(events) == {"change_request_kind": "payment_method_change", "change_request_confirmed": None}
    assert {"event": "followup", "name": "change_request_form", "timestamp": None} in events


async def test_an_address_given_without_asking_for_a_change_opens_no_change_request(domain, dispatcher):
    said = "c'est au 3 rue des Lilas 69003 Lyon"
    tracker = make_tracker(domain, slots=identified(KARIM), text=said, intent="update_personal_info")
    events = await ActionStartChangeRequest().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_offer_personal_info_change"]
    assert slot_sets(events) == {}
    assert {"event": "followup", "name": "action_listen", "timestamp": None} in events


async def test_a_yes_to_changing_the_details_opens_the_change_request(domain, dispatcher):
    given = {"event": "user", "text": "mon adresse c'est 3 rue des Lilas",
             "parse_data": {"intent": {"name": "update_personal_info"}, "entities": []}}
    tracker = make_tracker(domain, slots=identified(KARIM), text="oui", intent="affirm", events=[given])
    events = await ActionStartChangeRequest().run(dispatcher, tracker, domain)
    assert slot_sets(events)["change_request_kind"] == "personal_info_change"


async def test_a_move_announced_opens_the_change_request(domain, dispatcher):
    tracker = make_tracker(domain, slots=identified(KARIM), text="jai demenagé au 3 rue des lilas",
                           intent="update_personal_info")
    events = await ActionStartChangeRequest().run(dispatcher, tracker, domain)
    assert slot_sets(events)["change_request_kind"] == "personal_info_change"


def test_yes_and_no_are_read_in_the_customers_words():
    assert [confirmation(said, None) for said in ("ouais vas y", "ok envoyez", "oui c bon", "dac")] == ["oui"] * 4
    assert [confirmation(said, None) for said in ("non", "nan laisse tomber", "surtout pas", "n'envoyez pas")] == [
        "non"] * 4
    assert confirmation("euh je sais pas trop", None) is None
    assert confirmation("/affirm", "affirm") == "oui" and confirmation("/deny", "deny") == "non"


async def test_an_unclear_answer_to_the_read_back_asks_again(domain, dispatcher):
    tracker = make_tracker(domain, slots=identified(MARIE, change_request_details="passer en annuel",
                                                    requested_slot="change_request_confirmed"), text="hmm",
                           intent="inform", events=[slot_event("change_request_confirmed", "hmm")],
                           active_loop="change_request_form")
    slots = slot_sets(await ValidateChangeRequestForm().run(dispatcher, tracker, domain))
    assert slots["change_request_confirmed"] is None
    assert responses(dispatcher) == ["utter_change_request_confirmation_unclear"]


async def test_the_yes_that_opened_the_request_is_no_yes_to_its_read_back(domain, dispatcher):
    tracker = make_tracker(domain, slots=identified(KARIM, change_request_kind="beneficiary_change"), text="oui",
                           intent="affirm", events=[slot_event("change_request_confirmed", "oui")],
                           active_loop="change_request_form")
    slots = slot_sets(await ValidateChangeRequestForm().run(dispatcher, tracker, domain))
    assert slots["change_request_confirmed"] is None and responses(dispatcher) == []


async def test_another_request_at_the_details_question_is_served_and_nothing_kept(domain, dispatcher):
    tracker = make_tracker(domain, slots=identified(MARIE, change_request_kind="payment_method_change"),
                           text="ou en est mon sinistre", intent="claim_status", active_loop="change_request_form")
    events = await ActionSetAsideChangeRequest().run(dispatcher, tracker, domain)
    slots = slot_sets(events)
    assert slots["change_request_kind"] is None and slots["change_request_details"] is None
    assert slots["next_request"] == [{"intent": "claim_status", "text": "ou en est mon sinistre", "entities": [],
                                      "announce": False}]
    assert {"event": "active_loop", "name": None, "timestamp": None} in events


async def test_a_change_request_is_filed_with_a_reference_and_a_delay(domain, dispatcher, client, services):
    tracker = make_tracker(
        domain,
        slots=identified(KARIM, change_request_kind="beneficiary_change",
                         change_request_details="Ajouter ma sœur comme bénéficiaire sur PRV-300871",
                         change_request_confirmed="oui"),
    )
    events = slot_sets(await ActionFileChangeRequest().run(dispatcher, tracker, domain))
    [filed] = dispatcher.messages
    assert filed["response"] == "utter_change_request_filed"
    assert filed["reference"].startswith("DEM-") and filed["delay_days"] == 10
    assert events == {"change_request_details": None, "change_request_kind": None, "change_request_confirmed": None}


async def test_a_change_request_refused_at_its_read_back_files_nothing(domain, dispatcher, client, services):
    before = count(services, "customer_requests", "customer_id = ?", (KARIM,))
    tracker = make_tracker(domain, slots=identified(KARIM, change_request_kind="beneficiary_change",
                                                    change_request_details="Ajouter ma sœur", change_request_confirmed="non"))
    events = slot_sets(await ActionFileChangeRequest().run(dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_change_request_not_sent"]
    assert count(services, "customer_requests", "customer_id = ?", (KARIM,)) == before
    assert events == {"change_request_details": None, "change_request_kind": None, "change_request_confirmed": None}


async def test_a_change_request_that_cannot_be_filed_is_said_so_and_its_details_not_kept(
        domain, dispatcher, unreachable_services):
    tracker = make_tracker(domain, slots=identified(MARIE, change_request_kind="coverage_change",
                                                    change_request_details="baisser ma franchise auto",
                                                    change_request_confirmed="oui"))
    events = slot_sets(await ActionFileChangeRequest().run(dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_change_request_failed"]
    assert events == {"change_request_details": None, "change_request_kind": None, "change_request_confirmed": None}


async def test_empty_or_oversized_change_descriptions_are_asked_again(domain, dispatcher):
    for said in ("", "x" * 1001):
        tracker = make_tracker(domain, slots=identified(MARIE, change_request_details=said), text=said,
                               events=[slot_event("change_request_details", said)], active_loop="change_request_form")
        slots = slot_sets(await ValidateChangeRequestForm().run(dispatcher, tracker, domain))
        assert slots["change_request_details"] is None
