"""Who is asking, and may they? The web API's gate: an aiohttp middleware in front of every view.

A request acts for a `Principal`, found from (in order) a bearer API key, the break-glass token, an OIDC bearer
token, or the dashboard's session cookie; the live stream also takes a single-use ticket. Each view names the
role each of its methods needs; a request without it is a 403 that names the role. Requests that change
something on the strength of a cookie must also carry the session's CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from aiohttp import web

from streams.access.keys import PREFIX, KeyRing
from streams.access.oidc import OidcVerifier
from streams.access.roles import BREAK_GLASS, Principal
from streams.access.sessions import COOKIE, CSRF_HEADER, SessionSigner

PUBLIC = {("GET", "/health"), ("GET", "/dashboard"), ("GET", "/static/{name}"), ("POST", "/api/session")}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class StreamTickets:
    """Short-lived, single-use tickets for the live stream: a browser's EventSource cannot send a header, and a
    key in a URL ends up in logs and histories, so the page trades its credentials for a ticket first.

    >>> tickets = StreamTickets(ttl=30)
    >>> ticket = tickets.issue(BREAK_GLASS, now=100.0)
    >>> tickets.redeem(ticket, now=110.0) is BREAK_GLASS, tickets.redeem(ticket, now=111.0)  # once only
    (True, None)
    >>> tickets.redeem(tickets.issue(BREAK_GLASS, now=100.0), now=131.0)  # too late
    """

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self.open: dict[str, tuple[float, Principal]] = {}  # ticket -> (expiry on the wall clock, holder)

    def issue(self, principal: Principal, now: float) -> str:
        self.open = {t: held for t, held in self.open.items() if held[0] > now}  # forget the unused
        ticket = secrets.token_urlsafe(24)
        self.open[ticket] = (now + self.ttl, principal)
        return ticket

    def redeem(self, ticket: str, now: float) -> Principal | None:
        until, principal = self.open.pop(ticket, (0.0, None))
        return principal if until > now else None


class Gate:
    """Finds the `Principal` of a request.

    >>> old, new = (Gate(token, KeyRing(), SessionSigner(b"secret"), StreamTickets()) for token in ("t1", "t2"))
    >>> old.holder(old.session_subject(BREAK_GLASS)) is BREAK_GLASS
    True
    >>> new.holder(old.session_subject(BREAK_GLASS)) is None  # a new token ends the old one's sessions
    True
    """

    def __init__(self, token: str, keys: KeyRing, sessions: SessionSigner, tickets: StreamTickets,
                 oidc: OidcVerifier | None = None) -> None:
        self.token = token.encode()
        self.keys, self.sessions, self.tickets, self.oidc = keys, sessions, tickets, oidc
        # A break-glass session names the token's fingerprint: a new token ends the old token's sessions.
        self.token_subject = "token-" + hashlib.sha256(self.token).hexdigest()[:16]

    def session_subject(self, principal: Principal) -> str:
        """What a session cookie of `principal` names (empty: no sessions for them, e.g. OIDC tokens)."""
        return self.token_subject if principal is BREAK_GLASS else principal.subject

    def holder(self, subject: str) -> Principal | None:
        """Whom a session cookie's subject stands for now (a revoked key signs nobody in)."""
        return BREAK_GLASS if hmac.compare_digest(subject, self.token_subject) else self.keys.holder(subject)

    async def bearer(self, presented: str) -> Principal | None:
        if hmac.compare_digest(presented.encode(), self.token):
            return BREAK_GLASS
        if presented.startswith(PREFIX + "_"):
            return self.keys.principal(presented)
        if self.oidc is not None and presented.count(".") == 2:
            return await self.oidc.principal(presented)
        return None

    async def identify(self, request: web.Request) -> tuple[Principal | None, str]:
        """The principal, and why there is none (empty when there is one)."""
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and presented:
            principal = await self.bearer(presented.strip())
            return principal, "" if principal else "unknown, revoked or expired credentials"
        if (route_path(request) == "/api/stream" and "ticket" in request.query):
            principal = self.tickets.redeem(request.query["ticket"], time.time())
            return principal, "" if principal else "stream ticket unknown, used or expired"
        cookie = request.cookies.get(COOKIE)
        if cookie is None:
            return None, "sign in: an Authorization: Bearer header (API key or token) or the dashboard's session"
        subject = self.sessions.subject(cookie, time.time())
        principal = self.holder(subject) if subject else None
        if principal is None:
            return None, "session expired or its key revoked: sign in again"
        if request.method not in SAFE_METHODS and not hmac.compare_digest(
                request.headers.get(CSRF_HEADER, ""), self.sessions.csrf(cookie)):
            return None, f"a request that changes something needs the session's {CSRF_HEADER} header"
        return principal, ""


def route_path(request: web.Request) -> str:
    """The route's pattern (``/api/users/{user}``), or the path when no route matched."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path


def guard(gate: Gate, needs: dict[tuple[str, str], str]):
    """aiohttp middleware: the request's principal must hold the role `needs[(method, route)]` (or one of
    ``a|b``); a route that names no role is not served."""

    @web.middleware
    async def authorize(request: web.Request, handler):
        where = (request.method, route_path(request))
        if where in PUBLIC:
            return await handler(request)
        if where not in needs:  # deny by default: Faust's own views (/router, /table/…) and whatever comes next
            return web.json_response({"error": f"no {where[0]} {request.path} here"}, status=404)
        principal, why = await gate.identify(request)
        if principal is None:
            return web.json_response({"error": why}, status=401)
        roles = needs[where].split("|")  # any one of them will do
        if not any(principal.has(role) for role in roles):
            held = ", ".join(sorted(principal.roles)) or "none"
            return web.json_response({"error": f"{where[0]} {where[1]} needs the {' or '.join(roles)} role; "
                                               f"{principal.name} holds {held}", "needs": roles}, status=403)
        request["principal"] = principal
        return await handler(request)

    return authorize
