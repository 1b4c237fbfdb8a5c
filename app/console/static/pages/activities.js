// 活动: the activities a unit in the subtree publishes (list, publish, cancel), their sign-ups
// (admitted, the wait-list in order, cancelled, no-shows) and attendance, whose records the
// organiser confirms here (the hours are credited by the unit's rules).

import { el, clear, table, section, field, fmtTime, toast, showError, busy, askReason, pagedList } from '../ui.js';
import { unitPicker } from '../unit-picker.js';

const STATUS = { draft: '草稿', published: '已发布', cancelled: '已取消', finished: '已结束' };
const SIGNUP = { admitted: '已录取', waiting: '候补', cancelled: '已取消', no_show: '未到' };
const RECORD = { assigned: '未签到', in_service: '服务中', checked_out: '待确认', credited: '已确认', rejected: '已驳回' };
const FESTIVALS = [
  ['', '（不按节日定日期）'], ['spring_festival', '春节'], ['lantern', '元宵节'], ['qingming', '清明节'],
  ['dragon_boat', '端午节'], ['qixi', '七夕节'], ['mid_autumn', '中秋节'], ['double_ninth', '重阳节'],
];

function hours(value) {
  return value === null || value === undefined ? '—' : `${value} 小时`;
}

// ---------------------------------------------------------------- publishing

function publishForm(ctx, unit, done) {
  const title = el('input', { required: true, maxLength: 100, 'data-test': 'activity-title' });
  const place = el('input', { required: true, maxLength: 200, 'data-test': 'activity-place' });
  const festival = el('select', { 'data-test': 'activity-festival' },
    FESTIVALS.map(([code, name]) => el('option', { value: code }, name)));
  const starts = el('input', { type: 'datetime-local', 'data-test': 'activity-starts' });
  const ends = el('input', { type: 'datetime-local', 'data-test': 'activity-ends' });
  const from = el('input', { type: 'time', value: '09:00' });
  const to = el('input', { type: 'time', value: '11:30' });
  const headcount = el('input', { type: 'number', min: 1, max: 10000, value: 10, 'data-test': 'activity-headcount' });
  const residents = el('input', { type: 'checkbox' });
  const draft = el('input', { type: 'checkbox' });
  const submit = el('button', { type: 'submit', class: 'primary', 'data-test': 'activity-publish' }, '发布');
  const form = el('form', { class: 'filters', onSubmit: (event) => {
    event.preventDefault();
    const body = {
      unit_id: unit.id,
      title: title.value,
      place: place.value,
      headcount: Number(headcount.value),
      residents_may_join: residents.checked,
      publish: !draft.checked,
    };
    if (festival.value && !starts.value) {
      Object.assign(body, { festival_code: festival.value, start_time: from.value, end_time: to.value });
    } else {
      Object.assign(body, { starts_at: starts.value, ends_at: ends.value });
      if (festival.value) body.festival_code = festival.value;
    }
    busy(submit, async () => {
      const made = await ctx.api.post('/activities', body);
      toast(made.status === 'draft' ? '已保存草稿' : `已发布：${fmtTime(made.starts_at)}`, 'success');
      done();
    });
  } },
  field('标题', title), field('地点', place), field('节日', festival, '按农历推算当年日期'),
  field('开始', starts, '不按节日时填写'), field('结束', ends), field('节日当天开始', from), field('节日当天结束', to),
  field('名额', headcount), field('接受居民参加', residents), field('存为草稿', draft), submit);
  return section('发布活动', form);
}

// ---------------------------------------------------------------- one activity

async function showActivity(ctx, activity, box, reload) {
  clear(box);
  const head = el('div', { class: 'actions' });
  if (activity.status === 'draft') {
    const go = el('button', { type: 'button', class: 'primary', 'data-test': 'activity-do-publish' }, '发布');
    go.addEventListener('click', () => busy(go, async () => {
      await ctx.api.post(`/activities/${activity.id}/publish`);
      toast('已发布', 'success');
      reload();
    }));
    head.append(go);
  }
  if (activity.status === 'draft' || activity.status === 'published') {
    const stop = el('button', { type: 'button', class: 'danger', 'data-test': 'activity-cancel' }, '取消活动');
    stop.addEventListener('click', async () => {
      const reason = await askReason('取消活动', { message: '已报名和候补的人都会收到通知。', ok: '取消活动', danger: true });
      if (!reason) return;
      await busy(stop, async () => {
        await ctx.api.post(`/activities/${activity.id}/cancel`, { reason });
        toast('活动已取消', 'success');
        reload();
      });
    });
    head.append(stop);
  }
  const signups = el('div', {});
  const records = el('div', {});
  box.append(section(`${activity.title}（${STATUS[activity.status] || activity.status}）`,
    el('p', { class: 'muted' }, `${fmtTime(activity.starts_at)}，${activity.place}；录取 ${activity.admitted}/${activity.headcount}，候补 ${activity.waiting}`),
    head, el('h3', {}, '报名'), signups, el('h3', {}, '签到与时长'), records));

  const signupList = pagedList({
    box: signups,
    fetch: (cursor) => ctx.api.get(`/activities/${activity.id}/signups`, { cursor, limit: 100 }),
    draw: (rows) => clear(signups).append(table([
      { title: '姓名', cell: (s) => s.name },
      { title: '身份', cell: (s) => (s.role === 'volunteer' ? '志愿者' : '居民') },
      { title: '状态', cell: (s) => [SIGNUP[s.status] || s.status, s.position ? `（第 ${s.position} 位）` : ''] },
      { title: '团队', cell: (s) => (s.team_id ? `团队 ${s.team_id}` : '—') },
      { title: '报名时间', cell: (s) => fmtTime(s.queued_at, true) },
    ], rows, { rowAttrs: (s) => ({ 'data-test': 'signup-row', 'data-status': s.status }), empty: '还没有人报名' }), signupList.more),
  });

  function confirmButton(row) {
    if (row.status !== 'checked_out') return RECORD[row.status] || row.status;
    const button = el('button', { type: 'button', class: 'primary', 'data-test': 'activity-confirm-hours' }, '确认时长');
    button.addEventListener('click', () => busy(button, async () => {
      const done = await ctx.api.post(`/service-records/${row.id}/confirm`, {});
      toast(`已确认，计入 ${hours(done.credited_hours)}`, 'success');
      recordList.reload();
    }));
    return button;
  }

  const recordList = pagedList({
    box: records,
    fetch: (cursor) => ctx.api.get(`/activities/${activity.id}/attendance`, { cursor, limit: 100 }),
    draw: (rows) => clear(records).append(table([
      { title: '志愿者', cell: (r) => el('a', { href: `#/volunteers/${r.volunteer_id}` }, r.volunteer_name) },
      { title: '场次', cell: (r) => `#${r.activity_session_id}` },
      { title: '签到', cell: (r) => [fmtTime(r.checked_in_at, true), r.manual ? '（代签）' : ''] },
      { title: '签退', cell: (r) => fmtTime(r.checked_out_at, true) },
      { title: '实际时长', cell: (r) => hours(r.attended_hours) },
      { title: '确认', cell: confirmButton },
    ], rows, { rowAttrs: (r) => ({ 'data-test': 'activity-record-row' }), empty: '还没有签到记录' }), recordList.more),
  });
  await Promise.all([signupList.reload(), recordList.reload()]);
}

// ---------------------------------------------------------------- the page

async function render(root, ctx) {
  const body = el('div', {});
  const detail = el('div', {});
  const status = el('select', { 'data-test': 'activity-status' },
    ['published', 'draft', 'finished', 'cancelled'].map((s) => el('option', { value: s }, STATUS[s])));
  const picker = await unitPicker(ctx.api, () => list.reload());

  const list = pagedList({
    box: body,
    fetch: (cursor) => ctx.api.get('/activities', {
      unit_id: picker.unit() ? picker.unit().id : undefined,
      status: status.value,
      include_past: true,
      cursor,
      limit: 20,
    }),
    draw: (rows) => clear(body).append(table([
      { title: '活动', cell: (a) => el('a', { href: '#/activities', onClick: (event) => {
        event.preventDefault();
        showActivity(ctx, a, detail, () => list.reload()).catch(showError);
      } }, a.title) },
      { title: '节日', cell: (a) => (a.festival ? a.festival.name : '—') },
      { title: '时间', cell: (a) => fmtTime(a.starts_at) },
      { title: '地点', cell: (a) => a.place, class: 'wrap' },
      { title: '名额', cell: (a) => `${a.admitted}/${a.headcount}` },
      { title: '候补', cell: (a) => String(a.waiting) },
    ], rows, { rowAttrs: (a) => ({ 'data-test': 'activity-row', 'data-activity-id': String(a.id) }), empty: '没有活动' }), list.more),
  });
  status.addEventListener('change', () => list.reload());
  const unit = picker.unit();
  root.append(el('div', { class: 'page-head' }, el('h1', {}, '活动发布与报名'), picker.node),
    unit ? publishForm(ctx, unit, () => list.reload()) : el('p', { class: 'empty' }, '没有可管理的单位'),
    section('活动', field('状态', status), body), detail);
  await list.reload();
}

export default { route: '#/activities', title: '活动', nav: 'nav-activities', render };
