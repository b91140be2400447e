"""The OpenAPI document lists exactly the routes of the app, no more, no less."""
import json
import re

import pytest

from core.settings import Settings
from reference_services.app import create_app
from reference_services.openapi import build_openapi

SETTINGS = Settings(database_url="sqlite:///unused.db", services_api_token="t",
                    document_link_secret="s")
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def app_routes(app) -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) of every route of a sanic app."""
    routes = set()
    for route in app.router.routes:
        path = "/" + re.sub(r"<(\w+)(?::[^>]*)?>", r"{\1}", route.path.lstrip("/"))
        routes |= {(method.upper(), path) for method in route.methods}
    return routes


def documented_routes(document: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


@pytest.mark.parametrize("services_mounted", [{"policy"}, {"claims"}, {"policy", "claims"}])
def test_openapi_covers_every_route_and_nothing_else(services_mounted):
    app = create_app(services_mounted, SETTINGS)
    assert documented_routes(build_openapi(services_mounted)) == app_routes(app)


def test_served_openapi_document_describes_the_running_services(services):
    document = services.get("/v1/openapi.json", authorized=False).json()
    assert document["openapi"].startswith("3.0")
    assert document == build_openapi({"policy", "claims"})


def test_every_schema_reference_resolves():
    document = build_openapi({"policy", "claims"})
    references = set(re.findall(r'"\$ref": "#/components/schemas/(\w+)"',
                                json.dumps(document)))
    assert references
    assert references <= set(document["components"]["schemas"])


def test_every_operation_names_its_path_parameters():
    document = build_openapi({"policy", "claims"})
    for path, item in document["paths"].items():
        expected = set(re.findall(r"{(\w+)}", path))
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == expected, path
