"""The pages with the widget, served by `python -m web.site`."""

import json
import os
import re
import sys

import jwt
import pytest
import requests

from harness.servers import free_port, start, stop, wait_until_up
from tests.conftest import REPO_ROOT

SECRET = "test-widget-site-secret-of-32-bytes-at-least"
RASA_URL = "http://rasa.example:5005"


def serve(tmp_path, **env):
    port = free_port()
    log = tmp_path / f"site-{port}.log"
    process = start(
        [sys.executable, "-m", "web.site", "--port", str(port)],
        cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "RASA_PUBLIC_URL": RASA_URL, **env},
        log_path=log,
    )
    wait_until_up(f"http://127.0.0.1:{port}/favicon.ico", process, 30, log)
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    process, url = serve(tmp_path_factory.mktemp("site"), ESPACE_CLIENT_JWT_SECRET=SECRET)
    yield url
    stop(process)


def widget_config(html):
    found = re.search(r'<script id="oyat-widget-config" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_the_public_page_gives_the_widget_no_token(site):
    page = requests.get(site + "/", timeout=10)
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    config = widget_config(page.text)
    assert config == {"server": RASA_URL, "socketPath": "/socket.io", "storageKey": "oyat-widget:public", "authToken": None}


@pytest.mark.parametrize("query, customer_id", [("", "10000001"), ("?client=10000003", "10000003")])
def test_the_espace_client_page_hands_the_widget_a_signed_token_of_its_customer(site, query, customer_id):
    page = requests.get(site + "/espace-client" + query, timeout=10)
    assert page.status_code == 200 and customer_id in page.text
    assert page.headers["Cache-Control"] == "no-store"
    config = widget_config(page.text)
    claims = jwt.decode(config["authToken"], SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    assert claims["sub"] == customer_id
    # each customer's conversation is kept apart from the others' and the public page's
    assert config["storageKey"] == f"oyat-widget:espace-client:{customer_id}"


@pytest.mark.parametrize("client", ["abc", "1000000", "10000001<script>", "10000001\n", "١٠٠٠٠٠٠١"])
def test_a_malformed_customer_id_gets_a_clear_400(site, client):
    page = requests.get(site + "/espace-client", params={"client": client}, timeout=10)
    assert page.status_code == 400 and "8 chiffres" in page.text
    assert "<script>" not in page.text


def test_without_the_secret_the_espace_client_page_says_so(tmp_path):
    process, url = serve(tmp_path, ESPACE_CLIENT_JWT_SECRET="")
    try:
        page = requests.get(url + "/espace-client", timeout=10)
        assert page.status_code == 503 and "ESPACE_CLIENT_JWT_SECRET" in page.text
    finally:
        stop(process)


def test_the_widget_and_the_socket_io_client_from_npm_are_served(site):
    for path in ["/widget/widget.js", "/widget/widget.css", "/vendor/socket.io.min.js"]:
        answer = requests.get(site + path, timeout=10)
        assert answer.status_code == 200 and len(answer.content) > 1000, path
    assert "socket.io" in requests.get(site + "/vendor/socket.io.min.js", timeout=10).text.lower()
