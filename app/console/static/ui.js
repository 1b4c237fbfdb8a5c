// Building blocks of the console's pages. Text always goes in as text nodes (el() and
// textContent); markup is never built from strings, so data can never become code.

const SVG_NS = 'http://www.w3.org/2000/svg';
const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'open']);

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) {
      // Handlers are functions only: a string would be an inline script (refused by the CSP).
      if (typeof value !== 'function') throw new Error(`${name} must be a function`);
      node.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      node.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (PROPERTIES.has(name) && !(node instanceof SVGElement)) {
      node[name] = value;
    } else if (name === 'style') {
      throw new Error('style attributes are refused by the CSP: use a class');
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// el('button', {class: 'primary', 'data-test': 'approve', onClick: fn}, '通过')
export function el(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

// ---------------------------------------------------------------- words

export const STATUS_NAMES = {
  submitted: '待审核',
  approved: '待派单',
  rejected: '审核未通过',
  dispatching: '派单中',
  accepted: '已接单',
  in_service: '服务中',
  completed: '待评价',
  rated: '已评价',
  closed: '已办结',
  cancelled: '已取消',
  // offers
  pending: '待答复',
  declined: '已婉拒',
  expired: '已过期',
  withdrawn: '已撤回',
};

export const URGENCY_NAMES = { normal: '一般', high: '较急', urgent: '紧急' };

export const EVENT_NAMES = {
  submit: '提交',
  approve: '审核通过',
  reject: '审核不通过',
  offer: '派单邀请',
  open_grab: '开放抢单',
  accept: '接单',
  decline: '婉拒',
  withdraw: '退单',
  release: '收回',
  expire: '邀请过期',
  check_in: '签到',
  check_out: '签退',
  rate: '评价',
  cancel: '取消',
  close: '办结',
  escalate: '上报',
  remind: '提醒',
};

export const ROLE_NAMES = {
  resident: '群众',
  volunteer: '志愿者',
  coordinator: '协调员',
  admin: '管理员',
  grid_worker: '网格员',
  system: '系统',
  requester: '点单人',
  assignee: '接单志愿者',
};

// “抢单中” only while the wish still waits for a volunteer (the flag stays set afterwards).
export function grabTag(wish, text = '抢单中') {
  return wish.grab_open && ['approved', 'dispatching'].includes(wish.status) ? el('span', { class: 'tag' }, text) : null;
}

export function statusBadge(status, label) {
  return el('span', {
    class: ['badge', 'status-' + status],
    'data-test': 'status-badge',
    'data-status': status,
  }, label || STATUS_NAMES[status] || status);
}

// ---------------------------------------------------------------- times and figures

// The city's time zone: the server's TIMEZONE, read from /console/settings.json by app.js
// before the first page is drawn (setZone); until then, and if that fails, the browser's own.
let ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;
let dateTime = null;
let shortTime = null;

function formatters() {
  if (!dateTime) {
    dateTime = new Intl.DateTimeFormat('zh-CN', {
      timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
    });
    shortTime = new Intl.DateTimeFormat('zh-CN', {
      timeZone: ZONE, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
    });
  }
  return { dateTime, shortTime };
}

// Sets the zone dates are shown in; a name the browser does not know is ignored (false).
export function setZone(name) {
  try {
    new Intl.DateTimeFormat('zh-CN', { timeZone: name }).format(new Date());
  } catch {
    return false;
  }
  ZONE = name;
  dateTime = null;
  shortTime = null;
  return true;
}

export function zone() {
  return ZONE;
}

// Today in the city's zone, as YYYY-MM-DD.
export function localToday(now = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export function fmtTime(iso, short = false) {
  if (!iso) return '—';
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return '—';
  const f = formatters();
  return (short ? f.shortTime : f.dateTime).format(when);
}

export function fmtWindow(start, end) {
  return `${fmtTime(start, true)} – ${fmtTime(end, true)}`;
}

// 3 天 2 小时 · 2 小时 5 分 · 4 分 30 秒
export function fmtDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days) return `${days} 天 ${hours} 小时`;
  if (hours) return `${hours} 小时 ${minutes} 分`;
  return `${minutes} 分 ${String(seconds).padStart(2, '0')} 秒`;
}

export function fmtDistance(m) {
  if (m === null || m === undefined) return '—';
  return m < 1000 ? `${Math.round(m)} 米` : `${(m / 1000).toFixed(1)} 公里`;
}

export function fmtPercent(fraction) {
  return `${Math.round(fraction * 100)}%`;
}

// ---------------------------------------------------------------- feedback

export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts') || document.body;
  const node = el('div', { class: ['toast', 'toast-' + kind], 'data-test': 'toast', role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(node);
  setTimeout(() => node.classList.add('leaving'), kind === 'error' ? 6000 : 3500);
  setTimeout(() => node.remove(), kind === 'error' ? 6500 : 4000);
  return node;
}

// Shows an error from the API (ApiError) or anything else as a toast.
export function showError(error) {
  const message = error && error.message ? error.message : '操作失败，请稍后再试';
  return toast(message, 'error');
}

// A modal dialog: resolves to the reason typed (reason: true) or true, or null if cancelled.
export function dialog({ title, message, reason = false, label = '理由', placeholder = '', ok = '确定', danger = false, maxLength = 500 }) {
  return new Promise((resolve) => {
    const input = reason
      ? el('textarea', { id: 'dialog-reason', 'data-test': 'dialog-reason', rows: 3, maxlength: maxLength, placeholder, 'aria-required': 'true' })
      : null;
    const hint = el('p', { class: 'field-error', hidden: true }, '请填写理由');
    const okButton = el('button', { type: 'submit', class: danger ? 'danger' : 'primary', 'data-test': 'dialog-ok' }, ok);
    const cancel = el('button', { type: 'button', 'data-test': 'dialog-cancel' }, '取消');
    const form = el('form', { method: 'dialog', class: 'dialog-body' },
      el('h2', {}, title),
      message ? el('p', {}, message) : null,
      input ? el('label', { for: 'dialog-reason' }, label) : null,
      input, hint,
      el('div', { class: 'actions' }, cancel, okButton));
    const box = el('dialog', { class: 'dialog', 'aria-label': title }, form);
    let answered = false;
    const finish = (value) => {
      if (answered) return;
      answered = true;
      box.close();
      box.remove();
      resolve(value);
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (input) {
        const text = input.value.trim();
        if (!text) {
          hint.hidden = false;
          input.focus();
          return;
        }
        finish(text);
      } else finish(true);
    });
    cancel.addEventListener('click', () => finish(null));
    box.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(null);
    });
    document.body.append(box);
    box.showModal();
    (input || okButton).focus();
  });
}

export const askReason = (title, options = {}) => dialog({ title, reason: true, ...options });
export const confirmDialog = (title, message, options = {}) => dialog({ title, message, ...options });

// Runs an action with its button disabled; shows the API's message if it fails.
export async function busy(button, action) {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// A long download (an export, a ledger): its button disabled while it runs and, beside it, an
// indeterminate progress bar counting the seconds; if it fails, the reason stays there in words
// until the next try. api.js has already waited out a full server (429 HEAVY_*) by then.
const running = new WeakMap();

export async function withProgress(button, action, { label = '正在生成文件' } = {}) {
  if (running.get(button) === true) return undefined;
  const previous = running.get(button);
  if (previous) previous.remove();
  const seconds = el('span', { class: 'muted', 'data-test': 'export-elapsed' });
  const box = el('span', { class: 'export-progress', role: 'status' },
    el('progress', { 'data-test': 'export-progress', 'aria-label': label }), seconds);
  const started = Date.now();
  const tick = () => {
    seconds.textContent = `${label}… 已用 ${Math.floor((Date.now() - started) / 1000)} 秒`;
  };
  tick();
  const timer = setInterval(tick, 1000);
  running.set(button, true);
  button.disabled = true;
  button.setAttribute('aria-disabled', 'true');
  button.after(box);
  try {
    const result = await action();
    box.remove();
    running.delete(button);
    return result;
  } catch (error) {
    const reason = error && error.message ? error.message : '请稍后再试';
    const failed = el('span', { class: 'field-error export-error', 'data-test': 'export-error', role: 'alert' }, `下载失败：${reason}`);
    box.replaceWith(failed);
    running.set(button, failed);
    toast(`下载失败：${reason}`, 'error');
    return undefined;
  } finally {
    clearInterval(timer);
    button.disabled = false;
    button.removeAttribute('aria-disabled');
  }
}

// ---------------------------------------------------------------- tables and states

// An empty list's words and, below them, what to do about it.
export function emptyState(text, hint) {
  return el('p', { class: 'empty', 'data-test': 'empty' }, text, hint ? el('span', { class: 'hint' }, hint) : null);
}

// columns: [{title, cell: row => text|Node, class}]; rowAttrs: row => attributes of the <tr>;
// empty (and hint): what an empty table says instead.
export function table(columns, rows, { rowAttrs, empty = '暂无数据', hint, caption } = {}) {
  if (!rows.length) return emptyState(empty, hint);
  return el('div', { class: 'table-wrap' },
    el('table', { class: 'data' },
      caption ? el('caption', {}, caption) : null,
      el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col', class: c.class }, c.title)))),
      el('tbody', {}, rows.map((row) => el('tr', rowAttrs ? rowAttrs(row) : {},
        columns.map((c) => el('td', { class: c.class, 'data-label': c.title }, el('div', { class: 'cell' }, c.cell(row)))))))));
}

export function loading(text = '加载中…') {
  return el('p', { class: 'loading', role: 'status' }, text);
}

// A list read a page at a time under a 加载更多 button (the API's `next_cursor`).
//   fetch(cursor): one page, {items, next_cursor} (cursor undefined for the first);
//   draw(rows, added): shows every row read so far (added: the page just read);
//   box (optional): where the list goes; it shows 加载中 on reload and, if a page fails, the
//   error with 重试 (without a box, the first page's error goes to the caller).
// Returns { more (the button, to place under the list), reload() (from the first page again:
// a filter changed), rows (the array drawn, to change a row in place) }. An answer to a load
// that a reload has overtaken is dropped.
export function pagedList({ fetch, draw, box }) {
  const more = el('button', { type: 'button', hidden: true, 'data-test': 'load-more' }, '加载更多');
  const rows = [];
  let cursor = null;
  let loads = 0;
  async function load(reset) {
    const ticket = reset ? ++loads : loads;
    if (reset) {
      cursor = null;
      if (box) clear(box).append(loading());
    }
    let page;
    try {
      page = await fetch(cursor || undefined);
    } catch (error) {
      if (ticket !== loads) return;
      if (!box) throw error;
      clear(box).append(errorState(error, () => load(true)));
      return;
    }
    if (ticket !== loads) return;
    if (reset) rows.length = 0;
    rows.push(...page.items);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    draw(rows, page.items);
  }
  more.addEventListener('click', () => busy(more, () => load(false)));
  return { more, rows, reload: () => load(true) };
}

// What failed, with 重试 (retry) and, given {href, label}, a way out (a missing or out-of-reach
// record is not retried: only the way back is offered).
export function errorState(error, retry, back) {
  const gone = error && error.status === 404;
  return el('div', { class: 'error-state', role: 'alert', 'data-test': 'error-state' },
    el('p', {}, error && error.message ? error.message : '加载失败'),
    gone ? el('p', { class: 'muted' }, '可能已被删除，或不在您管理的单位范围内。') : null,
    el('div', { class: 'actions center' },
      retry && !gone ? el('button', { type: 'button', onClick: retry }, '重试') : null,
      back ? el('a', { class: 'button', href: back.href }, back.label) : null));
}

export function field(label, control, hint) {
  return el('label', { class: 'field' }, el('span', { class: 'field-label' }, label), control,
    hint ? el('span', { class: 'field-hint' }, hint) : null);
}

export function section(title, ...children) {
  return el('section', { class: 'panel' }, title ? el('h2', {}, title) : null, ...children);
}

// A horizontal bar 0..1 (a factor's value), with its label and figure.
export function meter(value, label) {
  const bar = el('span', { class: 'meter-fill' });
  bar.style.width = `${Math.round(Math.max(0, Math.min(1, value)) * 100)}%`;
  return el('span', { class: 'meter', title: label ? `${label} ${fmtPercent(value)}` : fmtPercent(value) },
    el('span', { class: 'meter-track' }, bar));
}

// ---------------------------------------------------------------- chart

// A small inline-SVG chart of points [{label, value}] drawn into svgParent (an <svg>, or an
// element that receives one). kind: 'bar' (default) or 'line'. Returns the <svg>.
export function chart(svgParent, points, { kind = 'bar', unit = '', width = 600, height = 220, title } = {}) {
  const root = svgParent instanceof SVGSVGElement ? svgParent : svg('svg', {});
  clear(root);
  root.setAttribute('viewBox', `0 0 ${width} ${height}`);
  root.setAttribute('class', 'chart chart-kind-' + kind);
  root.setAttribute('role', 'img');
  root.setAttribute('preserveAspectRatio', 'xMidYMid meet');
  if (title) root.append(svg('title', {}, title));
  if (!(svgParent instanceof SVGSVGElement)) svgParent.append(root);
  const pad = { top: 16, right: 12, bottom: 34, left: 44 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const values = points.map((p) => Number(p.value) || 0);
  if (!points.length) {
    root.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'chart-empty' }, '暂无数据'));
    return root;
  }
  const max = Math.max(...values, 0) || 1;
  const y = (v) => pad.top + plotH - (v / max) * plotH;
  const step = plotW / points.length;
  const x = (i) => pad.left + step * i + step / 2;
  // axis and three grid lines with their figures
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    root.append(
      svg('line', { x1: pad.left, x2: width - pad.right, y1: y(value), y2: y(value), class: 'chart-grid' }),
      svg('text', { x: pad.left - 6, y: y(value) + 4, 'text-anchor': 'end', class: 'chart-axis' }, fmtAxis(value, unit)));
  }
  // Axis labels no closer than their own width (a CJK character is about one em wide).
  const longest = Math.max(...points.map((p) => String(p.label).length), 1);
  const every = Math.max(1, Math.ceil((points.length * (longest * 11 + 8)) / plotW));
  points.forEach((point, i) => {
    const label = `${point.label}：${fmtAxis(values[i], unit)}`;
    if (kind === 'bar') {
      const w = Math.max(2, step * 0.7);
      root.append(svg('rect', { x: x(i) - w / 2, y: y(values[i]), width: w, height: Math.max(0, pad.top + plotH - y(values[i])), class: 'chart-bar' },
        svg('title', {}, label)));
    }
    if (i % every === 0) {
      root.append(svg('text', { x: x(i), y: height - pad.bottom + 16, 'text-anchor': 'middle', class: 'chart-axis' }, String(point.label)));
    }
  });
  if (kind === 'line') {
    root.append(svg('polyline', { points: points.map((_, i) => `${x(i)},${y(values[i])}`).join(' '), class: 'chart-line', fill: 'none' }));
    points.forEach((point, i) => root.append(svg('circle', { cx: x(i), cy: y(values[i]), r: 3, class: 'chart-dot' },
      svg('title', {}, `${point.label}：${fmtAxis(values[i], unit)}`))));
  }
  return root;
}

function fmtAxis(value, unit) {
  if (unit === '%') return `${Math.round(value * 100)}%`;
  return String(Math.abs(value) >= 10 ? Math.round(value) : Math.round(value * 10) / 10);
}
