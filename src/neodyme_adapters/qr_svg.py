"""QR codes as SVG documents, by segno (``QrCodes``): pure Python, no imaging library."""

from __future__ import annotations

import io

import segno


class SegnoQrCodes:
    def svg(self, text: str) -> str:
        """A whole SVG document (with its namespace), so that a browser opens it as a
        file; error correction M, as authenticator apps read it from a screen."""
        buffer = io.BytesIO()
        segno.make(text, error="m").save(buffer, kind="svg", scale=4, xmldecl=False)
        return buffer.getvalue().decode()
