"""The console's activities page is served and listed among the pages."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_activities_page_is_served_and_listed(client: TestClient) -> None:
    r = client.get("/console/static/pages/activities.js")
    assert r.status_code == 200, r.text
    assert "javascript" in r.headers["content-type"]
    assert "route: '#/activities'" in r.text
    for path in ("/activities", "/signups", "/attendance", "/service-records/"):
        assert path in r.text, path
    index = client.get("/console/static/pages/index.js").text
    assert "import activities from './activities.js';" in index
