"""The Rasa server's own set-up, in one place.

`install_runtime_patches()` runs once per process, before the model loads (bot.rasa_server):
it checks that the installed Rasa is the version every patch of its internals was written
for, then installs them all (PATCHES), the last one registering `prepare_rasa_server` and
the advisers' routes (bot.advisers) on every app Rasa configures, whatever channels
credentials.yml enables. A Rasa of another version stops the server at once, with the reason: a patch of internals that moved would
fail, or silently do nothing, in the middle of conversations.

`prepare_rasa_server(app)` runs once the server started and its model is loaded:
personal data masked in every log handler (sanic's exist only then), connections to the
action server kept open, and the apology when the action server fails
(connectors.apology; the channel pipeline wraps it again after a model reload).
Running either twice changes nothing.
"""
import functools
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable, Optional, Tuple

from connectors.apology import answer_when_actions_fail
from core.logs import use_log_format
from core.masking import mask_every_log_handler

# The Rasa the patches are written for (rasa-sdk is not patched).
SUPPORTED_RASA = "3.6"
# sanic's loggers have their own handlers besides the root logger's.
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access")


class UnsupportedRasa(RuntimeError):
    """The installed Rasa is not the one the runtime patches were written for."""


def installed_rasa_version() -> str:
    try:
        return version("rasa")
    except PackageNotFoundError:
        return "none"


def check_rasa_version(installed: Optional[str] = None) -> None:
    """Raises UnsupportedRasa unless the installed Rasa is a SUPPORTED_RASA release."""
    installed = installed or installed_rasa_version()
    if installed.split(".")[:2] != SUPPORTED_RASA.split("."):
        raise UnsupportedRasa(
            f"rasa {installed} is installed, but the Rasa server patches the internals of rasa "
            f"{SUPPORTED_RASA}.x ({', '.join(patch.__name__ for patch in PATCHES)}: bot/startup.py). "
            "Install the locked versions (make install, requirements.txt), or check each patch "
            "against that version before changing the pin."
        )


async def prepare_rasa_server(app: Any, _loop: Any = None) -> None:
    """What the started server needs (an `after_server_start` listener)."""
    mask_every_log_handler(SANIC_LOGGERS)
    use_log_format()  # LOG_FORMAT (core/logs.py) on sanic's handlers too
    agent = getattr(app.ctx, "agent", None)
    if agent is not None:
        from bot.action_connections import keep_action_connections_alive

        keep_action_connections_alive(agent)  # before the apology wraps the endpoint
        answer_when_actions_fail(agent)


def load_models_for_inference() -> None:
    from bot.model_loading import load_models_for_inference as install  # tensorflow: only now

    install()


def validate_action_results_quickly() -> None:
    from bot.action_results import validate_action_results_quickly as install

    install()


def index_event_types() -> None:
    from bot.event_types import index_event_types as install

    install()


def serve_two_requests() -> None:
    from bot.two_requests import serve_two_requests as install

    install()


def keep_paused_conversations_still() -> None:
    from bot.advisers import keep_paused_conversations_still as install

    install()


def count_turns() -> None:
    from bot.operations import count_turns as install

    install()


def log_in_the_chosen_format() -> None:
    from bot.operations import log_in_the_chosen_format as install

    install()


def prepare_every_server() -> None:
    """`rasa run` builds its app with rasa.core.run.configure_app: every app it builds gets
    prepare_rasa_server and the advisers' routes (bot.advisers), whichever channels it has."""
    import rasa.core.run as rasa_run

    from bot.advisers import advisers_blueprint
    from bot.notices import notices_blueprint

    configure_app = rasa_run.configure_app
    if getattr(configure_app, "prepares_rasa_server", False):
        return

    @functools.wraps(configure_app)
    def configure_prepared_app(*args: Any, **kwargs: Any) -> Any:
        app = configure_app(*args, **kwargs)
        app.register_listener(prepare_rasa_server, "after_server_start")
        from bot.operations import install_operations  # /metrics and /ready (core/observability.py)

        install_operations(app)
        app.blueprint(advisers_blueprint())
        app.blueprint(notices_blueprint())  # the notifier's claim notices (bot/notices.py)
        return app

    configure_prepared_app.prepares_rasa_server = True  # type: ignore[attr-defined]
    rasa_run.configure_app = configure_prepared_app


# Every runtime patch of Rasa's internals (each module says what it changes and why).
PATCHES: Tuple[Callable[[], None], ...] = (
    load_models_for_inference,  # bot/model_loading.py: RasaModel.load
    validate_action_results_quickly,  # bot/action_results.py: RemoteAction._validate_action_result
    index_event_types,  # bot/event_types.py: Event.resolve_by_type
    serve_two_requests,  # bot/two_requests.py: MessageProcessor.parse_message, _run_prediction_loop
    keep_paused_conversations_still,  # bot/advisers.py: MessageProcessor.run_action_extract_slots, _has_session_expired
    count_turns,  # bot/operations.py: MessageProcessor.handle_message, _handle_message_with_tracker, _run_action
    log_in_the_chosen_format,  # bot/operations.py: rasa.__main__.configure_logging_and_warnings
    prepare_every_server,  # here: rasa.core.run.configure_app
)


def install_runtime_patches() -> None:
    """Checks the Rasa version, then installs every patch (once per process)."""
    check_rasa_version()
    for patch in PATCHES:
        patch()
