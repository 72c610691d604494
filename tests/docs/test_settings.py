"""docs/settings.md's table and the settings modules name the same variables, with the
same defaults.

The variables are found by reading the code, not by a list kept here: every call of a
`core.env` helper (`env_int("X", 5)`), `os.environ.get("X", ...)` or `os.getenv` in
the settings modules and gunicorn's config, and every `${X:-default}` of the image's
entrypoint. A default the code computes (`ENGINE_PUMPS + 1`) is not compared; a literal
one, or a setting named by it, is.
"""

from __future__ import annotations

import ast
import importlib
import operator
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TABLE = REPO / "docs" / "settings.md"
PYTHON_SOURCES = [
    *sorted((REPO / "config" / "settings").glob("*.py")),
    REPO / "config" / "gunicorn.py",
]
SHELL_SOURCES = [REPO / "docker" / "entrypoint.sh"]

ABSENT = "absent"  # read without a default
COMPUTED = "computed"  # a default the code works out: not compared
_OPERATORS = {ast.Mult: operator.mul, ast.Add: operator.add, ast.Sub: operator.sub}


def _value(node: ast.expr | None):
    if node is None:
        return ABSENT
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        items = [_value(item) for item in node.elts]
        return COMPUTED if COMPUTED in items else items
    if isinstance(node, ast.Name):
        return ("name", node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _value(node.left), _value(node.right)
        if isinstance(left, int | float) and isinstance(right, int | float):
            return _OPERATORS[type(node.op)](left, right)
    return COMPUTED


def _reads_environment(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id.startswith("env_") or func.id == "getenv"
    if isinstance(func, ast.Attribute):
        owner = func.value
        if func.attr.startswith("env_") or func.attr == "getenv":
            return True
        if isinstance(owner, ast.Name) and owner.id == "env":  # env.str("X")
            return True
        return func.attr == "get" and isinstance(owner, ast.Attribute) and owner.attr == "environ"
    return False


def python_reads(path: Path) -> list[tuple[str, object, str]]:
    """(variable, default, module) of every environment read in one Python file."""
    module = ".".join(path.relative_to(REPO).with_suffix("").parts)
    reads = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and _reads_environment(node) and node.args:
            name = node.args[0]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                default = node.args[1] if len(node.args) > 1 else None
                for keyword in node.keywords:
                    if keyword.arg == "default":
                        default = keyword.value
                reads.append((name.value, _value(default), module))
        environ = isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
        if environ and node.value.attr == "environ" and isinstance(node.slice, ast.Constant):
            reads.append((node.slice.value, ABSENT, module))
    return reads


def shell_reads(path: Path) -> list[tuple[str, object, str]]:
    found = re.findall(r"\$\{(\w+)(:-[^}]*)?\}", path.read_text())
    return [(name, default[2:] if default else ABSENT, "") for name, default in found]


def code_reads() -> list[tuple[str, object, str]]:
    for source in PYTHON_SOURCES + SHELL_SOURCES:
        assert source.is_file(), f"{source} is gone: point this test at the settings' new home"
    return [read for path in PYTHON_SOURCES for read in python_reads(path)] + [
        read for path in SHELL_SOURCES for read in shell_reads(path)
    ]


def table_rows() -> dict[str, str]:
    """variable -> its default cell, from the one table of docs/settings.md."""
    rows = {}
    for line in TABLE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) != 3:
            continue
        (name,) = re.fullmatch(r"`([A-Z0-9_]+)`", cells[0]).groups()
        assert name not in rows, f"{name} has two rows"
        rows[name] = cells[1]
    return rows


def shown(default: object, module: str) -> list[str]:
    """How a default may be written in the table's default cell (any one of them)."""
    if default is ABSENT or default in ("", None, []):
        return ["empty", "off"] if default is ABSENT else ["empty"]
    if isinstance(default, bool):
        return ["on" if default else "off"]
    if isinstance(default, int | float):
        return [f"`{int(default) if float(default).is_integer() else default}`"]
    if isinstance(default, str):
        return [f"`{default}`"]
    if isinstance(default, list):
        return [f"`{','.join(default)}`"]
    _, name = default
    value = getattr(importlib.import_module(module), name)
    return [f"`{name}`", *shown(value, module)] if isinstance(value, str | int) else [f"`{name}`"]


def test_there_is_one_settings_table():
    tables = re.findall(r"^\| variable \| default \| meaning \|$", TABLE.read_text(), re.M)
    assert len(tables) == 1
    others = [
        page.name
        for page in [REPO / "README.md", *(REPO / "docs").glob("*.md")]
        if page != TABLE and re.search(r"^\| (setting|variable) \| default", page.read_text(), re.M)
    ]
    assert not others, f"settings tables outside docs/settings.md: {others}"


def test_every_variable_the_code_reads_has_a_row():
    read = {name for name, _, _ in code_reads()}
    assert read, "no environment read found: has the way settings read it changed?"
    assert sorted(read - table_rows().keys()) == []


def test_every_row_is_read_by_the_code():
    assert sorted(table_rows().keys() - {name for name, _, _ in code_reads()}) == []


def test_every_literal_default_is_the_codes():
    rows = table_rows()
    wrong = []
    for name, default, module in code_reads():
        if default is COMPUTED or name not in rows:
            continue
        forms = shown(default, module)
        if not any(rows[name].startswith(form) for form in forms):
            wrong.append(
                f"{name}: the code's default is one of {forms}, the table says {rows[name]!r}"
            )
    assert not wrong, "\n".join(wrong)
