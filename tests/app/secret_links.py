"""Which routes hold a secret in their path, found from the app's URL map rather than from the
list the service redacts, so a token route the list misses is requested and caught."""

from __future__ import annotations

import re

from flask import Flask, url_for

# Routes whose path values are public names (a question or a page of the form), not secrets.
PUBLIC_PATH_VALUES = {
    "apply.eligibility",
    "apply.eligibility_support",
    "apply.language",
    "apply.not_suitable",
    "apply.question_page",
    "staff.assisted_page",
    "staff.outcome_letter",
    "static",
}
# A path value that is not a number: <name> or <string:name>, <path:name>, <uuid:name> ...
NOT_A_NUMBER = re.compile(r"<(?!int:)[^>]+>")


def secret_link_urls(app: Flask, token: str) -> list[tuple[str, str]]:
    """(method, path) for every route with a non-numeric path value that is not a public name,
    with ``token`` as each value."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if NOT_A_NUMBER.search(rule.rule) and rule.endpoint not in PUBLIC_PATH_VALUES:
                path = url_for(rule.endpoint, **dict.fromkeys(rule.arguments, token))
                methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
                found += [(method, path) for method in methods]
    return found
