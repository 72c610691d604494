"""What a reader sees on a page, and which of its words are English.

Used by tests/i18n/test_languages.py (test client) and the browser tests: the visible text
and the attributes people read (title, aria-label, placeholder, alt, button
values), without scripts, styles, code samples, hidden inputs, and elements that
declare another language (lang="en" on the switcher's "EN").
"""

from __future__ import annotations

import re
import zoneinfo
from html.parser import HTMLParser

# Attributes a person reads or hears (screen readers read aria-*).
READ_ATTRIBUTES = ("title", "aria-label", "aria-valuetext", "placeholder", "alt")
SKIPPED_ELEMENTS = {"script", "style", "code", "template"}
VOID_ELEMENTS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}

# Proper names and technical terms that stay as they are in Russian.
PROPER_NAMES = {
    "Herald",
    "Auth0",
    "API",
    "REST",
    "CSV",
    "SMS",
    "GSM",
    "UCS",
    "HTTP",
    "HTML",
    "UTF",
    "IANA",
    "JSON",
    "msgId",  # the provider contract's field name
    "ID",
    # Column names of the CSV format (the file's header is English by design).
    "phone",
    "operator_code",
    "tag",
    "timezone",
    "name",
    # Products and encodings named as they are.
    "Excel",
    "XLSX",
    "Windows",
}
# Settings named on pages (environment variables) are code, not English; so is the
# notation of a phone number's form (7XXXXXXXXXX).
SETTING_NAME = re.compile(r"^(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|X+)$")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LEFTOVER_TEMPLATE = re.compile(r"%\(\w+\)[sd]|\{%|%\}|\{\{|\}\}|__proxy__")


def zone_words() -> set[str]:
    words = set()
    for name in zoneinfo.available_timezones():
        words.update(LATIN_WORD.findall(name))
        words.update(w for w in re.split(r"[/_\-+0-9]+", name) if w)
    return words


class _Reader(HTMLParser):
    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.parts: list[str] = []

    @property
    def skipping(self) -> bool:
        return any(skipped for _, skipped in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        lang = (attrs.get("lang") or self.language).split("-")[0]
        skipped = tag in SKIPPED_ELEMENTS or lang != self.language
        if tag == "html":
            skipped = False  # the page's own language
        if not skipped and not self.skipping:
            for name in READ_ATTRIBUTES:
                if attrs.get(name):
                    self.parts.append(attrs[name])
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.parts.append(attrs["value"])
        if tag not in VOID_ELEMENTS:
            self.stack.append((tag, skipped))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.parts.append(data)


def readable_text(html: str, language: str) -> str:
    reader = _Reader(language)
    reader.feed(html)
    reader.close()
    return "\n".join(part.strip() for part in reader.parts)


def english_words(text: str, *, data: set[str] = frozenset()) -> list[str]:
    """Latin words that are neither proper names, setting names, zone names nor data."""
    allowed = PROPER_NAMES | zone_words() | set(data)
    return [
        word
        for word in LATIN_WORD.findall(text)
        if word not in allowed and not SETTING_NAME.match(word)
    ]


def leftovers(html: str) -> list[str]:
    """Template syntax or unformatted placeholders that reached the page."""
    return LEFTOVER_TEMPLATE.findall(html)
