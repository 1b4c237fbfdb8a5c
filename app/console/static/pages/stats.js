// 统计: the unit's figures over a period, grouped by section; a chart per section over days,
// weeks, months, 四季红 seasons or years; the rows behind any figure (drill-down); and the
// workbook of it all.

import { el, svg, clear, chart, section, field, fmtTime, busy, loading, errorState, table } from '../ui.js';
import { unitPicker, levelName } from '../unit-picker.js';
import { download } from '../api.js';

const BUCKETS = [['day', '按日'], ['week', '按周'], ['month', '按月'], ['season', '按四季红季节'], ['year', '按年']];
const DRILL_NAMES = { wishes: '心愿', events: '心愿事件', hours: '时长记录', volunteers: '志愿者', units: '单位' };
const DRILL_PAGE = 50;

// Today and the first of this month, as the city's local dates (YYYY-MM-DD).
function localToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

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
  const xlsx = el('a', { href: '#', class: 'button', 'data-test': 'stats-download-xlsx', role: 'button' }, '下载 Excel');
  const problem = el('p', { class: 'field-error', role: 'alert', hidden: true });
  const heading = el('p', { class: 'muted' });
  const figuresBox = el('div', { class: 'stats-sections' });
  const drillBox = el('div', { class: 'stats-drill', 'data-test': 'stats-drill', hidden: true });
  const rankingBox = el('div', {});
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
        note.textContent = `${series.label}（${series.unit}）`;
      } catch (error) {
        note.textContent = error.message;
      }
    }
    which.addEventListener('change', draw);
    bucket.addEventListener('change', draw);
    draw();
    return el('div', { class: 'stats-chart' }, el('div', { class: 'filters' }, field('指标', which), field('时段', bucket)), picture, note);
  }

  function sectionPanel(part) {
    const { single, grouped } = arrange(part.figures);
    const cards = el('div', { class: 'figures' }, single.map((figure) => figureButton(figure, [
      el('span', { class: 'figure-label' }, figure.label),
      el('strong', { class: 'figure-value' }, formatValue(figure.value, figure.unit)),
    ])));
    const groups = Array.from(grouped.values()).map((rows) => el('div', { class: 'figure-groups' },
      el('h3', {}, rows[0].label),
      el('ul', {}, rows.map((figure) => el('li', {}, figureButton(figure, [
        el('span', { class: 'figure-label' }, figure.group_label || figure.group),
        el('strong', { class: 'figure-value' }, formatValue(figure.value, figure.unit)),
      ]))))));
    return el('section', { class: 'panel stats-section', 'data-test': 'stats-section', 'data-section': part.key },
      el('h2', {}, part.label), cards, groups, sectionChart(part, single.length ? single : part.figures));
  }

  // ------------------------------------------------------------ the children's ranking

  async function ranking(ticket) {
    try {
      const found = await ctx.api.get(`/org-units/${unit.id}/ranking`, { from: shown.from, to: shown.to });
      if (ticket !== loads || !found.rows.length) return;
      const weights = found.weights.map((w) => `${w.label} ${w.weight}`).join('，');
      const indicators = found.rows[0].indicators.map((i) => ({ key: i.key, label: i.label }));
      rankingBox.append(section('下级单位排名',
        el('p', { class: 'muted' }, `权重：${weights}`),
        table([
          { title: '名次', cell: (r) => String(r.rank), class: 'num' },
          { title: '单位', cell: (r) => r.unit.name },
          { title: '得分', cell: (r) => formatValue(r.score, ''), class: 'num' },
          ...indicators.map((ind) => ({
            title: ind.label,
            class: 'num',
            cell: (r) => {
              const found = r.indicators.find((i) => i.key === ind.key);
              return found ? formatValue(found.value, '') : '—';
            },
          })),
        ], found.rows, { rowAttrs: (r) => ({ 'data-test': 'ranking-row', 'data-unit-id': String(r.unit.id) }) })));
    } catch (error) {
      // A station has no children to rank; any other failure is shown in place.
      if (ticket === loads && error.status !== 404) rankingBox.append(errorState(error, () => ranking(ticket)));
    }
  }

  // ------------------------------------------------------------ loading

  async function load() {
    if (!unit) {
      clear(figuresBox).append(el('p', { class: 'empty' }, '没有可统计的单位'));
      return;
    }
    if (!valid()) return;
    const ticket = ++loads;
    drillBox.hidden = true;
    clear(rankingBox);
    clear(figuresBox).append(loading());
    try {
      const stats = await ctx.api.get(`/org-units/${unit.id}/stats`, { from: from.value, to: to.value });
      if (ticket !== loads) return;
      shown = { from: stats.from, to: stats.to };
      heading.textContent = `${stats.unit.name} · ${levelName(stats.unit.level)} · ${stats.from} 至 ${stats.to}`;
      clear(figuresBox).append(...(stats.sections.length
        ? stats.sections.map(sectionPanel)
        : [el('p', { class: 'empty' }, '暂无统计指标')]));
      if (stats.unit.level !== 'village') ranking(ticket);
    } catch (error) {
      if (ticket !== loads) return;
      clear(figuresBox).append(errorState(error, load));
    }
  }

  xlsx.addEventListener('click', (event) => {
    event.preventDefault();
    if (!unit || !valid()) return;
    busy(xlsx, () => download(`/org-units/${unit.id}/stats/export`,
      { from: from.value, to: to.value, format: 'xlsx' },
      `统计-${unit.name}-${from.value}至${to.value}.xlsx`));
  });

  const form = el('form', { class: 'filters', onSubmit: (event) => {
    event.preventDefault();
    load();
  } }, picker.node, field('开始日期', from), field('结束日期', to), apply, xlsx);
  root.append(el('div', { class: 'page-head' }, el('h1', {}, '统计')), form, problem, heading, drillBox, figuresBox, rankingBox);
  await load();
}

export default { route: '#/stats', title: '统计', nav: 'nav-stats', render };
