"""The Rasa server's set-up: a Rasa of another version refuses to start before any patch,
every runtime patch of Rasa's internals goes through bot/startup.py, and every server Rasa
configures is prepared whatever its channels."""

import ast
import asyncio
import logging
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import rasa.core.run
from rasa.utils.endpoints import EndpointConfig
from rasa.utils.tensorflow.models import RasaModel
from sanic import Sanic

from bot import rasa_server, startup
from bot.action_connections import KeptAliveEndpoint
from connectors.apology import ApologizingActionEndpoint
from connectors.telegram import TelegramInput
from core.masking import MaskingLogFilter
from harness.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("version", ["3.6.0", "3.6.21", "3.6.22rc1"])
def test_rasa_3_6_is_the_version_the_patches_are_written_for(version):
    startup.check_rasa_version(version)


@pytest.mark.parametrize("version", ["3.7.0", "3.5.9", "4.0.1", "3.60.1", "none"])
def test_another_rasa_version_is_refused_with_the_reason(version):
    with pytest.raises(startup.UnsupportedRasa, match=rf"rasa {version} is installed.*rasa 3\.6\.x"):
        startup.check_rasa_version(version)


def test_the_installed_rasa_is_the_supported_one():
    startup.check_rasa_version()


def test_the_rasa_server_refuses_to_start_with_another_rasa_before_any_patch(monkeypatch):
    monkeypatch.setattr(startup, "installed_rasa_version", lambda: "3.7.0")
    monkeypatch.setenv("WIDGET_ALLOWED_ORIGINS", "http://localhost:8080")  # main() sets it
    monkeypatch.setattr(sys, "argv", ["bot.rasa_server", "run", "--cors", "http://localhost:8080"])
    load, configure_app = RasaModel.load, rasa.core.run.configure_app
    with pytest.raises(SystemExit) as stopped:
        rasa_server.main()
    assert "rasa 3.7.0 is installed" in str(stopped.value.code)
    assert RasaModel.load == load and rasa.core.run.configure_app is configure_app  # nothing patched


def patched_rasa_attributes(path: Path):
    """(function, attribute) of every assignment to an attribute of something imported from
    Rasa in a module: its runtime patches."""
    tree = ast.parse(path.read_text())
    from_rasa = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rasa":
            from_rasa |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            from_rasa |= {alias.asname or alias.name.split(".")[0] for alias in node.names
                          if alias.name.split(".")[0] == "rasa"}
    patches = set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                            and target.value.id in from_rasa and not isinstance(function, ast.Module):
                        patches.add((function.name, f"{target.value.id}.{target.attr}"))
    return patches


def test_every_runtime_patch_of_rasa_is_installed_by_the_startup():
    found = {}
    for folder in ("bot", "connectors"):
        for path in sorted((ROOT / folder).glob("*.py")):
            for function, attribute in patched_rasa_attributes(path):
                found[attribute] = f"{path.stem}.{function}"
    assert found == {
        "RasaModel.load": "model_loading.load_models_for_inference",
        "RemoteAction._validate_action_result": "action_results.validate_action_results_quickly",
        "Event.resolve_by_type": "event_types.index_event_types",
        "MessageProcessor.parse_message": "two_requests.serve_two_requests",
        "MessageProcessor._run_prediction_loop": "two_requests.serve_two_requests",
        "MessageProcessor.run_action_extract_slots": "advisers.keep_paused_conversations_still",
        "MessageProcessor._has_session_expired": "advisers.keep_paused_conversations_still",
        "rasa_run.configure_app": "startup.prepare_every_server",
        "MessageProcessor.handle_message": "operations.count_turns",
        "MessageProcessor._handle_message_with_tracker": "operations.count_turns",
        "MessageProcessor._run_action": "operations.count_turns",
        "rasa_entry.configure_logging_and_warnings": "operations.log_in_the_chosen_format",
    } or found
    installers = {name.split(".")[1] for name in found.values()}
    assert installers == {patch.__name__ for patch in startup.PATCHES}
    # Nothing of the Rasa server installs them but the startup.
    for path in [*(ROOT / "bot").glob("*.py"), *(ROOT / "connectors").glob("*.py")]:
        text = path.read_text()
        for installer in installers:
            if path.name != "startup.py":
                assert text.count(f"{installer}(") == text.count(f"def {installer}("), (path, installer)


def agent_with_an_action_server():
    endpoint = EndpointConfig("http://127.0.0.1:9/webhook")
    return SimpleNamespace(action_endpoint=endpoint, processor=SimpleNamespace(action_endpoint=endpoint))


def test_every_server_rasa_configures_is_prepared_whatever_its_channels(monkeypatch):
    monkeypatch.setattr(rasa.core.run, "configure_app", rasa.core.run.configure_app)  # restored after
    monkeypatch.setattr(Sanic, "test_mode", True)  # several apps in one process
    startup.prepare_every_server()
    startup.prepare_every_server()  # twice changes nothing
    # Only a messaging app: no REST, no widget.
    app = rasa.core.run.configure_app([TelegramInput("123:token", "secret")], enable_api=False)
    app.config.TOUCHUP = False
    agent = app.ctx.agent = agent_with_an_action_server()

    async def start_and_stop():
        server = await app.create_server(host="127.0.0.1", port=free_port(), return_asyncio_server=True)
        await server.startup()
        await server.after_start()
        server.close()
        await server.wait_closed()

    asyncio.run(start_and_stop())
    assert isinstance(agent.action_endpoint, ApologizingActionEndpoint)


def test_a_started_server_masks_its_logs_and_apologizes_when_actions_fail(monkeypatch):
    handler = logging.StreamHandler()
    monkeypatch.setattr(logging.getLogger(), "handlers", [handler])
    agent = agent_with_an_action_server()
    app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))
    asyncio.run(startup.prepare_rasa_server(app))
    asyncio.run(startup.prepare_rasa_server(app))  # twice changes nothing
    assert [type(f) for f in handler.filters] == [MaskingLogFilter]
    for holder in (agent, agent.processor):
        assert isinstance(holder.action_endpoint, ApologizingActionEndpoint)
        assert isinstance(holder.action_endpoint.wrapped, KeptAliveEndpoint)
