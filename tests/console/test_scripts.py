"""The console's modules run in headless Chromium with the network stubbed: api.js (keys on
writes, one refresh shared by parallel 401s and the retry keeping its key, a refused refresh
ending the session, errors in their Chinese words) and ui.js (text stays text, handlers are
functions, the chart). Page flows against the real app are the browser test's.

The static files and a harness page are served by a plain HTTP server on a free port; the
harness's checks run with `execute_async_script` and return what they saw.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.console.router import STATIC

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

HARNESS = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<script type="module">
import * as api from './static/api.js';
import * as ui from './static/ui.js';
window.consoleModules = { api, ui };
</script></head><body><div id="toasts"></div></body></html>
"""

# A fetch that answers from a table of handlers and records every call.
STUB = """
window.calls = [];
window.answer = null;
window.fetch = async (url, init) => {
  const headers = Object.fromEntries(Object.entries(init.headers || {}));
  const call = { url: String(url), method: init.method, headers, body: init.body };
  window.calls.push(call);
  await new Promise((r) => setTimeout(r, 5));
  const [status, body] = window.answer(call);
  return new Response(body === null ? null : JSON.stringify(body), {
    status, headers: { 'content-type': 'application/json' },
  });
};
sessionStorage.clear();
"""

TOKENS = {
    "access_token": "a1",
    "refresh_token": "r1",
    "expires_at": "2026-12-02T10:00:00Z",
    "password_change_required": False,
    "user": {"id": 7, "name": "许强", "roles": [{"role": "coordinator", "org_unit_id": 3}]},
}

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER) and os.environ.get("CI") != "true",
    reason="needs chromium and chromedriver (CI installs both)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("console-site")
    shutil.copytree(STATIC, root / "static")
    (root / "harness.html").write_text(HARNESS, encoding="utf-8")

    class Quiet(SimpleHTTPRequestHandler):
        extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript"}

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/harness.html"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(site: str) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_script_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def run(browser: Any, site: str, script: str) -> Any:
    """Loads a fresh harness and runs `script` (an async function body using `api`, `ui`,
    `calls`, and setting `answer`); returns what it returns."""
    browser.get(site)
    browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        const wait = () => (window.consoleModules ? done(true) : setTimeout(wait, 20));
        wait();"""
    )
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        + STUB
        + "const { api, ui } = window.consoleModules;"
        + "(async () => {"
        + script
        + "})().then(done, (e) => done({ thrown: String(e && e.stack || e) }));"
    )


def test_writes_carry_a_key_and_reads_and_sign_in_do_not(browser: Any, site: str) -> None:
    seen = run(
        browser,
        site,
        f"""
        const tokens = {json.dumps(TOKENS)};
        answer = (call) => (call.url.endsWith('/auth/login') ? [200, tokens] : [200, {{ id: 1 }}]);
        await api.signIn('coord', 'secret12345');
        await api.api.get('/wishes', {{ status: ['approved', 'dispatching'], limit: 20 }});
        await api.api.post('/wishes/1/approve', {{ note: '' }});
        await api.api.post('/wishes/2/approve', {{ note: '' }});
        return {{ calls, stored: JSON.parse(sessionStorage.getItem('console.session')) }};
        """,
    )
    login, listing, first, second = seen["calls"]
    assert "Idempotency-Key" not in login["headers"] and "Authorization" not in login["headers"]
    assert listing["url"] == "/api/v1/wishes?status=approved&status=dispatching&limit=20"
    assert "Idempotency-Key" not in listing["headers"]
    assert listing["headers"]["Authorization"] == "Bearer a1"
    keys = [first["headers"]["Idempotency-Key"], second["headers"]["Idempotency-Key"]]
    assert all(k.startswith("console-") and len(k) == 40 for k in keys) and keys[0] != keys[1]
    assert first["body"] == '{"note":""}'
    assert seen["stored"]["access_token"] == "a1" and seen["stored"]["refresh_token"] == "r1"


def test_parallel_401s_share_one_refresh_and_the_retry_keeps_its_key(
    browser: Any, site: str
) -> None:
    seen = run(
        browser,
        site,
        """
        sessionStorage.setItem('console.session',
          JSON.stringify({ access_token: 'old', refresh_token: 'r1', user: {} }));
        const expired = { error: { code: 'TOKEN_EXPIRED', message: '登录已过期', details: {} } };
        answer = (call) => {
          if (call.url.endsWith('/auth/refresh')) {
            return [200, { access_token: 'new', refresh_token: 'r2', user: {} }];
          }
          const fresh = call.headers.Authorization === 'Bearer new';
          return fresh ? [200, { ok: call.url }] : [401, expired];
        };
        const answers = await Promise.all([
          api.api.post('/wishes/1/release', { reason: '志愿者临时有事' }),
          api.api.get('/wishes/1'),
          api.api.get('/me'),
        ]);
        return { answers, calls, stored: JSON.parse(sessionStorage.getItem('console.session')) };
        """,
    )
    calls = seen["calls"]
    refreshes = [c for c in calls if c["url"].endswith("/auth/refresh")]
    assert len(refreshes) == 1 and refreshes[0]["body"] == '{"refresh_token":"r1"}'
    releases = [c for c in calls if c["url"].endswith("/release")]
    assert [c["headers"]["Authorization"] for c in releases] == ["Bearer old", "Bearer new"]
    assert releases[0]["headers"]["Idempotency-Key"] == releases[1]["headers"]["Idempotency-Key"]
    assert [a["ok"] for a in seen["answers"]] == [
        "/api/v1/wishes/1/release",
        "/api/v1/wishes/1",
        "/api/v1/me",
    ]
    assert seen["stored"]["refresh_token"] == "r2"


def test_a_refused_refresh_ends_the_session_with_the_servers_words(browser: Any, site: str) -> None:
    seen = run(
        browser,
        site,
        """
        sessionStorage.setItem('console.session',
          JSON.stringify({ access_token: 'old', refresh_token: 'used', user: {} }));
        const ended = [];
        api.session.onEnd((reason) => ended.push(reason));
        answer = (call) => call.url.endsWith('/auth/refresh')
          ? [401, { error: {
            code: 'REFRESH_TOKEN_REUSED',
            message: '登录凭证已被使用过，请重新登录',
            details: {},
          } }]
          : [401, { error: { code: 'TOKEN_EXPIRED', message: '登录已过期', details: {} } }];
        let error = null;
        try {
          await api.api.get('/wishes');
        } catch (e) {
          error = { status: e.status, code: e.code, message: e.message };
        }
        return { error, ended, stored: sessionStorage.getItem('console.session') };
        """,
    )
    assert seen["stored"] is None
    assert seen["ended"] == ["登录凭证已被使用过，请重新登录"]
    assert seen["error"]["status"] == 401


def test_errors_carry_the_chinese_message_and_the_first_invalid_field(
    browser: Any, site: str
) -> None:
    seen = run(
        browser,
        site,
        """
        sessionStorage.setItem('console.session',
          JSON.stringify({ access_token: 'a', refresh_token: 'r', user: {} }));
        const outcomes = [];
        const error = (code, message, details = {}) => ({ error: { code, message, details } });
        const missing = {
          errors: [{ loc: ['body', 'reason'], type: 'missing', msg: '缺少必填项' }],
        };
        const coded = {
          errors: [{ loc: ['body', 'weights', 0, 'weight'], type: 'int_parsing', msg: '应为整数' }],
        };
        const unnamed = {
          errors: [{ loc: ['body', 'offer_k'], type: 'too_big', msg: '应不大于 10' }],
        };
        const bodies = {
          '/wishes/1/approve': [403, error('SELF_APPROVAL', '不能审核本人的心愿')],
          '/wishes/1/reject': [422, error('VALIDATION_ERROR', '请求参数不符合要求', missing)],
          '/wishes/1/close': [403, error('PASSWORD_CHANGE_REQUIRED', '请先修改密码')],
          '/x/weights': [422, error('VALIDATION_ERROR', '请求参数不符合要求', coded)],
          '/x/policy': [422, error('VALIDATION_ERROR', '请求参数不符合要求', unnamed)],
        };
        answer = (call) => bodies[call.url.replace('/api/v1', '')];
        for (const path of Object.keys(bodies)) {
          try {
            await api.api.post(path, {});
          } catch (e) {
            outcomes.push([e.status, e.code, e.message, e instanceof api.ApiError]);
          }
        }
        return { outcomes, stored: JSON.parse(sessionStorage.getItem('console.session')) };
        """,
    )
    assert seen["outcomes"] == [
        [403, "SELF_APPROVAL", "不能审核本人的心愿", True],
        [422, "VALIDATION_ERROR", "请求参数不符合要求（理由：缺少必填项）", True],
        [403, "PASSWORD_CHANGE_REQUIRED", "请先修改密码", True],
        [422, "VALIDATION_ERROR", "请求参数不符合要求（权重：应为整数）", True],
        [422, "VALIDATION_ERROR", "请求参数不符合要求（应不大于 10）", True],
    ]
    assert seen["stored"]["password_change_required"] is True


def test_only_staff_may_sign_in(browser: Any, site: str) -> None:
    seen = run(
        browser,
        site,
        """
        const volunteer = { roles: [{ role: 'volunteer' }] };
        answer = () => [200, { access_token: 'a', refresh_token: 'r', user: volunteer }];
        try { await api.signIn('someone', 'secret12345'); return 'signed in'; }
        catch (e) { return [e.code, e.message, sessionStorage.getItem('console.session')]; }
        """,
    )
    assert seen == ["STAFF_ONLY", "控制台仅供协调员和管理员使用", None]


def test_el_keeps_text_as_text_and_refuses_inline_handlers(browser: Any, site: str) -> None:
    seen = run(
        browser,
        site,
        """
        const node = ui.el('div', { class: ['a', null, 'b'], 'data-test': 'x', title: '<i>t</i>' },
          '<img src=x onerror=alert(1)>', null, false, ['一', ui.el('b', {}, '二')], 3);
        let refused = null;
        try { ui.el('a', { onclick: 'alert(1)' }); } catch (e) { refused = e.message; }
        let styled = null;
        try { ui.el('a', { style: 'color: red' }); } catch (e) { styled = e.message; }
        let clicked = 0;
        const button = ui.el('button', { onClick: () => { clicked += 1; } }, '按');
        button.click();
        const badge = ui.statusBadge('dispatching');
        return {
          text: node.textContent, elements: node.querySelectorAll('*').length, cls: node.className,
          title: node.getAttribute('title'), refused, styled, clicked,
          badge: [badge.textContent, badge.dataset.status, badge.dataset.test],
        };
        """,
    )
    assert seen["text"] == "<img src=x onerror=alert(1)>一二3"
    assert seen["elements"] == 1  # the <b> only: the markup stayed text
    assert seen["cls"] == "a b" and seen["title"] == "<i>t</i>"
    assert seen["refused"] == "onclick must be a function"
    assert seen["styled"] is not None and seen["clicked"] == 1
    assert seen["badge"] == ["派单中", "dispatching", "status-badge"]


def test_the_chart_draws_a_bar_or_a_point_per_value(browser: Any, site: str) -> None:
    seen = run(
        browser,
        site,
        """
        const points = [
          { label: '1月', value: 3 }, { label: '2月', value: 0 }, { label: '<b>3月</b>', value: 6 },
        ];
        const bars = ui.chart(document.body, points, { title: '心愿数' });
        const line = ui.chart(document.body, points, { kind: 'line' });
        const empty = ui.chart(document.body, []);
        const heights = [...bars.querySelectorAll('rect.chart-bar')]
          .map((r) => Number(r.getAttribute('height')));
        return {
          heights,
          dots: line.querySelectorAll('circle').length,
          polyline: line.querySelectorAll('polyline').length,
          empty: empty.textContent,
          labels: [...bars.querySelectorAll('text')].map((t) => t.textContent),
          markup: bars.querySelectorAll('b').length,
        };
        """,
    )
    assert len(seen["heights"]) == 3
    assert seen["heights"][1] == 0 and seen["heights"][2] == pytest.approx(2 * seen["heights"][0])
    assert seen["dots"] == 3 and seen["polyline"] == 1
    assert seen["empty"] == "暂无数据"
    assert "<b>3月</b>" in seen["labels"] and seen["markup"] == 0


def test_durations_and_file_names(browser: Any, site: str) -> None:
    seen = run(
        browser,
        site,
        """
        return [
          ui.fmtDuration(90 * 1000), ui.fmtDuration((2 * 3600 + 5 * 60) * 1000),
          ui.fmtDuration((3 * 86400 + 2 * 3600) * 1000), ui.fmtDuration(-5),
          ui.fmtDistance(551.4), ui.fmtDistance(2430),
          api.nameIn("attachment; filename=\\"a.xlsx\\"; filename*=UTF-8''%E7%BB%9F%E8%AE%A1.xlsx"),
          api.nameIn('attachment; filename="ledger.csv"'),
        ];
        """,
    )
    assert seen == [
        "1 分 30 秒",
        "2 小时 5 分",
        "3 天 2 小时",
        "0 分 00 秒",
        "551 米",
        "2.4 公里",
        "统计.xlsx",
        "ledger.csv",
    ]


def test_dates_show_in_the_zone_the_server_names(browser: Any, site: str) -> None:
    seen = run(
        browser,
        site,
        """
        const at = '2026-12-01T17:30:00Z';
        const out = [];
        out.push(ui.setZone('Asia/Shanghai'), ui.fmtTime(at), ui.localToday(new Date(at)));
        out.push(ui.setZone('Asia/Urumqi'), ui.fmtTime(at), ui.fmtTime(at, true));
        out.push(ui.localToday(new Date(at)));
        out.push(ui.setZone('Not/AZone'), ui.zone());
        return out;
        """,
    )
    assert seen == [
        True,
        "2026/12/02 01:30",
        "2026-12-02",
        True,
        "2026/12/01 23:30",
        "12/01 23:30",
        "2026-12-01",
        False,
        "Asia/Urumqi",
    ]


def test_heavy_reads_go_one_at_a_time_and_wait_when_the_server_is_full(
    browser: Any, site: str
) -> None:
    """The statistics page asks for six series and the ranking at once; the server admits two
    such requests per caller. The console sends them in order and retries a 429 after its
    Retry-After, keeping the key of a write."""
    seen = run(
        browser,
        site,
        """
        sessionStorage.setItem('console.session',
          JSON.stringify({ access_token: 'a1', refresh_token: 'r1', user: {} }));
        let inFlight = 0, most = 0, refusedOnce = false;
        const sent = [];
        window.fetch = async (url, init) => {
          const call = { url: String(url), key: (init.headers || {})['Idempotency-Key'] || null };
          sent.push(call);
          inFlight += 1; most = Math.max(most, inFlight);
          await new Promise((r) => setTimeout(r, 20));
          inFlight -= 1;
          if (call.url.includes('/stats/series') && !refusedOnce) {
            refusedOnce = true;
            return new Response(JSON.stringify({ error: {
              code: 'HEAVY_PER_USER', message: '请稍后再试', details: {} } }),
              { status: 429, headers: { 'content-type': 'application/json', 'Retry-After': '1' } });
          }
          return new Response(JSON.stringify({ ok: call.url }),
            { status: 200, headers: { 'content-type': 'application/json' } });
        };
        const started = Date.now();
        const answers = await Promise.all([
          api.api.get('/org-units/2/stats/series', { key: 'intake.wishes' }),
          api.api.get('/org-units/2/stats/series', { key: 'people.active' }),
          api.api.get('/org-units/2/ranking'),
          api.api.put('/org-units/2/ranking-weights', { weights: [] }),
        ]);
        return { answers: answers.map((a) => a.ok), most, sent, waited: Date.now() - started };
        """,
    )
    assert seen["most"] == 1
    assert seen["answers"] == [
        "/api/v1/org-units/2/stats/series?key=intake.wishes",
        "/api/v1/org-units/2/stats/series?key=people.active",
        "/api/v1/org-units/2/ranking",
        "/api/v1/org-units/2/ranking-weights",
    ]
    urls = [call["url"] for call in seen["sent"]]
    assert urls.count("/api/v1/org-units/2/stats/series?key=intake.wishes") == 2  # refused, retried
    assert seen["waited"] >= 1000  # the Retry-After was honoured
    writes = [call for call in seen["sent"] if call["url"].endswith("/ranking-weights")]
    assert len(writes) == 1 and writes[0]["key"]


def test_other_reads_are_not_held_behind_heavy_ones(browser: Any, site: str) -> None:
    seen = run(
        browser,
        site,
        """
        sessionStorage.setItem('console.session',
          JSON.stringify({ access_token: 'a1', refresh_token: 'r1', user: {} }));
        let inFlight = 0, most = 0;
        window.fetch = async (url) => {
          inFlight += 1; most = Math.max(most, inFlight);
          await new Promise((r) => setTimeout(r, 30));
          inFlight -= 1;
          return new Response(JSON.stringify({ ok: String(url) }),
            { status: 200, headers: { 'content-type': 'application/json' } });
        };
        await Promise.all([api.api.get('/org-units/2/stats'), api.api.get('/wishes/1'),
          api.api.get('/me')]);
        return { most };
        """,
    )
    assert seen["most"] == 3


def test_a_long_download_shows_its_progress_and_then_its_failure(browser: Any, site: str) -> None:
    """withProgress: the button disabled and an indeterminate bar counting seconds while the
    download runs; a 500 (not a full server, which api.js waits out) leaves the reason beside the
    button in Chinese until the next try, which clears it."""
    seen = run(
        browser,
        site,
        """
        sessionStorage.setItem('console.session',
          JSON.stringify({ access_token: 'a1', refresh_token: 'r1', user: {} }));
        let release;
        const held = new Promise((r) => { release = r; });
        const failed = { code: 'INTERNAL', message: '服务器出错，请稍后再试', details: {} };
        window.answer = () => [500, { error: failed }];
        const button = ui.el('button', {}, '下载 Excel');
        document.body.append(button);
        const first = ui.withProgress(button, async () => {
          await held;
          return api.download('/org-units/3/stats/export', { format: 'xlsx' }, 'a.xlsx');
        }, { label: '正在生成统计表' });
        await new Promise((r) => setTimeout(r, 1200));
        const bar = document.querySelector('[data-test=export-progress]');
        const during = {
          disabled: button.disabled,
          bar: bar ? [bar.tagName, bar.hasAttribute('value')] : null,
          text: document.querySelector('[data-test=export-elapsed]').textContent,
          again: await ui.withProgress(button, async () => 'second'),
        };
        release();
        await first;
        const error = document.querySelector('[data-test=export-error]');
        const after = {
          disabled: button.disabled,
          bars: document.querySelectorAll('[data-test=export-progress]').length,
          error: error ? error.textContent : null,
          toast: [...document.querySelectorAll('[data-test=toast]')].map((t) => t.textContent),
        };
        const retried = await ui.withProgress(button, async () => 'done');
        return {
          during, after, retried,
          left: document.querySelectorAll('[data-test^=export-]').length,
        };
        """,
    )
    assert "thrown" not in seen, seen
    during, after = seen["during"], seen["after"]
    assert during["disabled"] is True
    assert during["bar"] == ["PROGRESS", False]  # indeterminate: no value
    assert during["text"] in ("正在生成统计表… 已用 1 秒", "正在生成统计表… 已用 2 秒")
    assert during["again"] is None  # a second click while it runs does nothing
    assert after["disabled"] is False and after["bars"] == 0
    assert after["error"] == "下载失败：服务器出错，请稍后再试"
    assert "下载失败：服务器出错，请稍后再试" in after["toast"]
    assert seen["retried"] == "done" and seen["left"] == 0


def test_a_paged_list_loads_more_reloads_and_drops_an_overtaken_answer(
    browser: Any, site: str
) -> None:
    """pagedList: the first page, 加载更多 until no next_cursor, a reload from the first page
    that drops the answer of the load it overtook, and a failed page shown with 重试."""
    seen = run(
        browser,
        site,
        """
        const pages = { '': [[1, 2], 'c2'], c2: [[3], null] };
        const asked = [];
        let slow = null;
        let fail = false;
        const box = document.createElement('div');
        document.body.append(box);
        const drawn = [];
        const list = ui.pagedList({
          box,
          fetch: async (cursor) => {
            asked.push(cursor === undefined ? null : cursor);
            if (fail) throw new api.ApiError(500, 'INTERNAL', '服务器出错', {});
            if (slow) await slow;
            const [items, next] = pages[cursor || ''];
            return { items: items.map((id) => ({ id })), next_cursor: next };
          },
          draw: (rows, added) => drawn.push([rows.map((r) => r.id), added.map((r) => r.id)]),
        });
        document.body.append(list.more);
        await list.reload();
        const first = { hidden: list.more.hidden, text: list.more.textContent };
        list.more.click();
        await new Promise((r) => setTimeout(r, 50));
        const last = list.more.hidden;
        // A reload overtaken by another: only the second one's page is drawn.
        let release;
        slow = new Promise((r) => { release = r; });
        const overtaken = list.reload();
        slow = null;
        await list.reload();
        release();
        await overtaken;
        fail = true;
        await list.reload();
        return {
          first, last, asked, drawn, rows: list.rows.map((r) => r.id),
          error: box.querySelector('[data-test=error-state]')?.textContent || null,
        };
        """,
    )
    assert "thrown" not in seen, seen
    assert seen["first"] == {"hidden": False, "text": "加载更多"}
    assert seen["last"] is True
    assert seen["asked"] == [None, "c2", None, None, None]
    assert seen["drawn"] == [[[1, 2], [1, 2]], [[1, 2, 3], [3]], [[1, 2], [1, 2]]]
    assert seen["rows"] == [1, 2]
    assert seen["error"] is not None and "服务器出错" in seen["error"]
