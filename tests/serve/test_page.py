"""The page's static files: every text colour on its background at a contrast of at least
4.5:1 (WCAG 2.1 AA, success criterion 1.4.3), a favicon, and no file from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "hdbench" / "serve" / "static"

#: (text, background) pairs the stylesheet puts together.
PAIRS = [
    ("ink", "card"), ("ink", "paper"), ("muted", "card"), ("muted", "paper"),
    ("accent", "card"), ("good", "card"), ("good", "paper"), ("bad", "paper"),
    ("white", "accent"), ("white", "accent-dark"),
]  # fmt: skip


def colours() -> dict[str, str]:
    css = (STATIC / "style.css").read_text()
    found = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    return {**found, "white": "#ffffff"}


def luminance(hex_colour: str) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_of_the_known_answers():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_every_text_colour_has_a_contrast_of_4_5_to_1(text, background):
    palette = colours()
    assert contrast(palette[text], palette[background]) >= 4.5


def test_the_page_loads_nothing_from_elsewhere_and_has_a_favicon():
    html = (STATIC / "index.html").read_text()
    assert 'rel="icon"' in html and (STATIC / "favicon.svg").read_text().startswith("<svg")
    for text in (html, (STATIC / "style.css").read_text(), (STATIC / "app.js").read_text()):
        assert "http://" not in text and "https://" not in text
    assert "opacity" not in (STATIC / "style.css").read_text()  # no text faded below 4.5:1
