"""django-tables2 asks `inspect.signature` of every cell's render function and every
callable attribute, for every cell of every page (`utils.call_with_appropriate`): a third
of a message table's render time. A function's signature never changes, so it is asked
once per function here.

Bound methods are cached by their function (the signature of `table.render_x` is that of
`Table.render_x` without `self`), so no cache entry keeps a table, its rows or its request
alive; anything else that is not a plain function is asked every time, as before.
"""

from __future__ import annotations

import functools
import inspect

from django_tables2 import utils

_uncached = utils.signature


@functools.lru_cache(maxsize=1024)
def _of_function(function) -> tuple:
    return _uncached(function)


@functools.lru_cache(maxsize=1024)
def _of_method(function) -> tuple:
    arguments, keywords = _uncached(function)
    return arguments[1:], keywords  # without self


def signature(fn) -> tuple:
    function = getattr(fn, "__func__", None)
    if inspect.ismethod(fn) and inspect.isfunction(function):
        return _of_method(function)
    if inspect.isfunction(fn):
        return _of_function(fn)
    return _uncached(fn)


def install() -> None:
    """Called once, from DashboardConfig.ready."""
    utils.signature = signature
