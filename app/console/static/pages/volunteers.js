// 志愿者: the volunteers of the unit's subtree (personal data masked), found by name, station,
// skill and status; one volunteer's qualifications, insurance, suspension and reinstatement;
// and 人员, the coordinators and grid workers of the unit and its units.

import { el, clear, table, section, field, fmtTime, toast, busy, askReason, confirmDialog, pagedList, ROLE_NAMES, localToday as today } from '../ui.js';
import { unitTabsPage, stationsUnder, levelName } from '../unit-picker.js';

const STATUS = { active: '正常', suspended: '已暂停' };

function badge(text, kind) {
  return el('span', { class: ['badge', kind ? 'badge-' + kind : null] }, text);
}

function statusBadge(status) {
  return badge(STATUS[status] || status, status === 'suspended' ? 'warn' : 'ok');
}

function dateText(value) {
  return value || '—';
}

function expired(value) {
  return Boolean(value) && value < today();
}

let catalogue = null;

async function skills(ctx) {
  if (!catalogue) catalogue = await ctx.api.get('/catalogue');
  return catalogue.skills;
}

function skillName(all, code) {
  const found = all.find((s) => s.code === code);
  return found ? found.name : code;
}

// ---------------------------------------------------------------- the list

async function volunteerList(ctx, unit, box) {
  const [allSkills, stations] = await Promise.all([skills(ctx), stationsUnder(ctx.api, unit)]);
  const name = el('input', { type: 'search', maxlength: 50, placeholder: '姓名', 'data-test': 'volunteer-search' });
  const station = el('select', {}, el('option', { value: '' }, '全部站点'), stations.map((s) => el('option', { value: String(s.id) }, s.name)));
  const skill = el('select', {}, el('option', { value: '' }, '全部技能'), allSkills.map((s) => el('option', { value: s.code }, s.name)));
  const status = el('select', {}, el('option', { value: '' }, '全部状态'), Object.entries(STATUS).map(([v, t]) => el('option', { value: v }, t)));
  const list = el('div', {});

  function draw(rows) {
    clear(list).append(table([
      { title: '姓名', cell: (v) => el('a', { href: `#/volunteers/${v.id}` }, v.name) },
      { title: '手机', cell: (v) => v.phone || '—' },
      { title: '年龄段', cell: (v) => v.age_band || '—' },
      { title: '站点', cell: (v) => v.home_station.name },
      { title: '技能', cell: (v) => v.skill_codes.map((c) => skillName(allSkills, c)).join('、') || '—', class: 'wrap' },
      { title: '保险至', cell: (v) => el('span', { class: expired(v.insured_until) ? 'text-warn' : null }, dateText(v.insured_until)) },
      { title: '手头任务', cell: (v) => `${v.active_tasks}/${v.max_concurrent_tasks}` },
      { title: '状态', cell: (v) => statusBadge(v.status) },
    ], rows, { rowAttrs: (v) => ({ 'data-test': 'volunteer-row', 'data-volunteer-id': String(v.id) }), empty: '没有符合条件的志愿者', hint: '可清空姓名，或改选站点、技能、状态后再查询。' }));
  }

  const volunteers = pagedList({
    box: list,
    draw,
    fetch: (cursor) => ctx.api.get('/volunteers', {
      station_id: station.value || unit.id,
      name: name.value.trim() || undefined,
      skill_code: skill.value || undefined,
      status: status.value || undefined,
      cursor,
      limit: 50,
    }),
  });

  const form = el('form', { class: 'filters', onSubmit: (event) => {
    event.preventDefault();
    volunteers.reload();
  } }, field('姓名', name), field('站点', station), field('技能', skill), field('状态', status),
  el('button', { type: 'submit', class: 'primary' }, '查找'));
  for (const control of [station, skill, status]) control.addEventListener('change', volunteers.reload);
  box.append(section('志愿者', el('p', { class: 'muted' }, '手机号、证件号已脱敏，出生日期以年龄段显示。'), form, list, volunteers.more));
  await volunteers.reload();
}

// ---------------------------------------------------------------- the staff

async function staffList(ctx, unit, box) {
  const role = el('select', {}, el('option', { value: '' }, '全部'),
    el('option', { value: 'coordinator' }, ROLE_NAMES.coordinator), el('option', { value: 'grid_worker' }, ROLE_NAMES.grid_worker));
  const list = el('div', {});
  const staff = pagedList({
    box: list,
    fetch: (cursor) => ctx.api.get(`/org-units/${unit.id}/staff`, { role: role.value || undefined, cursor, limit: 50 }),
    draw: (rows) => clear(list).append(table([
      { title: '姓名', cell: (m) => m.name },
      { title: '角色', cell: (m) => ROLE_NAMES[m.role] || m.role },
      { title: '单位', cell: (m) => `${m.unit.name} · ${levelName(m.unit.level)}` },
      { title: '用户名', cell: (m) => m.username || '—' },
      { title: '手机', cell: (m) => m.phone || '—' },
      { title: '账号', cell: (m) => (m.is_active ? badge('正常', 'ok') : badge('已停用', 'warn')) },
    ], rows, { rowAttrs: (m) => ({ 'data-test': 'staff-row', 'data-user-id': String(m.user_id) }), empty: '没有工作人员' })),
  });
  role.addEventListener('change', staff.reload);
  box.append(section('人员', el('p', { class: 'muted' }, `${unit.name}及下级单位的协调员与网格员；账号由管理员开设。`),
    el('div', { class: 'filters' }, field('角色', role)), list, staff.more));
  await staff.reload();
}

// ---------------------------------------------------------------- one volunteer

async function volunteerDetail(ctx, id, box) {
  const [volunteer, allSkills, record, standing] = await Promise.all([
    ctx.api.get(`/volunteers/${id}`),
    skills(ctx),
    ctx.api.get(`/volunteers/${id}/hours`),
    ctx.api.get(`/volunteers/${id}/stars`),
  ]);
  const redraw = async (changed, message) => {
    toast(message, 'success');
    clear(box);
    await volunteerDetail(ctx, changed.id, box);
  };

  // suspension and reinstatement
  const suspend = el('button', { type: 'button', class: 'danger', 'data-test': 'suspend-volunteer', hidden: volunteer.status !== 'active' }, '暂停资格');
  suspend.addEventListener('click', async () => {
    const reason = await askReason(`暂停 ${volunteer.name} 的志愿者资格`, { message: '暂停期间不能接单、不会被推荐。', ok: '暂停', danger: true });
    if (!reason) return;
    await busy(suspend, async () => redraw(await ctx.api.post(`/volunteers/${id}/suspend`, { reason }), '已暂停'));
  });
  const reinstate = el('button', { type: 'button', class: 'primary', 'data-test': 'reinstate-volunteer', hidden: volunteer.status !== 'suspended' }, '恢复资格');
  reinstate.addEventListener('click', async () => {
    if (!(await confirmDialog(`恢复 ${volunteer.name} 的志愿者资格`, '恢复后可以接单。', { ok: '恢复' }))) return;
    await busy(reinstate, async () => redraw(await ctx.api.post(`/volunteers/${id}/reinstate`), '已恢复'));
  });

  // qualifications
  const qualified = allSkills.filter((s) => s.needs_qualification);
  const skillSelect = el('select', { required: true }, qualified.map((s) => el('option', { value: s.code }, s.name)));
  const until = el('input', { type: 'date', required: true, min: today() });
  const qualify = el('button', { type: 'submit', class: 'primary' }, '登记资质');
  const qualifyForm = el('form', { class: 'filters', 'data-test': 'qualification-form', onSubmit: (event) => {
    event.preventDefault();
    busy(qualify, async () => redraw(await ctx.api.put(`/volunteers/${id}/qualification`, {
      skill_code: skillSelect.value, qualified_until: until.value,
    }), '已登记资质'));
  } }, field('技能', skillSelect), field('有效期至', until), qualify);

  // insurance
  const insured = el('input', { type: 'date', required: true, value: volunteer.insured_until || '' });
  const insure = el('button', { type: 'submit', class: 'primary' }, '登记保险');
  const insureForm = el('form', { class: 'filters', 'data-test': 'insurance-form', onSubmit: (event) => {
    event.preventDefault();
    busy(insure, async () => redraw(await ctx.api.put(`/volunteers/${id}/insurance`, { insured_until: insured.value }), '已登记保险'));
  } }, field('意外保险有效期至', insured), insure);

  const qualifications = Object.entries(volunteer.qualifications).map(([code, date]) => ({ code, date }));
  box.append(
    el('p', {}, el('a', { href: '#/volunteers' }, '← 返回志愿者列表')),
    section(volunteer.name,
      el('dl', { class: 'facts' },
        el('dt', {}, '状态'), el('dd', {}, statusBadge(volunteer.status), volunteer.suspended_reason ? ` ${volunteer.suspended_reason}` : ''),
        el('dt', {}, '手机'), el('dd', {}, volunteer.phone || '—'),
        el('dt', {}, '证件号'), el('dd', {}, volunteer.id_number || '—'),
        el('dt', {}, '年龄段'), el('dd', {}, volunteer.age_band || '—'),
        el('dt', {}, '站点'), el('dd', {}, volunteer.home_station.name),
        el('dt', {}, '服务半径'), el('dd', {}, `${(volunteer.service_radius_m / 1000).toFixed(1)} 公里`),
        el('dt', {}, '技能'), el('dd', {}, volunteer.skill_codes.map((c) => skillName(allSkills, c)).join('、') || '—'),
        el('dt', {}, '累计服务'), el('dd', {}, `${record.service_hours} 小时（培训 ${record.training_hours} 小时）`),
        el('dt', {}, '星级'), el('dd', {}, standing.current_star ? '★'.repeat(standing.current_star) : '尚无',
          standing.hours_to_go !== null ? `，距 ${standing.next_star} 星还差 ${standing.hours_to_go} 小时` : ''),
        el('dt', {}, '完成 / 退单 / 被收回'), el('dd', {}, `${volunteer.completed_count} / ${volunteer.withdrawn_count} / ${volunteer.released_count}`),
        el('dt', {}, '注册时间'), el('dd', {}, fmtTime(volunteer.created_at))),
      el('div', { class: 'actions' }, suspend, reinstate,
        el('a', { class: 'button', href: `#/hours?tab=certificates&volunteer=${volunteer.id}` }, '记录证明'))),
    section('技能资质', el('p', { class: 'muted' }, '需资质的技能须登记证书或培训有效期，过期后该技能的心愿不再派给他。'),
      table([
        { title: '技能', cell: (q) => skillName(allSkills, q.code) },
        { title: '有效期至', cell: (q) => el('span', { class: expired(q.date) ? 'text-warn' : null }, q.date) },
      ], qualifications, { empty: '尚未登记资质' }),
      qualified.length ? qualifyForm : null),
    section('意外保险', el('p', {}, volunteer.insured_until
      ? `有效期至 ${volunteer.insured_until}${expired(volunteer.insured_until) ? '（已过期）' : ''}`
      : '尚未登记；有风险的服务须在保期内。'), insureForm),
  );
}

// ---------------------------------------------------------------- the page

async function render(root, ctx) {
  const id = Number(ctx.params[0]);
  if (id > 0) {
    await volunteerDetail(ctx, id, root);
    return;
  }
  await unitTabsPage(root, ctx, {
    title: '志愿者与人员', test: 'volunteers',
    tabs: [['volunteers', '志愿者', volunteerList], ['staff', '人员', staffList]],
  });
}

export default { route: '#/volunteers', title: '志愿者', nav: 'nav-volunteers', render };
