"""`/metrics`, `/ready` and the turn's correlation id on a sanic app, the same way in
every long-running process (Rasa server, action server, services, web site).

- `GET /metrics`: the process's metrics (core/metrics.py) in Prometheus's text format.
  Without a token, as `/health`: it is scraped from inside the cluster, and it holds no
  personal data (labels are channels, intents, actions, error codes, kinds:
  core.metrics.bounded), nor anything that opens a route. A request a proxy relayed
  (`X-Forwarded-For`, `Forwarded`, `X-Real-IP`: the public entry, deploy/nginx and the
  ingress, always adds one) gets 404 on `/metrics` and `/ready`: only callers inside the
  cluster (Prometheus, the kubelet's probes) reach them.
- `GET /ready`: 200 `{"status": "ready", "checks": {...}}` when every dependency the
  process needs answers, 503 `{"status": "not_ready", "checks": {...}}` naming the one that
  does not (each check: "ok" or what failed). `/health` stays the liveness probe: up,
  whatever its dependencies (restarting a process does not bring its database back).
- `install_request_ids`: a request's `X-Request-Id` (or a new id) becomes the turn's
  correlation id while it is handled (core/logs.py), and each request gets one log line
  (method, path with its identifiers masked, status, duration) carrying it.
"""
import asyncio
import logging
import re
import time
from typing import Any, Awaitable, Callable, Mapping, Optional

from sanic.response import HTTPResponse, json, raw

from core.logs import REQUEST_ID_HEADER, current_request_id, reset_request_id, set_request_id, use_log_format
from core.metrics import exposition

OK = "ok"
CHECK_TIMEOUT_SECONDS = 3.0
METRICS_PATH, READY_PATH = "/metrics", "/ready"
OPERATIONS_PATHS = frozenset({METRICS_PATH, READY_PATH})

Checks = Callable[[Any], Awaitable[Mapping[str, str]]]
BeforeScrape = Callable[[Any], Awaitable[None]]


def masked_path(path: str) -> str:
    """A request's path for a log line: customer, contract and claim numbers and long ids masked."""
    return re.sub(r"[0-9][0-9A-Za-z-]{3,}|[0-9a-f]{16,}", "*", path)[:200]


async def check(what: Callable[[], Awaitable[Any]], seconds: float = CHECK_TIMEOUT_SECONDS) -> str:
    """"ok" when `what()` completes within `seconds`, else why not (never the error's text:
    it may hold an address or a password)."""
    try:
        await asyncio.wait_for(what(), seconds)
    except asyncio.TimeoutError:
        return "timeout"
    except Exception as error:  # what failed is the answer, whatever it is
        return f"failed: {type(error).__name__}"
    return OK


async def database_check(sessionmaker: Any) -> str:
    """A query on the database a sessionmaker opens."""
    from sqlalchemy import text

    async def query() -> None:
        async with sessionmaker() as session:
            await session.execute(text("SELECT 1"))

    return await check(query)


async def http_check(url: str) -> str:
    """`url` answers below 500."""
    import aiohttp

    async def get() -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS)) as client:
            async with client.get(url) as answer:
                if answer.status >= 500:
                    raise RuntimeError(answer.status)

    return await check(get)


async def redis_check(host: str, port: int, password: str = "") -> str:
    """A PING to the Redis at host:port."""
    import redis.asyncio

    async def ping() -> None:
        client = redis.asyncio.Redis(host=host, port=port, password=password or None,
                                     socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
                                     socket_timeout=CHECK_TIMEOUT_SECONDS)
        try:
            await client.ping()
        finally:
            await client.close()

    return await check(ping)


def relayed(request: Any) -> bool:
    """Whether a proxy relayed the request (the public entry adds these headers): the
    operations routes answer Prometheus and the probes, which call the pod itself."""
    return any(request.headers.get(header) for header in ("x-forwarded-for", "forwarded", "x-real-ip"))


def readiness_answer(checks: Mapping[str, str]) -> HTTPResponse:
    ready = all(result == OK for result in checks.values())
    return json({"status": "ready" if ready else "not_ready", "checks": dict(checks)},
                status=200 if ready else 503, headers={"Cache-Control": "no-store"})


def install_operations_routes(app: Any, checks: Checks, before_scrape: Optional[BeforeScrape] = None,
                              **route_options: Any) -> None:
    """`/metrics` and `/ready` on `app` (`route_options`: what the app's own middleware reads
    on a route, e.g. the services' ctx_public=True). Also applies the process's log format
    (core.logs.use_log_format) to the handlers the server sets up as it starts."""

    async def metrics(request: Any) -> HTTPResponse:
        if relayed(request):
            return json({"error": {"code": "not_found"}}, status=404)
        if before_scrape is not None:
            await before_scrape(request.app)
        body, content_type = exposition()
        return raw(body, content_type=content_type, headers={"Cache-Control": "no-store"})

    async def ready(request: Any) -> HTTPResponse:
        if relayed(request):
            return json({"error": {"code": "not_found"}}, status=404)
        return readiness_answer(await checks(request.app))

    app.add_route(metrics, METRICS_PATH, methods=["GET"], name="oyat_metrics", **route_options)
    app.add_route(ready, READY_PATH, methods=["GET"], name="oyat_ready", **route_options)

    async def apply_log_format(*_: Any) -> None:
        use_log_format()

    app.register_listener(apply_log_format, "after_server_start")


def install_request_ids(app: Any, logger_name: str, log_requests: bool = True) -> None:
    """Each request handled under its `X-Request-Id` (a new id without one), echoed in the
    answer; with `log_requests`, one log line per request but the operations routes."""
    logger = logging.getLogger(logger_name)

    async def take_request_id(request: Any) -> None:
        request.ctx.oyat_request_id = set_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.ctx.oyat_started = time.perf_counter()

    async def log_request(request: Any, response: HTTPResponse) -> None:
        request_id = current_request_id()
        if request_id and response is not None:
            response.headers[REQUEST_ID_HEADER] = request_id
        if not log_requests or request.path in OPERATIONS_PATHS or request.path == "/health":
            return
        started = getattr(request.ctx, "oyat_started", None)
        seconds = time.perf_counter() - started if started is not None else 0.0
        logger.info("%s %s answered %s in %.3f s", request.method, masked_path(request.path),
                    getattr(response, "status", "-"), seconds)

    async def forget_request_id(request: Any, _response: HTTPResponse) -> None:
        token = getattr(request.ctx, "oyat_request_id", None)
        if token is not None:  # the connection's next request starts without it
            reset_request_id(token)

    # First of the request middleware: even a refused call is logged under its id. Response
    # middleware runs last registered first: the id is forgotten after every other one.
    app.register_middleware(take_request_id, "request")
    app.register_middleware(forget_request_id, "response")
    app.register_middleware(log_request, "response")

