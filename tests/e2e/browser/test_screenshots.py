"""``make screenshots`` works: its command, run into a temporary directory (never docs/),
writes a PNG of each main page at the fixed viewport."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

from tests.support.browser import VIEWPORT
from tests.support.screenshots import PAGES

REPO = Path(__file__).resolve().parents[3]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a PNG must start with."""
    assert data[:8] == PNG_SIGNATURE, data[:8]
    assert data[12:16] == b"IHDR", data[12:16]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_screenshot_writer_saves_each_main_page(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.screenshots", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(f"{p}.png" for p in PAGES)
    for name in PAGES:
        data = (tmp_path / f"{name}.png").read_bytes()
        assert len(data) > 5_000, f"{name}.png is only {len(data)} bytes"
        width, height = png_size(data)
        assert width == VIEWPORT["width"], (name, width)
        if name == "account":  # the whole page
            assert height >= VIEWPORT["height"], (name, height)
        else:
            assert height == VIEWPORT["height"], (name, height)
