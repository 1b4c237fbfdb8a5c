// The console's shell: sign-in, the navigation, and a hash router over the page modules listed
// in pages/index.js. A page is {route: '#/name', title, nav, render(root, ctx)}; '#/name/12'
// renders the same page with ctx.params = ['12'] and '#/name?status=x' gives ctx.query.
// render may be async and may return a function, called when the page is left.

import { api, ApiError, session, signIn } from './api.js';
import { el, clear, toast, showError, loading, errorState } from './ui.js';
import pages from './pages/index.js';

const app = document.getElementById('app');
let leave = null; // the current page's clean-up
let rendering = 0; // bumps on every navigation; a slow render for an old hash is dropped

function parseHash() {
  const raw = location.hash || '#/';
  const [path, search] = raw.split('?');
  const parts = path.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || '', params: parts.slice(1), query: new URLSearchParams(search || '') };
}

function pageFor(name) {
  return pages.find((p) => p.route === '#/' + name);
}

function defaultRoute() {
  const current = session.get();
  if (current && current.password_change_required) return '#/me';
  return pages[0] ? pages[0].route : '#/me';
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// ---------------------------------------------------------------- the frame

function header(active) {
  const user = session.user();
  return el('header', { class: 'topbar' },
    el('a', { class: 'brand', href: '#/' }, el('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '文'), el('span', {}, '志愿服务派单 · 协调员控制台')),
    el('nav', { class: 'nav', 'aria-label': '主导航' },
      pages.filter((p) => p.nav).map((p) => el('a', {
        href: p.route,
        'data-test': p.nav,
        class: p === active ? 'active' : null,
        'aria-current': p === active ? 'page' : null,
      }, p.title))),
    user ? el('span', { class: 'who' }, user.name) : null);
}

function frame(active) {
  const main = el('main', { class: 'page', id: 'page', tabindex: '-1' });
  clear(app).append(header(active), main);
  return main;
}

// ---------------------------------------------------------------- sign-in

function signInView() {
  document.title = '登录 · 协调员控制台';
  const username = el('input', { id: 'signin-username', 'data-test': 'signin-username', name: 'username', autocomplete: 'username', required: true, maxlength: 50 });
  const password = el('input', { id: 'signin-password', 'data-test': 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 128 });
  const submit = el('button', { type: 'submit', class: 'primary wide', 'data-test': 'signin-submit' }, '登录');
  const problem = el('p', { class: 'field-error', role: 'alert', hidden: true });
  const form = el('form', { class: 'signin', onSubmit: async (event) => {
    event.preventDefault();
    problem.hidden = true;
    submit.disabled = true;
    try {
      await signIn(username.value.trim(), password.value);
      password.value = '';
      const back = sessionStorage.getItem('console.after-signin');
      sessionStorage.removeItem('console.after-signin');
      navigate(session.get().password_change_required ? '#/me' : back || defaultRoute());
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
    } finally {
      submit.disabled = false;
    }
  } },
  el('h1', {}, '协调员登录'),
  el('p', { class: 'muted' }, '新时代文明实践志愿服务派单系统'),
  el('label', { for: 'signin-username' }, '用户名'), username,
  el('label', { for: 'signin-password' }, '密码'), password,
  problem, submit);
  clear(app).append(el('div', { class: 'signin-wrap' }, form));
  username.focus();
}

// ---------------------------------------------------------------- routing

async function route() {
  const ticket = ++rendering;
  if (leave) {
    try {
      leave();
    } catch (error) {
      console.error(error);
    }
    leave = null;
  }
  if (!session.signedIn()) {
    const wanted = location.hash;
    if (wanted && wanted !== '#/' && wanted !== '#/signin') sessionStorage.setItem('console.after-signin', wanted);
    signInView();
    return;
  }
  const { name, params, query } = parseHash();
  const page = pageFor(name);
  if (!page) {
    location.replace(defaultRoute());
    return;
  }
  if (session.get().password_change_required && page.route !== '#/me') {
    location.replace('#/me');
    return;
  }
  document.title = `${page.title} · 协调员控制台`;
  const root = frame(page);
  root.append(loading());
  const ctx = {
    api,
    params,
    query,
    navigate,
    toast,
    user: session.user(),
    session,
    reload: () => route(),
    // True while this render is still the page on screen (async work checks before drawing).
    current: () => ticket === rendering,
  };
  try {
    const body = el('div', { class: 'page-body' });
    const cleanup = await page.render(body, ctx);
    if (ticket !== rendering) {
      if (typeof cleanup === 'function') cleanup();
      return;
    }
    clear(root).append(body);
    leave = typeof cleanup === 'function' ? cleanup : null;
  } catch (error) {
    if (ticket !== rendering) return;
    clear(root).append(errorState(error, () => route()));
    if (error && error.status !== 401) showError(error);
  }
}

session.onEnd((reason) => {
  if (reason) toast(reason, reason === '已退出登录' ? 'info' : 'error');
  route();
});

window.addEventListener('hashchange', route);
window.addEventListener('console:password-change-required', () => navigate('#/me'));
// An API error a page did not catch still reaches the coordinator, in its Chinese words.
window.addEventListener('unhandledrejection', (event) => {
  if (event.reason instanceof ApiError) {
    showError(event.reason);
    event.preventDefault();
  }
});

route();
