// Calls to /api/v1 for the console.
//
// - Staff sign in with POST /auth/login; the tokens live in sessionStorage (one tab's session,
//   gone when the tab closes).
// - A 401 is answered once by POST /auth/refresh (a refresh token is good for one use; parallel
//   401s share one refresh) and the request is sent again with the new access token.
// - Every state-changing request carries an Idempotency-Key; a request sent again after a
//   refresh or a dropped connection keeps its key, so the server runs it at most once.
// - Errors arrive as {"error": {code, message, details}}; ApiError carries the Chinese message.

export const BASE = '/api/v1';
const STORE = 'console.session';
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

// ---------------------------------------------------------------- the session

const listeners = new Set();

export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE) || 'null');
    } catch {
      return null;
    }
  },
  set(tokens) {
    sessionStorage.setItem(STORE, JSON.stringify({
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      expires_at: tokens.expires_at,
      password_change_required: Boolean(tokens.password_change_required),
      user: tokens.user,
    }));
  },
  update(fields) {
    const current = this.get();
    if (current) sessionStorage.setItem(STORE, JSON.stringify({ ...current, ...fields }));
  },
  clear(reason) {
    const had = this.get() !== null;
    sessionStorage.removeItem(STORE);
    if (had) listeners.forEach((fn) => fn(reason));
  },
  user() {
    const current = this.get();
    return current ? current.user : null;
  },
  signedIn() {
    return this.get() !== null;
  },
  // fn(reason) runs when the session ends (sign-out, or a refresh the server refused).
  onEnd(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

// A key that is unique enough and needs no secure context (crypto.randomUUID does: county
// intranets often serve over plain http).
export function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return 'console-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------- requests

function url(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === '') continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(name, String(one));
  }
  const text = params.toString();
  return BASE + path + (text ? '?' + text : '');
}

// The fields the console sends, in the coordinator's words (a validation error names the first
// wrong one; a field not listed here is left unnamed rather than shown as code).
export const FIELD_NAMES = {
  reason: '理由', note: '留言', expires_in_minutes: '邀请有效时长', volunteer_ids: '志愿者',
  assignments: '派单方案', wish_id: '心愿', volunteer_id: '志愿者', unit_id: '单位',
  indicator: '考核指标', weight: '权重', weights: '权重', insured_until: '保险有效期',
  qualified_until: '资质有效期', skill_code: '技能', uphold: '处理结果', file: '文件',
  username: '用户名', password: '密码', current_password: '当前密码', new_password: '新密码',
  name: '姓名', phone: '手机号', from: '开始日期', to: '结束日期', hours: '时长', title: '标题',
  description: '说明', comment: '说明', station_id: '站点', role: '角色', status: '状态',
};

export function fieldName(loc) {
  if (!Array.isArray(loc)) return '';
  const named = loc.filter((part) => typeof part === 'string' && !['body', 'query', 'path'].includes(part));
  for (let i = named.length - 1; i >= 0; i -= 1) {
    if (FIELD_NAMES[named[i]]) return FIELD_NAMES[named[i]];
  }
  return '';
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body && body.error;
  if (error && typeof error.message === 'string') {
    let message = error.message;
    const first = error.details && Array.isArray(error.details.errors) && error.details.errors[0];
    if (first && first.msg) {
      const field = fieldName(first.loc);
      message += field ? `（${field}：${first.msg}）` : `（${first.msg}）`;
    }
    const found = new ApiError(response.status, error.code, message, error.details);
    found.retryAfter = response.headers.get('Retry-After');
    return found;
  }
  return new ApiError(response.status, 'HTTP_' + response.status,
    `服务器暂时无法处理请求（${response.status}），请稍后再试`, {});
}

let refreshing = null;

// Exchanges the refresh token once, however many requests met a 401 at the same time.
function refreshTokens() {
  if (!refreshing) {
    refreshing = (async () => {
      const current = session.get();
      if (!current || !current.refresh_token) return false;
      let response;
      try {
        response = await fetch(url('/auth/refresh'), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ refresh_token: current.refresh_token }),
          credentials: 'omit',
        });
      } catch {
        return false;
      }
      if (!response.ok) {
        const error = await errorOf(response);
        session.clear(error.message);
        return false;
      }
      session.set(await response.json());
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function send(method, path, { body, query, key, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  const form = body instanceof FormData; // a file upload: the browser sets its multipart type
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  if (key) headers['Idempotency-Key'] = key;
  const current = session.get();
  if (auth && current) headers.Authorization = 'Bearer ' + current.access_token;
  return fetch(url(path, query), {
    method,
    headers,
    body: body === undefined || form ? body : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
}

// The statistics, ranking, ledger and import routes share a few slots per caller on the server
// (429 HEAVY_PER_USER / HEAVY_BUSY beyond them, with Retry-After): the console sends them one at
// a time, in order, and waits and tries again (at most three times) when the server is full.
const HEAVY = /^\/(org-units\/\d+\/(stats|ranking|ledger|imports)|imports\/)/;
const HEAVY_TRIES = 3;
let heavyChain = Promise.resolve();

function oneAtATime(task) {
  const run = heavyChain.then(task, task);
  heavyChain = run.catch(() => {});
  return run;
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function heavyRequest(method, path, options) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await requestOnce(method, path, options);
    } catch (error) {
      const busy = error instanceof ApiError && error.status === 429 && String(error.code).startsWith('HEAVY_');
      if (!busy || attempt >= HEAVY_TRIES) throw error;
      await pause(Math.min(Number(error.retryAfter) || 2, 5) * 1000);
    }
  }
}

// One API call; resolves to the parsed JSON (null for 204), rejects with ApiError.
export function request(method, path, options = {}) {
  if (!HEAVY.test(path)) return requestOnce(method, path, options);
  // A retried write keeps its Idempotency-Key.
  const key = WRITES.has(method) ? options.key || newKey() : options.key;
  return oneAtATime(() => heavyRequest(method, path, { ...options, key }));
}

async function requestOnce(method, path, options = {}) {
  const write = WRITES.has(method) && !path.startsWith('/auth/');
  const key = write ? options.key || newKey() : undefined;
  const opts = { ...options, key };
  let response;
  try {
    response = await send(method, path, opts);
  } catch {
    if (!write) throw new ApiError(0, 'NETWORK', '网络连接失败，请检查网络后重试', {});
    // The answer was lost, not necessarily the request: send it again with the same key.
    try {
      response = await send(method, path, opts);
    } catch {
      throw new ApiError(0, 'NETWORK', '网络连接失败，请检查网络后重试', {});
    }
  }
  if (response.status === 401 && options.auth !== false && session.signedIn()) {
    if (await refreshTokens()) response = await send(method, path, opts);
    else {
      session.clear('登录已过期，请重新登录');
      throw new ApiError(401, 'UNAUTHORIZED', '登录已过期，请重新登录', {});
    }
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (error.code === 'PASSWORD_CHANGE_REQUIRED') {
      // A reset password: the server answers nothing but /me, the password change and sign-out.
      session.update({ password_change_required: true });
      window.dispatchEvent(new CustomEvent('console:password-change-required'));
    }
    throw error;
  }
  if (options.raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  return type.includes('json') ? response.json() : response.blob();
}

export const api = {
  get: (path, query) => request('GET', path, { query }),
  post: (path, body, options = {}) => request('POST', path, { ...options, body }),
  put: (path, body, options = {}) => request('PUT', path, { ...options, body }),
  delete: (path, options = {}) => request('DELETE', path, options),
};

// Uploads a file as multipart `file` (with any other fields), e.g. a bulk import.
export function upload(path, file, fields = {}) {
  const form = new FormData();
  form.append('file', file);
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return request('POST', path, { body: form });
}

// The file name a Content-Disposition header gives (filename* first: it carries Chinese).
export function nameIn(disposition) {
  if (!disposition) return null;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1].trim() : null;
}

// Downloads a file the API answers (an Excel or CSV export) under the signed-in session and
// hands it to the browser to save; `filename` is used when the answer names none.
export async function download(path, query, filename) {
  const response = await request('GET', path, { query, raw: true });
  const blob = await response.blob();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = nameIn(response.headers.get('content-disposition')) || filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

// ---------------------------------------------------------------- signing in and out

export async function signIn(username, password) {
  const tokens = await request('POST', '/auth/login', {
    body: { username, password },
    auth: false,
  });
  const staff = (tokens.user.roles || []).some((r) => r.role === 'coordinator' || r.role === 'admin');
  if (!staff) {
    throw new ApiError(403, 'STAFF_ONLY', '控制台仅供协调员和管理员使用', {});
  }
  session.set(tokens);
  return tokens;
}

export async function signOut() {
  try {
    if (session.signedIn()) await request('POST', '/auth/logout');
  } catch {
    // The session ends here whatever the server said.
  } finally {
    session.clear('已退出登录');
  }
}

// The coordinator's units, from the sign-in's roles: [{id, name}] (admins: none listed).
export function myUnits() {
  const user = session.user();
  const seen = new Map();
  for (const role of (user && user.roles) || []) {
    if (role.role === 'coordinator' && role.org_unit_id && !seen.has(role.org_unit_id)) {
      seen.set(role.org_unit_id, { id: role.org_unit_id, name: role.org_unit_name || `单位 ${role.org_unit_id}` });
    }
  }
  return Array.from(seen.values());
}
