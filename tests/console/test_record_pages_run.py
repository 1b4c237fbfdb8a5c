"""The hours, volunteers, statistics and import pages run in headless Chromium against a stubbed
API (the harness of test_scripts): what they ask for, and what they draw from the answers."""

from __future__ import annotations

import json
from typing import Any

from tests.console.test_scripts import TOKENS, browser, pytestmark, run, site

__all__ = ["browser", "pytestmark", "site"]

# Renders `page` into #root with a page context, after the session is signed in; `routes` is
# a JS function (call) -> [status, body] for the calls the page makes.
RENDER = """
sessionStorage.setItem('console.session', JSON.stringify(%(tokens)s));
const routes = %(routes)s;
answer = (call) => {
  const url = new URL(call.url, location.href);
  if (url.pathname === '/api/v1/org-units' && url.searchParams.get('parent_id')) return [200, []];
  return routes(call, url);
};
const until = async (check, what) => {
  for (let i = 0; i < 250; i += 1) {
    const found = check();
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('timed out waiting for ' + what);
};
const page = (await import('./static/pages/%(page)s.js')).default;
const root = document.createElement('div');
document.body.append(root);
const ctx = {
  api: api.api, params: %(params)s, query: new URLSearchParams(%(query)s), navigate: () => {},
  toast: ui.toast, user: api.session.user(), session: api.session, reload: () => {},
  current: () => true,
};
await page.render(root, ctx);
const paths = () => calls.map((c) => c.method + ' ' + new URL(c.url, location.href).pathname
  + new URL(c.url, location.href).search);
"""


def render(
    browser: Any,
    site: str,
    page: str,
    routes: str,
    then: str,
    params: list[str] | None = None,
    query: str = "",
) -> Any:
    script = RENDER % {
        "tokens": json.dumps(TOKENS),
        "routes": routes,
        "page": page,
        "params": json.dumps(params or []),
        "query": json.dumps(query),
    }
    seen = run(browser, site, script + then)
    assert not (isinstance(seen, dict) and "thrown" in seen), seen
    return seen


RECORD = {
    "id": 517, "wish_id": 1024, "volunteer_id": 42, "volunteer_name": "王晓峰", "unit_id": 12,
    "is_lead": True, "status": "checked_out", "checked_in_at": "2026-12-01T00:58:00Z",
    "check_in_method": "gps", "checked_out_at": "2026-12-01T03:02:00Z",
    "check_out_method": "manual", "manual": True, "late_sync": False,
    "manual_reason": "手机没电，站点代签", "summary": "<b>买菜</b>", "attended_hours": 2.07,
    "credited_hours": None, "confirmed_at": None, "reject_reason": None, "feedback_score": None,
}  # fmt: skip


def test_hours_confirms_a_record_in_its_row(browser: Any, site: str) -> None:
    routes = f"""(call, url) => {{
      if (url.pathname.endsWith('/service-records')) return [200, {{ items: [{json.dumps(RECORD)}], next_cursor: null }}];
      if (url.pathname.endsWith('/confirm')) return [200, {{ ...{json.dumps(RECORD)}, status: 'credited', credited_hours: 2 }}];
      return [404, {{ error: {{ code: 'NOT_FOUND', message: '未找到' }} }}];
    }}"""  # noqa: E501
    seen = render(
        browser,
        site,
        "hours",
        routes,
        """
        const row = await until(() => root.querySelector('[data-test=hours-row][data-record-id="517"]'), 'the row');
        const before = row.textContent;
        row.querySelector('[data-test=confirm-hours]').click();
        await until(() => !row.querySelector('[data-test=confirm-hours]'), 'the row confirmed');
        const confirm = calls.find((c) => c.url.endsWith('/confirm'));
        return {
          paths: paths(), before, after: row.textContent, attached: root.contains(row),
          key: confirm.headers['Idempotency-Key'] || null, markup: row.querySelectorAll('b').length,
          toasts: Array.from(document.querySelectorAll('[data-test=toast]')).map((t) => t.textContent),
        };
        """,  # noqa: E501
    )
    assert seen["paths"][1] == "GET /api/v1/org-units/3/service-records?status=checked_out&limit=50"
    assert seen["paths"][2] == "POST /api/v1/service-records/517/confirm"
    assert seen["key"], "a confirmation carries an Idempotency-Key"
    assert "王晓峰" in seen["before"] and "代签" in seen["before"] and "2.07 小时" in seen["before"]
    assert "<b>买菜</b>" in seen["before"] and seen["markup"] == 0  # data stays text
    assert seen["attached"] and "计入 2 小时" in seen["after"]
    assert seen["toasts"] == ["已确认，计入 2 小时"]


STATS = {
    "unit": {"id": 3, "name": "测试镇", "level": "township"},
    "from": "2026-12-01",
    "to": "2026-12-02",
    "sections": [
        {
            "key": "intake",
            "label": "受理",
            "figures": [
                {"key": "intake.wishes", "label": "点单数", "value": 12, "unit": "件",
                 "drill": "wishes", "group": None, "group_label": None},
                {"key": "intake.wishes", "label": "点单数", "value": 5, "unit": "件",
                 "drill": "wishes", "group": "culture", "group_label": "文化惠民"},
                {"key": "intake.rate", "label": "受理率", "value": 0.875, "unit": "%",
                 "drill": "wishes", "group": None, "group_label": None},
            ],
        }
    ],
}  # fmt: skip


def test_stats_figures_period_drill_and_workbook(browser: Any, site: str) -> None:
    routes = f"""(call, url) => {{
      const p = url.pathname;
      if (p.endsWith('/stats')) return [200, {{ ...{json.dumps(STATS)}, from: url.searchParams.get('from'), to: url.searchParams.get('to') }}];
      if (p.endsWith('/stats/series')) return [200, {{ key: url.searchParams.get('key'), group: null, label: '点单数', unit: '件', bucket: 'week', value: 12,
        points: [{{ label: '第48周', from: '2026-11-30', to: '2026-12-06', value: 12 }}] }}];
      if (p.endsWith('/stats/drill')) return [200, {{ key: 'intake.wishes', group: 'culture', kind: 'wishes', total: 1, items: [{{ id: 9, label: '送戏下乡', at: null }}] }}];
      if (p.endsWith('/ranking')) return [200, {{ weights: [], rows: [] }}];
      if (p.endsWith('/stats/export')) return [200, {{}}];
      return [404, {{ error: {{ code: 'NOT_FOUND', message: '未找到' }} }}];
    }}"""  # noqa: E501
    seen = render(
        browser,
        site,
        "stats",
        routes,
        """
        await until(() => root.querySelector('[data-test=stats-figure]'), 'the figures');
        const figures = Array.from(root.querySelectorAll('[data-test=stats-figure]')).map((f) =>
          [f.dataset.key, f.dataset.group, f.textContent]);
        const defaults = [root.querySelector('[data-test=stats-from]').value, root.querySelector('[data-test=stats-to]').value];
        root.querySelector('[data-test=stats-from]').value = '2026-11-01';
        root.querySelector('[data-test=stats-to]').value = '2026-11-30';
        root.querySelector('[data-test=stats-apply]').click();
        await until(() => calls.some((c) => c.url.includes('from=2026-11-01&to=2026-11-30')), 'the new period');
        await until(() => root.querySelector('[data-test=stats-figure][data-group=culture]'), 'the figures again');
        root.querySelector('[data-test=stats-figure][data-group=culture]').click();
        await until(() => root.querySelector('[data-test=stats-drill-item]'), 'the drill-down');
        root.querySelector('[data-test=stats-download-xlsx]').click();
        await until(() => calls.some((c) => c.url.includes('/stats/export')), 'the workbook');
        return { figures, defaults, paths: paths(), drill: root.querySelector('[data-test=stats-drill]').textContent,
                 bars: root.querySelectorAll('[data-test=stats-chart] rect').length };
        """,  # noqa: E501
    )
    assert seen["figures"] == [
        ["intake.wishes", "", "点单数12 件"],
        ["intake.rate", "", "受理率87.5%"],
        ["intake.wishes", "culture", "文化惠民5 件"],
    ]
    first, last = seen["defaults"]
    assert first.endswith("-01") and first[:7] == last[:7]
    paths = seen["paths"]
    assert "GET /api/v1/org-units/3/stats?from=2026-11-01&to=2026-11-30" in paths
    assert (
        "GET /api/v1/org-units/3/stats/drill?key=intake.wishes&group=culture"
        "&from=2026-11-01&to=2026-11-30&limit=50&offset=0"
    ) in paths
    assert (
        "GET /api/v1/org-units/3/stats/series?key=intake.wishes&from=2026-11-01&to=2026-11-30"
        "&bucket=week"
    ) in paths
    assert paths[-1] == (
        "GET /api/v1/org-units/3/stats/export?from=2026-11-01&to=2026-11-30&format=xlsx"
    )
    assert "共 1 条心愿" in seen["drill"] and "送戏下乡" in seen["drill"]
    assert seen["bars"] >= 1


def _season(key: str, label: str, unit: str, drill: str, group: str, name: str, value: int) -> Any:
    return {"key": key, "label": label, "value": value, "unit": unit, "drill": drill,
            "group": group, "group_label": name}  # fmt: skip


SEASONS = {
    **STATS,
    "sections": [
        {
            "key": "seasons",
            "label": "四季均衡",
            "figures": [
                _season(key, label, unit, drill, group, name, value)
                for group, name, base in (("family", "亲情季", 1), ("harvest", "丰收季", 4))
                for key, label, unit, drill, value in (
                    ("seasons.season.wishes", "各季完成心愿", "件", "wishes", base),
                    ("seasons.season.activities", "各季开展活动", "个", "activities", base + 1),
                    ("seasons.season.hours", "各季服务时长", "小时", "hours", base + 2),
                )
            ],
        }
    ],
}


def test_stats_seasons_show_activities_beside_wishes_and_drill(browser: Any, site: str) -> None:
    routes = f"""(call, url) => {{
      const p = url.pathname;
      if (p.endsWith('/stats')) return [200, {{ ...{json.dumps(SEASONS)}, from: url.searchParams.get('from'), to: url.searchParams.get('to') }}];
      if (p.endsWith('/stats/series')) return [200, {{ key: url.searchParams.get('key'), group: null, label: '各季开展活动', unit: '个', bucket: 'week', value: 2, points: [] }}];
      if (p.endsWith('/stats/drill')) return [200, {{ key: 'seasons.season.activities', group: 'harvest', kind: 'activities', total: 1, items: [{{ id: 7, label: '重阳敬老（余村）', at: null }}] }}];
      if (p.endsWith('/ranking')) return [200, {{ weights: [], rows: [] }}];
      return [404, {{ error: {{ code: 'NOT_FOUND', message: '未找到' }} }}];
    }}"""  # noqa: E501
    seen = render(
        browser,
        site,
        "stats",
        routes,
        """
        const table = await until(() => root.querySelector('[data-test=stats-matrix]'), 'the seasons table');
        const headings = Array.from(table.querySelectorAll('thead th')).map((th) => th.textContent);
        const rows = Array.from(table.querySelectorAll('tbody tr')).map((tr) =>
          [tr.querySelector('th').textContent, ...Array.from(tr.querySelectorAll('[data-test=stats-figure]')).map((b) =>
            [b.dataset.key, b.dataset.group, b.textContent])]);
        table.querySelector('[data-test=stats-figure][data-key="seasons.season.activities"][data-group=harvest]').click();
        await until(() => root.querySelector('[data-test=stats-drill-item]'), 'the drill-down');
        return { family: table.dataset.family, headings, rows, paths: paths(),
                 drill: root.querySelector('[data-test=stats-drill]').textContent };
        """,  # noqa: E501
    )
    assert seen["family"] == "seasons.season"
    assert seen["headings"] == ["四季红季节", "完成心愿", "开展活动", "服务时长"]
    keys = ("seasons.season.wishes", "seasons.season.activities", "seasons.season.hours")
    shown = {"family": ("1 件", "2 个", "3 小时"), "harvest": ("4 件", "5 个", "6 小时")}
    assert seen["rows"] == [
        [name, *([key, group, text] for key, text in zip(keys, shown[group], strict=True))]
        for group, name in (("family", "亲情季"), ("harvest", "丰收季"))
    ]
    drilled = "GET /api/v1/org-units/3/stats/drill?key=seasons.season.activities&group=harvest"
    assert any(path.startswith(drilled) for path in seen["paths"])
    assert "共 1 条活动" in seen["drill"] and "重阳敬老（余村）" in seen["drill"]


def test_import_uploads_and_follows_the_job(browser: Any, site: str) -> None:
    routes = """(call, url) => {
      const p = url.pathname;
      if (p.endsWith('/imports/volunteers')) return [202, { id: 31, status: 'validating', kind: 'volunteers', total: 0, done: 0, error_count: 0, errors: [] }];
      if (p.endsWith('/imports/31')) {
        const polls = calls.filter((c) => c.url.endsWith('/imports/31')).length;
        return [200, polls < 2
          ? { id: 31, status: 'validating', kind: 'volunteers', total: 2, done: 0, error_count: 0, errors: [] }
          : { id: 31, status: 'failed', kind: 'volunteers', total: 2, done: 0, error_count: 3,
              errors: [{ row: 3, column: '手机号', code: 'INVALID_PHONE', message: '请输入 11 位手机号' },
                       { row: 0, column: null, code: 'BAD_FILE', message: '表头不符' }] }];
      }
      return [404, { error: { code: 'NOT_FOUND', message: '未找到' } }];
    }"""  # noqa: E501
    seen = render(
        browser,
        site,
        "import",
        routes,
        """
        const input = root.querySelector('[data-test=import-file]');
        const files = new DataTransfer();
        files.items.add(new File(['PK'], '志愿者.xlsx', { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }));
        input.files = files.files;
        root.querySelector('[data-test=import-upload]').click();
        await until(() => root.querySelector('[data-test=import-status][data-status=failed]'), 'the failed job');
        const upload = calls.find((c) => c.method === 'POST');
        return { paths: paths(), form: upload.body instanceof FormData, file: upload.body.get('file').name,
                 key: upload.headers['Idempotency-Key'] || null, result: root.querySelector('[data-test=import-result]').textContent,
                 rows: Array.from(root.querySelectorAll('[data-test=import-error]')).map((r) => r.dataset.row) };
        """,  # noqa: E501
    )
    assert seen["paths"][1] == "POST /api/v1/org-units/3/imports/volunteers"
    assert seen["paths"][2:] == ["GET /api/v1/imports/31", "GET /api/v1/imports/31"]
    assert seen["form"] and seen["file"] == "志愿者.xlsx" and seen["key"]
    assert "有 3 处错误（下表列出前 2 处）" in seen["result"]
    assert "整个文件" in seen["result"] and "整行" in seen["result"]
    assert seen["rows"] == ["3", "0"]


def test_volunteers_list_and_staff(browser: Any, site: str) -> None:
    volunteer = {
        "id": 42, "user_id": 301, "name": "王晓峰", "phone": "139****5678",
        "home_station": {"id": 12, "name": "仙潭村"}, "lat": 30.6, "lng": 119.9,
        "service_radius_m": 5000, "skill_codes": ["errands"], "qualifications": {},
        "preferred_category_codes": [], "insured_until": "2020-01-01", "weekly_availability": [],
        "max_concurrent_tasks": 2, "active_tasks": 1, "status": "active",
        "suspended_reason": None, "birth_date": None, "age_band": "30–39岁", "id_number": None,
        "masked": True, "completed_count": 0, "withdrawn_count": 0, "released_count": 0,
        "created_at": "2026-12-01T00:00:00Z",
    }  # fmt: skip
    member = {
        "id": 88, "user_id": 7, "name": "沈丽华", "phone": "139****8866", "username": "shen",
        "is_active": True, "role": "grid_worker",
        "unit": {"id": 12, "name": "仙潭村", "level": "village"},
    }  # fmt: skip
    routes = f"""(call, url) => {{
      const p = url.pathname;
      if (p === '/api/v1/catalogue') return [200, {{ categories: [], skills: [{{ code: 'errands', name: '代购代办', needs_qualification: false }}], programmes: [], seasons: [] }}];
      if (p.endsWith('/subtree')) return [200, {{ items: [{{ id: 12, name: '仙潭村' }}], next_cursor: null }}];
      if (p === '/api/v1/volunteers') return [200, {{ items: [{json.dumps(volunteer)}], next_cursor: null }}];
      if (p.endsWith('/staff')) return [200, {{ items: [{json.dumps(member)}], next_cursor: null }}];
      return [404, {{ error: {{ code: 'NOT_FOUND', message: '未找到' }} }}];
    }}"""  # noqa: E501
    seen = render(
        browser,
        site,
        "volunteers",
        routes,
        """
        const row = await until(() => root.querySelector('[data-test=volunteer-row][data-volunteer-id="42"]'), 'the volunteer');
        const search = root.querySelector('[data-test=volunteer-search]');
        search.value = '晓峰';
        search.form.requestSubmit();
        await until(() => calls.some((c) => c.url.includes('name=')), 'the search');
        root.querySelector('[data-test=volunteers-tab-staff]').click();
        const staff = await until(() => root.querySelector('[data-test=staff-row]'), 'the staff');
        return { paths: paths(), row: row.textContent, staff: staff.textContent };
        """,  # noqa: E501
    )
    paths = seen["paths"]
    assert "GET /api/v1/volunteers?station_id=3&limit=50" in paths
    assert "GET /api/v1/volunteers?station_id=3&name=%E6%99%93%E5%B3%B0&limit=50" in paths
    assert "GET /api/v1/org-units/3/staff?limit=50" in paths
    assert "139****5678" in seen["row"] and "代购代办" in seen["row"] and "1/2" in seen["row"]
    assert "沈丽华" in seen["staff"] and "网格员" in seen["staff"] and "村（社区）" in seen["staff"]


RANKING = {
    "weights": [
        {"indicator": "active", "label": "活跃志愿者", "weight": 50},
        {"indicator": "coverage", "label": "实践站覆盖率", "weight": 50},
    ],
    "rows": [
        {"rank": 1, "unit": {"id": 12, "name": "仙潭村", "level": "village"}, "score": 87.456,
         "indicators": [{"key": "active", "label": "活跃志愿者", "value": 9, "score": 1.0},
                        {"key": "coverage", "label": "实践站覆盖率", "value": 0.625,
                         "score": 0.75}]},
    ],
}  # fmt: skip

WEIGHTS = {
    "unit_id": 3,
    "inherited": True,
    "source_unit": {"id": 2, "name": "安吉县中心", "level": "county"},
    "weights": RANKING["weights"],
}


def test_stats_ranking_shows_units_and_the_weights_can_be_set(browser: Any, site: str) -> None:
    routes = f"""(call, url) => {{
      const p = url.pathname;
      if (p.endsWith('/stats')) return [200, {{ ...{json.dumps(STATS)}, from: '2026-12-01', to: '2026-12-02' }}];
      if (p.endsWith('/stats/series')) return [200, {{ key: 'intake.wishes', group: null, label: '点单数', unit: '件', bucket: 'week', points: [] }}];
      if (p.endsWith('/ranking')) return [200, {json.dumps(RANKING)}];
      if (p.endsWith('/ranking-weights') && call.method === 'GET') return [200, {json.dumps(WEIGHTS)}];
      if (p.endsWith('/ranking-weights')) {{
        const body = JSON.parse(call.body);
        if (body.weights.some((w) => w.weight === 77)) return [400, {{ error: {{ code: 'RANKING_WEIGHT_OUT_OF_RANGE', message: '服务端：权重不对' }} }}];
        return [200, {{ ...{json.dumps(WEIGHTS)}, inherited: false, source_unit: {{ id: 3, name: '测试镇', level: 'township' }} }}];
      }}
      return [404, {{ error: {{ code: 'NOT_FOUND', message: '未找到' }} }}];
    }}"""  # noqa: E501
    seen = render(
        browser,
        site,
        "stats",
        routes,
        """
        const row = await until(() => root.querySelector('[data-test=ranking-row]'), 'the ranking');
        const form = await until(() => root.querySelector('[data-test=ranking-weights]'), 'the weights');
        const source = form.querySelector('[data-test=weights-source]').textContent;
        const input = (name) => form.querySelector(`[data-test=weight-input][data-indicator=${name}]`);
        const problem = form.querySelector('[data-test=weights-problem]');
        const save = form.querySelector('[data-test=weights-save]');
        const problems = [];
        input('active').value = '150'; save.click();
        problems.push(problem.hidden ? null : problem.textContent);
        input('active').value = '0'; input('coverage').value = '0'; save.click();
        problems.push(problem.hidden ? null : problem.textContent);
        input('active').value = '2.5'; save.click();
        problems.push(problem.hidden ? null : problem.textContent);
        const puts = () => calls.filter((c) => c.method === 'PUT');
        input('active').value = '77'; input('coverage').value = '10'; save.click();
        (await until(() => document.querySelector('[data-test=dialog-ok]'), 'the confirmation')).click();
        await until(() => !problem.hidden, 'the server refusal');
        problems.push(problem.textContent);
        input('active').value = '70'; input('coverage').value = '30';
        input('coverage').dispatchEvent(new Event('input'));
        const total = form.querySelector('[data-test=weights-total]').textContent;
        save.click();
        (await until(() => document.querySelector('[data-test=dialog-ok]'), 'the confirmation')).click();
        await until(() => puts().length === 2 && Array.from(document.querySelectorAll('[data-test=toast]')).some((t) => t.textContent.includes('已保存')), 'saved');
        return { row: row.textContent, source, problems, total, sent: JSON.parse(puts()[1].body),
                 key: puts()[1].headers['Idempotency-Key'] || null };
        """,  # noqa: E501
    )
    assert "87.5 分" in seen["row"] and "9 人" in seen["row"] and "62.5%" in seen["row"]
    assert "0.625" not in seen["row"]
    assert seen["source"] == "本单位未设置，沿用上级单位“安吉县中心”的设置"
    assert seen["problems"] == [
        "“活跃志愿者”的权重应为 0 到 100 之间的整数",
        "至少要有一项考核指标的权重大于 0",
        "“活跃志愿者”的权重应为 0 到 100 之间的整数",
        "服务端：权重不对",
    ]
    assert seen["total"].startswith("合计 100")
    assert seen["sent"] == {
        "weights": [{"indicator": "active", "weight": 70}, {"indicator": "coverage", "weight": 30}]
    }
    assert seen["key"]
