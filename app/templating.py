"""Jinja globals and filters shared by every template."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app, get_flashed_messages
from markupsafe import Markup, escape

from .rounds import format_day, format_london


def error_list(form: Any) -> list[tuple[str, str]]:
    """(link to the field, message) for the error summary, in the order of the fields.

    Radios and checkboxes link to their first option, as the GOV.UK error summary does.
    """
    items = []
    for field in form:
        if field.name == "csrf_token" or not field.errors:
            continue
        target = (
            f"{field.id}-0" if field.type in ("ChoiceRadioField", "CheckboxesField") else field.id
        )
        items.append((f"#{target}", field.errors[0]))
    return items


def paragraphs(value: str) -> Markup:
    """Plain text with line breaks kept, escaped."""
    parts = [escape(part) for part in str(value).split("\n")]
    return Markup("<br>").join(parts)


# Directional isolates (FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE): the plain-text form of
# <bdi>, for where markup cannot go (a page title, an <option>).
FSI, PDI = "\u2068", "\u2069"


def bdi(value: Any) -> Markup:
    """Text someone typed (an organisation name), isolated from the text around it: a
    right-to-left override or other direction character in it cannot reorder the rest of the
    line, such as the reference or score shown next to it."""
    if value is None or value == "":
        return Markup("")
    return Markup("<bdi>%s</bdi>") % value


def isolate(value: Any) -> str:
    """`bdi` for places that take text only: the value between directional isolates."""
    if value is None or value == "":
        return ""
    return f"{FSI}{value}{PDI}"


def tel_link(number: Any) -> Markup:
    """A telephone number as a link that phones it ("tel:" with the digits and a leading +)."""
    if not number:
        return Markup("")
    digits = re.sub(r"[^0-9+]", "", str(number))
    return Markup('<a href="tel:%s">%s</a>') % (digits, number)


def mailto_link(address: Any) -> Markup:
    """An email address as a link that writes to it."""
    if not address:
        return Markup("")
    return Markup('<a href="mailto:%s">%s</a>') % (address, address)


def init_templating(app: Flask) -> None:
    app.jinja_env.globals.update(
        error_list=error_list,
        config_value=lambda key: current_app.config.get(key),
        get_flashed_messages=get_flashed_messages,
    )
    app.jinja_env.filters["london"] = format_london
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["paragraphs"] = paragraphs
    app.jinja_env.filters["bdi"] = bdi
    app.jinja_env.filters["isolate"] = isolate
    app.jinja_env.filters["tel_link"] = tel_link
    app.jinja_env.filters["mailto_link"] = mailto_link
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
