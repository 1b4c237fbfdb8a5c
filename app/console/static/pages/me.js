// 我的: who is signed in, with which roles; change the password; sign out.

import { signOut } from '../api.js';
import { el, field, section, table, toast, busy, ROLE_NAMES } from '../ui.js';

async function render(root, ctx) {
  const me = await ctx.api.get('/me');
  const mustChange = Boolean(me.password_change_required || (ctx.session.get() || {}).password_change_required);

  const current = el('input', { type: 'password', 'data-test': 'password-current', autocomplete: 'current-password', required: true, maxlength: 128 });
  const fresh = el('input', { type: 'password', 'data-test': 'password-new', autocomplete: 'new-password', required: true, minlength: 10, maxlength: 128 });
  const again = el('input', { type: 'password', 'data-test': 'password-again', autocomplete: 'new-password', required: true, minlength: 10, maxlength: 128 });
  const save = el('button', { type: 'submit', class: 'primary', 'data-test': 'password-submit' }, '修改密码');
  const form = el('form', { class: 'form', onSubmit: (event) => {
    event.preventDefault();
    if (fresh.value !== again.value) {
      toast('两次输入的新密码不一致', 'error');
      return;
    }
    busy(save, async () => {
      await ctx.api.post('/auth/password', { current_password: current.value, new_password: fresh.value });
      form.reset();
      ctx.session.update({ password_change_required: false });
      toast('密码已修改，本账号的其他登录已退出', 'success');
      if (mustChange) ctx.navigate('#/');
    });
  } },
  field('当前密码', current),
  field('新密码', fresh, '至少 10 位，须同时含字母和数字，至少 5 个不同字符，不得包含用户名'),
  field('再输一次新密码', again),
  el('div', { class: 'actions' }, save));

  const out = el('button', { type: 'button', 'data-test': 'sign-out', onClick: (event) => busy(event.currentTarget, () => signOut()) }, '退出登录');

  root.append(
    el('h1', {}, '我的'),
    mustChange ? el('p', { class: 'notice warn', role: 'alert' }, '首次登录或密码已被重置：请先修改密码，再使用其他功能。') : null,
    section('账号',
      el('dl', { class: 'facts' },
        el('dt', {}, '姓名'), el('dd', { 'data-test': 'me-name' }, me.name),
        el('dt', {}, '手机'), el('dd', {}, me.phone || '—')),
      table([
        { title: '角色', cell: (r) => ROLE_NAMES[r.role] || r.role },
        { title: '单位', cell: (r) => r.org_unit_name || (r.org_unit_id ? `单位 ${r.org_unit_id}` : '全部') },
      ], me.roles, { empty: '没有角色' })),
    section('修改密码', form),
    section(null, el('div', { class: 'actions' }, out)));
}

export default { route: '#/me', title: '我的', nav: 'nav-me', render };
