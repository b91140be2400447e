"""The action server: rasa-sdk's app, answering the Rasa server only.

`python -m actions.server --actions actions --port 5055 [--host 127.0.0.1]`
(Procfile). It listens on the loopback address unless told otherwise (`--host`:
deployments where the Rasa servers are on other machines), and refuses every call
but `/health` without `Authorization: Bearer <ACTION_SERVER_TOKEN>`, the header the
Rasa server sends (endpoints.yml); without that variable it does not start.

A call that a service refused for want of a valid identity assertion (expired,
forged, missing) is answered here for every action: the identity is dropped and
the customer is asked to identify again (actions.common.identity.identity_refused_answer).
"""
import argparse
import hmac
import json
import logging
import sys
import zlib
from typing import Any, Dict, Optional

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app, create_argument_parser, create_ssl_context
from sanic import Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from actions.common.identity import identity_refused_answer
from actions.operations import install_operations
from core.logs import use_log_format
from core.office_hours import office_hours
from core.service_client import IdentityRefused
from core.settings import ActionServerSettings

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "ACTION_SERVER_TOKEN"
DEFAULT_HOST = "127.0.0.1"
# /metrics and /ready: nothing personal, scraped and probed inside the cluster (actions/operations.py).
OPEN_PATHS = frozenset({"/health", "/metrics", "/ready"})


def is_rasa_server(authorization: Optional[str], token: str) -> bool:
    """Whether `Authorization: Bearer <token>` carries the Rasa server's token (constant time)."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given or not token:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def action_call(request: Any) -> Dict[str, Any]:
    """The body of a call of the Rasa server (deflated or not), {} when unreadable."""
    try:
        raw = request.body or b""
        if request.headers.get("Content-Encoding") == "deflate":
            raw = zlib.decompress(raw)
        body = json.loads(raw)
    except (ValueError, zlib.error, RecursionError):
        return {}
    return body if isinstance(body, dict) else {}


def create_action_server(actions_package: str, token: str) -> Sanic:
    """rasa-sdk's app with the actions of `actions_package`, closed to callers without `token`."""
    if not token:
        raise ValueError(f"{TOKEN_VARIABLE} is missing: the action server answers only the Rasa server")
    office_hours()  # an OFFICE_HOURS that does not read stops the start (ValueError)
    # No browser ever calls the action server: no CORS.
    app = create_app(actions_package, cors_origins=None)
    install_operations(app)  # request ids, action timings, /metrics, /ready (before the token check)

    @app.middleware("request")
    async def only_the_rasa_server(request: Any) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS or is_rasa_server(request.headers.get("authorization"), token):
            return None
        logger.warning("call to %s refused: no valid token", request.path)
        return json_response({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})

    async def identity_refused(request: Any, refusal: IdentityRefused) -> HTTPResponse:
        call = action_call(request)
        logger.info("identity refused by the services (%s) in %s", refusal.code, call.get("next_action"))
        return json_response(identity_refused_answer(call))

    app.error_handler.add(IdentityRefused, identity_refused)
    return app


def main(argv: Optional[list] = None) -> None:
    from dotenv import load_dotenv

    load_dotenv()
    parser = create_argument_parser()
    parser.prog = "python -m actions.server"
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0: every address)")
    args: argparse.Namespace = parser.parse_args(argv)
    settings = ActionServerSettings.at_start("actions.server")
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file,
                                 args.loglevel, args.logging_config_file)
    utils.update_sanic_log_level()
    use_log_format(settings.log_format, "actions")  # LOG_FORMAT (core/logs.py)
    try:
        app = create_action_server(args.actions or "actions", settings.action_server_token)
    except ValueError as error:
        print(f"actions.server: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    logger.info("action server on %s://%s:%d", "https" if ssl_context else "http", args.host, args.port)
    app.run(args.host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
