"""OpenAPI adjustments: what every operation may answer besides its success."""

from __future__ import annotations

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "example": {"detail": "Authentication credentials were not provided."},
}
FIELD_ERRORS = {
    "type": "object",
    "description": "A list of messages per field (`non_field_errors` for the whole input).",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"phone": ["Phone must be 11 digits starting with 7 (7XXXXXXXXXX)."]},
}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def add_error_responses(result, generator, request, public):
    """Document 400/401/403/404 (and 414) on every operation that can give them."""
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            responses.setdefault(
                "401",
                _json(
                    ERROR,
                    "Not signed in: no or a bad token, or a scheme other than "
                    "`Authorization: Token <key>` (the message names it).",
                ),
            )
            responses.setdefault("403", _json(ERROR, "Signed in, but the role may not do this."))
            if "{" in path or method == "get":
                # Lists answer 404 for a page past the end too.
                responses.setdefault("404", _json(ERROR, "No such object, or no such page."))
            if method in ("post", "put", "patch") or "?" in path:
                responses.setdefault(
                    "400",
                    _json(FIELD_ERRORS, "Invalid input, or a field the endpoint does not know."),
                )
            if method in ("post", "put", "patch"):
                responses.setdefault(
                    "415",
                    _json(
                        ERROR,
                        "The body is neither JSON nor a form, or is JSON sent without "
                        "Content-Type: application/json.",
                    ),
                )
            if method == "get" and any(
                p.get("in") == "query" for p in operation.get("parameters", [])
            ):
                responses.setdefault("400", _json(FIELD_ERRORS, "Invalid query parameter."))
                # gunicorn refuses a request line over 4,094 bytes before Django sees it.
                responses.setdefault(
                    "414",
                    {
                        "description": "Query string too long: the web server refuses a "
                        "request line over 4,094 bytes (a plain HTML page).",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                )
    return result
