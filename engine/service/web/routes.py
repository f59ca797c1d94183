"""The routes of the web pages: the HTML shell at each page path and the static files under ``/assets``.

A second home of FastAPI and Starlette beside ``app.py`` (tests/test_walls.py lists it), so the API module
does not grow a page server. Every answer carries the strict Content-Security-Policy; nothing here reads
the desk: the pages get their data from the API like any client.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from . import CONTENT_SECURITY_POLICY, PAGE_PATHS, STUDIO_CONTENT_SECURITY_POLICY, STUDIO_PATHS, asset, shell

_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


def pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page() -> Response:
        return Response(shell(), media_type="text/html; charset=utf-8", headers=_HEADERS)

    def studio_page() -> Response:
        headers = _HEADERS | {"Content-Security-Policy": STUDIO_CONTENT_SECURITY_POLICY}
        return Response(shell(), media_type="text/html; charset=utf-8", headers=headers)

    for path in PAGE_PATHS:
        router.add_api_route(path, page, methods=["GET"])
    for path in STUDIO_PATHS:
        router.add_api_route(path, studio_page, methods=["GET"])

    @router.get("/assets/{name:path}")
    def static(name: str) -> Response:
        found = asset(name)
        if found is None:
            raise HTTPException(404, f"no asset {name!r}")
        body, media_type = found
        return Response(body, media_type=media_type, headers=_HEADERS)

    @router.get("/favicon.ico")
    def favicon() -> Response:  # browsers ask for it whatever the page says
        found = asset("icon.svg")
        assert found is not None
        return Response(found[0], media_type=found[1], headers=_HEADERS)

    return router
