"""The console's routes (see the package's documentation)."""

import asyncio
import math
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Awaitable, Dict, List, NoReturn, Optional, Tuple

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.adviser_client import AdviserRefused, AdviserServices, ServiceUnavailable
from core.clock import PARIS
from core.domain_intents import domain_intents
from core.office_hours import OfficeHours, parse_office_hours
from core.settings import WebSettings
from web.console import charts, security
from web.console.conversations import AdviserConversations, ConversationRefused, ConversationsUnavailable
from web.console.grants import Grant, Grants
from web.console.pages import field, render

STATIC = Path(__file__).resolve().parent / "static"
_domain_intents = lru_cache(maxsize=1)(domain_intents)  # I: the choices of « À revoir »
HOME = security.PATH
REFERENCE = re.compile(r"TRF-[0-9]{4}-[0-9]{6}")  # matched whole
# Where a login may send the adviser on: the console's own pages, nowhere else.
_NEXT_PAGE = re.compile(r"/conseiller(/transferts/TRF-[0-9]{4}-[0-9]{6}|/statistiques|/a-revoir)?")
STATUSES = ("waiting", "taken", "closed")
MAX_LOGIN, MAX_PASSWORD, MAX_MESSAGE = 64, 1024, 2000
# The codes a page may be asked to tell (?erreur= / ?fait=): their words are in the templates.
ERRORS = {
    "reference_invalid", "handoff_taken", "handoff_not_taken", "handoff_not_yours", "outside_window",
    "channel_unreachable", "not_paused", "conversation_unavailable", "conversation_refused",
    "service_unavailable", "message_empty", "message_too_long", "no_conversation", "refused",
}
DONE = {"taken", "sent", "closed", "taken_without_conversation"}
# Refusals of the Rasa routes told as they are; the others (grants...) as conversation_refused.
_CONVERSATION_CODES = {"outside_window", "channel_unreachable", "not_paused"}


class Stop(Exception):
    """Ends a request with `answer` (the login page, a refusal...)."""

    def __init__(self, answer: HTTPResponse) -> None:
        super().__init__()
        self.answer = answer


@dataclass
class Console:
    advisers: AdviserServices
    conversations: AdviserConversations
    grants: Grants
    configured: bool
    office_hours: OfficeHours  # shown on the queue: whether customers are offered an adviser now


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _page(template: str, status: int = 200, **values: Any) -> HTTPResponse:
    return response.html(render(template, **values), status=status)


def _fail(request: Request, status: int, code: str) -> NoReturn:
    """A refusal page (or JSON for the script) with the code's words."""
    if _wants_json(request):
        raise Stop(response.json({"ok": False, "error": code}, status=status))
    raise Stop(_page("refusal.html", status=status, code=code, adviser=None, csrf=""))


def _login_page(request: Request, *, message: Optional[str] = None, status: int = 200, next_page: str = "",
                login: str = "", minutes: int = 0) -> HTTPResponse:
    return _page("login.html", status=status, message=message, next_page=next_page, login=login,
                 minutes=minutes, adviser=None, csrf="")


def _code(refused: AdviserRefused) -> str:
    """The refusal's code as a plain string (the client gives ErrorCode members)."""
    return str(getattr(refused.code, "value", refused.code))


def _next_page(value: Optional[str]) -> str:
    return value if value and _NEXT_PAGE.fullmatch(value) else HOME


def install(app: Sanic, settings: WebSettings) -> None:
    """Mounts the console on `app` at /conseiller."""
    timeout = settings.services_timeout_seconds
    console = Console(
        AdviserServices(settings.policy_service_url, settings.adviser_console_token, timeout),
        AdviserConversations(settings.rasa_server_url, settings.adviser_console_token, timeout),
        Grants(),
        bool(settings.adviser_console_token),
        parse_office_hours(settings.office_hours),
    )
    app.blueprint(blueprint(console))

    @app.middleware("response")
    async def console_headers(request: Request, answer: HTTPResponse) -> None:
        # Every answer under /conseiller, its 404s and static files included.
        if answer is not None and request.path.startswith(HOME):
            security.add_headers(answer)

    @app.listener("after_server_stop")
    async def close_clients(*_: Any) -> None:
        for client in (console.advisers, console.conversations):
            closing = getattr(client, "close_client", None) or getattr(client, "close", None)
            if closing is not None and asyncio.iscoroutinefunction(closing):
                await closing()


def blueprint(console: Console) -> Blueprint:
    bp = Blueprint("conseiller", url_prefix=HOME)
    bp.static("/static", str(STATIC))

    @bp.exception(Stop)
    async def stopped(_: Request, stop: Stop) -> HTTPResponse:
        return stop.answer

    # --- the session ---------------------------------------------------------------------

    async def signed_in(request: Request, *, poll: bool = False, next_page: str = "") -> Tuple[str, Any]:
        """The session token and the adviser, checked by the policy service; else the login
        page (a poll: 401, and the page reloads to the login)."""
        if not console.configured:
            _fail(request, 503, "not_configured")
        session = security.session_token(request)
        if session is None:
            if poll or _wants_json(request):
                raise Stop(response.json({"ok": False, "error": "session_expired"}, status=401))
            raise Stop(_login_page(request, next_page=next_page))
        try:
            current = await console.advisers.current(session)
        except AdviserRefused as refused:
            if poll or _wants_json(request):
                raise Stop(response.json({"ok": False, "error": "session_expired"}, status=401)) from None
            if _code(refused) != "adviser_session_invalid":
                _fail(request, 503, "service_unavailable")
            console.grants.forget(session)
            page = _login_page(request, message="session_expired", next_page=next_page)
            security.clear_session(page, request)
            raise Stop(page) from None
        except ServiceUnavailable:
            _fail(request, 503, "service_unavailable")
        return session, current.adviser

    def checked_post(request: Request, session: str) -> None:
        if not security.same_origin(request) or not security.csrf_valid(request, session):
            _fail(request, 403, "csrf")

    @bp.post("/connexion")
    async def login(request: Request) -> HTTPResponse:
        if not security.same_origin(request):
            _fail(request, 403, "csrf")
        if not console.configured:
            _fail(request, 503, "not_configured")
        form = request.form or {}
        name = (form.get("identifiant") or "").strip()
        password = form.get("mot_de_passe") or ""
        next_page = _next_page(form.get("suite"))
        if not name or not password or len(name) > MAX_LOGIN or len(password) > MAX_PASSWORD:
            return _login_page(request, message="login_refused", status=401, next_page=next_page, login=name[:MAX_LOGIN])
        try:
            opened = await console.advisers.login(name, password)
        except AdviserRefused as refused:
            if _code(refused) == "adviser_locked":
                minutes = max(1, math.ceil((refused.retry_after_seconds or 60) / 60))
                return _login_page(request, message="adviser_locked", status=423, next_page=next_page, login=name,
                                   minutes=minutes)
            return _login_page(request, message="login_refused", status=401, next_page=next_page, login=name)
        except ServiceUnavailable:
            return _login_page(request, message="service_unavailable", status=503, next_page=next_page, login=name)
        answer = response.redirect(next_page, status=303)
        security.set_session(answer, request, opened.session)
        return answer

    @bp.post("/deconnexion")
    async def logout(request: Request) -> HTTPResponse:
        session = security.session_token(request)
        answer = response.redirect(HOME, status=303)
        if session is None:
            return answer
        checked_post(request, session)
        try:
            await console.advisers.logout(session)
        except (AdviserRefused, ServiceUnavailable):
            pass  # the cookie goes anyway; the session ends by itself
        console.grants.forget(session)
        security.clear_session(answer, request)
        return answer

    # --- the queue -----------------------------------------------------------------------

    async def queue(session: str) -> Dict[str, List[Any]]:
        lists = await asyncio.gather(*(console.advisers.handoffs(session, status=status) for status in STATUSES))
        return dict(zip(STATUSES, lists, strict=True))

    @bp.get("/", strict_slashes=False)
    async def home(request: Request) -> HTTPResponse:
        session, adviser = await signed_in(request)
        try:
            sections = await queue(session)
        except ServiceUnavailable:
            _fail(request, 503, "service_unavailable")
        error = request.args.get("erreur")
        hours = console.office_hours
        return _page("queue.html", adviser=adviser, csrf=security.csrf_token(session), sections=sections,
                     error=error if error in ERRORS else None,
                     open_now=hours.open_at(datetime.now(PARIS)), office_hours=hours.label())

    @bp.get("/file")
    async def queue_part(request: Request) -> HTTPResponse:
        session, adviser = await signed_in(request, poll=True)
        try:
            sections = await queue(session)
        except (ServiceUnavailable, AdviserRefused):
            return response.empty(status=503)
        return _page("_queue.html", adviser=adviser, sections=sections)

    @bp.get("/recherche")
    async def search(request: Request) -> HTTPResponse:
        typed = (request.args.get("reference") or "").strip().upper()[:32]
        if REFERENCE.fullmatch(typed):
            return response.redirect(f"{HOME}/transferts/{typed}", status=303)
        return response.redirect(f"{HOME}?erreur=reference_invalid", status=303)

    # --- a hand-off ----------------------------------------------------------------------

    def keep_grant(session: str, reference: str, detail: Any) -> Optional[Grant]:
        given, conversation_id = field(detail, "grant"), field(detail, "conversation_id")
        if not given or not conversation_id:
            console.grants.forget(session, reference)
            return None
        expires_at = field(given, "expires_at")
        if isinstance(expires_at, str):
            expires_at = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
        grant = Grant(field(given, "token"), field(given, "scope"), expires_at, conversation_id)
        console.grants.keep(session, reference, grant)
        return grant

    def refused_answer(request: Request, reference: str, refused: AdviserRefused) -> NoReturn:
        """What the policy service's refusal becomes for the adviser."""
        code = _code(refused)
        if code == "adviser_session_invalid":
            if _wants_json(request):
                raise Stop(response.json({"ok": False, "error": "session_expired"}, status=401))
            page = _login_page(request, message="session_expired", next_page=f"{HOME}/transferts/{reference}")
            security.clear_session(page, request)
            raise Stop(page)
        if code == "handoff_not_found":
            _fail(request, 404, "handoff_not_found")
        if code == "handoff_not_yours":
            _fail(request, 403, "handoff_not_yours")
        raise Stop(done(request, reference, error=code if code in ERRORS else "refused"))

    def done(request: Request, reference: str, *, error: Optional[str] = None, did: Optional[str] = None) -> HTTPResponse:
        """The answer to a form: JSON for the script, else back to the hand-off's page."""
        if _wants_json(request):
            return response.json({"ok": error is None, "error": error, "done": did}, status=409 if error else 200)
        query = f"?erreur={error}" if error else (f"?fait={did}" if did else "")
        return response.redirect(f"{HOME}/transferts/{reference}{query}", status=303)

    async def of_service(request: Request, reference: str, answer: Awaitable[Any]) -> Any:
        """The policy service's answer about a hand-off; its refusal, or its absence, told as a page."""
        try:
            return await answer
        except AdviserRefused as refused:
            refused_answer(request, reference, refused)
        except ServiceUnavailable:
            _fail(request, 503, "service_unavailable")

    def checked_reference(request: Request, reference: str) -> None:
        if not REFERENCE.fullmatch(reference):
            _fail(request, 404, "handoff_not_found")

    async def grant_for(request: Request, session: str, reference: str, *, write: bool = False) -> Optional[Grant]:
        """The grant kept for this hand-off, or a fresh one from the policy service."""
        kept = console.grants.get(session, reference, write=write)
        if kept is not None:
            return kept
        detail = await of_service(request, reference, console.advisers.handoff(session, reference))
        grant = keep_grant(session, reference, detail)
        return grant if grant is not None and (grant.writes or not write) else None

    @bp.get("/transferts/<reference>")
    async def handoff(request: Request, reference: str) -> HTTPResponse:
        checked_reference(request, reference)
        session, adviser = await signed_in(request, next_page=f"{HOME}/transferts/{reference}")
        detail = await of_service(request, reference, console.advisers.handoff(session, reference))
        grant = keep_grant(session, reference, detail)
        conversation, conversation_error = None, None
        if grant is not None:
            try:
                conversation = await console.conversations.read(grant.token, grant.conversation_id)
            except ConversationRefused as refused:
                conversation_error = "conversation_refused" if refused.status != 404 else "no_conversation"
            except ConversationsUnavailable:
                conversation_error = "conversation_unavailable"
        messages = (conversation or {}).get("messages") or []
        taker = field(field(detail, "taken_by"), "login")
        mine = field(detail, "status") == "taken" and taker == adviser.login
        paused = bool((conversation or {}).get("paused"))
        error, did = request.args.get("erreur"), request.args.get("fait")
        return _page(
            "handoff.html", adviser=adviser, csrf=security.csrf_token(session), handoff=detail,
            conversation=conversation, conversation_error=conversation_error, messages=messages,
            after=messages[-1]["timestamp"] if messages else 0, paused=paused,
            can_take=field(detail, "status") == "waiting" or (mine and conversation is not None and not paused),
            can_write=mine and conversation is not None and paused,
            can_close=field(detail, "status") == "taken" and (mine or adviser.role == "supervisor"),
            error=error if error in ERRORS else None, did=did if did in DONE else None,
        )

    @bp.get("/transferts/<reference>/conversation")
    async def conversation_part(request: Request, reference: str) -> HTTPResponse:
        checked_reference(request, reference)
        session, _ = await signed_in(request, poll=True)
        try:
            after = float(request.args.get("apres") or 0)
        except ValueError:
            after = 0.0
        if not math.isfinite(after):
            after = 0.0
        grant = await grant_for(request, session, reference)
        if grant is None:
            return response.json({"html": "", "after": after, "paused": False})
        try:
            read = await console.conversations.read(grant.token, grant.conversation_id, after)
        except ConversationRefused:
            # A grant refused (expired early, the hand-off closed...): a fresh one next time.
            console.grants.forget(session, reference)
            return response.json({"ok": False, "error": "conversation_refused"}, status=409)
        except ConversationsUnavailable:
            return response.json({"ok": False, "error": "conversation_unavailable"}, status=503)
        messages = read.get("messages") or []
        return response.json({
            "html": render("_messages.html", messages=messages) if messages else "",
            "after": messages[-1]["timestamp"] if messages else after,
            "paused": bool(read.get("paused")),
        })

    async def act_on_conversation(request: Request, session: str, reference: str, grant: Optional[Grant],
                                  action: str, *args: Any) -> Optional[str]:
        """Calls the Rasa route `action` with the write grant; the error code, or None."""
        if grant is None:
            return "no_conversation"
        try:
            await getattr(console.conversations, action)(grant.token, grant.conversation_id, *args)
        except ConversationRefused as refused:
            if refused.code.startswith("grant_"):
                console.grants.forget(session, reference)
            return refused.code if refused.code in _CONVERSATION_CODES else "conversation_refused"
        except ConversationsUnavailable:
            return "conversation_unavailable"
        return None

    @bp.post("/transferts/<reference>/prise-en-charge")
    async def take(request: Request, reference: str) -> HTTPResponse:
        checked_reference(request, reference)
        session, _ = await signed_in(request, next_page=f"{HOME}/transferts/{reference}")
        checked_post(request, session)
        detail = await of_service(request, reference, console.advisers.take(session, reference))
        grant = keep_grant(session, reference, detail)
        if grant is None:
            return done(request, reference, did="taken_without_conversation")
        error = await act_on_conversation(request, session, reference, grant, "take")
        return done(request, reference, error=error, did=None if error else "taken")

    @bp.post("/transferts/<reference>/messages")
    async def send(request: Request, reference: str) -> HTTPResponse:
        checked_reference(request, reference)
        session, _ = await signed_in(request, next_page=f"{HOME}/transferts/{reference}")
        checked_post(request, session)
        text = ((request.form or {}).get("message") or "").strip()
        if not text:
            return done(request, reference, error="message_empty")
        if len(text) > MAX_MESSAGE:
            return done(request, reference, error="message_too_long")
        await of_service(request, reference, console.advisers.send(session, reference, text))
        grant = await grant_for(request, session, reference, write=True)
        error = await act_on_conversation(request, session, reference, grant, "send", text)
        return done(request, reference, error=error, did=None if error else "sent")

    @bp.post("/transferts/<reference>/cloture")
    async def close(request: Request, reference: str) -> HTTPResponse:
        checked_reference(request, reference)
        session, _ = await signed_in(request, next_page=f"{HOME}/transferts/{reference}")
        checked_post(request, session)
        # The conversation goes back to the assistant first, with the write grant of the taker
        # or a supervisor (once the hand-off is closed, grants only read): a failure there
        # leaves the hand-off open, for « Clore » to be tried again.
        grant = await grant_for(request, session, reference)
        if grant is not None and grant.writes:
            error = await act_on_conversation(request, session, reference, grant, "close")
            if error is not None:
                return done(request, reference, error=error)
        detail = await of_service(request, reference, console.advisers.close(session, reference))
        keep_grant(session, reference, detail)
        return done(request, reference, did="closed")

    # --- I: the business's figures and the review of misunderstood messages (issue 16) ---
    # Neither read conversations here: the policy service serves what `make stats` stored
    # (web/console/charts.py draws it); the review is for supervisors (checked there too).

    @bp.get("/statistiques")
    async def statistics(request: Request) -> HTTPResponse:
        session, adviser = await signed_in(request, next_page=f"{HOME}/statistiques")
        try:
            figures = await console.advisers.statistics(session)
        except (ServiceUnavailable, AdviserRefused):
            _fail(request, 503, "service_unavailable")
        return _page("statistics.html", adviser=adviser, csrf=security.csrf_token(session), statistics=figures,
                     conversations_chart=charts.conversations_chart(figures.days),
                     rates_chart=charts.rates_chart(figures.days),
                     intents_chart=charts.intents_chart(figures.top_intents, {}))

    async def supervisor(request: Request) -> Tuple[str, Any]:
        session, adviser = await signed_in(request, next_page=f"{HOME}/a-revoir")
        if adviser.role != "supervisor":
            _fail(request, 403, "supervisor_only")
        return session, adviser

    @bp.get("/a-revoir")
    async def reviews(request: Request) -> HTTPResponse:
        session, adviser = await supervisor(request)
        try:
            pending = await console.advisers.training_reviews(session)
        except AdviserRefused:
            _fail(request, 403, "supervisor_only")
        except ServiceUnavailable:
            _fail(request, 503, "service_unavailable")
        error, did = request.args.get("erreur"), request.args.get("fait")
        return _page("review.html", adviser=adviser, csrf=security.csrf_token(session), reviews=pending,
                     intents=_domain_intents(), did=did if did == "reviewed" else None,
                     error=error if error in ERRORS else None)

    @bp.post("/a-revoir/<review_id:int>")
    async def review(request: Request, review_id: int) -> HTTPResponse:
        session, _ = await supervisor(request)
        checked_post(request, session)
        intent = ((request.form or {}).get("intention") or "").strip()
        try:
            await console.advisers.review(session, review_id, intent)
        except AdviserRefused as refused:
            if _code(refused) == "supervisor_only":
                _fail(request, 403, "supervisor_only")
            if _code(refused) == "training_review_not_found":
                _fail(request, 404, "training_review_not_found")
            return response.redirect(f"{HOME}/a-revoir?erreur=refused", status=303)
        except ServiceUnavailable:
            return response.redirect(f"{HOME}/a-revoir?erreur=service_unavailable", status=303)
        return response.redirect(f"{HOME}/a-revoir?fait=reviewed", status=303)

    return bp
