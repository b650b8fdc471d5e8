"""Bearer tokens from the organisation's identity provider: a JWT signed by a key from its JWKS, for Vigil's
audience, not expired, with the person's Vigil roles in a claim (PyJWT does the checking)."""

from __future__ import annotations

import asyncio
import logging

import jwt

from streams.access.roles import ROLES, Principal

log = logging.getLogger(__name__)
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]  # asymmetric only: never "none" or HMAC


class OidcVerifier:
    """Checks a JWT against the provider's JWKS (fetched and cached by `jwt.PyJWKClient`)."""

    def __init__(self, jwks_url: str, audience: str, issuer: str | None = None, role_claim: str = "roles") -> None:
        self.keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self.audience, self.issuer, self.role_claim = audience, issuer, role_claim

    def verify(self, token: str) -> Principal | None:
        """The token's person, or None if any check fails (the reason goes to the log, never the token)."""
        try:
            key = self.keys.get_signing_key_from_jwt(token).key
            claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                                options={"require": ["exp", "sub"]})
        except jwt.PyJWTError as refused:
            log.info("OIDC token refused: %s", refused)
            return None
        return Principal(claims.get("preferred_username") or claims["sub"], roles_of(claims.get(self.role_claim)),
                         via="oidc")

    async def principal(self, token: str) -> Principal | None:
        return await asyncio.to_thread(self.verify, token)  # the JWKS fetch is blocking I/O


def roles_of(claim: object) -> frozenset[str]:
    """Vigil's roles in a role claim (a list, or a space-separated string); other roles are ignored.

    >>> sorted(roles_of(["vigil-analyst", "analyst", "payroll"])), sorted(roles_of("viewer admin"))
    (['analyst'], ['admin', 'viewer'])
    """
    named = claim.split() if isinstance(claim, str) else claim if isinstance(claim, list) else []
    return frozenset(r for r in named if r in ROLES)
