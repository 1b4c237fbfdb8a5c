// 心愿: the wishes of the coordinator's units, filtered by status, each with the ladder's
// countdown to its next automatic step; '#/wishes/12' is one wish with its facts, its next
// automatic step, what may be done now and its timeline.

import { el, clear, field, section, table, statusBadge, grabTag, fmtTime, fmtWindow, pagedList, URGENCY_NAMES, STATUS_NAMES } from '../ui.js';
import { actionButtons, allEvents, countdown, follow, timeline, wishFacts } from '../wish.js';
import { catalogue, plainNames } from '../catalogue.js';

const STATUSES = ['submitted', 'approved', 'dispatching', 'accepted', 'in_service', 'completed', 'rated', 'closed', 'rejected', 'cancelled'];

async function list(root, ctx) {
  const status = ctx.query.get('status') || '';
  const needsDispatch = ctx.query.get('needs_dispatch') === '1';
  const select = el('select', { 'data-test': 'wishes-filter-status', onChange: () => go() },
    el('option', { value: '' }, '全部状态'),
    STATUSES.map((s) => el('option', { value: s, selected: s === status }, STATUS_NAMES[s])));
  const needs = el('input', { type: 'checkbox', 'data-test': 'wishes-filter-needs-dispatch', checked: needsDispatch, onChange: () => go() });
  const go = () => {
    const q = new URLSearchParams();
    if (select.value) q.set('status', select.value);
    if (needs.checked) q.set('needs_dispatch', '1');
    const text = q.toString();
    ctx.navigate('#/wishes' + (text ? '?' + text : ''));
  };

  const body = el('div', {});
  const names = await catalogue(ctx.api).catch(() => plainNames);
  let clocks = [];
  const stopClocks = () => {
    clocks.forEach((clock) => clock.stop());
    clocks = [];
  };
  // The ladder's countdown of each row, as on the wish's own page (wish.js).
  const stepCell = (w) => {
    const clock = countdown(w.next_step, { compact: true });
    clocks.push(clock);
    return clock.node;
  };
  const draw = (rows) => {
    stopClocks();
    clear(body).append(table([
      { title: '心愿', cell: (w) => el('a', { href: `#/wishes/${w.id}` }, w.title) },
      { title: '状态', cell: (w) => [statusBadge(w.status, w.status_label), grabTag(w),
        w.urgency !== 'normal' ? el('span', { class: 'tag phone-only' }, URGENCY_NAMES[w.urgency] || w.urgency) : null] },
      { title: '类别', cell: (w) => names.category(w.category_code) },
      { title: '地点', cell: (w) => w.coarse_address },
      { title: '期望时间', cell: (w) => fmtWindow(w.wanted_start_at, w.wanted_end_at) },
      { title: '自动步骤', cell: stepCell },
      { title: '紧急', class: 'wide-only', cell: (w) => URGENCY_NAMES[w.urgency] || w.urgency },
      { title: '提交', class: 'wide-only', cell: (w) => fmtTime(w.created_at, true) },
    ], rows, { empty: '没有符合条件的心愿', hint: status || needsDispatch ? '可改选“全部状态”，或取消勾选“只看待派单的”。' : '辖区内还没有群众提交心愿。', rowAttrs: (w) => ({ 'data-test': 'wish-row', 'data-wish-id': w.id }) }));
  };
  const wishes = pagedList({
    draw,
    fetch: (cursor) => ctx.api.get('/wishes', {
      status: status || undefined, needs_dispatch: needsDispatch ? 'true' : undefined, limit: 50, cursor,
    }),
  });
  await wishes.reload();
  root.append(
    el('h1', {}, '心愿'),
    el('div', { class: 'filters' },
      field('状态', select),
      el('label', { class: 'field inline' }, needs, ' 只看待派单的')),
    body, wishes.more);
  return stopClocks;
}

// The list the coordinator came from, with its filters; the whole list otherwise.
export function backTo(ctx) {
  const previous = ctx.previous || '';
  return /^#\/wishes(\?.*)?$/.test(previous) ? previous : '#/wishes';
}

async function detail(root, ctx, id) {
  const [wish, events, names] = await Promise.all([
    ctx.api.get(`/wishes/${id}`), allEvents(ctx.api, id), catalogue(ctx.api).catch(() => plainNames),
  ]);
  const clock = countdown(wish.next_step, { onDue: () => setTimeout(() => ctx.current() && ctx.reload(), 15000) });
  const changed = () => ctx.reload();
  const dispatchable = ['approved', 'dispatching'].includes(wish.status);
  root.append(
    el('div', { class: 'page-head' },
      el('h1', {}, wish.title),
      el('a', { href: backTo(ctx), 'data-test': 'back-to-list', onClick: (event) => {
        // Came from the list: go back to it (its filters and the browser's history as they were).
        if (backTo(ctx) === ctx.previous) {
          event.preventDefault();
          history.back();
        }
      } }, '← 返回心愿列表')),
    el('div', { class: 'grid-2 wide-left' },
      el('div', {},
        section('心愿', clock.node, wishFacts(wish, names),
          el('div', { class: 'actions start' },
            dispatchable ? el('a', { class: 'button primary', href: `#/dispatch/${wish.id}`, 'data-test': 'go-dispatch' }, '派单') : null,
            actionButtons(wish, ctx, changed)))),
      section('流转记录', timeline(events))));
  const following = follow(ctx, wish);
  return () => {
    clock.stop();
    following();
  };
}

async function render(root, ctx) {
  const id = ctx.params[0];
  if (id && /^\d+$/.test(id)) return detail(root, ctx, id);
  return list(root, ctx);
}

export default { route: '#/wishes', title: '心愿', nav: 'nav-wishes', render };
