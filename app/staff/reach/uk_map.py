"""The UK map of nations and English regions (static/uk-map.svg, drawn for this page: schematic
shapes, not a survey map), shaded by a count per area and inlined in the page, so each shape's
fill can follow the numbers without any script. The page shows the same numbers as a table."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

from markupsafe import Markup

SVG = "http://www.w3.org/2000/svg"
# Light to dark: none, then four steps up to the area with the most.
SHADES = ("#f3f3f3", "#cfe1f2", "#93bfe0", "#4a8cc4", "#1d5a94")
AREAS = (
    "scotland",
    "northern-ireland",
    "wales",
    "north-east",
    "north-west",
    "yorkshire-humber",
    "east-midlands",
    "west-midlands",
    "east",
    "london",
    "south-east",
    "south-west",
)


def shade(count: int, most: int) -> int:
    """The shade step of a count: 0 for none, else 1 to 4 by its share of the most (4 for the
    most itself, as the key shows)."""
    if count <= 0 or most <= 0:
        return 0
    return min(4, 1 + (4 * count - 1) // most)


def shaded_map(path: Path, counts: Mapping[str, int], labels: Mapping[str, str]) -> Markup:
    """The map with each area filled by its count's shade and titled with its count."""
    ET.register_namespace("", SVG)
    root = ET.parse(path).getroot()
    most = max(counts.values(), default=0)
    root.set("class", "uk-map")
    root.set("aria-labelledby", "uk-map-title")
    for element in root.iter(f"{{{SVG}}}path"):
        area = (element.get("id") or "").removeprefix("map-")
        count = int(counts.get(area, 0))
        element.set("fill", SHADES[shade(count, most)])
        title = element.find(f"{{{SVG}}}title")
        if title is not None:
            noun = "application" if count == 1 else "applications"
            title.text = f"{labels.get(area, area)}: {count} {noun} sent"
    # Our own file, its text escaped by ElementTree: safe to inline.
    return Markup(ET.tostring(root, encoding="unicode"))
