"""The web pages with the chat widget: `python -m web.site [--port 8080]`.

- `/`: the public site, for an anonymous visitor;
- `/espace-client?client=10000001`: a demo espace client; the page hands the widget a
  session token of that demo customer (spec §5), signed with ESPACE_CLIENT_JWT_SECRET;
- `/widget/`: the widget itself (web/static), `/vendor/socket.io.min.js`:
  the socket.io client installed by npm (`npm ci`, run by `make run` and `make test`);
- `/conseiller`: the advisers' console (web/console).

The widget talks to the Rasa server at RASA_PUBLIC_URL (default http://localhost:5005),
which must allow this page's origin (`rasa run --cors`).
"""

import argparse
import json
import re
from pathlib import Path
from string import Template
from typing import Any, Dict, Optional

from dotenv import load_dotenv
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.logs import use_log_format
from core.observability import OK, install_operations_routes
from core.settings import WebSettings
from devtools.espace_client import issue_session_token
from web import console

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"
STATIC = HERE / "static"
SOCKET_IO_CLIENT = HERE.parent / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

DEMO_CUSTOMERS = {"10000001": "Marie Dupont", "10000002": "Karim Benali", "10000003": "Sophie Martin"}
DEFAULT_CUSTOMER = "10000001"
_CUSTOMER_ID = re.compile(r"[0-9]{8}")  # matched whole (fullmatch)

# The espace-client page carries a session token: never cached, never sent on as a referrer.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}
# The console's forms are the largest bodies this site takes (a 2000-character message).
MAX_REQUEST_BYTES = 64 * 1024


def _page(template: str, title: str, widget: Dict[str, Any], **fields: str) -> str:
    main = Template((PAGES / template).read_text(encoding="utf-8")).substitute(fields)
    # JSON inside <script>: "<" escaped so that no value can close the element.
    config = json.dumps(widget, ensure_ascii=False).replace("<", "\\u003c")
    return Template((PAGES / "layout.html").read_text(encoding="utf-8")).substitute(
        title=title, main=main, config=config
    )


def _widget_config(rasa_url: str, storage_key: str, auth_token: Optional[str] = None) -> Dict[str, Any]:
    return {"server": rasa_url, "socketPath": "/socket.io", "storageKey": storage_key, "authToken": auth_token}


def create_app(settings: WebSettings, name: str = "oyat_widget_site") -> Sanic:
    """The page server; ESPACE_CLIENT_JWT_SECRET signs the demo espace-client tokens."""
    if not SOCKET_IO_CLIENT.exists():
        raise SystemExit(f"{SOCKET_IO_CLIENT} is missing: run `npm ci` (make run does).")
    rasa_url, jwt_secret = settings.rasa_public_url, settings.espace_client_jwt_secret
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES
    app.static("/widget", str(STATIC))
    app.static("/vendor/socket.io.min.js", str(SOCKET_IO_CLIENT), content_type="text/javascript")

    @app.get("/favicon.ico")
    async def no_icon(_: Request) -> HTTPResponse:
        return response.empty()

    @app.get("/")
    async def public_site(_: Request) -> HTTPResponse:
        page = _page("public.html", "Oyat Assurance", _widget_config(rasa_url, "oyat-widget:public"))
        return response.html(page, headers=COMMON_HEADERS)

    @app.get("/espace-client")
    async def espace_client(request: Request) -> HTTPResponse:
        customer_id = request.args.get("client", DEFAULT_CUSTOMER)
        if not _CUSTOMER_ID.fullmatch(customer_id):
            return response.html(
                "<!doctype html><html lang=fr><title>Espace client</title>"
                "<p>Identifiant client invalide : 8 chiffres, par exemple 10000001.</p></html>",
                status=400, headers=COMMON_HEADERS,
            )
        if not jwt_secret:
            return response.html(
                "<!doctype html><html lang=fr><title>Espace client</title>"
                "<p>ESPACE_CLIENT_JWT_SECRET n'est pas configuré : l'espace client de démonstration "
                "ne peut pas ouvrir de session.</p></html>",
                status=503, headers=COMMON_HEADERS,
            )
        token = issue_session_token(customer_id, jwt_secret)
        others = "".join(
            f'<li><a href="/espace-client?client={cid}">{label} ({cid})</a></li>'
            for cid, label in DEMO_CUSTOMERS.items() if cid != customer_id
        )
        page = _page(
            "espace_client.html", "Mon espace client – Oyat Assurance",
            _widget_config(rasa_url, f"oyat-widget:espace-client:{customer_id}", token),
            customer_id=customer_id, customer_name=DEMO_CUSTOMERS.get(customer_id, "client de démonstration"),
            other_customers=others,
        )
        return response.html(page, headers={**COMMON_HEADERS, **PRIVATE_HEADERS})

    console.install(app, settings)
    install_operations_routes(app, web_checks)  # /metrics and /ready (core/observability.py)
    return app


async def web_checks(_app: Any) -> Dict[str, str]:
    """The web site serves its own files: ready when the widget's are there. Neither the Rasa
    server nor the policy service makes it unready: the public pages work without them."""
    present = all(path.exists() for path in (SOCKET_IO_CLIENT, STATIC, PAGES / "layout.html"))
    return {"widget_files": OK if present else "missing"}


def main() -> None:
    load_dotenv()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    settings = WebSettings.at_start("web.site")
    app = create_app(settings)
    use_log_format(settings.log_format, "web")  # LOG_FORMAT (core/logs.py), personal data masked
    app.run(host=args.host, port=args.port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
