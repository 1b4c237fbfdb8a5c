"""The console's page and files: served with the strict policy, revalidated by ETag, and
nothing outside static/ reachable."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.console.errors import AssetNotFound
from app.console.router import CSP, STATIC, _asset

ASSETS = ["app.js", "api.js", "ui.js", "style.css", "pages/index.js", "pages/review.js"]


@pytest.mark.parametrize("path", ["/console", "/console/"])
def test_the_page_is_served_with_the_policy(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe" not in CSP
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert '<script type="module" src="/console/static/app.js"></script>' in r.text
    assert '<html lang="zh-CN">' in r.text


@pytest.mark.parametrize("name", ASSETS)
def test_files_are_served_with_their_type_and_the_policy(client: TestClient, name: str) -> None:
    r = client.get(f"/console/static/{name}")
    assert r.status_code == 200
    assert r.content == (STATIC / name).read_bytes()
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    assert r.headers["content-type"] == f"{kind}; charset=utf-8"
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["etag"].startswith('"')


def test_an_unchanged_file_is_answered_304(client: TestClient) -> None:
    etag = client.get("/console/static/app.js").headers["etag"]
    again = client.get("/console/static/app.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = client.get("/console/static/app.js", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/console/static/missing.js",
        "/console/static/pages/missing.js",
        "/console/static/README",  # no known type: not served
        "/console/static/",
        "/console/static/pages",
        "/console/static/.hidden.js",
    ],
)
def test_an_unknown_file_is_404_in_the_error_shape(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "ASSET_NOT_FOUND"
    assert r.json()["error"]["message"] == "控制台文件不存在"


@pytest.mark.parametrize(
    "path",
    [
        "/console/static/../router.py",
        "/console/static/..%2frouter.py",
        "/console/static/%2e%2e/router.py",
        "/console/static/%2e%2e/%2e%2e/main.py",
        "/console/static/pages/..%2f..%2f__init__.py",
        "/console/static/..%5crouter.py",
        "/console/static/%2fetc%2fpasswd",
        "/console/static//etc/passwd",
        "/console/static/app.js%00.css",
    ],
)
def test_no_path_leaves_static(client: TestClient, path: str) -> None:
    r = client.get(path)
    # Clients may fold `..` away before sending; whatever arrives, nothing outside static/ is
    # served and nothing is served from a name with a dot-segment.
    assert r.status_code == 404, path
    assert b"import" not in r.content and b"root:" not in r.content


@pytest.mark.parametrize(
    "relative",
    [
        "../router.py",
        "pages/../../main.py",
        "pages/../app.js",
        "/etc/passwd",
        "..\\router.py",
        "./app.js",
        "app.js\x00",
        "",
        "pages//index.js",
        "../static/app.js",
    ],
)
def test_a_name_with_a_dot_segment_or_oddity_is_refused_as_it_arrives(relative: str) -> None:
    with pytest.raises(AssetNotFound):
        _asset(relative)
    assert _asset("pages/index.js") == STATIC / "pages" / "index.js"


def test_the_console_is_not_in_the_api_document(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert not [p for p in paths if "console" in p]
