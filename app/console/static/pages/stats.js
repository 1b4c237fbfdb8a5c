// 统计: the unit's figures over a period, grouped by section; a chart per section over days,
// weeks, months, 四季红 seasons or years; the rows behind any figure (drill-down); and the
// workbook of it all; the unit's ledger (台账) over the same period, as Excel or PDF.

import { el, svg, clear, chart, section, field, fmtTime, busy, loading, errorState, table, localToday, toast, confirmDialog, withProgress } from '../ui.js';
import { unitPicker, levelName } from '../unit-picker.js';
import { download } from '../api.js';

const BUCKETS = [['day', '按日'], ['week', '按周'], ['month', '按月'], ['season', '按四季红季节'], ['year', '按年']];
const DRILL_NAMES = {
  wishes: '心愿', events: '心愿事件', hours: '时长记录', volunteers: '志愿者', units: '单位',
  activities: '活动', signups: '活动报名', attendances: '服务记录',
};
// Tables of measures side by side (see `families`): the first column's heading.
const FAMILY_TITLES = { 'seasons.season': '四季红季节', 'seasons.festival': '节日（我们的节日）' };
const DRILL_PAGE = 50;

// The first of this month to today, as the city's local dates (YYYY-MM-DD).
export function defaultPeriod() {
  const today = localToday();
  return { from: today.slice(0, 8) + '01', to: today };
}

export function formatValue(value, unit) {
  if (value === null || value === undefined) return '—';
  if (unit === '%') return `${(value * 100).toFixed(1)}%`;
  const shown = Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
  return unit ? `${shown} ${unit}` : shown;
}

// The ranking's indicators with their units (values as the API gives them: rates 0..1).
const INDICATOR_UNITS = {
  active: '人', new: '人', completed: '件', hours: '小时', hours_per_active: '小时', coverage: '%', balance: '',
};

export function indicatorValue(key, value) {
  return formatValue(value, INDICATOR_UNITS[key] ?? '');
}

// A ranking score 0..100, with its unit.
export function fmtScore(score) {
  return score === null || score === undefined ? '—' : `${(Math.round(score * 10) / 10).toFixed(1)} 分`;
}

// Problems with typed weights, in the coordinator's words (null: fine). values: {indicator: text}.
export function weightProblem(values, labels) {
  let positive = false;
  for (const [indicator, text] of Object.entries(values)) {
    const label = labels[indicator] || indicator;
    if (String(text).trim() === '') return `请填写“${label}”的权重（不计入可填 0）`;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > 100) return `“${label}”的权重应为 0 到 100 之间的整数`;
    if (n > 0) positive = true;
  }
  return positive ? null : '至少要有一项考核指标的权重大于 0';
}

// Figures of a section: the ungrouped ones, and each grouped key with its groups in order.
function arrange(figures) {
  const single = [];
  const grouped = new Map();
  for (const figure of figures) {
    if (figure.group === null || figure.group === undefined) single.push(figure);
    else {
      if (!grouped.has(figure.key)) grouped.set(figure.key, []);
      grouped.get(figure.key).push(figure);
    }
  }
  return { single, grouped };
}

// Grouped figures of one family (keys alike but for their last part, all with the same groups:
// `seasons.season.wishes`, `seasons.season.activities`, …) side by side: a row per group, a
// column per key, the columns headed by their labels less what they all begin with. Keys of a
// family whose groups differ (intake's breakdowns) stay lists of their own.
//   grouped: Map key → figures (as `arrange` gives); returns [{family, title, columns, rows}]
//   for the tables (columns: [{key, heading}], rows: [{group, label, cells: figure|null per
//   column}]) and the keys left as lists.
export function families(grouped) {
  const byFamily = new Map();
  for (const [key, figures] of grouped) {
    const family = key.slice(0, key.lastIndexOf('.'));
    if (!byFamily.has(family)) byFamily.set(family, []);
    byFamily.get(family).push([key, figures]);
  }
  const tables = [];
  const lists = [];
  for (const [family, members] of byFamily) {
    const groupsOf = (figures) => figures.map((f) => f.group).join('\n');
    if (members.length < 2 || members.some(([, figures]) => groupsOf(figures) !== groupsOf(members[0][1]))) {
      lists.push(...members.map(([key]) => key));
      continue;
    }
    const labels = members.map(([, figures]) => figures[0].label);
    let common = 0;
    while (labels.every((l) => l.length > common + 1 && l[common] === labels[0][common])) common += 1;
    const rows = [];
    const seen = new Map();
    members.forEach(([, figures], column) => {
      for (const figure of figures) {
        if (!seen.has(figure.group)) {
          seen.set(figure.group, rows.length);
          rows.push({ group: figure.group, label: figure.group_label || figure.group, cells: members.map(() => null) });
        }
        rows[seen.get(figure.group)].cells[column] = figure;
      }
    });
    tables.push({
      family,
      title: FAMILY_TITLES[family] || labels[0].slice(0, common) || '分组',
      columns: members.map(([key], i) => ({ key, heading: labels[i].slice(common) })),
      rows,
    });
  }
  return { tables, lists };
}

function drillHref(kind, id) {
  if (kind === 'wishes') return `#/wishes/${id}`;
  if (kind === 'volunteers') return `#/volunteers/${id}`;
  return null;
}

async function render(root, ctx) {
  const period = defaultPeriod();
  const from = el('input', { type: 'date', 'data-test': 'stats-from', value: ctx.query.get('from') || period.from, required: true });
  const to = el('input', { type: 'date', 'data-test': 'stats-to', value: ctx.query.get('to') || period.to, required: true });
  const apply = el('button', { type: 'submit', class: 'primary', 'data-test': 'stats-apply' }, '查询');
  const xlsx = el('button', { type: 'button', 'data-test': 'stats-download-xlsx' }, '下载 Excel');
  const ledgerXlsx = el('button', { type: 'button', 'data-test': 'ledger-download-xlsx' }, '下载台账（Excel）');
  const ledgerPdf = el('button', { type: 'button', 'data-test': 'ledger-download-pdf' }, '下载台账（PDF）');
  const problem = el('p', { class: 'field-error', role: 'alert', hidden: true });
  const heading = el('p', { class: 'muted' });
  const figuresBox = el('div', { class: 'stats-sections' });
  const drillBox = el('div', { class: 'stats-drill', 'data-test': 'stats-drill', hidden: true });
  const rankingBox = el('div', {});
  const weightsBox = el('div', {});
  const jumps = el('nav', { class: 'jumps', 'aria-label': '统计分区' });
  let unit = null;
  let shown = null; // {from, to} of the figures on screen
  let loads = 0; // bumps on every load: a late answer for an earlier one is dropped

  const picker = await unitPicker(ctx.api, (chosen) => {
    unit = chosen;
    load();
  });
  unit = picker.unit();

  function valid() {
    problem.hidden = true;
    if (!from.value || !to.value || from.value > to.value) {
      problem.textContent = '请填写起止日期，且开始日期不晚于结束日期';
      problem.hidden = false;
      return false;
    }
    return true;
  }

  // ------------------------------------------------------------ drill-down

  async function drill(figure, offset = 0) {
    drillBox.hidden = false;
    clear(drillBox).append(loading());
    try {
      const found = await ctx.api.get(`/org-units/${unit.id}/stats/drill`, {
        key: figure.key, group: figure.group || undefined, from: shown.from, to: shown.to, limit: DRILL_PAGE, offset,
      });
      const kind = DRILL_NAMES[found.kind] || found.kind;
      const pager = el('div', { class: 'actions' },
        offset > 0 ? el('button', { type: 'button', onClick: () => drill(figure, Math.max(0, offset - DRILL_PAGE)) }, '上一页') : null,
        offset + found.items.length < found.total ? el('button', { type: 'button', onClick: () => drill(figure, offset + DRILL_PAGE) }, '下一页') : null);
      clear(drillBox).append(section(
        `${figure.label}${figure.group_label ? ' · ' + figure.group_label : ''}：共 ${found.total} 条${kind}`,
        found.items.length
          ? el('ol', { class: 'drill-list', start: String(offset + 1) }, found.items.map((item) => {
            const href = drillHref(found.kind, item.id);
            return el('li', { 'data-test': 'stats-drill-item', 'data-id': String(item.id) },
              href ? el('a', { href }, item.label) : item.label,
              item.at ? el('span', { class: 'muted' }, ' ' + fmtTime(item.at, true)) : null);
          }))
          : el('p', { class: 'empty' }, '没有记录'),
        pager,
        el('button', { type: 'button', onClick: () => { drillBox.hidden = true; } }, '关闭')));
      drillBox.scrollIntoView({ block: 'nearest' });
    } catch (error) {
      clear(drillBox).append(errorState(error, () => drill(figure, offset)));
    }
  }

  function figureButton(figure, text) {
    return el('button', {
      type: 'button',
      class: 'figure',
      'data-test': 'stats-figure',
      'data-key': figure.key,
      'data-group': figure.group || '',
      title: '查看明细',
      onClick: () => drill(figure),
    }, text);
  }

  // ------------------------------------------------------------ a section's chart

  // The chart shows one figure (a key, or one group of a key) at a time.
  function sectionChart(part, figures) {
    if (!figures.length) return null;
    const which = el('select', { 'data-test': 'stats-series-key' }, figures.map((f, i) => el('option', { value: String(i) },
      f.group_label ? `${f.label} · ${f.group_label}` : f.label)));
    const bucket = el('select', { 'data-test': 'stats-bucket' }, BUCKETS.map(([value, label]) => el('option', { value, selected: value === 'week' }, label)));
    const picture = svg('svg', { 'data-test': 'stats-chart', 'data-section': part.key });
    const note = el('p', { class: 'muted chart-note' });
    async function draw() {
      const figure = figures[Number(which.value)];
      try {
        const series = await ctx.api.get(`/org-units/${unit.id}/stats/series`, {
          key: figure.key, group: figure.group || undefined, from: shown.from, to: shown.to, bucket: bucket.value,
        });
        chart(picture, series.points, { kind: series.unit === '%' ? 'line' : 'bar', unit: series.unit, title: series.label });
        note.textContent = series.unit ? `${series.label}（单位：${series.unit}）` : series.label;
      } catch (error) {
        note.textContent = error.message;
      }
    }
    which.addEventListener('change', draw);
    bucket.addEventListener('change', draw);
    draw();
    return el('div', { class: 'stats-chart' }, el('div', { class: 'filters' }, field('指标', which), field('时段', bucket)), picture, note);
  }

  // A family's figures side by side (the seasons: wishes, activities, places, service records
  // and hours of each season), every cell drilling down like any figure.
  function familyTable(found) {
    return el('div', { class: 'table-wrap stats-matrix', 'data-test': 'stats-matrix', 'data-family': found.family },
      el('table', { class: 'data' },
        el('thead', {}, el('tr', {},
          el('th', { scope: 'col' }, found.title),
          found.columns.map((c) => el('th', { scope: 'col', class: 'num' }, c.heading)))),
        el('tbody', {}, found.rows.map((row) => el('tr', {},
          el('th', { scope: 'row' }, row.label),
          row.cells.map((figure, i) => el('td', { class: 'num', 'data-label': found.columns[i].heading },
            figure ? figureButton(figure, el('span', { class: 'figure-value' }, formatValue(figure.value, figure.unit))) : '—')))))));
  }

  function sectionPanel(part) {
    const { single, grouped } = arrange(part.figures);
    const cards = el('div', { class: 'figures' }, single.map((figure) => figureButton(figure, [
      el('span', { class: 'figure-label' }, figure.label),
      el('strong', { class: 'figure-value' }, formatValue(figure.value, figure.unit)),
    ])));
    const { tables, lists } = families(grouped);
    const groups = lists.map((key) => grouped.get(key)).map((rows) => el('div', { class: 'figure-groups' },
      el('h3', {}, rows[0].label),
      el('ul', {}, rows.map((figure) => el('li', {}, figureButton(figure, [
        el('span', { class: 'figure-label' }, figure.group_label || figure.group),
        el('strong', { class: 'figure-value' }, formatValue(figure.value, figure.unit)),
      ]))))));
    return el('section', { class: 'panel stats-section', 'data-test': 'stats-section', 'data-section': part.key },
      el('h2', {}, part.label), cards, tables.map(familyTable), groups, sectionChart(part, single.length ? single : part.figures));
  }

  // ------------------------------------------------------------ the children's ranking

  async function ranking(ticket) {
    try {
      const found = await ctx.api.get(`/org-units/${unit.id}/ranking`, { from: shown.from, to: shown.to });
      if (ticket !== loads) return;
      if (!found.rows.length) {
        rankingBox.append(section('下级单位排名', el('p', { class: 'empty' }, '本单位没有下级单位，无需排名。')));
        return;
      }
      const weights = found.weights.filter((w) => w.weight > 0).map((w) => `${w.label} ${w.weight}`).join('，');
      const indicators = found.rows[0].indicators.map((i) => ({ key: i.key, label: i.label }));
      rankingBox.append(section('下级单位排名',
        el('p', { class: 'muted' }, `按各项指标在下级单位间的相对水平加权计分，满分 100 分。权重：${weights}（可在下方“考核权重”中修改）`),
        table([
          { title: '名次', cell: (r) => String(r.rank), class: 'num' },
          { title: '单位', cell: (r) => r.unit.name },
          { title: '得分', cell: (r) => fmtScore(r.score), class: 'num' },
          ...indicators.map((ind) => ({
            title: ind.label,
            class: 'num',
            cell: (r) => {
              const found = r.indicators.find((i) => i.key === ind.key);
              return found ? indicatorValue(found.key, found.value) : '—';
            },
          })),
        ], found.rows, { rowAttrs: (r) => ({ 'data-test': 'ranking-row', 'data-unit-id': String(r.unit.id) }) })));
    } catch (error) {
      // A station has no children to rank; any other failure is shown in place.
      if (ticket === loads && error.status !== 404) rankingBox.append(errorState(error, () => ranking(ticket)));
    }
  }

  // ------------------------------------------------------------ 考核权重

  // The weights the ranking of the unit's children uses: where they come from (this unit, an
  // ancestor, or the defaults) and a form to set this unit's own.
  async function weightsEditor(ticket) {
    let current;
    try {
      current = await ctx.api.get(`/org-units/${unit.id}/ranking-weights`);
    } catch (error) {
      if (ticket === loads && error.status !== 404) weightsBox.append(errorState(error, () => weightsEditor(ticket)));
      return;
    }
    if (ticket !== loads) return;
    const labels = Object.fromEntries(current.weights.map((w) => [w.indicator, w.label]));
    const source = !current.inherited
      ? `本单位（${unit.name}）已自行设置`
      : current.source_unit
        ? `本单位未设置，沿用上级单位“${current.source_unit.name}”的设置`
        : '本单位及上级单位均未设置，使用系统默认权重';
    const inputs = current.weights.map((w) => el('input', {
      type: 'number', min: 0, max: 100, step: 1, inputmode: 'numeric', value: String(w.weight),
      'data-test': 'weight-input', 'data-indicator': w.indicator, 'aria-label': `${w.label}权重`,
    }));
    const total = el('span', { class: 'muted', 'data-test': 'weights-total' });
    const problem = el('p', { class: 'field-error', role: 'alert', 'data-test': 'weights-problem', hidden: true });
    const save = el('button', { type: 'submit', class: 'primary', 'data-test': 'weights-save' }, '保存权重');
    const values = () => Object.fromEntries(inputs.map((i) => [i.dataset.indicator, i.value]));
    const update = () => {
      const sum = inputs.reduce((acc, i) => acc + (Number(i.value) || 0), 0);
      total.textContent = `合计 ${sum}（各项按占合计的比例计分，合计不必等于 100）`;
    };
    inputs.forEach((i) => i.addEventListener('input', update));
    update();
    // Only a unit that set its own weights has anything to give back to the unit above.
    const reset = current.inherited ? null : el('button', { type: 'button', 'data-test': 'weights-reset' }, '恢复上级设置');
    if (reset) {
      reset.addEventListener('click', async () => {
        const ok = await confirmDialog('恢复上级设置', `删除“${unit.name}”自行设置的权重，改为沿用上级单位的设置（上级均未设置时用系统默认）；未自行设置权重的下级单位随之改变。`, { ok: '恢复' });
        if (!ok) return;
        await busy(reset, async () => {
          const after = await ctx.api.delete(`/org-units/${unit.id}/ranking-weights`);
          toast(after.source_unit ? `已恢复为上级单位“${after.source_unit.name}”的设置` : '已恢复为系统默认权重', 'success');
          load();
        });
      });
    }
    const form = el('form', { class: 'weights', 'data-test': 'ranking-weights', novalidate: true, onSubmit: async (event) => {
      event.preventDefault();
      problem.hidden = true;
      const wrong = weightProblem(values(), labels);
      if (wrong) {
        problem.textContent = wrong;
        problem.hidden = false;
        return;
      }
      const ok = await confirmDialog('保存考核权重', `保存后，“${unit.name}”下级单位的排名按新权重计算；未自行设置权重的下级单位也沿用这组权重。`, { ok: '保存' });
      if (!ok) return;
      await busy(save, async () => {
        try {
          await ctx.api.put(`/org-units/${unit.id}/ranking-weights`, {
            weights: inputs.map((i) => ({ indicator: i.dataset.indicator, weight: Number(i.value) })),
          });
        } catch (error) {
          problem.textContent = error.message;
          problem.hidden = false;
          throw error;
        }
        toast('考核权重已保存，排名已按新权重重新计算', 'success');
        load();
      });
    } },
    el('p', { class: 'muted', 'data-test': 'weights-source', 'data-inherited': current.inherited ? 'true' : 'false' }, source),
    el('p', { class: 'muted' }, '每项填 0 到 100 的整数，填 0 即不计入。'),
    el('div', { class: 'weights-grid' }, current.weights.map((w, i) => field(w.label, inputs[i]))),
    total, problem,
    el('div', { class: 'actions start' }, save, reset));
    weightsBox.append(section(null, el('details', { 'data-test': 'weights-panel' },
      el('summary', {}, '考核权重（下级单位排名所用）'), form)));
  }

  // ------------------------------------------------------------ loading

  async function load() {
    if (!unit) {
      clear(figuresBox).append(el('p', { class: 'empty' }, '没有可统计的单位'));
      return;
    }
    if (!valid()) return;
    const ticket = ++loads;
    // The period goes in the address, so the back button (from a drill-down's wish) returns to it.
    if (ctx.current() && location.hash.startsWith('#/stats')) {
      history.replaceState(null, '', `#/stats?from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`);
    }
    drillBox.hidden = true;
    clear(rankingBox);
    clear(weightsBox);
    clear(figuresBox).append(loading());
    try {
      const stats = await ctx.api.get(`/org-units/${unit.id}/stats`, { from: from.value, to: to.value });
      if (ticket !== loads) return;
      shown = { from: stats.from, to: stats.to };
      heading.textContent = `${stats.unit.name} · ${levelName(stats.unit.level)} · ${stats.from} 至 ${stats.to}`;
      const panels = stats.sections.map(sectionPanel);
      const jump = (target) => () => target.scrollIntoView({ block: 'start', behavior: 'smooth' });
      clear(jumps).append(...(panels.length > 1 || stats.unit.level !== 'village'
        ? [el('span', { class: 'muted' }, '跳到：'),
          ...stats.sections.map((part, i) => el('button', { type: 'button', class: 'link', 'data-test': 'stats-jump', onClick: jump(panels[i]) }, part.label)),
          stats.unit.level !== 'village' ? el('button', { type: 'button', class: 'link', 'data-test': 'stats-jump', onClick: jump(rankingBox) }, '下级单位排名') : null]
        : []));
      clear(figuresBox).append(...(panels.length
        ? panels
        : [el('p', { class: 'empty' }, '这段时间暂无统计指标，可换一个起止日期再查询。')]));
      if (stats.unit.level !== 'village') {
        ranking(ticket);
        weightsEditor(ticket);
      }
    } catch (error) {
      if (ticket !== loads) return;
      clear(figuresBox).append(errorState(error, load));
    }
  }

  xlsx.addEventListener('click', () => {
    if (!unit || !valid()) return;
    withProgress(xlsx, () => download(`/org-units/${unit.id}/stats/export`,
      { from: from.value, to: to.value, format: 'xlsx' },
      `统计-${unit.name}-${from.value}至${to.value}.xlsx`), { label: '正在生成统计表' });
  });
  // The ledger (台账) of the services carried out in the unit over the same period.
  for (const [button, format] of [[ledgerXlsx, 'xlsx'], [ledgerPdf, 'pdf']]) {
    button.addEventListener('click', () => {
      if (!unit || !valid()) return;
      withProgress(button, () => download(`/org-units/${unit.id}/ledger`,
        { from: from.value, to: to.value, format },
        `台账-${unit.name}-${from.value}至${to.value}.${format}`), { label: '正在生成台账' });
    });
  }

  const form = el('form', { class: 'filters', onSubmit: (event) => {
    event.preventDefault();
    load();
  } }, picker.node, field('开始日期', from), field('结束日期', to), apply, xlsx, ledgerXlsx, ledgerPdf);
  root.append(el('div', { class: 'page-head' }, el('h1', {}, '统计')), form, problem, heading, jumps, drillBox, figuresBox, rankingBox, weightsBox);
  await load();
}

export default { route: '#/stats', title: '统计', nav: 'nav-stats', render };
