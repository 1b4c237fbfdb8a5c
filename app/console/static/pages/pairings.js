// 结对帮扶 (户帮户亲帮亲): the pairings of the unit's subtree with their health, the households in
// need (masked; the full record only through a logged reveal), one pairing's visits, a visit
// recorded by hand with its reason, and a visit's needs turned into a wish in one step.

import { el, clear, table, section, field, fmtTime, toast, busy, askReason, confirmDialog, errorState, pagedList, localToday as today } from '../ui.js';
import { unitTabsPage, stationsUnder } from '../unit-picker.js';

const HEALTH = {
  healthy: ['正常', 'ok'],
  due: ['待走访', null],
  overdue: ['逾期未走访', 'warn'],
  lapsing: ['长期未走访', 'danger'],
  paused: ['已暂停', null],
  ended: ['已结束', null],
};
const HELPER_KINDS = { volunteer: '志愿者', household: '帮扶家庭', team: '志愿服务队' };
const METHODS = { gps: '到户签到', manual: '人工登记' };
const RECORD = { in_service: '走访中', checked_out: '待确认时长', credited: '已记时长', rejected: '未通过' };
const CONSENT = { verbal: '口头同意', written: '书面同意', in_person: '当面确认' };

function badge(text, kind) {
  return el('span', { class: ['badge', kind ? 'badge-' + kind : null], 'data-test': 'pairing-health' }, text);
}

function healthBadge(health) {
  const [text, kind] = HEALTH[health] || [health, null];
  return badge(text, kind);
}

function rhythm(days) {
  if (days === 7) return '每周';
  if (days === 14) return '每两周';
  if (days === 30 || days === 31) return '每月';
  return `每 ${days} 天`;
}

async function personalInfoVersion(ctx) {
  const text = await ctx.api.get('/consent-texts/personal_info');
  return text.version;
}

// ---------------------------------------------------------------- the pairings

async function pairingList(ctx, unit, box) {
  const health = el('select', { 'data-test': 'pairing-health-filter' }, el('option', { value: '' }, '全部'),
    Object.entries(HEALTH).map(([value, [text]]) => el('option', { value }, text)));
  health.value = ctx.query.get('health') || '';
  const list = el('div', {});
  const pairings = pagedList({
    box: list,
    fetch: (cursor) => ctx.api.get(`/org-units/${unit.id}/pairings`, { health: health.value || undefined, cursor, limit: 50 }),
    draw: (rows) => clear(list).append(table([
      { title: '困难家庭', cell: (p) => el('a', { href: `#/pairings/${p.id}` }, p.household.head_name) },
      { title: '类别', cell: (p) => p.household.category_names.join('、') || '—' },
      { title: '大致地址', cell: (p) => p.household.coarse_address },
      { title: '帮扶人', cell: (p) => `${p.helper_name}（${HELPER_KINDS[p.helper_kind] || p.helper_kind}）` },
      { title: '周期', cell: (p) => rhythm(p.rhythm_days) },
      { title: '上次走访', cell: (p) => (p.last_visit_at ? fmtTime(p.last_visit_at, true) : '尚未走访') },
      { title: '应走访于', cell: (p) => fmtTime(p.next_due_at, true) },
      { title: '逾期次数', cell: (p) => String(p.missed_count) },
      { title: '状况', cell: (p) => healthBadge(p.health) },
    ], rows, { rowAttrs: (p) => ({ 'data-test': 'pairing-row', 'data-pairing-id': String(p.id) }), empty: '没有符合条件的结对', hint: '可改选状况，或在“困难家庭”中为家庭建立结对。' })),
  });
  health.addEventListener('change', pairings.reload);
  box.append(section('结对', el('p', { class: 'muted' }, '逾期一天提醒帮扶人，逾期三天通知站点；家庭姓名已脱敏。'),
    el('div', { class: 'filters' }, field('状况', health)), list, pairings.more));
  await pairings.reload();
}

// ---------------------------------------------------------------- the households

async function householdList(ctx, unit, box) {
  const [categories, stations] = await Promise.all([ctx.api.get('/household-categories'), stationsUnder(ctx.api, unit)]);
  const list = el('div', {});
  const households = pagedList({
    box: list,
    fetch: (cursor) => ctx.api.get(`/org-units/${unit.id}/households`, { status: 'active', cursor, limit: 50 }),
    draw: (rows) => clear(list).append(table([
      { title: '户主', cell: (h) => h.head_name },
      { title: '电话', cell: (h) => h.phone || '—' },
      { title: '类别', cell: (h) => h.category_names.join('、') },
      { title: '大致地址', cell: (h) => h.coarse_address },
      { title: '站点', cell: (h) => h.station_name },
      { title: '', cell: (h) => householdActions(ctx, h) },
    ], rows, { rowAttrs: (h) => ({ 'data-test': 'household-row', 'data-household-id': String(h.id) }), empty: '尚未登记困难家庭' })),
  });

  // Register a household (its consent recorded, as for an order on someone's behalf).
  const station = el('select', { required: true }, stations.map((s) => el('option', { value: String(s.id) }, s.name)));
  const name = el('input', { required: true, maxlength: 50 });
  const phone = el('input', { required: true, maxlength: 20, inputmode: 'tel' });
  const full = el('input', { required: true, maxlength: 200 });
  const coarse = el('input', { required: true, maxlength: 100, placeholder: '如：余村 3 组' });
  const category = el('select', { required: true }, categories.map((c) => el('option', { value: c.code }, c.name)));
  const consent = el('select', {}, Object.entries(CONSENT).map(([value, text]) => el('option', { value }, text)));
  const save = el('button', { type: 'submit', class: 'primary' }, '登记');
  const form = el('form', { class: 'filters', 'data-test': 'household-form', onSubmit: (event) => {
    event.preventDefault();
    busy(save, async () => {
      await ctx.api.post('/households', {
        station_id: Number(station.value), head_name: name.value.trim(), phone: phone.value.trim(),
        full_address: full.value.trim(), coarse_address: coarse.value.trim(), category_codes: [category.value],
        consent: { method: consent.value, version: await personalInfoVersion(ctx) },
      });
      toast('已登记', 'success');
      form.reset();
      await households.reload();
    });
  } }, field('站点', station), field('户主姓名', name), field('联系电话', phone), field('详细地址', full),
  field('大致地址', coarse), field('类别', category), field('同意方式', consent), save);

  box.append(section('困难家庭', el('p', { class: 'muted' }, '姓名、电话已脱敏；查看完整信息须说明原因，并记入查看日志。'), list, households.more),
    stations.length ? section('登记困难家庭', form) : null);
  await households.reload();
}

function householdActions(ctx, household) {
  const reveal = el('button', { type: 'button', 'data-test': 'household-reveal' }, '查看完整信息');
  const shown = el('span', { class: 'muted' });
  reveal.addEventListener('click', async () => {
    const reason = await askReason(`查看 ${household.head_name} 家的完整信息`, { message: '查看将记入个人信息查看日志。', ok: '查看' });
    if (!reason) return;
    await busy(reveal, async () => {
      const full = await ctx.api.post(`/households/${household.id}/reveal`, { reason });
      clear(shown).append(`${full.head_name} · ${full.phone || '—'} · ${full.full_address || '—'}`);
      reveal.hidden = true;
    });
  });
  const pair = el('a', { class: 'button', href: `#/pairings/new?household=${household.id}` }, '建立结对');
  return el('span', { class: 'actions' }, reveal, pair, shown);
}

// ---------------------------------------------------------------- a new pairing

async function newPairing(ctx, box) {
  const householdId = Number(ctx.query.get('household'));
  const household = await ctx.api.get(`/households/${householdId}`);
  const volunteer = el('input', { type: 'number', min: 1, required: true, placeholder: '志愿者编号' });
  const days = el('select', {}, [[7, '每周'], [14, '每两周'], [30, '每月']].map(([v, t]) => el('option', { value: String(v) }, t)));
  const minutes = el('input', { type: 'number', min: 15, max: 480, value: '60' });
  const start = el('input', { type: 'date', required: true, value: today() });
  const save = el('button', { type: 'submit', class: 'primary' }, '建立结对');
  const form = el('form', { class: 'filters', 'data-test': 'pairing-form', onSubmit: (event) => {
    event.preventDefault();
    busy(save, async () => {
      const made = await ctx.api.post('/pairings', {
        household_id: householdId, helper: { kind: 'volunteer', volunteer_id: Number(volunteer.value) },
        rhythm_days: Number(days.value), visit_minutes: Number(minutes.value), start_date: start.value,
      });
      toast('已建立结对', 'success');
      ctx.navigate(`#/pairings/${made.id}`);
    });
  } }, field('帮扶志愿者', volunteer, '在“志愿者”页查到的编号'), field('走访周期', days), field('每次时长（分钟）', minutes), field('开始日期', start), save);
  box.append(el('p', {}, el('a', { href: '#/pairings?view=households' }, '← 返回困难家庭')),
    section(`为 ${household.head_name} 家建立结对`, el('p', { class: 'muted' }, household.category_names.join('、')), form));
}

// ---------------------------------------------------------------- one pairing

async function pairingDetail(ctx, id, box) {
  const pairing = await ctx.api.get(`/pairings/${id}`);
  const redraw = async (message) => {
    toast(message, 'success');
    clear(box);
    await pairingDetail(ctx, id, box);
  };
  const verb = (name, label, kind, question) => {
    const button = el('button', { type: 'button', class: kind, 'data-test': `pairing-${name}` }, label);
    button.addEventListener('click', async () => {
      const reason = await askReason(question, { ok: label, danger: kind === 'danger' });
      if (!reason) return;
      await busy(button, async () => {
        await ctx.api.post(`/pairings/${id}/${name}`, { reason });
        await redraw(`已${label}`);
      });
    });
    return button;
  };
  const active = pairing.status === 'active';
  const actions = el('div', { class: 'actions' },
    active ? verb('pause', '暂停', null, '暂停结对（暂停期间不计逾期）') : null,
    pairing.status === 'paused' ? verb('resume', '恢复', 'primary', '恢复结对') : null,
    pairing.status !== 'ended' ? verb('end', '结束', 'danger', '结束结对') : null);

  // A visit recorded by hand (no fix: indoors, no signal), with its reason.
  const now = new Date();
  const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const started = el('input', { type: 'datetime-local', required: true, value: local(new Date(now.getTime() - 2 * 3600000)) });
  const ended = el('input', { type: 'datetime-local', required: true, value: local(new Date(now.getTime() - 3600000)) });
  const reason = el('input', { required: true, maxlength: 200, placeholder: '如：老人家中无信号，电话回访核实' });
  const summary = el('input', { maxlength: 500 });
  const needs = el('input', { maxlength: 500, placeholder: '家庭提出的需求（可转为心愿）' });
  const record = el('button', { type: 'submit', class: 'primary' }, '登记走访');
  const manual = el('form', { class: 'filters', 'data-test': 'manual-visit-form', onSubmit: (event) => {
    event.preventDefault();
    busy(record, async () => {
      await ctx.api.post(`/pairings/${id}/visits/manual`, {
        started_at: started.value, ended_at: ended.value, reason: reason.value.trim(),
        summary: summary.value.trim(), needs: needs.value.trim(),
      });
      await redraw('已登记走访，服务记录待确认时长');
    });
  } }, field('开始', started), field('结束', ended), field('原因', reason), field('走访内容', summary), field('需求', needs), record);

  box.append(
    el('p', {}, el('a', { href: ctx.previous || '#/pairings' }, '← 返回结对列表')),
    section(`结对：${pairing.household.head_name}家`,
      el('dl', { class: 'facts' },
        el('dt', {}, '状况'), el('dd', {}, healthBadge(pairing.health)),
        el('dt', {}, '困难家庭'), el('dd', {}, `${pairing.household.head_name} · ${pairing.household.category_names.join('、')} · ${pairing.household.coarse_address}`),
        el('dt', {}, '帮扶人'), el('dd', {}, `${pairing.helper_name}（${HELPER_KINDS[pairing.helper_kind] || pairing.helper_kind}）`),
        el('dt', {}, '周期'), el('dd', {}, `${rhythm(pairing.rhythm_days)}，每次约 ${pairing.visit_minutes} 分钟`),
        el('dt', {}, '起止'), el('dd', {}, `${pairing.start_date} 至 ${pairing.end_date || '长期'}`),
        el('dt', {}, '上次走访'), el('dd', {}, pairing.last_visit_at ? fmtTime(pairing.last_visit_at) : '尚未走访'),
        el('dt', {}, '应走访于'), el('dd', {}, fmtTime(pairing.next_due_at)),
        el('dt', {}, '已提醒帮扶人'), el('dd', {}, pairing.reminded_at ? fmtTime(pairing.reminded_at) : '—'),
        el('dt', {}, '已通知站点'), el('dd', {}, pairing.escalated_at ? fmtTime(pairing.escalated_at) : '—'),
        el('dt', {}, '累计逾期'), el('dd', {}, `${pairing.missed_count} 次`)),
      actions),
    section('走访记录', table([
      { title: '开始', cell: (v) => fmtTime(v.started_at) },
      { title: '志愿者', cell: (v) => v.volunteer_name || '—' },
      { title: '方式', cell: (v) => METHODS[v.method] || v.method },
      { title: '原因', cell: (v) => v.reason || '—', class: 'wrap' },
      { title: '服务记录', cell: (v) => (v.record_status ? RECORD[v.record_status] || v.record_status : '无（不计时长）') },
      { title: '需求', cell: (v) => v.needs || '—', class: 'wrap' },
      { title: '心愿', cell: (v) => wishCell(ctx, v, redraw) },
    ], pairing.visits, { rowAttrs: (v) => ({ 'data-test': 'visit-row', 'data-visit-id': String(v.id) }), empty: '尚无走访记录', hint: '帮扶人到户签到后，或由协调员人工登记后显示在这里。' })),
    active ? section('人工登记走访', el('p', { class: 'muted' }, '无法定位签到时由协调员登记，记为人工，须说明原因；不能登记本人的走访。'), manual) : null,
  );
}

function wishCell(ctx, visit, redraw) {
  if (visit.wish_id) return el('a', { href: `#/wishes/${visit.wish_id}` }, `心愿 #${visit.wish_id}`);
  if (!visit.needs) return '—';
  const button = el('button', { type: 'button', 'data-test': 'visit-to-wish' }, '转为心愿');
  button.addEventListener('click', async () => {
    const title = await askReason('把走访需求转为心愿（由站点代家庭点单）', { label: '心愿标题', message: visit.needs, ok: '提交心愿', maxLength: 100 });
    if (!title) return;
    if (!(await confirmDialog('家庭是否已口头同意代为点单？', '将按“口头同意”记录家庭的授权。', { ok: '已同意' }))) return;
    await busy(button, async () => {
      const made = await ctx.api.post(`/pairing-visits/${visit.id}/wish`, {
        title, consent: { method: 'verbal', version: await personalInfoVersion(ctx) },
      });
      await redraw(`已提交心愿 #${made.wish_id}，等待审核`);
    });
  });
  return button;
}

// ---------------------------------------------------------------- the page

async function render(root, ctx) {
  if (ctx.params[0] === 'new') {
    await newPairing(ctx, root).catch((error) => root.append(errorState(error, null, { href: '#/pairings', label: '返回结对列表' })));
    return;
  }
  const id = Number(ctx.params[0]);
  if (id > 0) {
    await pairingDetail(ctx, id, root).catch((error) => root.append(errorState(error, null, { href: '#/pairings', label: '返回结对列表' })));
    return;
  }
  await unitTabsPage(root, ctx, {
    title: '结对帮扶', test: 'pairings',
    tabs: [['pairings', '结对', pairingList], ['households', '困难家庭', householdList]],
  });
}

export default { route: '#/pairings', title: '结对帮扶', nav: 'nav-pairings', render };
