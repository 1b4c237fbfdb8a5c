"""What a coordinator meets on the wishes, dispatch and batch pages, run in headless Chromium
against a stubbed API: the grab tag only while a wish waits, empty lists that say what to do,
the way back to a filtered list, a missing record offered a way out, and batch offers confirmed
before they go."""

from __future__ import annotations

import json
from typing import Any

from tests.console.test_record_pages_run import STATS, render
from tests.console.test_scripts import browser, pytestmark, run, site

__all__ = ["browser", "pytestmark", "site"]


def wish(id: int, status: str, grab_open: bool) -> dict[str, Any]:
    return {
        "id": id, "title": f"心愿{id}", "category_code": "care", "station_id": 12,
        "coarse_address": "余村", "wanted_start_at": "2026-12-03T01:00:00Z",
        "wanted_end_at": "2026-12-03T03:00:00Z", "urgency": "normal", "status": status,
        "grab_open": grab_open, "created_at": "2026-12-01T01:00:00Z", "status_label": status,
    }  # fmt: skip


def test_the_grab_tag_shows_only_while_a_wish_waits(browser: Any, site: str) -> None:
    rows = [wish(1, "dispatching", True), wish(2, "accepted", True), wish(3, "rated", True)]
    routes = f"""(call, url) => url.pathname === '/api/v1/catalogue'
      ? [200, {{ categories: [{{ code: 'care', name: '关爱帮扶' }}], skills: [] }}]
      : [200, {{ items: {json.dumps(rows)}, next_cursor: null }}]"""
    seen = render(
        browser,
        site,
        "wishes",
        routes,
        """
        await until(() => root.querySelector('[data-test=wish-row]'), 'the rows');
        return Array.from(root.querySelectorAll('[data-test=wish-row]')).map((r) =>
          [r.dataset.wishId, r.textContent.includes('抢单中'), r.textContent.includes('关爱帮扶')]);
        """,
    )
    assert seen == [["1", True, True], ["2", False, True], ["3", False, True]]


def test_an_empty_filtered_list_says_how_to_widen_it(browser: Any, site: str) -> None:
    routes = """(call, url) => [200, { items: [], next_cursor: null }]"""
    seen = render(
        browser,
        site,
        "wishes",
        routes,
        """
        const empty = await until(() => root.querySelector('[data-test=empty]'), 'the empty list');
        return empty.textContent;
        """,
        query="status=approved",
    )
    assert seen.startswith("没有符合条件的心愿") and "全部状态" in seen


def test_back_returns_to_the_filtered_list_it_came_from(browser: Any, site: str) -> None:
    seen = run(
        browser,
        site,
        """
        const { backTo } = await import('./static/pages/wishes.js');
        return [backTo({ previous: '#/wishes?status=approved' }), backTo({ previous: '#/wishes' }),
                backTo({ previous: '#/stats?from=2026-12-01' }), backTo({ previous: null }),
                backTo({ previous: '#/wishes/7' })];
        """,
    )
    assert seen == ["#/wishes?status=approved", "#/wishes", "#/wishes", "#/wishes", "#/wishes"]


def test_a_missing_record_offers_the_way_back_not_a_retry(browser: Any, site: str) -> None:
    seen = run(
        browser,
        site,
        """
        const gone = ui.errorState(new api.ApiError(404, 'WISH_NOT_FOUND', '心愿不存在', {}), () => {},
          { href: '#/wishes', label: '返回心愿' });
        const failed = ui.errorState(new api.ApiError(0, 'NETWORK', '网络连接失败', {}), () => {});
        return [gone.textContent, gone.querySelectorAll('button').length, gone.querySelector('a').getAttribute('href'),
                failed.textContent, failed.querySelectorAll('button').length];
        """,  # noqa: E501
    )
    assert seen[0].startswith("心愿不存在") and "不在您管理的单位范围内" in seen[0]
    assert seen[1:3] == [0, "#/wishes"]
    assert seen[3] == "网络连接失败重试" and seen[4] == 1


PLAN = {
    "counts": {"wishes": 2, "assigned": 2, "unassigned": 0, "volunteers": 2},
    "total_score": 1.3,
    "truncated": False,
    "items": [
        {"wish_id": 5, "title": "修屋顶", "volunteer_id": 42, "name": "张宇航", "score": 0.57,
         "distance_m": 1200, "factors": {}},
        {"wish_id": 6, "title": "理发", "volunteer_id": 43, "name": "罗伟", "score": 0.73,
         "distance_m": 800, "factors": {}},
    ],
    "unassigned": [],
}  # fmt: skip


def test_batch_offers_go_only_after_confirmation(browser: Any, site: str) -> None:
    routes = f"""(call, url) => {{
      if (url.pathname.endsWith('/dispatch-plan')) return [200, {json.dumps(PLAN)}];
      if (url.pathname.endsWith('/dispatch-plan/apply')) return [200, {{ sent: 2, failed: 0, items: [] }}];
      return [404, {{ error: {{ code: 'NOT_FOUND', message: '未找到' }} }}];
    }}"""  # noqa: E501
    seen = render(
        browser,
        site,
        "batch",
        routes,
        """
        root.querySelector('[data-test=plan-compute]').click();
        const apply = await until(() => root.querySelector('[data-test=plan-apply]'), 'the plan');
        const plan = root.querySelector('[data-test=plan-counts]').textContent + root.querySelector('[data-test=plan-row]').textContent;
        apply.click();
        (await until(() => document.querySelector('[data-test=dialog-cancel]'), 'the question')).click();
        await new Promise((r) => setTimeout(r, 50));
        const before = calls.filter((c) => c.url.endsWith('/apply')).length;
        apply.click();
        const question = (await until(() => document.querySelector('dialog[open]'), 'the question')).textContent;
        document.querySelector('[data-test=dialog-ok]').click();
        await until(() => calls.some((c) => c.url.endsWith('/apply')), 'the offers');
        return { plan, before, question };
        """,  # noqa: E501
    )
    assert seen["before"] == 0
    assert "向 2 位志愿者各发出一条派单邀请" in seen["question"]
    assert "平均匹配度65%" in seen["plan"] and "57%" in seen["plan"] and "0.57" not in seen["plan"]


def test_me_shows_no_stray_words_and_asks_before_signing_out(browser: Any, site: str) -> None:
    role = {"role": "coordinator", "org_unit_id": 3, "org_unit_name": "测试镇"}
    me = {
        "id": 7,
        "name": "许强",
        "phone": None,
        "password_change_required": False,
        "roles": [role],
    }
    routes = (
        f"""(call, url) => url.pathname === '/api/v1/me' ? [200, {json.dumps(me)}] : [204, null]"""
    )
    seen = render(
        browser,
        site,
        "me",
        routes,
        """
        const text = root.textContent;
        root.querySelector('[data-test=sign-out]').click();
        (await until(() => document.querySelector('[data-test=dialog-cancel]'), 'the question')).click();
        await new Promise((r) => setTimeout(r, 50));
        const stayed = api.session.signedIn();
        root.querySelector('[data-test=sign-out]').click();
        (await until(() => document.querySelector('[data-test=dialog-ok]'), 'the question')).click();
        await until(() => !api.session.signedIn(), 'signed out');
        return { text, stayed, logout: calls.filter((c) => c.url.endsWith('/auth/logout')).length };
        """,  # noqa: E501
    )
    assert "null" not in seen["text"] and "协调员" in seen["text"] and "测试镇" in seen["text"]
    assert seen["stayed"] is True and seen["logout"] == 1


def test_the_stats_period_goes_in_the_address_for_the_back_button(browser: Any, site: str) -> None:
    routes = f"""(call, url) => {{
      const p = url.pathname;
      if (p.endsWith('/stats')) return [200, {{ ...{json.dumps(STATS)}, from: url.searchParams.get('from'), to: url.searchParams.get('to') }}];
      if (p.endsWith('/stats/series')) return [200, {{ key: 'intake.wishes', group: null, label: '点单数', unit: '', bucket: 'week', points: [] }}];
      return [200, {{ weights: [], rows: [] }}];
    }}"""  # noqa: E501
    seen = render(
        browser,
        site,
        "stats",
        routes,
        """
        await until(() => root.querySelector('[data-test=stats-figure]'), 'the figures');
        history.replaceState(null, '', '#/stats');
        root.querySelector('[data-test=stats-from]').value = '2026-10-01';
        root.querySelector('[data-test=stats-to]').value = '2026-10-31';
        root.querySelector('[data-test=stats-apply]').click();
        await until(() => location.hash.includes('from='), 'the address');
        const notes = () => Array.from(root.querySelectorAll(".chart-note"), (n) => n.textContent);
        const note = (await until(() => notes().find(Boolean), 'the chart note'));
        return { hash: location.hash, note };
        """,
    )
    assert seen["hash"] == "#/stats?from=2026-10-01&to=2026-10-31"
    assert seen["note"] == "点单数"


def test_the_shell_reads_the_zone_before_drawing(browser: Any, site: str) -> None:
    seen = run(
        browser,
        site,
        """
        answer = (call) => call.url === '/console/settings.json'
          ? [200, { timezone: 'Asia/Urumqi' }] : [404, null];
        document.body.append(Object.assign(document.createElement('div'), { id: 'app' }));
        await import('./static/app.js');
        for (let i = 0; i < 250 && !document.querySelector('[data-test=signin-username]'); i += 1) {
          await new Promise((r) => setTimeout(r, 20));
        }
        return { zone: ui.zone(), signin: Boolean(document.querySelector('[data-test=signin-submit]')),
                 first: calls[0].url, shown: ui.fmtTime('2026-12-01T17:30:00Z') };
        """,  # noqa: E501
    )
    assert seen == {
        "zone": "Asia/Urumqi",
        "signin": True,
        "first": "/console/settings.json",
        "shown": "2026/12/01 23:30",
    }


def test_a_reminder_is_sent_only_after_confirmation(browser: Any, site: str) -> None:
    seen = run(
        browser,
        site,
        """
        sessionStorage.setItem('console.session', JSON.stringify({ access_token: 'a', refresh_token: 'r', user: {} }));
        answer = () => [200, { id: 1, status: 'accepted', status_label: '已接单' }];
        const { actionButtons } = await import('./static/wish.js');
        const changed = [];
        const [button] = actionButtons({ id: 1, title: '修屋顶', allowed_events: ['remind'] },
          { api: api.api }, (after) => changed.push(after.status));
        document.body.append(button);
        const wait = async (check) => {
          for (let i = 0; i < 250 && !check(); i += 1) await new Promise((r) => setTimeout(r, 20));
          return check();
        };
        button.click();
        (await wait(() => document.querySelector('[data-test=dialog-cancel]'))).click();
        await new Promise((r) => setTimeout(r, 50));
        const before = calls.length;
        button.click();
        (await wait(() => document.querySelector('[data-test=dialog-ok]'))).click();
        await wait(() => changed.length);
        return { before, paths: calls.map((c) => c.method + ' ' + c.url), changed,
                 toast: document.querySelector('[data-test=toast]').textContent };
        """,  # noqa: E501
    )
    assert seen["before"] == 0
    assert seen["paths"] == ["POST /api/v1/wishes/1/remind"]
    assert seen["changed"] == ["accepted"] and seen["toast"] == "已提醒志愿者：修屋顶（现为已接单）"
