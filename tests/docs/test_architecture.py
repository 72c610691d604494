"""docs/architecture.md and the README's map name the code as it is.

Every code span is read for what it names: a path (`messaging/engine/claims.py`, also
short, `engine/claims.py`, or a bare `claims.py`) must exist; a module and a name
(`engine/tasks.ensure_pumps`, `lifecycle.start_campaign`) must be a module defining that
name; a class and its members (`Campaign.objects.move`) must be defined; any other
identifier with an underscore or a capital (`status_changes`, `CampaignForm`,
`TRANSITIONS`) must be defined somewhere in the product code; `manage.py X` must be a
management command. Plain words (`sending`, `draft`), URLs and SQL are left alone.
When a module moves or a function is renamed, this test names the stale mention.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from django.core.management import get_commands

REPO = Path(__file__).resolve().parents[2]
ARCHITECTURE = REPO / "docs" / "architecture.md"
NOT_PRODUCT = {"tests", "bench", "node_modules", "docs", "locale"}
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


@cache
def product_dirs() -> list[Path]:
    return [
        path
        for path in sorted(REPO.iterdir())
        if path.is_dir()
        and not path.name.startswith(".")
        and path.name not in NOT_PRODUCT
        and any(path.rglob("*.py"))
    ]


@cache
def product_files() -> list[Path]:
    return [file for top in product_dirs() for file in sorted(top.rglob("*.py"))]


def defined_in(file: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom) and file.name == "__init__.py":
            names.update(alias.asname or alias.name for alias in node.names)  # re-exports
    return names


@cache
def all_names() -> set[str]:
    return set().union(*(defined_in(file) for file in product_files()))


def existing(path: str) -> list[Path]:
    """The files or directories a path in the docs may mean: from the repository's root,
    from a top-level package's (`engine/claims.py` is `messaging/engine/claims.py`), or,
    bare, any file of that name."""
    if "/" not in path:
        return [file for top in product_dirs() for file in top.rglob(path)]
    roots = [REPO, *product_dirs()]
    return [match for root in roots for match in root.glob(path.rstrip("/"))]


def modules(dotted_or_path: str) -> list[Path]:
    """The files of a module named by path (`engine/slots`) or by its last part (`slots`)."""
    found = existing(f"{dotted_or_path}.py") + [
        package / "__init__.py"
        for package in existing(dotted_or_path)
        if (package / "__init__.py").is_file()
    ]
    return found


def problem(span: str) -> str | None:
    """What is wrong with one code span, or None."""
    span = span.strip()
    if span.startswith("manage.py "):
        command = span.split()[1]
        return None if command in get_commands() else f"no management command {command}"
    if " " in span or span.startswith(("/", ".", "#", '"')) or span.endswith("="):
        return None  # a URL, SQL, a command line, a CSS selector, a log field
    path = re.fullmatch(r"([\w*./-]+\.(?:py|md|yaml|yml|sh|js|html|po|toml))", span)
    if path or span.endswith("/"):
        return None if existing(span) else f"no file or directory {span}"
    module_and_name = re.fullmatch(r"([\w/]+/\w+)\.(\w+)", span)
    if module_and_name:
        module, name = module_and_name.groups()
        files = modules(module)
        if not files:
            return f"no module {module}"
        return None if any(name in defined_in(f) for f in files) else f"{module} has no {name}"
    parts = span.split(".")
    if not all(IDENTIFIER.fullmatch(part) for part in parts):
        return None
    if len(parts) > 1 and parts[0].islower():  # module.name: lifecycle.start_campaign
        files = modules(parts[0])
        if not files:
            return f"no module {parts[0]}"
        return None if any(parts[1] in defined_in(f) for f in files) else f"{span}: not defined"
    checked = [part for part in parts if "_" in part or not part.islower() or len(parts) > 1]
    missing = [part for part in checked if part not in all_names()]
    return f"{span}: {', '.join(missing)} defined nowhere" if missing else None


def code_spans(markdown: str) -> list[str]:
    outside_fences = re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)
    return re.findall(r"`([^`\n]+)`", outside_fences)


def readme_map() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("## What is where")
    return text[start : text.index("\n## ", start + 1)]


@pytest.mark.parametrize(
    "name, text",
    [("docs/architecture.md", ARCHITECTURE.read_text()), ("README's map", readme_map())],
)
def test_every_module_and_name_mentioned_exists(name, text):
    spans = code_spans(text)
    assert len(spans) > 20
    problems = sorted({f"`{span}`: {p}" for span in spans if (p := problem(span))})
    assert not problems, f"{name} names what the code does not have:\n" + "\n".join(problems)


def test_the_checks_catch_a_stale_mention():
    assert problem("messaging/engine/clock.py") is None
    assert problem("messaging/engine/no_such_module.py")
    assert problem("engine/tasks.ensure_pumps") is None
    assert problem("engine/slots.no_such_function")
    assert problem("lifecycle.no_such_function")
    assert problem("Campaign.objects.no_such_method")
    assert problem("NoSuchClass")
    assert problem("manage.py no_such_command")
