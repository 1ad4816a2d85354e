"""How the API answers a refusal: one JSON shape that names the field, never a traceback.

`{"error": kind, "field": name | null, "message": one line}`; 422 for bad input (the
domain's ValidationError or FastAPI's own checks), 404 for what does not exist, 409 for
a move the life cycle refuses, 502 when an outside service (OpenRouter) failed, 500
with no details for anything else (the details go to the masked log).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ...clients.errors import ApiError
from ...domain.errors import DomainError, NotFound, ValidationError
from ...logs import get_logger, mask

log = get_logger("api")
# where FastAPI puts a request's parts; the field is what follows
_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def refusal(status: int, kind: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": kind, "field": field, "message": mask(message)}, status_code=status
    )


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if str(p) not in _LOCATIONS]
    return ".".join(parts) or "body"


def _fastapi_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        field = _field_of(error.get("loc", ()))
        # pydantic's own words, without the input it echoes (it could be anything)
        problems.append({"field": field, "message": f"{field}: {error.get('msg', 'invalid')}"})
    first = problems[0] if problems else {"field": "body", "message": "body: invalid"}
    response = refusal(422, "validation", first["message"], first["field"])
    if len(problems) > 1:
        response = JSONResponse(
            {"error": "validation", **first, "problems": problems}, status_code=422
        )
    return response


def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    return refusal(422, "validation", str(exc), exc.field)


def _not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFound)
    return refusal(404, "not_found", str(exc), exc.what)


def _refused(request: Request, exc: Exception) -> JSONResponse:
    return refusal(409, "refused", str(exc))


def _outside(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return refusal(502, "upstream", f"{exc.platform}: {exc.message}")


def _http(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own answers (401, an unknown path, a method not allowed) in our shape."""
    assert isinstance(exc, HTTPException)
    kinds = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}
    response = refusal(exc.status_code, kinds.get(exc.status_code, "http"), str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.error("API %s %s failed: %s", request.method, request.url.path, mask(repr(exc)))
    return refusal(500, "internal", "internal error (details in Piper's log file)")


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _fastapi_invalid)
    app.add_exception_handler(ValidationError, _invalid)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(DomainError, _refused)
    app.add_exception_handler(ApiError, _outside)
    app.add_exception_handler(Exception, _internal)
