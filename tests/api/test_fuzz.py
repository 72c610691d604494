"""A fuzz pass over every API write with hostile bodies: deeply nested, huge, malformed.

Every POST, PUT and PATCH of the OpenAPI document gets each body below, as a Manager:
the answer is a 4xx that says what was wrong, never a 500 (100,000 `[` used to be a
RecursionError), and nothing is written.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

from messaging.api.parsers import MAX_JSON_DEPTH, json_depth
from messaging.models import Campaign, Client
from tests.conftest import make_campaign, make_client

DEEP = 100_000
LIMIT = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, the bodies' limit


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


# (name, body, content type, expected status)
BODIES = [
    ("100,000 [ unclosed", "[" * DEEP, "application/json", 400),
    ("100,000 [ closed", nested(DEEP), "application/json", 400),
    ("100,000 {", '{"a":' * DEEP + "1" + "}" * DEEP, "application/json", 400),
    ("deep inside a field", json.dumps({"tags": json.loads(nested(40, '"x"'))}), "json", 400),
    ("deep with brackets in strings", '{"text": "' + "[" * DEEP + '", "x": 1}', "json", 400),
    ("just past the depth", nested(MAX_JSON_DEPTH + 1), "application/json", 400),
    ("huge JSON", json.dumps({"text": "a" * (LIMIT + 10)}), "application/json", 413),
    ("huge form", "text=" + "a" * (LIMIT + 10), "application/x-www-form-urlencoded", 413),
    ("many fields", json.dumps({f"k{n}": n for n in range(50_000)}), "application/json", 400),
    ("a long flat list", json.dumps({"tags": [f"t{n}" for n in range(200_000)]}), "json", 400),
    ("not UTF-8", b"\xff\xfe{\x00", "application/json", 400),
    ("truncated", '{"phone": "7916', "application/json", 400),
    ("a bare string", '"x"', "application/json", 400),
    ("null", "null", "application/json", 400),
    ("NaN", '{"phone": NaN}', "application/json", 400),
    ("a lone surrogate", '{"phone": "\\ud83d"}', "application/json", 400),
]


@pytest.fixture
def writes(db) -> list[tuple[str, str, bool]]:
    """(method, path, takes input) of every write in the OpenAPI document, real ids filled in."""
    client = make_client("79161234567")
    campaign = make_campaign(name="Spring")
    ids = {"clients": client.pk, "campaigns": campaign.pk}
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        collection = path.split("/")[2]
        for method in operations:
            if method in ("post", "put", "patch"):
                path_with_ids = path.replace("{id}", str(ids.get(collection, 1)))
                found.append((method, path_with_ids, "requestBody" in operations[method]))
    assert len(found) >= 10, found
    return found


def send(api, method: str, path: str, body, content_type: str):
    if content_type == "json":
        content_type = "application/json"
    data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
    return getattr(api, method)(path, data=data, content_type=content_type)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "body", "content_type", "expected"), BODIES)
def test_hostile_bodies_get_a_4xx_on_every_write(
    manager_api, writes, name, body, content_type, expected
):
    manager_api.raise_request_exception = False
    before = (Client.objects.count(), Campaign.objects.count())
    problems = []
    for method, path, takes_input in writes:
        response = send(manager_api, method, path, body, content_type)
        if response.status_code >= 500:
            problems.append((method, path, response.status_code))
        elif name == "null" and not takes_input:
            continue  # `null` is no input: the action may run
        elif "/import/" not in path and response.status_code != expected:
            # The import takes files only (415 for JSON); the rest say what is wrong.
            problems.append((method, path, response.status_code))
    assert problems == [], (name, problems)
    assert (Client.objects.count(), Campaign.objects.count()) == before


@pytest.mark.django_db
def test_nesting_and_size_get_their_own_answers(manager_api):
    deep = send(manager_api, "post", "/api/clients/", "[" * DEEP, "application/json")
    assert deep.status_code == 400
    assert deep.json() == {
        "detail": f"JSON parse error - the body nests deeper than {MAX_JSON_DEPTH} levels."
    }
    huge = send(manager_api, "post", "/api/clients/", json.dumps({"x": "a" * LIMIT}), "json")
    assert huge.status_code == 413
    assert "larger than 2,621,440 bytes" in huge.json()["detail"]


@pytest.mark.django_db
def test_ordinary_bodies_still_parse(manager_api):
    shallow = {"phone": "79161234567", "tag": "[{[{"}  # brackets in strings do not count
    assert manager_api.post("/api/clients/", shallow, format="json").status_code == 201


@pytest.mark.django_db
def test_a_multipart_body_past_the_limit_is_refused_before_it_is_read(manager_api):
    response = manager_api.generic(
        "POST",
        "/api/clients/",
        data=b"x",
        content_type="multipart/form-data; boundary=b",
        CONTENT_LENGTH=str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
    )
    assert response.status_code == 413


@pytest.mark.fast
@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": [2]}]}', 4),
        (b'{"a": "[[[[", "b": "\\"[[["}', 1),
        (b'{"a": "\\\\", "b": [[1]]}', 3),  # an escaped backslash ends its string
        (b'["\\\\\\"[[["]', 1),  # backslash, quote: still inside the string
        (b"[" * 10, 10),
    ],
)
def test_the_depth_is_counted_outside_strings(text, depth):
    assert json_depth(text, stop_above=100) == depth


@pytest.mark.fast
def test_the_depth_scan_is_linear_on_a_body_made_to_be_slow():
    """Unclosed strings full of escaped quotes sink a regular expression; not this scan."""
    body = b'"' + b'\\"' * 1_000_000 + b"[" * 50
    assert json_depth(body, stop_above=MAX_JSON_DEPTH) == 0  # all inside one string
