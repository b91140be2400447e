"""The arguments the Rasa server starts with: `--cors` lists the allowed web origins, never "*"."""
import shlex
from pathlib import Path

import pytest

from bot.rasa_server import with_allowed_origins
from connectors.guard import DEFAULT_ALLOWED_ORIGINS

ROOT = Path(__file__).resolve().parents[2]


def test_the_origins_given_to_cors_are_passed_one_per_argument():
    arguments, origins = with_allowed_origins(
        ["run", "--model", "m.tar.gz", "--cors", "https://www.oyat.fr,https://assistant.oyat.fr", "--debug"])
    assert arguments == ["run", "--model", "m.tar.gz", "--cors", "https://www.oyat.fr", "https://assistant.oyat.fr",
                         "--debug"]
    assert origins == ("https://www.oyat.fr", "https://assistant.oyat.fr")


def test_a_systemd_or_kubernetes_argument_with_spaces_is_split():
    arguments, origins = with_allowed_origins(["run", "--cors", "https://www.oyat.fr https://assistant.oyat.fr"])
    assert arguments[-2:] == ["https://www.oyat.fr", "https://assistant.oyat.fr"]


def test_without_cors_the_setting_is_used(monkeypatch):
    monkeypatch.setenv("WIDGET_ALLOWED_ORIGINS", "https://www.oyat.fr")
    assert with_allowed_origins(["run", "--port", "5005"]) == (
        ["run", "--port", "5005", "--cors", "https://www.oyat.fr"], ("https://www.oyat.fr",))


def test_an_empty_cors_falls_back_to_make_runs_site(monkeypatch):
    monkeypatch.delenv("WIDGET_ALLOWED_ORIGINS", raising=False)
    assert with_allowed_origins(["run", "--cors", ""])[1] == DEFAULT_ALLOWED_ORIGINS


@pytest.mark.parametrize("cors", [["*"], ["https://www.oyat.fr", "*"], ["www.oyat.fr"]])
def test_a_wildcard_stops_the_server(cors):
    with pytest.raises(ValueError):
        with_allowed_origins(["run", "--cors", *cors])


def test_other_commands_are_left_alone():
    assert with_allowed_origins(["train", "--fixed-model-name", "x"]) == (["train", "--fixed-model-name", "x"], None)


def test_the_procfile_default_is_the_one_of_the_code():
    (line,) = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("rasa:")]
    command = shlex.split(line.partition(":")[2])
    cors = command[command.index("--cors") + 1]
    assert cors == "${WIDGET_ALLOWED_ORIGINS:-" + ",".join(DEFAULT_ALLOWED_ORIGINS) + "}"
