"""A channel of the dialogue tests only (never in credentials.yml): a file posted as JSON
takes the path every file-taking connector takes (connectors.attachments), so that the
whole dialogue around received files runs against a real Rasa server. The file goes to
the REST conversation of `sender` (`rest:<sender>`), which takes no files of its own."""

import base64
from typing import Text

from rasa.core.channels.channel import CollectingOutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.attachments import attach_document_message, file_sender, receive_file
from connectors.guard import conversation_id
from connectors.pipeline import ChannelPipeline, PipelineChannel


class FileTestInput(PipelineChannel):
    """POST /webhooks/test_files/webhook {"sender", "filename", "content_type", "data" (base64), "metadata",
    "address" (the client's, optional)}. Like every channel, it hands its messages to the
    assistant through the channel pipeline."""

    @classmethod
    def name(cls) -> Text:
        return "test_files"

    def routes(self, pipeline: ChannelPipeline) -> Blueprint:
        webhook = Blueprint("test_files_webhook", __name__)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            agent = request.app.ctx.agent
            body = request.json
            metadata = body.get("metadata") or {}
            address = body.get("address") or request.ip
            arrival = await pipeline.arrive(conversation_id("rest", body["sender"]))
            sender = await file_sender(agent, arrival.conversation, self.name(), body.get("address"),
                                       metadata.get("auth_token"))
            result = await receive_file(base64.b64decode(body["data"]), body.get("content_type"), body.get("filename"),
                                        sender)
            if not result.accepted:
                return response.json([{"recipient_id": body["sender"], "text": pipeline.words(agent, result.refusal)}])
            message = attach_document_message([result.attachment], metadata)
            collector = CollectingOutputChannel()
            refusal = await pipeline.receive(agent, arrival, collector, message["text"], f"ip:{address}",
                                             channel_metadata=message["metadata"], composed=True)
            if refusal is not None:
                return response.json([{"recipient_id": body["sender"], "text": pipeline.words(agent, refusal)}])
            return response.json(collector.messages)

        return webhook
