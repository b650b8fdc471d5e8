"""The dashboard's session: a signed cookie (HttpOnly, SameSite=Strict) and a CSRF token derived from it.

The cookie names the key id (or the break-glass token) and an expiry, signed with the worker's secret: any
worker of the group can check it, and revoking the key ends every session it opened.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE = "vigil_session"
CSRF_HEADER = "X-CSRF-Token"


class SessionSigner:
    """Issues and checks session cookies.

    >>> signer = SessionSigner(b"secret", ttl=3600)
    >>> cookie = signer.issue("a1b2c3", now=0.0)
    >>> signer.subject(cookie, now=10.0)
    'a1b2c3'
    >>> tampered = cookie[:-1] + ("1" if cookie.endswith("0") else "0")
    >>> signer.subject(cookie, now=4000.0) is None, signer.subject(tampered, now=10.0) is None
    (True, True)
    >>> signer.csrf(cookie) == signer.csrf(cookie) != signer.csrf(signer.issue("a1b2c3", now=0.0))
    True
    """

    def __init__(self, secret: bytes, ttl: float = 8 * 3600) -> None:
        self.secret = hmac.new(secret, b"vigil sessions", hashlib.sha256).digest()
        self.ttl = ttl

    def _sign(self, text: str) -> str:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()

    def issue(self, subject: str, now: float) -> str:
        body = f"{subject}.{now + self.ttl:.0f}.{secrets.token_hex(8)}"
        return f"{body}.{self._sign(body)}"

    def subject(self, cookie: str, now: float) -> str | None:
        """The key id (or ``token``) a valid, unexpired cookie names; None otherwise."""
        body, _, signature = cookie.rpartition(".")
        if not body or not hmac.compare_digest(self._sign(body), signature):
            return None
        subject, expires, _nonce = body.split(".")
        return subject if float(expires) > now else None

    def csrf(self, cookie: str) -> str:
        """The token the page must send in `CSRF_HEADER` with every request that changes something."""
        return self._sign("csrf:" + cookie)
