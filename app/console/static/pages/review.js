// 审核: the review queue, oldest first. Approve, or reject with a reason the requester sees.

import { catalogue, plainNames } from '../catalogue.js';
import { el, clear, emptyState, statusBadge, fmtTime, fmtWindow, askReason, busy, toast, pagedList, URGENCY_NAMES } from '../ui.js';

// The wish's own words and who asked, read when the coordinator opens them.
function more(wish, ctx, names) {
  const body = el('div', { class: 'more' }, el('p', { class: 'loading' }, '加载中…'));
  let loaded = false;
  const box = el('details', { 'data-test': 'review-more' }, el('summary', {}, '说明与点单人'), body);
  box.addEventListener('toggle', async () => {
    if (!box.open || loaded) return;
    loaded = true;
    try {
      const full = await ctx.api.get(`/wishes/${wish.id}`);
      clear(body).append(
        full.description ? el('p', {}, full.description) : el('p', { class: 'muted' }, '（没有说明）'),
        el('dl', { class: 'facts compact' },
          el('dt', {}, '点单人'), el('dd', {}, full.requester ? `${full.requester.name}${full.requester.phone ? `（${full.requester.phone}）` : ''}` : '—'),
          full.proxy_id ? [el('dt', {}, '代点单'), el('dd', {}, '是')] : null,
          el('dt', {}, '技能'), el('dd', {}, (full.skill_codes || []).map((c) => names.skill(c)).join('、') || '—'),
          el('dt', {}, '站点'), el('dd', {}, full.station.name)));
    } catch (error) {
      loaded = false;
      clear(body).append(el('p', { class: 'field-error' }, error.message));
    }
  });
  return box;
}

function card(wish, ctx, onDone, names) {
  const approve = el('button', { type: 'button', class: 'primary', 'data-test': 'approve', onClick: () => busy(approve, async () => {
    await ctx.api.post(`/wishes/${wish.id}/approve`, { note: '' });
    toast(`已通过：${wish.title}`, 'success');
    onDone(node);
  }) }, '通过');
  const reject = el('button', { type: 'button', class: 'danger', 'data-test': 'reject', onClick: async () => {
    const reason = await askReason('审核不通过', { message: `“${wish.title}”：理由会告知点单人。`, placeholder: '例如：不属于志愿服务范围，请联系村委会', ok: '不通过', danger: true });
    if (reason === null) return;
    await busy(reject, async () => {
      await ctx.api.post(`/wishes/${wish.id}/reject`, { reason });
      toast(`已退回：${wish.title}`, 'success');
      onDone(node);
    });
  } }, '不通过');
  const node = el('article', { class: ['card', wish.urgency === 'urgent' ? 'urgent' : null], 'data-test': 'review-item', 'data-wish-id': wish.id },
    el('div', { class: 'card-head' },
      el('a', { href: `#/wishes/${wish.id}`, class: 'card-title' }, wish.title),
      statusBadge(wish.status)),
    el('dl', { class: 'facts compact' },
      el('dt', {}, '类别'), el('dd', {}, names.category(wish.category_code)),
      el('dt', {}, '地点'), el('dd', {}, wish.coarse_address),
      el('dt', {}, '时间'), el('dd', {}, fmtWindow(wish.wanted_start_at, wish.wanted_end_at)),
      el('dt', {}, '紧急'), el('dd', {}, URGENCY_NAMES[wish.urgency] || wish.urgency),
      el('dt', {}, '提交'), el('dd', {}, fmtTime(wish.created_at))),
    more(wish, ctx, names),
    el('div', { class: 'actions' }, reject, approve));
  return node;
}

async function render(root, ctx) {
  const list = el('div', { class: 'cards', 'data-test': 'review-list' });
  const count = el('span', { class: 'muted' });
  const names = await catalogue(ctx.api).catch(() => plainNames);
  let shown = 0;
  const done = (node) => {
    node.remove();
    shown -= 1;
    update();
  };
  const update = () => {
    count.textContent = shown ? `${shown} 条待审核` : '';
    if (!list.children.length) clear(list).append(emptyState('没有待审核的心愿', '群众或网格员提交的心愿会出现在这里，最早提交的排在前面。'));
  };
  const queue = pagedList({
    fetch: (cursor) => ctx.api.get('/wishes/review-queue', { limit: 20, cursor }),
    draw: (rows, added) => {
      if (rows.length === added.length) { // the first page
        clear(list);
        shown = 0;
      }
      for (const wish of added) list.append(card(wish, ctx, done, names));
      shown += added.length;
      update();
    },
  });
  await queue.reload();
  root.append(el('div', { class: 'page-head' }, el('h1', {}, '审核'), count), list, queue.more);
}

export default { route: '#/review', title: '审核', nav: 'nav-review', render };
