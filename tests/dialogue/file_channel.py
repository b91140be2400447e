"""A channel of the dialogue tests only (never in credentials.yml): a file posted as JSON
takes the path every file-taking connector takes (connectors.attachments), so that the
whole dialogue around received files runs against a real Rasa server. The file goes to
the REST conversation of `sender` (`rest:<sender>`), which takes no files of its own."""

import base64
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.attachments import attach_document_message, file_sender, receive_file
from connectors.guard import conversation_id


class FileTestInput(InputChannel):
    """POST /webhooks/test_files/webhook {"sender", "filename", "content_type", "data" (base64), "metadata",
    "address" (the client's, optional)}."""

    @classmethod
    def name(cls) -> Text:
        return "test_files"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("test_files_webhook", __name__)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json
            metadata = body.get("metadata") or {}
            conversation = conversation_id("rest", body["sender"])
            sender = await file_sender(request.app.ctx.agent, conversation, self.name(), body.get("address"),
                                       metadata.get("auth_token"))
            result = await receive_file(base64.b64decode(body["data"]), body.get("content_type"), body.get("filename"),
                                        sender)
            if not result.accepted:
                return response.json([{"recipient_id": body["sender"], "text": result.refusal}])
            message = attach_document_message([result.attachment], metadata)
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(message["text"], collector, conversation, input_channel=self.name(),
                            metadata=message["metadata"])
            )
            return response.json(collector.messages)

        return webhook
