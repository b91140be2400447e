"""The services' HTTP contract as code (core/service_contract): one list of error codes,
request models that refuse with one French reason per field, answers the client checks,
and the OpenAPI document generated from them."""
import re
from datetime import date
from pathlib import Path

import pytest
from aiohttp import web

from core.service_client import (
    CustomerIdentity,
    IdentityRefused,
    NotFound,
    ServiceRefusal,
    ServicesClient,
    ServiceUnavailable,
)
from core.service_contract import (
    IDENTITY_REFUSALS,
    ROUTES,
    AttestationRequest,
    ClaimDeclaration,
    ClaimDocumentInput,
    ClaimType,
    CodeInput,
    CustomerRequestInput,
    ErrorCode,
    HandoffInput,
    IdentityCheckInput,
    IdentityCheckStarted,
    IdentityVerified,
    PhoneIdentityCheckInput,
    RequestKind,
    field_errors,
    routes_of,
)
from core.service_contract.answers import UploadContentType
from reference_services.claims.uploads import ACCEPTED_TYPES
from reference_services.errors import ERRORS, MESSAGES
from reference_services.openapi import build_openapi
from reference_services.policy.request_kinds import REQUEST_DELAY_DAYS

ROOT = Path(__file__).resolve().parents[2]
UPLOAD_ID = "0123456789abcdef0123456789abcdef"
WHERE = {"conversation_id": "rest:c-1", "channel": "rest"}


def codes_raised_in_the_services() -> set[str]:
    """Every code literally given to an error of the services, or of the assertions they check."""
    sources = [*ROOT.glob("reference_services/**/*.py"), ROOT / "core" / "identity_assertion.py",
               ROOT / "core" / "channel_assertion.py"]
    pattern = re.compile(r'(?:ServiceError|Refused|_wrong_answer)\((?:[^()"]*,\s*)?"(\w+)"')
    codes = {code for source in sources for code in pattern.findall(source.read_text())}
    mapped = re.findall(r'\d{3}: "(\w+)"', (ROOT / "reference_services" / "errors.py").read_text())
    return codes | set(mapped)


def test_every_code_the_services_raise_is_one_of_the_contracts():
    raised = codes_raised_in_the_services()
    assert {"customer_not_found", "wrong_code", "identity_mismatch", "channel_assertion_invalid",
            "identity_expired", "not_found"} <= raised  # the scan finds them
    assert raised <= {code.value for code in ErrorCode}


def test_every_code_has_one_status_and_a_french_message():
    assert set(MESSAGES) == set(ErrorCode)
    assert {code: status for code, (status, _message) in ERRORS.items()} == {
        code: code.status for code in ErrorCode}


def test_a_code_compares_and_hashes_like_its_string_and_prints_as_it():
    assert "wrong_code" in {ErrorCode.wrong_code} and ErrorCode.wrong_code in {"wrong_code"}
    assert ErrorCode.wrong_code == "wrong_code" and f"{ErrorCode.wrong_code}" == str(ErrorCode.wrong_code) == "wrong_code"


def test_the_services_lists_are_the_contracts():
    assert set(REQUEST_DELAY_DAYS) == {kind.value for kind in RequestKind}
    assert set(ACCEPTED_TYPES) == set(UploadContentType.__args__)


def claim(**changes):
    return {"contract_number": "hab-120034", "claim_type": "degat_des_eaux", "occurred_on": "2026-11-20",
            "place": "Cuisine", "circumstances": "Fuite.", "damage": "Parquet.", **changes}


REFUSED = {
    "nothing of a claim": (ClaimDeclaration, {}, dict.fromkeys(("contract_number", "claim_type", "occurred_on", "place", "circumstances", "damage"), "champ obligatoire")),
    "texts as a number and a list": (ClaimDeclaration, claim(place=42, damage=["parquet"]),
                                     {"place": "texte attendu", "damage": "texte attendu"}),
    "a date as a number, then not a day": (ClaimDeclaration, claim(occurred_on=20261123),
                                           {"occurred_on": "date attendue au format AAAA-MM-JJ"}),
    "a date of another format": (ClaimDeclaration, claim(occurred_on="2026-11-2"),
                                 {"occurred_on": "date attendue au format AAAA-MM-JJ"}),
    "a null required text": (ClaimDeclaration, claim(place=None), {"place": "champ obligatoire"}),
    "a blank required text": (ClaimDeclaration, claim(place="   "), {"place": "ne doit pas être vide"}),
    "a text too long": (ClaimDeclaration, claim(channel="w" * 41), {"channel": "40 caractères au plus"}),
    "control characters": (ClaimDeclaration, claim(place="cuisine\x00"),
                           {"place": "caractères de contrôle ou invalides"}),
    "a lone surrogate": (ClaimDeclaration, claim(place="\ud800"), {"place": "caractères de contrôle ou invalides"}),
    "an unknown field": (ClaimDeclaration, claim(amount_paid_eur=10_000), {"amount_paid_eur": "champ inconnu"}),
    "an unknown claim type": (ClaimDeclaration, claim(claim_type="meteorite"), {
        "claim_type": "valeur attendue parmi : " + ", ".join(sorted(t.value for t in ClaimType))}),
    "attachments twice the same": (ClaimDeclaration, claim(attachments=[UPLOAD_ID, UPLOAD_ID]),
                                   {"attachments": "chaque fichier une seule fois"}),
    "attachments not upload ids": (ClaimDeclaration, claim(attachments=["../etc/passwd"]),
                                   {"attachments": "liste de 20 identifiants de fichiers au plus"}),
    "a kind as a boolean": (AttestationRequest, {"kind": True},
                            {"kind": "valeur attendue parmi : scolaire, standard"}),
    "a flag as a number": (AttestationRequest, {"send_by_email": 1}, {"send_by_email": "true ou false attendu"}),
    "details as a text": (CustomerRequestInput, {"kind": "quote", "details": "x"}, {"details": "objet JSON attendu"}),
    "unreadable details": (CustomerRequestInput, {"kind": "quote", "details": {"a": ["\x1b[31m"]}},
                           {"details": "caractères de contrôle ou invalides"}),
    "a summary as an object": (HandoffInput, {"channel": "rest", "reason": "r", "summary": {"a": 1}},
                               {"summary": "texte attendu"}),
    "an identification without where": (IdentityCheckInput, {"birth_date": "1985-03-12"},
                                        {"conversation_id": "champ obligatoire", "channel": "champ obligatoire"}),
    "not a phone number": (PhoneIdentityCheckInput, {"phone_number": "abc", "birth_date": "1985-03-12", **WHERE},
                           {"phone_number": "numéro de téléphone invalide"}),
    "a code of five digits": (CodeInput, {"code": "12345", **WHERE}, {"code": "six chiffres attendus"}),
    "an upload id too long": (ClaimDocumentInput, {"upload_id": UPLOAD_ID + "0"},
                              {"upload_id": "32 caractères au plus"}),
    "not an upload id": (ClaimDocumentInput, {"upload_id": "../../etc/passwd"},
                         {"upload_id": "identifiant de fichier attendu (32 caractères)"}),
}


@pytest.mark.parametrize("model, body, reasons", REFUSED.values(), ids=REFUSED.keys())
def test_a_body_is_refused_with_one_french_reason_per_faulty_field(model, body, reasons):
    with pytest.raises(Exception) as refused:
        model.parse_obj(body)
    assert field_errors(refused.value) == reasons


def test_texts_are_read_stripped_and_optional_blanks_are_absent():
    declaration = ClaimDeclaration.parse_obj(claim(place=" Cuisine\n", third_party="  ", witnesses=None))
    assert (declaration.place, declaration.third_party, declaration.witnesses) == ("Cuisine", None, None)
    assert declaration.occurred_on == date(2026, 11, 20) and declaration.claim_type == "degat_des_eaux"
    assert declaration.attachments == []
    identified = CodeInput.parse_obj({"code": "12 34 56", "conversation_id": "rest:c-1\n", "channel": "rest"})
    assert (identified.code, identified.conversation_id) == ("123456", "rest:c-1")


def test_null_stands_for_the_default():
    assert AttestationRequest.parse_obj({"kind": None, "send_by_email": None}).dict() == {
        "kind": "standard", "send_by_email": False}
    phone = PhoneIdentityCheckInput.parse_obj(
        {"phone_number": "06 12 34 56 78", "birth_date": "1985-03-12", "send_code": None, **WHERE})
    assert (phone.phone_number, phone.send_code) == ("+33612345678", True)
    assert CustomerRequestInput.parse_obj({"kind": "quote", "details": None}).details == {}


@pytest.mark.parametrize("services", [{"policy"}, {"claims"}, {"policy", "claims"}])
def test_the_generated_openapi_names_every_route_and_its_error_codes(services):
    document = build_openapi(services)
    for route in routes_of(services):
        operation = document["paths"][route.path][route.method.lower()]
        assert operation["operationId"] == route.operation_id
        named = {code for response in operation["responses"].values() for code in response.get("x-error-codes", ())}
        assert named == {code.value for code in route.error_codes()}, route.operation_id
        for status, response in operation["responses"].items():
            assert all(ErrorCode(code).status == int(status) for code in response.get("x-error-codes", ()))
    assert len(ROUTES) == len({(route.method, route.path) for route in ROUTES})


def test_the_generated_openapi_describes_bodies_with_their_rules():
    schemas = build_openapi({"claims"})["components"]["schemas"]
    declaration = schemas["ClaimDeclaration"]
    assert declaration["additionalProperties"] is False
    assert set(declaration["required"]) == {"contract_number", "claim_type", "occurred_on", "place",
                                            "circumstances", "damage"}
    assert declaration["properties"]["place"]["maxLength"] == 2000
    assert declaration["properties"]["occurred_on"]["format"] == "date"
    assert declaration["properties"]["attachments"]["maxItems"] == 20
    assert schemas["ErrorCode"]["enum"] == [code.value for code in ErrorCode]


# --- the client: codes as ErrorCode, answers checked against the contract


@pytest.fixture
async def fake_services():
    """A policy service answering what each test puts in `answers` (path -> (status, JSON))."""
    answers: dict = {}

    async def answer(request: web.Request) -> web.Response:
        status, body = answers[request.path]
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    client = ServicesClient(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}", "token", retries=0)
    yield client, answers
    await client.close()
    await runner.cleanup()


MARIE = CustomerIdentity("10000001", "assertion")


async def test_refusals_carry_the_contracts_codes(fake_services):
    client, answers = fake_services
    answers["/v1/customers/10000001/contracts/AUT-1"] = (404, {"error": {"code": "contract_not_found", "message": "m"}})
    with pytest.raises(NotFound) as refused:
        await client.get_contract(MARIE, "AUT-1")
    assert refused.value.code is ErrorCode.contract_not_found
    answers["/v1/customers/10000001/claims"] = (401, {"error": {"code": "identity_expired", "message": "m"}})
    with pytest.raises(IdentityRefused) as identity:
        await client.list_claims(MARIE)
    assert identity.value.code is ErrorCode.identity_expired and identity.value.code in IDENTITY_REFUSALS


async def test_a_code_the_client_does_not_know_stays_a_refusal(fake_services):
    client, answers = fake_services
    answers["/v1/customers/10000001/contracts/AUT-1"] = (409, {"error": {"code": "newer_code", "message": "m"}})
    with pytest.raises(ServiceRefusal) as refused:
        await client.get_contract(MARIE, "AUT-1")
    assert (refused.value.status, refused.value.code) == (409, "newer_code")


async def test_an_answer_outside_the_contract_is_a_failure_of_the_service(fake_services, caplog):
    client, answers = fake_services
    answers["/v1/customers/10000001/contracts"] = (200, {"contracts": [{"contract_number": "AUT-1",
                                                                         "label": "Marie Dupont"}]})
    with pytest.raises(ServiceUnavailable):
        await client.list_contracts(MARIE)
    assert "answered outside the contract" in caplog.text and "Dupont" not in caplog.text


async def test_an_answer_with_members_the_client_does_not_know_is_taken(fake_services):
    client, answers = fake_services
    answers["/v1/customers/10000001/password-reset"] = (202, {"sent_to": "m***@example.fr", "newer": 1})
    assert (await client.send_password_reset(MARIE)).sent_to == "m***@example.fr"


async def test_answers_come_back_as_the_contracts_models(fake_services):
    client, answers = fake_services
    answers["/v1/phone-identity-checks"] = (200, {"customer_id": "10000001", "verified": True, "identity_assertion": "a",
                                                  "identity_expires_at": "2026-12-03T10:00:00+01:00"})
    verified = await client.start_phone_identity_check("+33612345678", "1985-04-12", False, "c", "ivr",
                                                       channel_assertion="signed")
    assert isinstance(verified, IdentityVerified) and verified.identity_expires_at.hour == 10
    answers["/v1/phone-identity-checks"] = (201, {"check_id": "c1", "expires_at": "2026-12-03T10:05:00+01:00",
                                                  "sent_to": "+33 6 ** ** ** 78"})
    started = await client.start_phone_identity_check("+33612345678", "1985-04-12", True, "c", "widget")
    assert isinstance(started, IdentityCheckStarted) and started.check_id == "c1"
