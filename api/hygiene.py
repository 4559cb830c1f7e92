"""Browser and network hygiene: security headers on every answer, `Vary: Accept` where the answer is
negotiated, and the API docs (/docs) served from the installed package, never a CDN, so they
work on a network with no internet and the pages' Content-Security-Policy names no other origin.
"""
from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_STATIC = "/static-docs"

# Pages: scripts and everything else from this server only. Inline styles are allowed because Swagger
# UI and CodeMirror (Yasqe) set them; inline scripts are not, except the one-line Swagger UI
# start-up below, admitted by its hash. `frame-ancestors 'none'` (and X-Frame-Options for older
# browsers) stops the pages being framed for clickjacking.
PAGE_CSP = ("default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Anything else (JSON, CSV, SPARQL results) is data: a browser opening it directly runs nothing.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
          (b"x-frame-options", b"DENY")]

# Routes whose answer depends on the Accept header (SPARQL results by media type): caches must key on it.
NEGOTIATED = re.compile(r"/sparql$|/queries/[^/]+$")

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def data_headers() -> dict[str, str]:
    """The headers of a data answer, for answers made outside SecurityHeaders."""
    return {"content-security-policy": DATA_CSP, **{k.decode(): v.decode() for k, v in COMMON}}


def _script_hashes(html: bytes) -> str:
    return "".join(f" 'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'"
                   for s in _INLINE_SCRIPT.findall(html))


class SecurityHeaders:
    """Pure ASGI middleware (no body buffering): adds the headers to every response start."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        negotiated = bool(NEGOTIATED.search(scope.get("path", "")))

        async def start(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                media = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if b"content-security-policy" not in names:
                    csp = PAGE_CSP.format(hashes="") if media.startswith(b"text/html") else DATA_CSP
                    headers.append((b"content-security-policy", csp.encode()))
                headers += [(k, v) for k, v in COMMON if k not in names]
                if negotiated:
                    vary = [v for k, v in headers if k.lower() == b"vary"]
                    headers = [(k, v) for k, v in headers if k.lower() != b"vary"]
                    values = [p.strip() for v in vary for p in v.split(b",") if p.strip()]
                    if b"accept" not in {p.lower() for p in values}:
                        values.append(b"Accept")
                    headers.append((b"vary", b", ".join(values)))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, start)


def _docs_static() -> Path:
    # fastapi-offline (MIT, maintained on PyPI) ships the Swagger UI bundle as package data.
    import fastapi_offline
    return Path(fastapi_offline.__file__).parent / "static"


def _page(response: HTMLResponse) -> HTMLResponse:
    response.headers["content-security-policy"] = PAGE_CSP.format(hashes=_script_hashes(response.body))
    return response


def mount_docs(app: FastAPI) -> None:
    """/docs from local assets (create the app with docs_url=None, redoc_url=None). ReDoc is not
    served: its bundle fetches a logo from its vendor's CDN, which the CSP refuses."""
    app.mount(DOCS_STATIC, StaticFiles(directory=_docs_static()), name="static-docs")

    @app.get("/docs", include_in_schema=False)
    def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _page(get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - API",
            swagger_js_url=f"{root}{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_STATIC}/favicon.png",
            # The validator badge calls a public service: off, like every other outside request.
            swagger_ui_parameters={"validatorUrl": None}))
