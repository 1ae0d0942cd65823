"""Hypothesis strategies for hostile request bodies.

A body is built from the fields a real form names (read from its page): each field is left
out, given one of its real options, or given text that is empty, unicode, huge, binary,
wrongly encoded, numeric nonsense or repeated; unknown fields are added; the CSRF token is
usually the real one (so the body reaches the validators) and sometimes missing or forged.
It is then sent URL-encoded, as multipart, as JSON or as raw bytes under a wrong type.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

# Values a validator is likely to stumble on.
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "1e309",
    "NaN",
    "inf",
    "-0",
    "99999999999999999999999999",
    "２",  # full-width digit
    "Ⅻ",
    "\x00",
    "\ud800",  # lone surrogate
    "null",
    "None",
    "true",
    "[]",
    "{}",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "' OR 1=1 --",
    "%s%s%n",
    "\u202e",
    "a\r\nb",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "2027-02-30T25:61",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
]


@dataclass(frozen=True)
class Field:
    name: str
    options: tuple[str, ...]  # real values offered by the page (radios, checkboxes, selects)
    kind: str  # "text", "choice", "file" or "hidden"


@dataclass
class Body:
    """A request body ready for the test client, and what the fuzz expects of it."""

    data: bytes | dict[str, Any]
    content_type: str | None
    oversized: bool
    description: str

    def request_kwargs(self) -> dict[str, Any]:
        if isinstance(self.data, dict):
            return {"data": self.data, "content_type": "multipart/form-data"}
        return {"data": self.data, "content_type": self.content_type}


def _encode(value: str, encoding: str) -> bytes:
    return value.encode(encoding, errors="surrogatepass" if encoding == "utf-8" else "replace")


# Strategies are built once, at import or once per field: building (and validating) them per
# body cost more than generating the body, and as much as a request for the upload form.
texts = st.text(max_size=40)
huge_text = st.builds(
    lambda s, n: (s or "x") * n, st.text(min_size=1, max_size=5), st.integers(1000, 20000)
)
nasty = st.sampled_from(NASTY).map(lambda s: _encode(s, "utf-8"))
binary_value = st.binary(max_size=40)
MODES = ("omit", "real", "real", "real", "nasty", "binary", "text", "utf-16", "latin-1", "repeat")
modes = st.sampled_from(MODES)


@cache
def _options(field: Field) -> tuple[st.SearchStrategy[str], st.SearchStrategy[list[str]]]:
    """One of the field's real values, and a repeat of 2-4 of them."""
    one = st.sampled_from(field.options)
    return one, st.lists(one, min_size=2, max_size=4)


def field_value(draw: st.DrawFn, field: Field) -> list[bytes]:
    """One field's raw values: none (left out), one, or several (a repeated field)."""
    mode = draw(modes)
    if mode == "omit":
        return []
    if mode == "real" and field.options:
        return [draw(_options(field)[0]).encode()]
    if mode == "repeat":
        if field.options:
            return [o.encode() for o in draw(_options(field)[1])]
        return [draw(nasty), draw(nasty)]
    if mode == "binary":
        return [draw(binary_value)]
    if mode in ("text", "real"):
        return [_encode(draw(texts), "utf-8")]
    if mode in ("utf-16", "latin-1"):
        return [_encode(draw(texts), mode)]
    return [draw(nasty)]


def _csv_upload() -> st.SearchStrategy[bytes]:
    """A quota CSV: plausible rows with hostile cells, or bytes that are not a CSV at all."""
    cell = st.one_of(
        st.sampled_from(
            [
                "nation",
                "region",
                "area_type",
                "size_band",
                "led_by",
                "first_time",
                "wales",
                "scotland",
                "england",
                "northern-ireland",
                "rural",
                "urban",
                "2",
                "1",
                "",
                "x",
            ]
        ),
        st.sampled_from(NASTY),
        texts,
    )
    row = st.lists(cell, min_size=0, max_size=6).map(lambda cells: ",".join(cells))
    header = st.sampled_from(
        ["dimension,category,min,max", "category,dimension,max,min", "dimension,category", ""]
    )
    table = st.builds(lambda h, rows: "\n".join([h, *rows]), header, st.lists(row, max_size=30))
    return st.one_of(
        table.map(lambda s: _encode(s, "utf-8")),
        table.map(lambda s: "\ufeff".encode() + _encode(s, "utf-8")),
        table.map(lambda s: _encode(s, "utf-16")),
        table.map(lambda s: _encode(s, "latin-1")),
        st.binary(max_size=300),
        st.just(b""),
        st.just(b"\x00" * 50),
        st.builds(lambda s, n: _encode(s, "utf-8") * n, table, st.integers(1, 400)),
    )


csv_upload = _csv_upload()
file_names = st.sampled_from(["quotas.csv", "", "q.xlsx", "..\\x.csv", "é.csv"])
csrf_modes = st.sampled_from(["real"] * 17 + ["missing", "empty", "forged"])
shapes = st.sampled_from(["urlencoded"] * 14 + ["multipart"] * 3 + ["json", "raw"])
raw_types = st.sampled_from(
    [
        "text/plain",
        "application/x-www-form-urlencoded; charset=utf-16",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "application/xml",
    ]
)
raw_prefix = st.binary(max_size=200)
unknown_name = st.binary(min_size=1, max_size=12)
unknown_value = st.binary(max_size=20)
one_in_4 = st.integers(0, 3)
one_in_5 = st.integers(0, 4)
one_in_10 = st.integers(0, 9)
one_in_20 = st.integers(0, 19)
one_in_100 = st.integers(0, 99)
up_to_2 = st.integers(0, 2)


def _quote(value: bytes) -> str:
    """Percent-encode a name or value. quote_from_bytes takes a Python step per byte (30 ms for a
    huge value), so a long value is either left as it is (letters and digits: the oversized
    padding) or has every byte encoded (valid, and decoded the same), both in C."""
    if len(value) <= 1000:
        return quote_from_bytes(value)
    if value.isalnum():
        return value.decode("ascii")
    return "%" + value.hex("%")


def _urlencode(pairs: list[tuple[bytes, bytes]]) -> bytes:
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in pairs).encode("ascii")


@st.composite
def bodies(draw: st.DrawFn, fields: list[Field], token: str, limit: int) -> Body:
    """A hostile body for a form with these fields; `limit` is MAX_CONTENT_LENGTH."""
    pairs: list[tuple[bytes, bytes]] = []
    notes = []
    csrf = draw(csrf_modes)
    if csrf != "missing":
        value = {"real": token, "empty": "", "forged": token[:-4] + "AAAA"}[csrf]
        pairs.append((b"csrf_token", value.encode()))
    if csrf != "real":
        notes.append(f"csrf {csrf}")
    files: dict[str, Any] = {}
    for f in fields:
        if f.name == "csrf_token":
            continue
        if f.kind == "file":
            if draw(one_in_10):
                content = draw(csv_upload)
                name = draw(file_names)
                files[f.name] = (io.BytesIO(content), name)
            continue
        if f.kind == "hidden" and draw(one_in_4):
            pairs.append((f.name.encode(), f.options[0].encode() if f.options else b""))
            continue
        for item in field_value(draw, f):
            pairs.append((f.name.encode(), item))
    if pairs and draw(one_in_20) == 0:  # one huge value, under the body limit
        index = draw(st.integers(0, len(pairs) - 1))
        pairs[index] = (pairs[index][0], _encode(draw(huge_text), "utf-8"))
        notes.append(f"huge {pairs[index][0]!r}")
    for _ in range(draw(up_to_2) if draw(one_in_5) == 0 else 0):
        pairs.append((draw(unknown_name), draw(unknown_value)))

    shape = draw(shapes)
    if files:
        shape = "multipart"
    oversized = draw(one_in_100) == 0
    if oversized:
        pairs.append((b"padding", b"x" * (limit + 10)))
        notes.append("oversized")
    if shape == "multipart":
        data: dict[str, Any] = dict(files)
        for k, v in pairs:
            data.setdefault(k.decode("utf-8", "replace"), []).append(v.decode("utf-8", "replace"))
        return Body(data, None, oversized, ", ".join([shape, *notes]))
    if shape == "json":
        obj = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in pairs}
        return Body(json.dumps(obj).encode(), "application/json", oversized, "json")
    raw = _urlencode(pairs)
    if shape == "raw":
        raw = draw(raw_prefix) + raw
        content_type = draw(raw_types)
        return Body(raw, content_type, oversized, ", ".join([shape, content_type, *notes]))
    return Body(raw, "application/x-www-form-urlencoded", oversized, ", ".join([shape, *notes]))
