// 派单: '#/dispatch' lists the wishes waiting for dispatch; '#/dispatch/12' dispatches one:
// the ranked candidates with the six factors of their score, offers to the chosen ones, open
// for grab, the ladder's countdown, and taking an accepted wish back.
// An offer is an invitation: only the volunteer's accept makes the wish their task.

import { el, clear, field, section, table, statusBadge, grabTag, meter, fmtTime, fmtWindow, fmtDistance, fmtPercent, busy, toast, URGENCY_NAMES } from '../ui.js';
import { actionButtons, countdown, follow } from '../wish.js';

export const FACTORS = {
  distance: { label: '距离', hint: '离心愿越近越高（按大致位置计算）' },
  skill: { label: '技能', hint: '具备该类心愿相关技能的比例' },
  theme: { label: '主题', hint: '志愿者偏好该类别、契合当季“四季红”主题' },
  availability: { label: '时间', hint: '志愿者常规可服务时间覆盖期望时段的比例' },
  fairness: { label: '均衡', hint: '手头任务少、近 30 天接单少的优先，派单更均衡' },
  reliability: { label: '可靠', hint: '守约记录与群众评价' },
};

// The factors as labelled meters, in the API's order of FACTORS.
export function factorGrid(factors) {
  return el('div', { class: 'factors', 'data-test': 'factors' },
    Object.entries(FACTORS).map(([name, about]) => {
      const f = factors[name];
      if (!f) return null;
      return [
        el('span', { title: about.hint }, about.label),
        meter(f.value, about.label),
        el('span', { class: 'figure', title: `权重 ${f.weight}，贡献 ${f.contribution}` }, fmtPercent(f.value)),
      ];
    }));
}

// Why this volunteer, in words: the factors that lifted the score most.
export function reasonsOf(candidate) {
  const ranked = Object.entries(candidate.factors)
    .filter(([name]) => FACTORS[name])
    .sort((a, b) => b[1].contribution - a[1].contribution);
  const words = ranked.slice(0, 3).filter(([, f]) => f.value >= 0.5).map(([name, f]) => {
    if (name === 'distance') return `距离近（${fmtDistance(candidate.distance_m)}）`;
    return `${FACTORS[name].label}${f.value >= 0.8 ? '很好' : '较好'}`;
  });
  const weak = ranked.filter(([, f]) => f.value < 0.3).map(([name]) => FACTORS[name].label);
  return el('ul', { class: 'reasons' },
    words.length ? el('li', {}, words.join('，')) : el('li', {}, '各项得分一般'),
    weak.length ? el('li', {}, `偏弱：${weak.join('、')}`) : null);
}

async function waiting(root, ctx) {
  const [needs, dispatching] = await Promise.all([
    ctx.api.get('/wishes', { needs_dispatch: 'true', limit: 50 }),
    ctx.api.get('/wishes', { status: 'dispatching', limit: 50 }),
  ]);
  const columns = [
    { title: '心愿', cell: (w) => el('a', { href: `#/dispatch/${w.id}`, 'data-test': 'dispatch-wish', 'data-wish-id': w.id }, w.title) },
    { title: '状态', cell: (w) => [statusBadge(w.status, w.status_label), grabTag(w)] },
    { title: '地点', cell: (w) => w.coarse_address },
    { title: '期望时间', cell: (w) => fmtWindow(w.wanted_start_at, w.wanted_end_at) },
    { title: '紧急', cell: (w) => URGENCY_NAMES[w.urgency] || w.urgency },
  ];
  const waitingIds = new Set(needs.items.map((w) => w.id));
  root.append(
    el('div', { class: 'page-head' }, el('h1', {}, '派单'), el('a', { href: '#/batch' }, '批量派单 →')),
    section('待派单', table(columns, needs.items, { empty: '没有待派单的心愿', hint: '审核通过的心愿会出现在这里；新心愿先到“审核”页处理。' })),
    section('派单中（等待志愿者答复或抢单）', table(columns, dispatching.items.filter((w) => !waitingIds.has(w.id)), { empty: '没有派单中的心愿', hint: '发出派单邀请或开放抢单后，心愿会在这里等待志愿者接单。' })));
}

function offersTable(offers, names) {
  return table([
    { title: '志愿者', cell: (o) => names.get(o.volunteer_id) || `志愿者 ${o.volunteer_id}` },
    { title: '状态', cell: (o) => statusBadge(o.status) },
    { title: '发出', cell: (o) => fmtTime(o.created_at, true) },
    { title: '失效', cell: (o) => fmtTime(o.expires_at, true) },
    { title: '答复', cell: (o) => (o.responded_at ? fmtTime(o.responded_at, true) : '—') },
    { title: '理由', cell: (o) => o.response_reason || '' },
  ], offers, { empty: '还没有发出派单邀请', hint: '在上方勾选推荐的志愿者，再点“发出派单邀请”。', rowAttrs: (o) => ({ 'data-test': 'offer-row', 'data-volunteer-id': o.volunteer_id }) });
}

async function one(root, ctx, id) {
  const wish = await ctx.api.get(`/wishes/${id}`);
  const rankable = ['approved', 'dispatching'].includes(wish.status);
  const [ranking, offers] = await Promise.all([
    rankable
      ? ctx.api.get(`/wishes/${id}/candidates`, { limit: 30, include_ineligible: 'true' })
      : Promise.resolve(null),
    ctx.api.get(`/wishes/${id}/offers`),
  ]);
  const clock = countdown(wish.next_step, { onDue: () => setTimeout(() => ctx.current() && ctx.reload(), 15000) });
  const changed = () => ctx.reload();
  const names = new Map();
  for (const c of (ranking && ranking.candidates) || []) names.set(c.volunteer_id, c.name);
  for (const c of (ranking && ranking.ineligible) || []) names.set(c.volunteer_id, c.name);
  // Those with an offer still waiting for an answer are not invited again.
  const invited = new Set(offers.filter((o) => o.status === 'pending').map((o) => o.volunteer_id));

  const head = section(null,
    el('div', { class: 'card-head' },
      el('h1', {}, wish.title),
      statusBadge(wish.status, wish.status_label)),
    el('p', { class: 'muted' }, `${wish.station.name} · ${wish.coarse_address} · ${fmtWindow(wish.wanted_start_at, wish.wanted_end_at)} · ${URGENCY_NAMES[wish.urgency] || wish.urgency}`,
      grabTag(wish, '已开放抢单')),
    wish.description ? el('p', {}, wish.description) : null,
    wish.assignee ? el('p', {}, `接单志愿者：${wish.assignee.name}`) : null,
    clock.node,
    el('div', { class: 'actions start' },
      actionButtons(wish, ctx, changed, { only: ['open_grab', 'release', 'remind', 'escalate'] }),
      el('a', { class: 'button', href: `#/wishes/${wish.id}` }, '详情与流转记录')));

  const parts = [head];
  if (ranking) {
    const chosen = new Set();
    const canOffer = (wish.allowed_events || []).includes('offer');
    const count = el('span', { class: 'muted' }, '未选择');
    const send = el('button', { type: 'button', class: 'primary', 'data-test': 'send-offer', disabled: true }, '发出派单邀请');
    const minutes = el('input', { type: 'number', min: 5, max: 10080, step: 5, placeholder: '默认', 'data-test': 'offer-minutes' });
    const note = el('input', { type: 'text', maxlength: 200, placeholder: '给志愿者的留言（可不填）', 'data-test': 'offer-note' });
    const update = () => {
      count.textContent = chosen.size ? `已选 ${chosen.size} 人` : '未选择';
      send.disabled = !canOffer || chosen.size === 0 || chosen.size > 20;
    };
    send.addEventListener('click', () => busy(send, async () => {
      const body = { volunteer_ids: Array.from(chosen), note: note.value.trim() };
      if (minutes.value) body.expires_in_minutes = Number(minutes.value);
      await ctx.api.post(`/wishes/${wish.id}/offer`, body);
      toast(`已向 ${chosen.size} 位志愿者发出派单邀请，须志愿者接单才生效`, 'success');
      changed();
    }));
    const candidates = table([
      { title: '选择', cell: (c) => (invited.has(c.volunteer_id)
        ? el('span', { class: 'badge status-pending', 'data-test': 'candidate-invited' }, '已邀请')
        : el('input', { type: 'checkbox', 'data-test': 'candidate-select', 'aria-label': `选择 ${c.name}`, disabled: !canOffer, onChange: (event) => {
          if (event.currentTarget.checked) chosen.add(c.volunteer_id);
          else chosen.delete(c.volunteer_id);
          update();
        } })) },
      { title: '志愿者', cell: (c) => [el('strong', {}, c.name), reasonsOf(c)] },
      { title: '匹配度', class: 'num', cell: (c) => el('span', { class: 'score', title: '六项评分按权重合计' }, fmtPercent(c.score)) },
      { title: '距离', class: 'num', cell: (c) => fmtDistance(c.distance_m) },
      { title: '六项评分', cell: (c) => factorGrid(c.factors) },
    ], ranking.candidates, {
      empty: '附近没有符合条件的志愿者：可扩大范围、开放抢单或上报上级',
      rowAttrs: (c) => ({ 'data-test': 'candidate-row', 'data-volunteer-id': c.volunteer_id }),
    });
    parts.push(section(`推荐志愿者（符合条件 ${ranking.eligible_count} 人，共查看 ${ranking.considered} 人）`,
      canOffer ? null : el('p', { class: 'notice warn' }, '该心愿当前不能发出定向派单邀请。'),
      candidates,
      el('div', { class: 'filters' }, field('邀请有效（分钟）', minutes), field('留言', note)),
      el('div', { class: 'actions' }, count, send)));
    if (ranking.ineligible && ranking.ineligible.length) {
      parts.push(section(null, el('details', {},
        el('summary', {}, `不符合条件的志愿者（${ranking.ineligible.length} 人）`),
        table([
          { title: '志愿者', cell: (i) => i.name },
          { title: '距离', class: 'num', cell: (i) => fmtDistance(i.distance_m) },
          { title: '原因', cell: (i) => i.reasons.map((r) => r.message).join('；') },
        ], ranking.ineligible, { rowAttrs: (i) => ({ 'data-test': 'ineligible-row', 'data-volunteer-id': i.volunteer_id }) }))));
    }
  }
  parts.push(section('派单记录', offersTable(offers, names)));
  root.append(...parts);
  const following = follow(ctx, wish);
  return () => {
    clock.stop();
    following();
  };
}

async function render(root, ctx) {
  const id = ctx.params[0];
  if (id && /^\d+$/.test(id)) return one(root, ctx, id);
  clear(root);
  return waiting(root, ctx);
}

export default { route: '#/dispatch', title: '派单', nav: 'nav-dispatch', render };
