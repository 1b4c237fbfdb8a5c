// 批量派单: compute one plan for every wish of a unit waiting for dispatch (nothing is sent),
// review it (untick a line to leave that wish out), then send the offers. Each line succeeds or
// fails on its own; offers are invitations, only the volunteers' accepts make tasks. A large
// plan is sent in the background: the page shows its progress, asking every second, then the
// result.

import { el, clear, field, section, table, fmtDistance, fmtPercent, busy, toast, statusBadge, confirmDialog, errorState } from '../ui.js';
import { unitOptions, unitSelect } from '../units.js';
import { factorGrid } from './dispatch.js';

function counts(plan) {
  const c = plan.counts;
  return el('dl', { class: 'facts compact', 'data-test': 'plan-counts' },
    el('dt', {}, '待派单心愿'), el('dd', {}, String(c.wishes)),
    el('dt', {}, '已安排'), el('dd', {}, String(c.assigned)),
    el('dt', {}, '未能安排'), el('dd', {}, String(c.unassigned)),
    el('dt', {}, '参与志愿者'), el('dd', {}, String(c.volunteers)),
    el('dt', {}, '平均匹配度'), el('dd', {}, c.assigned ? fmtPercent(plan.total_score / c.assigned) : '—'));
}

function results(outcome, titles) {
  return section(`发出结果：成功 ${outcome.sent} 条，失败 ${outcome.failed} 条`,
    table([
      { title: '心愿', cell: (i) => el('a', { href: `#/dispatch/${i.wish_id}` }, titles.get(i.wish_id) || `心愿 ${i.wish_id}`) },
      { title: '结果', cell: (i) => (i.ok ? el('span', { class: 'badge status-accepted' }, '已发出') : el('span', { class: 'badge status-rejected' }, '失败')) },
      { title: '心愿状态', cell: (i) => (i.status ? statusBadge(i.status) : '—') },
      { title: '说明', cell: (i) => (i.error ? i.error.message : '') },
    ], outcome.items, { rowAttrs: (i) => ({ 'data-test': 'apply-row', 'data-wish-id': i.wish_id, 'data-ok': i.ok ? 'true' : 'false' }) }));
}

const POLL_MS = 1000;

function progress(job) {
  return section('正在发出派单邀请',
    el('p', { 'data-test': 'batch-progress-text' }, `已处理 ${job.done} / ${job.total} 条（已发出 ${job.sent} 条，失败 ${job.failed} 条）`),
    el('progress', { max: String(Math.max(1, job.total || 0)), value: String(job.done || 0), 'data-test': 'batch-progress' }),
    el('p', { class: 'muted' }, '方案较大，正在后台逐批发出；可以离开本页，邀请会继续发出。'));
}

function finished(outcome, titles, out) {
  toast(`已发出 ${outcome.sent} 条派单邀请${outcome.failed ? `，${outcome.failed} 条失败` : ''}`, outcome.failed ? 'error' : 'success');
  clear(out).append(results(outcome, titles));
}

// Follows a plan sent in the background until it is done; leaving the page or computing a new
// plan (both bump `watch.run`) stops it.
async function follow(job, titles, ctx, out, watch) {
  const mine = ++watch.run;
  // The address names the plan being sent, so coming back to it (or a reload) follows it again.
  if (ctx.current() && location.hash.startsWith('#/batch')) history.replaceState(null, '', `#/batch?apply=${encodeURIComponent(job.id)}`);
  const current = () => !watch.left && watch.run === mine;
  while (current() && job.status !== 'done') {
    clear(out).append(progress(job));
    await new Promise((resolve) => {
      watch.wake = resolve;
      watch.timer = setTimeout(resolve, POLL_MS);
    });
    if (!current()) return;
    job = await ctx.api.get(`/dispatch-plan/applies/${encodeURIComponent(job.id)}`);
  }
  if (current()) finished(job, titles, out);
}

function stopFollowing(watch) {
  watch.run += 1;
  if (watch.timer) clearTimeout(watch.timer);
  if (watch.wake) watch.wake();
}

function review(plan, unitId, ctx, out, watch) {
  const keep = new Set(plan.items.map((i) => i.wish_id));
  const titles = new Map([...plan.items, ...plan.unassigned].map((i) => [i.wish_id, i.title]));
  const apply = el('button', { type: 'button', class: 'primary', 'data-test': 'plan-apply', disabled: !keep.size }, `发出 ${keep.size} 条派单邀请`);
  const minutes = el('input', { type: 'number', min: 5, max: 10080, step: 5, placeholder: '默认', 'data-test': 'plan-minutes' });
  const note = el('input', { type: 'text', maxlength: 200, placeholder: '给志愿者的留言（可不填）', 'data-test': 'plan-note' });
  const update = () => {
    apply.textContent = `发出 ${keep.size} 条派单邀请`;
    apply.disabled = keep.size === 0;
  };
  apply.addEventListener('click', async () => {
    if (!(await confirmDialog('发出派单邀请', `向 ${keep.size} 位志愿者各发出一条派单邀请；邀请须志愿者接单才生效。`, { ok: '发出' }))) return;
    await busy(apply, async () => {
    const body = {
      assignments: plan.items.filter((i) => keep.has(i.wish_id)).map((i) => ({ wish_id: i.wish_id, volunteer_id: i.volunteer_id })),
      note: note.value.trim(),
    };
    if (minutes.value) body.expires_in_minutes = Number(minutes.value);
    const outcome = await ctx.api.post(`/org-units/${unitId}/dispatch-plan/apply`, body);
    if (outcome.status === 'applying') await follow(outcome, titles, ctx, out, watch);
    else finished(outcome, titles, out);
    });
  });
  const items = table([
    { title: '发出', cell: (i) => el('input', { type: 'checkbox', checked: true, 'data-test': 'plan-keep', 'aria-label': `发出：${i.title}`, onChange: (event) => {
      if (event.currentTarget.checked) keep.add(i.wish_id);
      else keep.delete(i.wish_id);
      update();
    } }) },
    { title: '心愿', cell: (i) => el('a', { href: `#/dispatch/${i.wish_id}` }, i.title) },
    { title: '志愿者', cell: (i) => i.name },
    { title: '匹配度', class: 'num', cell: (i) => el('span', { class: 'score' }, fmtPercent(i.score)) },
    { title: '距离', class: 'num', cell: (i) => fmtDistance(i.distance_m) },
    { title: '六项评分', cell: (i) => factorGrid(i.factors) },
  ], plan.items, { empty: '没有可以安排的心愿', rowAttrs: (i) => ({ 'data-test': 'plan-row', 'data-wish-id': i.wish_id, 'data-volunteer-id': i.volunteer_id }) });
  return [
    section('方案概览', counts(plan),
      plan.truncated ? el('p', { class: 'notice warn' }, '心愿或志愿者过多，方案只覆盖了其中一部分。') : null),
    section('派单方案（取消勾选即不发出该条）', items,
      el('div', { class: 'filters' }, field('邀请有效（分钟）', minutes), field('留言', note)),
      el('div', { class: 'actions' }, apply)),
    plan.unassigned.length
      ? section(`未能安排（${plan.unassigned.length}）`, table([
        { title: '心愿', cell: (u) => el('a', { href: `#/dispatch/${u.wish_id}` }, u.title) },
        { title: '原因', cell: (u) => u.message },
        { title: '符合条件人数', class: 'num', cell: (u) => String(u.eligible_count) },
      ], plan.unassigned, { rowAttrs: (u) => ({ 'data-test': 'unassigned-row', 'data-wish-id': u.wish_id }) }))
      : null,
  ];
}

async function render(root, ctx) {
  const watch = { left: false, run: 0, timer: null, wake: null };
  const options = await unitOptions(ctx.api);
  const unit = unitSelect(options, { 'data-test': 'batch-unit' });
  const out = el('div', {});
  const compute = el('button', { type: 'button', class: 'primary', 'data-test': 'plan-compute' }, '计算方案');
  compute.addEventListener('click', () => busy(compute, async () => {
    stopFollowing(watch);
    if (ctx.current() && location.hash.startsWith('#/batch?')) history.replaceState(null, '', '#/batch');
    clear(out).append(el('p', { class: 'loading' }, '正在计算方案…'));
    const unitId = unit.value;
    try {
      const plan = await ctx.api.post(`/org-units/${unitId}/dispatch-plan`);
      clear(out).append(...review(plan, unitId, ctx, out, watch).filter(Boolean));
    } catch (error) {
      clear(out);
      throw error;
    }
  }));
  root.append(
    el('h1', {}, '批量派单'),
    el('p', { class: 'muted' }, '为所选单位（含下级）全部待派单的心愿计算整体最优方案：先计算、审核，再发出。计算不会发出任何邀请。'),
    options.length
      ? el('div', { class: 'filters' }, field('单位', unit), compute)
      : el('p', { class: 'empty' }, '没有可以派单的单位'),
    out);
  const sending = ctx.query.get('apply');
  if (sending && /^\d+$/.test(sending)) {
    clear(out).append(el('p', { class: 'loading' }, '正在读取发送进度…'));
    ctx.api.get(`/dispatch-plan/applies/${sending}`)
      .then((job) => follow(job, new Map(), ctx, out, watch))
      .catch((error) => clear(out).append(errorState(error, () => ctx.reload())));
  }
  return () => {
    watch.left = true;
    stopFollowing(watch);
  };
}

export default { route: '#/batch', title: '批量派单', nav: 'nav-batch', render };
