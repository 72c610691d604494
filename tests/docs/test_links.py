"""Every relative link of the README and docs/ leads somewhere: the file exists and, for a
link to a heading (`operations.md#metrics`), that page has the heading."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings (fenced lines are no headings)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    titles = re.findall(r"^#+ (.+)$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-") for title in titles}


def links(page: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def broken(page: Path, target: str) -> str | None:
    if re.match(r"[a-z]+:", target):
        return None  # http:, https:, mailto:
    path, _, anchor = target.partition("#")
    linked = (page.parent / path).resolve() if path else page
    if not linked.exists():
        return f"{target}: no such file"
    if anchor and linked.suffix == ".md" and anchor not in anchors(linked):
        return f"{target}: {linked.name} has no heading #{anchor}"
    return None


def test_every_relative_link_resolves():
    found = [(page, target) for page in PAGES for target in links(page)]
    assert len(found) > 20
    problems = [
        f"{page.relative_to(REPO)}: {p}" for page, target in found if (p := broken(page, target))
    ]
    assert not problems, "\n".join(problems)


def test_every_page_of_docs_is_linked_from_the_readme():
    readme = set(links(REPO / "README.md"))
    unlinked = [page.name for page in PAGES[1:] if f"docs/{page.name}" not in readme]
    assert not unlinked


def test_a_broken_link_is_caught():
    readme = REPO / "README.md"
    assert broken(readme, "docs/settings.md") is None
    assert broken(readme, "docs/no-such-page.md")
    assert broken(readme, "docs/operations.md#no-such-heading")
    assert broken(readme, "docs/operations.md#metrics") is None
