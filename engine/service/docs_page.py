"""The API docs page: the OpenAPI document rendered as one self-contained HTML page.

FastAPI's default Swagger and ReDoc pages load their scripts from the internet, which a property
company's server often cannot reach; this page needs nothing but itself and links to /openapi.json.
"""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "code{background:#f3f3f3;padding:0 .2rem}h2{border-bottom:1px solid #ddd;margin-top:2rem}"
    ".op{margin:.6rem 0;padding:.4rem .6rem;border-left:4px solid #4a7}.m{font-weight:bold;width:4rem;"
    "display:inline-block}.p{color:#555;font-size:13px}"
)


def render_docs(openapi: dict[str, Any]) -> str:
    info = openapi.get("info", {})
    by_tag: dict[str, list[str]] = {}
    for path, methods in openapi.get("paths", {}).items():
        for method, op in methods.items():
            params = ", ".join(
                f"{p['name']} ({p['in']}{', required' if p.get('required') else ''})" for p in op.get("parameters", [])
            )
            body = "request body" if "requestBody" in op else ""
            extra = "; ".join(x for x in (params, body) if x)
            by_tag.setdefault((op.get("tags") or ["other"])[0], []).append(
                f'<div class="op"><span class="m">{escape(method.upper())}</span> <code>{escape(path)}</code>'
                f'<div class="p">{escape(op.get("summary", ""))}{" — " + escape(extra) if extra else ""}</div></div>'
            )
    sections = "".join(f"<h2>{escape(tag)}</h2>{''.join(ops)}" for tag, ops in by_tag.items())
    return (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{escape(info.get("title", "API"))} API</title>'
        f"<style>{_STYLE}</style><h1>{escape(info.get('title', 'API'))} {escape(info.get('version', ''))}</h1>"
        f"<p>{escape(info.get('description', ''))} The machine-readable document is "
        f'<a href="/openapi.json">/openapi.json</a> (OpenAPI {escape(openapi.get("openapi", ""))}); errors are '
        f"RFC 9457 <code>application/problem+json</code>.</p>{sections}</html>"
    )
