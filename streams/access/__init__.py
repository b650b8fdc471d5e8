"""Who may see and do what in Vigil, and the record of what they did.

- `roles`: the five roles and the person (`Principal`) a request acts for;
- `keys`: per-person API keys, stored hashed on a compacted topic and shown once;
- `oidc`: bearer tokens from the organisation's identity provider (JWT, verified against its JWKS);
- `sessions`: the dashboard's signed session cookie and its CSRF token;
- `pseudonyms`: the stable keyed-hash names people see instead of users';
- `audit`: the append-only record of reveals, queries, verdicts, approvals and key changes.
"""
