"""The console's pairings page is served as a module, listed among the pages, and parses."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

STATIC = Path(__file__).resolve().parents[2] / "app" / "console" / "static"


def test_the_pairings_page_is_served_and_listed(client: TestClient) -> None:
    r = client.get("/console/static/pages/pairings.js")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "route: '#/pairings'" in r.text and "nav: 'nav-pairings'" in r.text
    listed = client.get("/console/static/pages/index.js").text
    assert "import pairings from './pairings.js';" in listed and "pairings," in listed


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to parse the module with")
def test_the_pairings_page_parses_as_a_module(tmp_path: Path) -> None:
    copy = tmp_path / "pairings.mjs"
    copy.write_text((STATIC / "pages" / "pairings.js").read_text(encoding="utf-8"))
    done = subprocess.run(
        ["node", "--check", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
