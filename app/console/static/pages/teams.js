// 队伍与组织: the volunteer teams and organisations (enterprises, schools, departments, social
// groups) of the unit's subtree; verifying an organisation registered with a centre, approving
// members, and one team's record, honour list, 万企帮万户 adoptions and export.

import { el, clear, table, section, field, fmtTime, toast, busy, askReason, confirmDialog, errorState, pagedList, withProgress, localToday as today } from '../ui.js';
import { download } from '../api.js';
import { unitPicker, stationsUnder } from '../unit-picker.js';

const KINDS = { team: '志愿服务队', enterprise: '企业', school: '学校', department: '机关部门', social_group: '社会组织' };
const STATUS = { pending: '待认证', verified: '已认证', rejected: '未通过', suspended: '已暂停' };
const MEMBER_STATUS = { applied: '待审批', active: '在册', refused: '未同意', left: '已退出' };
const WISH_STATUS = { accepted: '已接单', in_service: '服务中', completed: '待评价', rated: '已评价', closed: '已办结', cancelled: '已取消' };

function badge(text, kind) {
  return el('span', { class: ['badge', kind ? 'badge-' + kind : null] }, text);
}

function statusBadge(status) {
  const kind = { verified: 'ok', pending: 'info', rejected: 'warn', suspended: 'warn' }[status];
  return badge(STATUS[status] || status, kind);
}

function yearStart() {
  return `${today().slice(0, 4)}-01-01`;
}

// ---------------------------------------------------------------- deciding on an organisation

function decisionButtons(ctx, team, done) {
  if (team.status !== 'pending' || !team.i_manage) return [];
  const verify = el('button', { type: 'button', class: 'primary', 'data-test': 'team-verify' }, '认证');
  verify.addEventListener('click', async () => {
    if (!(await confirmDialog(`认证 ${team.name}`, '认证后可接收成员、以团队名义接单和结对帮扶。', { ok: '认证' }))) return;
    await busy(verify, async () => done(await ctx.api.post(`/teams/${team.id}/verify`), '已认证'));
  });
  const reject = el('button', { type: 'button', class: 'danger', 'data-test': 'team-reject' }, '不予认证');
  reject.addEventListener('click', async () => {
    const reason = await askReason(`不予认证 ${team.name}`, { message: '理由会告知注册人。', ok: '不予认证', danger: true, maxLength: 200 });
    if (!reason) return;
    await busy(reject, async () => done(await ctx.api.post(`/teams/${team.id}/reject`, { reason }), '已不予认证'));
  });
  return [verify, reject];
}

// ---------------------------------------------------------------- the list

async function teamList(ctx, unit, box) {
  const kind = el('select', {}, el('option', { value: '' }, '全部类型'), Object.entries(KINDS).map(([v, t]) => el('option', { value: v }, t)));
  const status = el('select', { 'data-test': 'team-status-filter' }, el('option', { value: '' }, '全部状态'), Object.entries(STATUS).map(([v, t]) => el('option', { value: v }, t)));
  const list = el('div', {});
  let teams = null;
  const draw = (rows) => clear(list).append(table([
    { title: '名称', cell: (t) => el('a', { href: `#/teams/${t.id}` }, t.name) },
    { title: '类型', cell: (t) => t.kind_label },
    { title: '所属 / 认证单位', cell: (t) => t.unit.name },
    { title: '负责人', cell: (t) => t.lead_name || '—' },
    { title: '在册成员', cell: (t) => String(t.member_count) },
    { title: '状态', cell: (t) => statusBadge(t.status) },
    { title: '', cell: (t) => el('div', { class: 'actions' }, decisionButtons(ctx, t, (_changed, message) => {
      toast(message, 'success');
      return teams.reload();
    })) },
  ], rows, { rowAttrs: (t) => ({ 'data-test': 'team-row', 'data-team-id': String(t.id) }), empty: '没有符合条件的队伍或组织', hint: '志愿服务队由单位建立；企业、学校等组织在小程序注册后由实践中心认证。' }));
  teams = pagedList({
    box: list,
    draw,
    fetch: (cursor) => ctx.api.get('/teams', { unit_id: unit.id, kind: kind.value || undefined, status: status.value || undefined, cursor, limit: 50 }),
  });
  for (const control of [kind, status]) control.addEventListener('change', teams.reload);
  box.append(section('队伍与组织', el('p', { class: 'muted' }, `${unit.name}及下级单位的志愿服务队，以及向实践中心注册的企业、学校、机关部门与社会组织。`),
    el('div', { class: 'filters' }, field('类型', kind), field('状态', status)), list, teams.more));
  await teams.reload();
}

// ---------------------------------------------------------------- one team

function membersSection(ctx, team, members, redraw) {
  const canDecide = team.i_manage || team.i_lead;
  return section('成员', table([
    { title: '姓名', cell: (m) => m.name },
    { title: '站点', cell: (m) => m.station.name },
    { title: '身份', cell: (m) => (m.role === 'lead' ? '负责人' : '成员') },
    { title: '状态', cell: (m) => badge(MEMBER_STATUS[m.status] || m.status, m.status === 'active' ? 'ok' : m.status === 'applied' ? 'info' : null) },
    { title: '申请 / 审批', cell: (m) => `${fmtTime(m.created_at, true)}${m.decided_at ? ' / ' + fmtTime(m.decided_at, true) : ''}${m.reason ? '（' + m.reason + '）' : ''}`, class: 'wrap' },
    { title: '', cell: (m) => {
      if (!canDecide || m.status !== 'applied') return '';
      const approve = el('button', { type: 'button', class: 'primary', 'data-test': 'member-approve' }, '批准');
      approve.addEventListener('click', () => busy(approve, async () => redraw(await ctx.api.post(`/team-members/${m.id}/approve`), '已批准入队')));
      const refuse = el('button', { type: 'button', 'data-test': 'member-refuse' }, '不同意');
      refuse.addEventListener('click', async () => {
        const reason = await askReason(`不同意 ${m.name} 入队`, { ok: '不同意', maxLength: 200 });
        if (!reason) return;
        await busy(refuse, async () => redraw(await ctx.api.post(`/team-members/${m.id}/refuse`, { reason }), '已答复'));
      });
      return el('div', { class: 'actions' }, approve, refuse);
    } },
  ], members, { rowAttrs: (m) => ({ 'data-test': 'member-row', 'data-member-id': String(m.id) }), empty: '还没有成员' }));
}

async function recordSection(ctx, team) {
  const from = el('input', { type: 'date', value: yearStart(), required: true });
  const to = el('input', { type: 'date', value: today(), required: true });
  const period = el('select', {}, el('option', { value: 'year' }, '本年'), el('option', { value: 'season' }, '本季（四季红）'), el('option', { value: 'month' }, '本月'));
  const figures = el('div', {});
  const honour = el('div', {});
  const xlsx = el('button', { type: 'button', 'data-test': 'team-export' }, '下载 Excel');
  const csv = el('button', { type: 'button' }, '下载 CSV');
  const span = () => ({ from: from.value, to: to.value });
  xlsx.addEventListener('click', () => withProgress(xlsx, () => download(`/teams/${team.id}/export`, { ...span(), format: 'xlsx' }, `${team.name}.xlsx`)));
  csv.addEventListener('click', () => withProgress(csv, () => download(`/teams/${team.id}/export`, { ...span(), format: 'csv' }, `${team.name}.csv`)));

  async function loadFigures() {
    clear(figures);
    try {
      const [record, help] = await Promise.all([
        ctx.api.get(`/teams/${team.id}/record`, span()),
        ctx.api.get(`/teams/${team.id}/help`, span()),
      ]);
      figures.append(
        el('dl', { class: 'facts', 'data-test': 'team-figures' },
          el('dt', {}, '以团队名义接单'), el('dd', {}, `${record.wishes_taken} 件（已完成 ${record.wishes_completed} 件）`),
          el('dt', {}, '参加活动'), el('dd', {}, `${record.activities_joined} 个`),
          el('dt', {}, '成员服务时长'), el('dd', {}, `${record.hours} 小时`),
          el('dt', {}, '在册成员'), el('dd', {}, `${record.active_members} 人`),
          el('dt', {}, '结对帮扶'), el('dd', {}, `困难家庭 ${help.households_adopted} 户，村（社区）${help.villages_adopted} 个`)),
        table([
          { title: '接单时间', cell: (w) => fmtTime(w.accepted_at, true) },
          { title: '心愿', cell: (w) => el('a', { href: `#/wishes/${w.wish_id}` }, w.title) },
          { title: '状态', cell: (w) => WISH_STATUS[w.status] || w.status },
          { title: '应召成员', cell: (w) => String(w.members_accepted) },
        ], record.wishes, { empty: '期内没有以团队名义接下的心愿' }));
    } catch (error) {
      figures.append(errorState(error, loadFigures));
    }
  }

  async function loadHonour() {
    clear(honour);
    try {
      const list = await ctx.api.get(`/teams/${team.id}/honour-list`, { period: period.value });
      honour.append(el('p', { class: 'muted' }, `${list.start_date} 至 ${list.end_date}`), table([
        { title: '名次', cell: (r) => String(r.rank) },
        { title: '成员', cell: (r) => r.name },
        { title: '服务时长（小时）', cell: (r) => String(r.hours) },
      ], list.items, { rowAttrs: () => ({ 'data-test': 'team-honour-row' }), empty: '期内还没有成员的服务时长' }));
    } catch (error) {
      honour.append(errorState(error, loadHonour));
    }
  }

  const form = el('form', { class: 'filters', onSubmit: (event) => {
    event.preventDefault();
    loadFigures();
  } }, field('起', from), field('止', to), el('button', { type: 'submit', class: 'primary' }, '统计'), team.i_manage || team.i_lead ? [xlsx, csv] : null);
  period.addEventListener('change', loadHonour);
  await Promise.all([loadFigures(), loadHonour()]);
  return [
    section('服务记录', el('p', { class: 'muted' }, '时长为在册成员入队后、经确认的服务时长之和。'), form, figures),
    section('光荣榜', el('div', { class: 'filters' }, field('统计期', period)), honour),
  ];
}

async function adoptionsSection(ctx, team, redraw) {
  const rows = await ctx.api.get(`/teams/${team.id}/adoptions`);
  const children = [table([
    { title: '结对对象', cell: (a) => (a.village ? a.village.name : `困难家庭（${a.household || '—'}）`) },
    { title: '开始', cell: (a) => a.start_date },
    { title: '结束', cell: (a) => a.end_date || '—' },
    { title: '状态', cell: (a) => badge(a.status === 'active' ? '结对中' : '已结束', a.status === 'active' ? 'ok' : null) },
    { title: '说明', cell: (a) => a.note || '', class: 'wrap' },
    { title: '', cell: (a) => {
      if (a.status !== 'active' || !team.i_manage) return '';
      const end = el('button', { type: 'button' }, '结束');
      end.addEventListener('click', async () => {
        if (!(await confirmDialog('结束结对帮扶', '结束后不再计入该组织的结对数。', { ok: '结束' }))) return;
        await busy(end, async () => redraw(await ctx.api.post(`/team-adoptions/${a.id}/end`), '已结束结对'));
      });
      return end;
    } },
  ], rows, { rowAttrs: () => ({ 'data-test': 'adoption-row' }), empty: '还没有结对帮扶' })];
  if (team.status === 'verified' && team.i_manage) {
    const stations = await stationsUnder(ctx.api, team.unit).catch(() => []);
    const village = el('select', {}, el('option', { value: '' }, '（选择村）'), stations.map((s) => el('option', { value: String(s.id) }, s.name)));
    const household = el('input', { type: 'number', min: 1, placeholder: '困难家庭编号' });
    const note = el('input', { type: 'text', maxlength: 500, placeholder: '帮扶内容' });
    const add = el('button', { type: 'submit', class: 'primary' }, '登记结对');
    children.push(el('form', { class: 'filters', 'data-test': 'adoption-form', onSubmit: (event) => {
      event.preventDefault();
      const body = household.value ? { household_id: Number(household.value) } : { village_id: Number(village.value) };
      busy(add, async () => redraw(await ctx.api.post(`/teams/${team.id}/adoptions`, { ...body, note: note.value.trim() }), '已登记结对'));
    } }, field('村（社区）', village), field('或困难家庭', household), field('说明', note), add));
  }
  return section('万企帮万户 · 结对帮扶', ...children);
}

async function teamDetail(ctx, id, box) {
  const [team, members] = await Promise.all([ctx.api.get(`/teams/${id}`), ctx.api.get(`/teams/${id}/members`)]);
  const redraw = async (_changed, message) => {
    toast(message, 'success');
    clear(box);
    await teamDetail(ctx, id, box);
  };
  const record = team.status === 'verified' ? await recordSection(ctx, team) : [];
  box.append(
    el('p', {}, el('a', { href: '#/teams' }, '← 返回队伍与组织')),
    section(team.name,
      el('dl', { class: 'facts' },
        el('dt', {}, '类型'), el('dd', {}, team.kind_label),
        el('dt', {}, '状态'), el('dd', {}, statusBadge(team.status), team.decision_reason ? ` ${team.decision_reason}` : ''),
        el('dt', {}, team.kind === 'team' ? '所属单位' : '认证单位'), el('dd', {}, team.unit.name),
        el('dt', {}, '负责人'), el('dd', {}, team.lead_name || '—'),
        el('dt', {}, '统一社会信用代码'), el('dd', {}, team.credit_code || '—'),
        el('dt', {}, '联系人'), el('dd', {}, [team.contact_name, team.contact_phone].filter(Boolean).join(' ') || '—'),
        el('dt', {}, '简介'), el('dd', {}, team.description || '—'),
        el('dt', {}, '注册时间'), el('dd', {}, fmtTime(team.created_at))),
      el('div', { class: 'actions' }, decisionButtons(ctx, team, redraw))),
    membersSection(ctx, team, members, redraw),
    ...record,
    team.status === 'verified' ? await adoptionsSection(ctx, team, redraw) : null,
  );
}

// ---------------------------------------------------------------- the page

async function render(root, ctx) {
  const id = Number(ctx.params[0]);
  if (id > 0) {
    await teamDetail(ctx, id, root);
    return;
  }
  const body = el('div', {});
  const picker = await unitPicker(ctx.api, () => open());
  function open() {
    clear(body);
    const unit = picker.unit();
    if (!unit) {
      body.append(el('p', { class: 'empty' }, '没有可管理的单位'));
      return undefined;
    }
    return teamList(ctx, unit, body).catch((error) => clear(body).append(errorState(error, open)));
  }
  root.append(el('div', { class: 'page-head' }, el('h1', {}, '队伍与组织'), picker.node), body);
  await open();
}

export default { route: '#/teams', title: '队伍与组织', nav: 'nav-teams', render };
