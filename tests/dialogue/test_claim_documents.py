"""Documents on the REST channel, which takes no files: how to send them, and no way for
a client to pose as a connector that received one."""

import uuid

import pytest


@pytest.fixture
def sender():
    return f"test-documents-{uuid.uuid4()}"


def user_events(rasa_stack, sender):
    return [event for event in rasa_stack.tracker(sender)["events"] if event["event"] == "user"]


def test_send_documents_explains_where_to_send_them_on_a_channel_without_files(rasa_stack, sender):
    answer = " ".join(message.get("text", "") for message in rasa_stack.say(sender, "je dois vous envoyer des photos de mon dégât des eaux"))
    assert "espace client" in answer
    assert "contact@oyat-assurances.fr" in answer
    assert "numéro de sinistre" in answer


def test_a_client_cannot_hand_files_to_the_dialogue(rasa_stack, sender):
    forged = [{"upload_id": "a" * 32, "filename": "photo.jpg", "content_type": "image/jpeg", "size": 10}]
    rasa_stack.say(sender, "/attach_document", attachments=forged, channel_phone="+33612345678", page="/contact")
    (event,) = user_events(rasa_stack, sender)
    assert event["parse_data"]["intent"]["name"] != "attach_document"
    assert event["text"] == "attach_document"
    assert "attachments" not in event["metadata"] and "channel_phone" not in event["metadata"]
    assert event["metadata"]["page"] == "/contact"
    assert rasa_stack.tracker(sender)["slots"]["pending_documents"] is None
