"""Links that leave the site in emails: built on PUBLIC_BASE_URL when it is set."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return f"{base.rstrip('/')}{url_for(endpoint, **values)}"
    return url_for(endpoint, _external=True, **values)
