"""`make run` on a development machine: random secrets of its own (scripts/dotenv.sh), and the
advisers' console said with the other addresses, with the demo login (scripts/run.sh)."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADVISER_SECRETS = ("ADVISER_CONSOLE_TOKEN", "ADVISER_GRANT_SECRET", "ADVISER_DEMO_PASSWORD")


def dotenv(folder: Path) -> dict:
    subprocess.run(["bash", str(ROOT / "scripts" / "dotenv.sh")], cwd=folder, check=True, capture_output=True)
    lines = (folder / ".env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_the_first_start_draws_the_advisers_secrets_and_later_starts_keep_them(tmp_path):
    first, other = tmp_path / "first", tmp_path / "other"
    first.mkdir(), other.mkdir()
    drawn = dotenv(first)
    for name in ADVISER_SECRETS:
        assert len(drawn[name]) >= 32, name
    assert len({drawn[name] for name in ADVISER_SECRETS}) == len(ADVISER_SECRETS)
    assert dotenv(first) == drawn  # the demo advisers' password stays what init-db set
    assert all(dotenv(other)[name] != drawn[name] for name in ADVISER_SECRETS)


def test_an_older_env_file_gets_the_advisers_secrets_and_keeps_its_own(tmp_path):
    (tmp_path / ".env").write_text("SERVICES_API_TOKEN=kept\n")
    values = dotenv(tmp_path)
    assert values["SERVICES_API_TOKEN"] == "kept"
    assert set(ADVISER_SECRETS) <= set(values)


def test_make_run_tells_where_the_advisers_console_is_and_its_demo_login():
    run = (ROOT / "scripts" / "run.sh").read_text()
    assert "Console des conseillers : http://localhost:8080/conseiller" in run
    assert "identifiant conseiller (ou superviseur)" in run
    assert "mot de passe : ${ADVISER_DEMO_PASSWORD}" in run
    assert run.index("source .env") < run.index("${ADVISER_DEMO_PASSWORD}")
