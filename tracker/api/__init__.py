"""The read API (`/api/v1`): JSON for partners' scripts and other systems, with personal tokens.

- `tokens.py`: personal API tokens (stored hashed, with an expiry; scoped to what their user may see).
- `schemas.py`: the responses as pydantic models; the OpenAPI description is generated from them and the views.
- `views.py`: the endpoints, the OpenAPI description (`/api/v1/openapi.json`) and its browsable page.
- `token_views.py`: the account page's tokens (create, revoke).
- `cli.py`: `tracker tokens create|list|revoke`.
"""
