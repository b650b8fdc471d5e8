"""The API of the people who watch: signing in, revealing an identity, the audit trail, approvals, automation.

Every view here that changes something or shows a real name writes an entry to ``vigil.audit``.
"""

from __future__ import annotations

import time
from typing import Annotated

import aiohttp
import msgspec
from faust.web import Request, Response

from streams.access.roles import Principal
from streams.access.sessions import COOKIE
from streams.records import AlertRecord
from streams.store import hunting
from streams.worker.controls import AutomationSwitch
from streams.worker.response import APPROVED_BY, VERDICT_FAMILY, reinstate
from streams.worker.web import VigilView, json_body, query_params

Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=2000)]


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    key: str


class RevealBody(msgspec.Struct, forbid_unknown_fields=True):
    pseudonym: str
    reason: Reason  # why this person needs this identity: the audit trail keeps it


class ApprovalBody(msgspec.Struct, forbid_unknown_fields=True):
    alert_id: str
    reason: Reason


class AutomationBody(msgspec.Struct, forbid_unknown_fields=True):
    paused: bool
    reason: Reason


class ReinstateBody(msgspec.Struct, forbid_unknown_fields=True):
    user: str  # a pseudonym
    reason: Reason


class ReportBody(msgspec.Struct, forbid_unknown_fields=True):
    user: str  # a pseudonym
    reason: Reason
    params: dict[str, str] = {}  # the saved query's other parameters (since, until, …), as text


class AuditQuery(msgspec.Struct, forbid_unknown_fields=True):
    who: str = ""
    action: str = ""
    since: float = 0.0  # Unix seconds
    limit: Annotated[int, msgspec.Meta(ge=1, le=10000)] = 200


def key_id(presented: str) -> str:
    """The id part of what looks like a Vigil key (not secret), for the audit trail; never the rest.

    >>> key_id("vk_3f9c0a1b2d4e_s3cret"), key_id("s3cret")
    ('3f9c0a1b2d4e', '')
    """
    prefix, _, rest = presented.partition("_")
    return rest.partition("_")[0][:32] if prefix == "vk" else ""


def whoami(principal: Principal, csrf: str = "") -> dict:
    return {"name": principal.name, "roles": sorted(principal.roles), "via": principal.via, "csrf": csrf}


class Session(VigilView):
    """The dashboard's sign-in: POST {"key"} sets an HttpOnly, SameSite=Strict cookie and returns the CSRF token
    the page sends with changes; GET says who is signed in; DELETE signs out."""

    needs = {"GET": "viewer", "DELETE": "viewer"}  # POST is public: it is where credentials come in

    async def post(self, request: Request) -> Response:
        ctx = self.ctx
        presented = json_body(await request.read(), SignIn).key
        principal = await ctx.gate.bearer(presented)
        if principal is None or not ctx.gate.session_subject(principal):
            request["principal"] = Principal("nobody", frozenset(), via="")
            await ctx.audit(request, "sign-in", key_id(presented), outcome="refused")  # a revoked key tried, say
            return self.refuse("unknown or revoked key (identity-provider tokens go in an Authorization header)",
                               status=401)
        request["principal"] = principal
        await ctx.audit(request, "sign-in")
        cookie = ctx.gate.sessions.issue(ctx.gate.session_subject(principal), time.time())
        response = self.json(whoami(principal, ctx.gate.sessions.csrf(cookie)))
        response.set_cookie(COOKIE, cookie, httponly=True, samesite="Strict", secure=request.secure, path="/",
                            max_age=int(ctx.gate.sessions.ttl))
        return response

    async def get(self, request: Request) -> Response:
        cookie = request.cookies.get(COOKIE)
        return self.json(whoami(request["principal"], self.ctx.gate.sessions.csrf(cookie) if cookie else ""))

    async def delete(self, request: Request) -> Response:
        response = self.json({"ok": True})
        response.del_cookie(COOKIE, path="/")
        return response


class Reveal(VigilView):
    """POST {"pseudonym", "reason"} → {"user"}: one identity, for an investigator, with the reason on record."""

    needs = {"POST": "investigator"}

    async def post(self, request: Request) -> Response:
        body = json_body(await request.read(), RevealBody)
        user = await self.ctx.resolve(body.pseudonym)
        await self.ctx.audit(request, "reveal", body.pseudonym, body.reason, "ok" if user else "failed")
        if user is None:
            return self.refuse(f"no user is known as {body.pseudonym!r}", status=404)
        return self.json({"pseudonym": body.pseudonym, "user": user})


AUDIT_SQL = """
SELECT ts, who, roles, action, subject, reason, outcome, detail FROM vigil.audit
WHERE ({who:String} = '' OR who = {who:String}) AND ({action:String} = '' OR action = {action:String})
  AND ts >= fromUnixTimestamp64Milli(toInt64({since:Float64} * 1000))
ORDER BY ts DESC LIMIT {limit:UInt32}
"""


class AuditTrail(VigilView):
    """GET ?who=&action=&since=&limit= → the newest entries of the audit trail, for admins."""

    needs = {"GET": "admin"}

    async def get(self, request: Request) -> Response:
        query = query_params(request.query, AuditQuery)
        return self.json(await self.ctx.rows(AUDIT_SQL, msgspec.structs.asdict(query)))


ALERT_SQL = ("SELECT alert_id, toFloat64(toUnixTimestamp64Milli(ts)) / 1000 AS ts, user, band, previous, risk, "
             "reasons, techniques, families, event_id FROM vigil.alerts WHERE alert_id = {alert_id:String} LIMIT 1")
VERDICT_AUTHOR_SQL = "SELECT analyst FROM vigil.feedback WHERE feedback_id = {feedback_id:String} LIMIT 1"


class Approvals(VigilView):
    """POST {"alert_id", "reason"}: a second person approves the suspension a verdict alone asked for."""

    needs = {"POST": "responder"}

    async def post(self, request: Request) -> Response:
        ctx, approver = self.ctx, request["principal"].name
        body = json_body(await request.read(), ApprovalBody)
        found = await ctx.rows(ALERT_SQL, {"alert_id": body.alert_id})
        if not found or found[0]["families"] != [VERDICT_FAMILY]:
            return self.refuse(f"{body.alert_id!r} is not an alert raised by a verdict; only those wait for approval",
                               status=404)
        author = await ctx.rows(VERDICT_AUTHOR_SQL, {"feedback_id": body.alert_id.removeprefix("verdict:")})
        if author and author[0]["analyst"] == approver:
            await ctx.audit(request, "approve", body.alert_id, body.reason, "refused", "own verdict")
            return self.refuse("four eyes: the person who gave the verdict cannot approve its suspension", status=403)
        alert = msgspec.convert(found[0], AlertRecord)
        await ctx.topics["responses"].send(key=alert.user.encode(), value=msgspec.json.encode(alert),
                                           headers={APPROVED_BY: approver.encode()})
        await ctx.audit(request, "approve", body.alert_id, body.reason)
        return self.json({"ok": True, "alert_id": body.alert_id, "approved_by": approver})


class Automation(VigilView):
    """GET → whether automation is paused; POST {"paused", "reason"} pauses or resumes it, for every worker."""

    needs = {"GET": "viewer", "POST": "responder"}

    async def get(self, request: Request) -> Response:
        return self.json(msgspec.structs.asdict(self.ctx.controls.automation))

    async def post(self, request: Request) -> Response:
        body = json_body(await request.read(), AutomationBody)
        switch = AutomationSwitch(paused=body.paused, by=request["principal"].name, reason=body.reason, ts=time.time())
        await self.ctx.topics["controls"].send(key=b"automation", value=msgspec.json.encode(switch))
        self.ctx.controls.automation = switch  # this worker at once; the others as they follow the topic
        await self.ctx.audit(request, "automation.pause" if body.paused else "automation.resume", reason=body.reason)
        return self.json(msgspec.structs.asdict(switch))


class Reinstate(VigilView):
    """POST {"user": PSEUDONYM, "reason"}: reactivate a suspended user at the identity provider (SCIM)."""

    needs = {"POST": "responder"}

    async def post(self, request: Request) -> Response:
        ctx = self.ctx
        body = json_body(await request.read(), ReinstateBody)
        if not ctx.settings.scim_url:
            return self.refuse("no SCIM endpoint configured: set VIGIL_SCIM_URL (and VIGIL_SCIM_TOKEN)", status=409)
        if (user := await ctx.resolve(body.user)) is None:
            return self.refuse(f"no user is known as {body.user!r}", status=404)
        try:
            action = await reinstate(ctx.settings, user, request["principal"].name)
        except (aiohttp.ClientError, LookupError, OSError) as e:
            await ctx.audit(request, "reinstate", body.user, body.reason, "failed", str(e))
            return self.refuse(f"the identity provider did not reinstate {body.user}: {e}", status=502)
        await ctx.topics["actions"].send(key=user.encode(), value=msgspec.json.encode(action))
        await ctx.audit(request, "reinstate", body.user, body.reason)
        return self.json({"ok": True, "user": body.user})


#: The saved queries about one person an investigator runs through the API: the breach report's notification
#: list, and the user's timeline.
REPORTS = ("customers-touched-by", "user-timeline")


class Report(VigilView):
    """POST /api/reports/{name} {"user": PSEUDONYM, "reason", "params"} → one person's breach list or timeline,
    for an investigator, on the record."""

    needs = {"POST": "investigator"}

    async def post(self, request: Request, name: str) -> Response:
        ctx = self.ctx
        if name not in REPORTS:
            return self.refuse(f"no report {name!r}; the reports are {', '.join(REPORTS)}", status=404)
        try:
            body = json_body(await request.read(), ReportBody)
            query = hunting.saved(name)
            if (user := await ctx.resolve(body.user)) is None:
                return self.refuse(f"no user is known as {body.user!r}", status=404)
            parameters = query.bind(body.params | {"user": user})
        except hunting.QueryParameterError as e:
            return self.refuse(e)
        await ctx.audit(request, "report", body.user, body.reason, detail=f"{name} {body.params}")
        result = await ctx.sink.run(ctx.sink.store.query_readonly, query.sql, parameters)
        return self.json({"columns": result.columns, "rows": result.rows})


ROUTES: dict[str, type[VigilView]] = {
    "/api/session": Session, "/api/reveal": Reveal, "/api/audit": AuditTrail, "/api/approvals": Approvals,
    "/api/automation": Automation, "/api/reinstate": Reinstate, "/api/reports/{name}": Report,
}
