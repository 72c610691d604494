"""The cached signatures django-tables2 asks per cell: the same answers as uncached, and no
cache entry keeps a table (with its rows and request) alive."""

from __future__ import annotations

import gc
import weakref

import pytest
from django_tables2 import utils

from dashboard import tables_speedup


class Subject:
    def render_x(self, record, value, **kwargs):
        return value

    @staticmethod
    def static(value):
        return value

    @classmethod
    def klass(cls, record):
        return record


def plain(a, b=1, *args, **kw):
    return a


@pytest.mark.fast
@pytest.mark.parametrize(
    "fn",
    [
        Subject().render_x,
        Subject.render_x,
        Subject.static,
        Subject.klass,
        plain,
        lambda value: value,
        str.upper,
        len,
    ],
)
def test_cached_signatures_equal_the_librarys_own(fn):
    assert utils.signature is tables_speedup.signature  # installed by DashboardConfig.ready
    assert tables_speedup.signature(fn) == tables_speedup._uncached(fn)
    assert tables_speedup.signature(fn) == tables_speedup._uncached(fn)  # and from the cache


@pytest.mark.fast
def test_no_cache_entry_keeps_a_table_alive():
    subject = Subject()
    watched = weakref.ref(subject)
    tables_speedup.signature(subject.render_x)
    del subject
    gc.collect()
    assert watched() is None


@pytest.mark.django_db
def test_a_message_table_renders_the_same_cells(as_viewer):
    from messaging.models import Message
    from tests.conftest import make_client
    from tests.engine.conftest import running_campaign

    make_client("79160000001")
    campaign = running_campaign()
    Message.objects.update(last_error="<b>HTTP 500</b>", status="pending", attempts=1)
    html = as_viewer.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert '<a href="/clients/' in html and "+7 (916) 000-00-01</a>" in html
    assert '<span class="badge' in html
    assert "&lt;b&gt;HTTP 500&lt;/b&gt;" in html and "<b>HTTP 500</b>" not in html
    assert 'data-label="Phone"' in html  # card labels, written once per column
