"""No template needs CSP's unsafe-inline or unsafe-eval: scripts and styles live in static/.

Emails (templates/email/) are the exception: mail clients need inline styles, and the
report page shows them only in a frame with a policy of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"
FORBIDDEN = {
    "an inline <script> (use a static file)": re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")", re.I
    ),
    "a style attribute (use a class in static/css)": re.compile(r"\sstyle\s*=", re.I),
    "a <style> element (use static/css)": re.compile(r"<style\b", re.I),
    "an on* event handler (use addEventListener in static/js)": re.compile(r"\son[a-z]+\s*=", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
    "an htmx attribute that evaluates JavaScript": re.compile(
        r"hx-on|hx-vars|hx-vals=['\"]\s*js:|hx-trigger=\"[^\"]*\[", re.I
    ),
}


def _page_templates() -> list[Path]:
    return sorted(
        path for path in TEMPLATES.rglob("*.html") if TEMPLATES / "email" not in path.parents
    )


@pytest.mark.parametrize("path", _page_templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_needs_no_unsafe_inline_or_eval(path):
    source = path.read_text(encoding="utf-8")
    found = [what for what, pattern in FORBIDDEN.items() if pattern.search(source)]
    assert not found, f"{path.relative_to(TEMPLATES)} has {', '.join(found)}"
