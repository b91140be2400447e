"""Buttons whose payload fills a slot, pressed through the REST channel with the real
stack: the Rasa server's log holds no interpolation error (Rasa took the payload's JSON
braces for a slot to fill and logged an error with its stack every time it asked)."""

import uuid

from devtools.espace_client import issue_session_token

MARIE = "10000001"


def texts(messages):
    return "\n".join(message.get("text", "") for message in messages)


def payloads(messages):
    return [button["payload"] for message in messages for button in message.get("buttons") or []]


def test_a_declaration_with_its_buttons_pressed_logs_no_interpolation_error(rasa_stack):
    rasa_log = rasa_stack.logs[0]
    logged_before = rasa_log.stat().st_size
    sender, token = f"test-{uuid.uuid4()}", issue_session_token(MARIE, rasa_stack.jwt_secret)

    def say(text):
        return rasa_stack.say(sender, text, auth_token=token)

    claim_types = payloads(say("je veux déclarer un sinistre"))
    assert '/inform{"claim_type": "degat_des_eaux"}' in claim_types
    assert "Quand" in texts(say('/inform{"claim_type": "degat_des_eaux"}'))
    say("hier")
    say("dans la cuisine")
    say("le tuyau sous l'évier a lâché")
    say("le parquet est gonflé")
    say("Aucun tiers impliqué")
    summary = say("Aucun témoin")
    assert "/deny" in payloads(summary)
    corrections = payloads(say("/deny"))
    assert '/correct_claim{"claim_field": "claim_place"}' in corrections
    assert "Où" in texts(say('/correct_claim{"claim_field": "claim_place"}'))
    assert "/affirm" in payloads(say("dans la salle de bains"))
    say("/deny")  # the summary again: its buttons once more, then leave the declaration
    say("annuler")

    with rasa_log.open("rb") as log:
        log.seek(logged_before)
        written = log.read().decode("utf-8", "replace")
    assert "interpolator" not in written and "Traceback" not in written
