"""The request class of the app: a JSON body that cannot be decoded is a client error,
whichever way the decoder fails.

Litestar answers 400 only for ``msgspec.DecodeError``. msgspec fails in two other ways on
bodies that fit the size limit: ``UnicodeDecodeError`` for bytes that are not UTF-8 inside
a string (``{"email": "\\xff@example.com"}``), and ``RecursionError`` for a document nested
deeper than the interpreter allows (``[[[[...`` 60 KB deep). Both were answered 500
INTERNAL_ERROR, with a traceback in the log. Here they become the decode errors they are,
answered like any other malformed JSON: 400 BAD_REQUEST.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException


class ApiRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except UnicodeDecodeError:
            raise SerializationException("The JSON body is not valid UTF-8") from None
        except RecursionError:
            raise SerializationException("The JSON body is nested too deeply") from None
