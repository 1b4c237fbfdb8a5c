"""The teams page: listed in the navigation, served as a module, and reading only routes the
API has."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.console.router import STATIC
from app.main import API_PREFIX


def test_the_teams_page_is_served_and_listed(client: TestClient) -> None:
    r = client.get("/console/static/pages/teams.js")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "route: '#/teams'" in r.text and "nav: 'nav-teams'" in r.text
    index = client.get("/console/static/pages/index.js").text
    assert "import teams from './teams.js';" in index


def test_the_teams_page_calls_routes_that_exist(app: FastAPI) -> None:
    """Every API path the page builds (`/teams…`, `/team-…`) is a route of the API."""
    code = (STATIC / "pages" / "teams.js").read_text(encoding="utf-8")
    called = {
        re.sub(r"\$\{[^}]+\}", "{}", path)
        for path in re.findall(r"[`'](/team[s-][^`'?]*)[`']", code)
    }
    routes = {
        re.sub(r"\{[^}]+\}", "{}", path.removeprefix(API_PREFIX)) for path in app.openapi()["paths"]
    }
    assert called, "the page calls the teams API"
    assert sorted(called - routes) == []
