// What several pages show of one wish: its facts, the actions its coordinator may take now
// (from the API's allowed_events), the ladder's countdown and the timeline.

import {
  el, statusBadge, grabTag, fmtTime, fmtWindow, fmtDuration, askReason, confirmDialog, busy, toast,
  EVENT_NAMES, ROLE_NAMES, STATUS_NAMES, URGENCY_NAMES,
} from './ui.js';

// The verbs a coordinator fires from the console (the offer has its own form on 派单).
const ACTIONS = {
  approve: { done: '已通过', label: '通过', test: 'approve', path: 'approve', primary: true, body: () => ({ note: '' }) },
  reject: { done: '已退回', label: '不通过', test: 'reject', path: 'reject', danger: true, reason: { title: '审核不通过', message: '理由会告知点单人。', placeholder: '例如：不属于志愿服务范围，请联系村委会', ok: '不通过' } },
  open_grab: { done: '已开放抢单', label: '开放抢单', test: 'open-grab', path: 'open-grab', confirm: { title: '开放抢单', message: '站点服务范围内具备所需技能的志愿者都可以接单。' }, body: () => ({ note: '' }) },
  release: { done: '已收回', label: '收回', test: 'release', path: 'release', danger: true, reason: { title: '收回心愿', message: '心愿回到待派单，接单志愿者会收到通知。', placeholder: '例如：志愿者临时有事，改派他人', ok: '收回' } },
  remind: { done: '已提醒志愿者', label: '提醒志愿者', test: 'remind', path: 'remind', confirm: { title: '提醒志愿者', message: '接单志愿者会收到一条提醒（按时签到或签退）。' }, body: () => ({ note: '' }) },
  escalate: { done: '已上报上级', label: '上报上级', test: 'escalate', path: 'escalate', confirm: { title: '上报上级单位', message: '交上级单位（所、中心、市）处理。' }, body: () => ({ note: '' }) },
  close: { done: '已办结', label: '办结', test: 'close', path: 'close', confirm: { title: '办结心愿', message: '办结后心愿不再变化。' }, body: () => ({ note: '' }) },
  cancel: { done: '已取消', label: '取消心愿', test: 'cancel', path: 'cancel', danger: true, reason: { title: '取消心愿', message: '理由会告知点单人。', ok: '取消心愿' } },
};

// Buttons for what the caller may do to the wish now; onChanged(wish) gets the API's answer.
export function actionButtons(wish, ctx, onChanged, { only } = {}) {
  const allowed = new Set(wish.allowed_events || []);
  const names = Object.keys(ACTIONS).filter((name) => allowed.has(name) && (!only || only.includes(name)));
  return names.map((name) => {
    const action = ACTIONS[name];
    const button = el('button', {
      type: 'button', 'data-test': action.test, class: action.primary ? 'primary' : action.danger ? 'danger' : null,
    }, action.label);
    button.addEventListener('click', async () => {
      let body = action.body ? action.body() : undefined;
      if (action.reason) {
        const reason = await askReason(action.reason.title, { danger: Boolean(action.danger), ...action.reason });
        if (reason === null) return;
        body = { reason };
      } else if (action.confirm) {
        if (!(await confirmDialog(action.confirm.title, action.confirm.message, { ok: action.label }))) return;
      }
      await busy(button, async () => {
        const after = await ctx.api.post(`/wishes/${wish.id}/${action.path}`, body);
        toast(`${action.done}：${wish.title}（现为${after.status_label || STATUS_NAMES[after.status]}）`, 'success');
        onChanged(after);
      });
    });
    return button;
  });
}

// The ladder's next step counting down; stop() when the page is left. onDue() runs once, when
// the step comes due while the page is shown (the page reloads a little later to show it done).
// compact: for a list's row (the step and the time left; its date in the tooltip).
export function countdown(step, { onDue, compact = false } = {}) {
  const remaining = el('span', { class: 'remaining' });
  const node = el('div', { class: ['countdown', compact ? 'compact' : null], 'data-test': 'countdown', role: 'timer', 'aria-live': 'off' });
  if (!step) {
    node.classList.add('none');
    node.append(el('span', {}, compact ? '—' : '没有待执行的自动步骤'));
    return { node, stop() {} };
  }
  const due = new Date(step.at).getTime();
  node.setAttribute('data-action', step.action);
  node.setAttribute('data-at', step.at);
  if (compact) {
    node.setAttribute('title', `${step.label}（${fmtTime(step.at)}）`);
    node.append(el('strong', {}, step.label), remaining);
  } else {
    node.append(el('span', {}, '下一步：'), el('strong', {}, step.label), remaining,
      el('span', { class: 'muted' }, `（${fmtTime(step.at)}）`));
  }
  // onDue runs when a step comes due while the page is open; one due already has run or is
  // about to, and reloading for it again and again would only poll.
  let fired = due <= Date.now();
  const tick = () => {
    const left = due - Date.now();
    if (left <= 0) {
      node.classList.add('due');
      remaining.textContent = '即将自动执行';
      if (!fired && onDue) {
        fired = true;
        onDue();
      }
    } else {
      remaining.textContent = `还有 ${fmtDuration(left)}`;
    }
  };
  tick();
  const timer = setInterval(tick, 1000);
  return { node, stop: () => clearInterval(timer) };
}

export function wishFacts(wish, names = { category: (c) => c, skill: (c) => c }) {
  const who = (person) => (person ? `${person.name}${person.phone ? `（${person.phone}）` : ''}` : '—');
  return el('dl', { class: 'facts' },
    el('dt', {}, '状态'), el('dd', {}, statusBadge(wish.status, wish.status_label), grabTag(wish, '已开放抢单')),
    el('dt', {}, '站点'), el('dd', {}, wish.station ? wish.station.name : '—'),
    el('dt', {}, '类别'), el('dd', {}, names.category(wish.category_code), ' ', (wish.skill_codes || []).map((s) => el('span', { class: 'tag' }, names.skill(s)))),
    el('dt', {}, '地点'), el('dd', {}, wish.coarse_address),
    el('dt', {}, '期望时间'), el('dd', {}, fmtWindow(wish.wanted_start_at, wish.wanted_end_at)),
    el('dt', {}, '紧急程度'), el('dd', {}, URGENCY_NAMES[wish.urgency] || wish.urgency),
    el('dt', {}, '点单人'), el('dd', {}, who(wish.requester)),
    el('dt', {}, '接单志愿者'), el('dd', {}, who(wish.assignee)),
    wish.description ? [el('dt', {}, '说明'), el('dd', {}, wish.description)] : null,
    wish.reject_reason ? [el('dt', {}, '未通过理由'), el('dd', {}, wish.reject_reason)] : null,
    wish.cancel_reason ? [el('dt', {}, '取消理由'), el('dd', {}, wish.cancel_reason)] : null,
    wish.rating ? [el('dt', {}, '评价'), el('dd', {}, `${'★'.repeat(wish.rating)}${wish.rating_comment ? ' ' + wish.rating_comment : ''}`)] : null,
    el('dt', {}, '提交时间'), el('dd', {}, fmtTime(wish.submitted_at || wish.created_at)));
}

export function timeline(events) {
  if (!events.length) return el('p', { class: 'empty' }, '暂无流转记录');
  return el('ol', { class: 'timeline' }, events.map((e) => el('li', { 'data-test': 'timeline-item', 'data-event': e.event },
    el('div', {},
      el('strong', {}, EVENT_NAMES[e.event] || e.event), ' ',
      e.from_status && e.from_status !== e.to_status
        ? el('span', { class: 'muted' }, `${STATUS_NAMES[e.from_status] || e.from_status} → ${STATUS_NAMES[e.to_status] || e.to_status}`)
        : null),
    el('div', { class: 'when' }, fmtTime(e.created_at), ' · ', ROLE_NAMES[e.actor_role] || e.actor_role),
    e.reason ? el('p', { class: 'reason' }, e.reason) : null)));
}

// Every event of a wish, oldest first (the API pages them).
export async function allEvents(api, wishId) {
  const events = [];
  let cursor = null;
  for (let i = 0; i < 20; i += 1) {
    const page = await api.get(`/wishes/${wishId}/events`, { limit: 100, cursor });
    events.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return events;
}

// Follows the wish a page shows: every few seconds while the tab is visible it asks for the wish
// again and redraws the page once its status or version has moved (a volunteer accepted in the
// mini-program, a timer stepped). Returns the function that stops it.
export function follow(ctx, wish, every = 5000) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    if (document.visibilityState === 'visible' && ctx.current()) {
      try {
        const now = await ctx.api.get(`/wishes/${wish.id}`);
        if (!stopped && ctx.current() && (now.version !== wish.version || now.status !== wish.status)) {
          stopped = true;
          ctx.reload();
          return;
        }
      } catch {
        // a lost answer: asked again on the next tick
      }
    }
    if (!stopped) timer = setTimeout(tick, every);
  };
  timer = setTimeout(tick, every);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
