// 时长: service records waiting for a coordinator in the unit's subtree (confirm or reject),
// the records flagged for review, the star awards in public notice and their objections, and
// the record certificates (谁记录谁证明).

import { el, clear, table, section, field, fmtTime, toast, showError, busy, askReason, confirmDialog, loading, errorState, pagedList } from '../ui.js';
import { unitPicker } from '../unit-picker.js';
import { download } from '../api.js';

const RECORD_STATUS = {
  assigned: '未签到',
  in_service: '服务中',
  checked_out: '待确认',
  credited: '已确认',
  rejected: '已驳回',
};
const METHOD_NAMES = { gps: '定位', manual: '代签', late_sync: '补传' };
const FLAG_NAMES = {
  MANUAL: '协调员代签',
  LATE_SYNC: '离线补传',
  QUICK_FIVE_STAR: '签退后很快满分评价',
  SAME_SECOND_CHECKINS: '同一秒多次签到',
};
const AWARD_STATUS = { notice: '公示中', held: '异议处理中', effective: '已生效', revoked: '已撤销' };
const TABS = [
  ['records', '待确认时长'],
  ['flags', '复核提示'],
  ['stars', '星级公示'],
  ['certificates', '记录证明'],
];

function hours(value) {
  return value === null || value === undefined ? '—' : `${value} 小时`;
}

function stars(count) {
  return '★'.repeat(Math.max(0, count));
}

function badge(text, kind) {
  return el('span', { class: ['badge', kind ? 'badge-' + kind : null] }, text);
}

function volunteerLink(id, name) {
  return el('a', { href: `#/volunteers/${id}` }, name || `志愿者 ${id}`);
}

// ---------------------------------------------------------------- records awaiting confirmation

function recordsTab(ctx, unit, box) {
  const status = el('select', { 'data-test': 'hours-status' },
    ['checked_out', 'credited', 'rejected'].map((s) => el('option', { value: s }, RECORD_STATUS[s])));
  const flagged = el('input', { type: 'checkbox', 'data-test': 'hours-flagged' });
  const list = el('div', {});

  function marks(row) {
    return [
      row.manual ? badge('代签', 'warn') : null,
      row.late_sync ? badge('补传', 'warn') : null,
      row.manual_reason ? el('div', { class: 'muted' }, row.manual_reason) : null,
    ];
  }

  // A record's last cell: its buttons while it waits, then what became of it. The row itself
  // stays in place when the record changes (only this cell is filled again).
  const holders = new Map();

  function outcome(row) {
    if (row.status === 'credited') return [`计入 ${hours(row.credited_hours)}`];
    if (row.status === 'rejected') return [row.reject_reason ? `驳回：${row.reject_reason}` : RECORD_STATUS.rejected];
    if (row.status !== 'checked_out') return [RECORD_STATUS[row.status] || row.status];
    const confirm = el('button', { type: 'button', class: 'primary', 'data-test': 'confirm-hours' }, '确认时长');
    const reject = el('button', { type: 'button', class: 'danger', 'data-test': 'reject-hours' }, '驳回');
    confirm.addEventListener('click', () => busy(confirm, async () => {
      const done = await ctx.api.post(`/service-records/${row.id}/confirm`, {});
      toast(`已确认，计入 ${hours(done.credited_hours)}`, 'success');
      replace(done);
    }));
    reject.addEventListener('click', async () => {
      const reason = await askReason('驳回服务记录', { message: '该记录不计时长，志愿者会收到通知。', ok: '驳回', danger: true });
      if (!reason) return;
      await busy(reject, async () => {
        const done = await ctx.api.post(`/service-records/${row.id}/reject`, { reason });
        toast('已驳回', 'success');
        replace(done);
      });
    });
    return [confirm, reject];
  }

  function actions(row) {
    const holder = el('div', { class: 'actions', 'data-test': 'hours-outcome', 'data-status': row.status }, outcome(row));
    holders.set(row.id, holder);
    return holder;
  }

  function replace(done) {
    const { rows } = records;
    const at = rows.findIndex((row) => row.id === done.id);
    if (at >= 0) rows[at] = done;
    const holder = holders.get(done.id);
    if (!holder) return draw(rows);
    holder.setAttribute('data-status', done.status);
    return clear(holder).append(...outcome(done));
  }

  function draw(rows) {
    holders.clear();
    clear(list).append(table([
      { title: '记录', cell: (r) => `#${r.id}` },
      { title: '志愿者', cell: (r) => volunteerLink(r.volunteer_id, r.volunteer_name) },
      { title: '服务', cell: (r) => (r.kind === 'activity'
        ? el('a', { href: '#/activities' }, `活动场次 ${r.activity_session_id}`)
        : el('a', { href: `#/wishes/${r.wish_id}` }, `心愿 ${r.wish_id}`)) },
      { title: '签到', cell: (r) => [fmtTime(r.checked_in_at, true), ' ', METHOD_NAMES[r.check_in_method] || ''] },
      { title: '签退', cell: (r) => [fmtTime(r.checked_out_at, true), ' ', METHOD_NAMES[r.check_out_method] || ''] },
      { title: '实际时长', cell: (r) => hours(r.attended_hours) },
      { title: '复核', cell: marks },
      { title: '服务内容', cell: (r) => r.summary || '—', class: 'wrap' },
      { title: '操作', cell: actions },
    ], rows, {
      rowAttrs: (r) => ({ 'data-test': 'hours-row', 'data-record-id': String(r.id) }),
      empty: status.value === 'checked_out' ? '没有待确认的服务记录' : '没有记录',
      hint: status.value === 'checked_out' ? '志愿者签退后，服务记录会出现在这里等待确认时长。' : '可换一个状态查看。',
    }));
  }

  const records = pagedList({
    box: list,
    draw,
    fetch: (cursor) => ctx.api.get(`/org-units/${unit.id}/service-records`, {
      status: status.value,
      flagged: flagged.checked ? 'true' : undefined,
      cursor,
      limit: 50,
    }),
  });

  status.addEventListener('change', records.reload);
  flagged.addEventListener('change', records.reload);
  box.append(section('服务记录',
    el('div', { class: 'filters' }, field('状态', status), el('label', { class: 'check' }, flagged, '只看代签或补传')),
    el('p', { class: 'muted' }, '确认后按本单位的记录规则计入时长（取整、封顶），每条记录只计一次；不能确认本人的记录。'),
    list, records.more));
  return records.reload();
}

// ---------------------------------------------------------------- flags

function flagsTab(ctx, unit, box) {
  const days = el('select', {}, [7, 30, 90, 365].map((d) => el('option', { value: String(d), selected: d === 30 }, `近 ${d} 天`)));
  const list = el('div', {});
  async function load() {
    clear(list).append(loading());
    try {
      const flags = await ctx.api.get(`/org-units/${unit.id}/record-flags`, { days: days.value });
      clear(list).append(table([
        { title: '类型', cell: (f) => badge(FLAG_NAMES[f.kind] || f.kind, 'warn') },
        { title: '说明', cell: (f) => f.message, class: 'wrap' },
        { title: '时间', cell: (f) => fmtTime(f.at, true) },
        { title: '记录', cell: (f) => f.attendance_ids.map((id) => `#${id}`).join('、') },
        { title: '志愿者', cell: (f) => f.volunteer_ids.map((id) => [volunteerLink(id), ' ']) },
      ], flags, { empty: '没有需要复核的情况', hint: '代签、补传、时长异常等需要留意的记录会列在这里；可改选更长的时间范围。' }));
    } catch (error) {
      clear(list).append(errorState(error, load));
    }
  }
  days.addEventListener('change', load);
  box.append(section('需要复核的记录', el('p', { class: 'muted' }, '只是提示，不改变任何记录；可疑的记录请在“待确认时长”中驳回。'),
    el('div', { class: 'filters' }, field('时间', days)), list));
  return load();
}

// ---------------------------------------------------------------- star notices and objections

function starsTab(ctx, unit, box) {
  const list = el('div', {});

  async function objectionOf(notice) {
    const standing = await ctx.api.get(`/volunteers/${notice.volunteer_id}/stars`);
    const award = standing.awards.find((a) => a.id === notice.id);
    return award && award.objection ? award.objection : '';
  }

  function actions(notice) {
    if (notice.status === 'notice') {
      const object = el('button', { type: 'button' }, '提出异议');
      object.addEventListener('click', async () => {
        const reason = await askReason('对星级认定提出异议', { message: `${notice.volunteer_name} ${stars(notice.star)}：认定将暂缓，待协调员处理。` });
        if (!reason) return;
        await busy(object, async () => {
          await ctx.api.post(`/star-awards/${notice.id}/objection`, { reason });
          toast('已提出异议，认定暂缓', 'success');
          await notices.reload();
        });
      });
      return object;
    }
    if (notice.status !== 'held') return '';
    const resolve = (uphold) => {
      const button = el('button', { type: 'button', class: uphold ? 'danger' : 'primary' }, uphold ? '异议成立' : '异议不成立');
      button.addEventListener('click', async () => {
        let objection = '';
        try {
          objection = await objectionOf(notice);
        } catch (error) {
          showError(error);
        }
        const reason = await askReason(uphold ? '异议成立，撤销认定' : '异议不成立，恢复公示', {
          message: objection ? `异议：${objection}` : undefined,
          danger: uphold,
        });
        if (!reason) return;
        await busy(button, async () => {
          await ctx.api.post(`/star-awards/${notice.id}/resolve`, { uphold, reason });
          toast(uphold ? '已撤销认定' : '已恢复公示', 'success');
          await notices.reload();
        });
      });
      return button;
    };
    return el('div', { class: 'actions' }, resolve(false), resolve(true));
  }

  const notices = pagedList({
    box: list,
    fetch: (cursor) => ctx.api.get(`/org-units/${unit.id}/star-notices`, { cursor, limit: 50 }),
    draw: (rows) => clear(list).append(table([
      { title: '志愿者', cell: (n) => volunteerLink(n.volunteer_id, n.volunteer_name) },
      { title: '站点', cell: (n) => n.station.name },
      { title: '星级', cell: (n) => el('span', { class: 'stars', title: `${n.star} 星` }, stars(n.star)) },
      { title: '认定时累计', cell: (n) => hours(n.hours_at_award) },
      { title: '认定单位', cell: (n) => n.certifying_unit.name },
      { title: '状态', cell: (n) => badge(AWARD_STATUS[n.status] || n.status, n.status === 'held' ? 'warn' : null) },
      { title: '公示期', cell: (n) => `${fmtTime(n.notice_starts_at, true)} – ${fmtTime(n.notice_ends_at, true)}` },
      { title: '操作', cell: actions },
    ], rows, { rowAttrs: (n) => ({ 'data-test': 'star-notice', 'data-award-id': String(n.id) }), empty: '没有公示中或异议处理中的星级认定' })),
  });
  box.append(section('星级认定公示', el('p', { class: 'muted' }, '公示期内任何人可提出异议，认定随即暂缓；异议由辖区协调员处理，不能处理本人的认定。'), list, notices.more));
  return notices.reload();
}

// ---------------------------------------------------------------- certificates

function certificatesTab(ctx, unit, box) {
  const name = el('input', { type: 'search', maxlength: 50, placeholder: '志愿者姓名', 'data-test': 'certificate-search' });
  const find = el('button', { type: 'submit' }, '查找');
  const found = el('div', {});
  const detail = el('div', {});

  async function show(volunteer) {
    clear(detail).append(loading());
    try {
      const [summary, certificates] = await Promise.all([
        ctx.api.get(`/volunteers/${volunteer.id}/hours`),
        ctx.api.get(`/volunteers/${volunteer.id}/certificates`, { limit: 50 }),
      ]);
      const issue = el('button', { type: 'button', class: 'primary', 'data-test': 'issue-certificate' }, `以${unit.name}名义出具证明`);
      issue.addEventListener('click', async () => {
        const ok = await confirmDialog('出具志愿服务记录证明', `为 ${volunteer.name} 出具记录证明：只证明${unit.name}及下级记录的服务（谁记录谁证明）。`, { ok: '出具' });
        if (!ok) return;
        await busy(issue, async () => {
          const made = await ctx.api.post(`/volunteers/${volunteer.id}/certificates`, { unit_id: unit.id });
          toast(`已出具证明 ${made.number}`, 'success');
          await show(volunteer);
        });
      });
      clear(detail).append(section(`${volunteer.name} 的记录证明`,
        el('p', {}, `累计服务时长 ${hours(summary.service_hours)}，培训时长 ${hours(summary.training_hours)}`),
        issue,
        table([
          { title: '编号', cell: (c) => c.number },
          { title: '出具单位', cell: (c) => c.unit.name },
          { title: '时长', cell: (c) => hours(c.hours) },
          { title: '记录条数', cell: (c) => String(c.entry_count) },
          { title: '服务期间', cell: (c) => `${fmtTime(c.first_service_at, true)} – ${fmtTime(c.last_service_at, true)}` },
          { title: '出具时间', cell: (c) => fmtTime(c.issued_at) },
          { title: '文件', cell: (c) => {
            const get = el('button', { type: 'button' }, '下载 PDF');
            get.addEventListener('click', () => busy(get, () => download(`/certificates/${encodeURIComponent(c.number)}/pdf`, {}, `志愿服务记录证明-${c.number}.pdf`)));
            return get;
          } },
        ], certificates.items, { empty: '尚未出具记录证明' })));
    } catch (error) {
      clear(detail).append(errorState(error, () => show(volunteer)));
    }
  }

  async function search() {
    const text = name.value.trim();
    if (!text) return;
    clear(found).append(loading());
    try {
      const page = await ctx.api.get('/volunteers', { name: text, limit: 20 });
      clear(found).append(table([
        { title: '姓名', cell: (v) => v.name },
        { title: '手机', cell: (v) => v.phone || '—' },
        { title: '站点', cell: (v) => v.home_station.name },
        { title: '', cell: (v) => el('button', { type: 'button', onClick: () => show(v) }, '查看证明') },
      ], page.items, { empty: '辖区内没有找到该志愿者' }));
    } catch (error) {
      clear(found).append(errorState(error, search));
    }
  }

  const form = el('form', { class: 'filters', onSubmit: (event) => {
    event.preventDefault();
    search();
  } }, field('志愿者', name), find);
  box.append(section('出具记录证明', form, found), detail);
  const wanted = Number(ctx.query.get('volunteer'));
  if (wanted > 0) {
    return ctx.api.get(`/volunteers/${wanted}`).then(show, showError);
  }
  return undefined;
}

// ---------------------------------------------------------------- the page

const RENDER = { records: recordsTab, flags: flagsTab, stars: starsTab, certificates: certificatesTab };

async function render(root, ctx) {
  const body = el('div', {});
  let tab = RENDER[ctx.query.get('tab')] ? ctx.query.get('tab') : 'records';
  const picker = await unitPicker(ctx.api, () => open(tab));
  const tabs = el('div', { class: 'tabs', role: 'tablist' });

  function open(name) {
    tab = name;
    clear(tabs).append(...TABS.map(([key, label]) => el('button', {
      type: 'button',
      role: 'tab',
      'aria-selected': key === tab ? 'true' : 'false',
      class: key === tab ? 'active' : null,
      'data-test': 'hours-tab-' + key,
      onClick: () => open(key),
    }, label)));
    clear(body);
    const unit = picker.unit();
    if (!unit) {
      body.append(el('p', { class: 'empty' }, '没有可管理的单位'));
      return undefined;
    }
    return RENDER[name](ctx, unit, body);
  }

  root.append(el('div', { class: 'page-head' }, el('h1', {}, '服务时长与记录'), picker.node), tabs, body);
  await open(tab);
}

export default { route: '#/hours', title: '时长', nav: 'nav-hours', render };
