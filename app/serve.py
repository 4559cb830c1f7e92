"""`prtkg serve`: run the HTTP service on the persistent store, or on the bundled demo in a temporary store."""
from __future__ import annotations

import datetime as dt
import secrets

from prtkg.store import Store, open_store

DEMO_AS_OF = dt.date(2026, 11, 25)  # the day the bundled demo's running deadlines are measured against


def demo_store(as_of: dt.date = DEMO_AS_OF) -> Store:
    """The bundled reference data and demo dataset, ingested and checked into an in-memory store."""
    from .checking import bundled
    from .ingest import ingest

    store = Store(None)
    ingest([bundled("reference"), bundled("demo")], as_of=as_of, store=store)
    return store


def serve(host: str = "127.0.0.1", port: int = 8000, demo: bool = False, echo=print) -> None:
    import uvicorn

    from prtkg.api.app import create_app
    from prtkg.api.settings import Settings

    settings = Settings.from_env()
    token = None
    if demo:
        echo("loading the bundled demo into a temporary store ...")
        store = demo_store()
        token = secrets.token_urlsafe(24)
        settings.tokens[token] = "staff"
    else:
        store = open_store()
    app = create_app(store, settings)
    url = f"http://{host}:{port}"
    echo(f"prtkg serving {'the demo' if demo else store.path} at {url}  (API docs: {url}/docs)")
    if token:
        echo(f"staff token for this session: {token}")
        echo(f'  try: curl -H "Authorization: Bearer {token}" {url}/queries')
    if not settings.tokens:
        echo("no tokens configured (PRTKG_TOKENS / PRTKG_TOKENS_FILE): only the open routes will answer")
    # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default; the app trusts only the proxies
    # named in PRTKG_TRUSTED_PROXIES (prtkg.api.app), so uvicorn's own handling is off.
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
