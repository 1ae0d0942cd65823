"""Links: absolute links that leave the site (in emails and on the page), built on
PUBLIC_BASE_URL when it is set, and whole numbers read from a link's query string."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, request, url_for

# ASCII digits only: str.isdigit() also takes "²" (which int() refuses) and str.isdecimal()
# takes "٣" (which int() reads as 3). Nine digits stay inside a database integer.
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def external_url(endpoint: str, **values: Any) -> str:
    """The link on PUBLIC_BASE_URL (in a request or not: an email composed by `flask send-mail`),
    else on the request's host."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        # The path alone (outside a request url_for would make it absolute), under APPLICATION_ROOT.
        path = url_for(endpoint, _external=False, **values)
        return f"{base.rstrip('/')}{path}"
    return url_for(endpoint, _external=True, **values)


def whole_number_or_none(value: str | None) -> int | None:
    """The whole number a link carries (a page, a record's id) in ASCII digits, as the service
    writes them, or None for anything else: the one way numbers are read from query strings (and
    the session's user id), so a hand-edited link is a 404 or the first page, never an error."""
    text = (value or "").strip()
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def this_page(**query: Any) -> str:
    """This request's page (the same endpoint and path values) with ``query`` as its query
    string: the link a page's filters and page numbers point to."""
    return url_for(request.endpoint or "", **(request.view_args or {}), **query)
