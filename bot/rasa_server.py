"""The `rasa` command with what must be in place before the model loads:
`python -m bot.rasa_server run --model ...` takes rasa's own arguments
(Procfile, docs/production.md). The Rasa server's own set-up (bot.startup: the Rasa
version checked, the runtime patches, what every server does once started) is
installed here, before Rasa runs.

`run` answers browsers of the allowed web origins only: `--cors` lists them (spaces or
commas between them), else WIDGET_ALLOWED_ORIGINS does (connectors.guard.allowed_origins,
default make run's site). "*" or anything but an origin stops the server at once. The
list is handed on as WIDGET_ALLOWED_ORIGINS, so that the widget's socket.io server accepts
the pages Rasa's CORS headers allow, and no other."""
import os
import sys
from typing import List, Optional, Tuple

from connectors.guard import allowed_origins
from core.settings import RasaServerSettings


def with_allowed_origins(arguments: List[str]) -> Tuple[List[str], Optional[Tuple[str, ...]]]:
    """`rasa` arguments whose `run` command has `--cors` followed by the allowed origins, one
    per argument, and those origins (None for another command). Raises ValueError for a
    value that is not an origin."""
    if not arguments or arguments[0] != "run":
        return arguments, None
    if "--cors" not in arguments:
        origins = allowed_origins()
        return [*arguments, "--cors", *origins], origins
    start = arguments.index("--cors") + 1
    end = start
    while end < len(arguments) and not arguments[end].startswith("-"):
        end += 1
    given = " ".join(arguments[start:end])
    origins = allowed_origins(given) if given.strip() else allowed_origins()
    return [*arguments[:start], *origins, *arguments[end:]], origins


def main() -> None:
    settings = RasaServerSettings.at_start("bot.rasa_server")  # before the model: a bad value stops it at once
    try:
        arguments, origins = with_allowed_origins(sys.argv[1:])
    except ValueError as error:
        raise SystemExit(f"rasa run --cors: {error}") from None
    if origins is not None:
        os.environ["WIDGET_ALLOWED_ORIGINS"] = " ".join(origins)
    from bot.startup import UnsupportedRasa, install_runtime_patches  # tensorflow: after the checks

    try:
        install_runtime_patches()  # the Rasa version checked first
    except UnsupportedRasa as unsupported:
        raise SystemExit(str(unsupported)) from None
    from rasa.__main__ import main as rasa_main

    from core.logs import use_log_format

    # LOG_FORMAT (core/logs.py), applied again once Rasa set its logging up
    # (bot/operations.py log_in_the_chosen_format) and once sanic did (bot.startup).
    use_log_format(settings.log_format, "rasa")

    sys.argv[1:] = arguments
    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
