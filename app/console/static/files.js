// Files to and from the API: downloads (the exports, templates, certificates) are fetched with
// the session's token and saved from a blob, since a plain link would carry no token; uploads
// (the import workbooks) go as multipart forms with an Idempotency-Key.

import { BASE, ApiError, api, newKey, request, session } from './api.js';

// Saves a blob under `filename` through a temporary object URL.
export function saveBlob(blob, filename) {
  const href = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = href;
  link.download = filename;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
}

// GET `path` (with `query`) and save the answer as `filename`.
export async function download(path, query, filename) {
  const body = await request('GET', path, { query });
  const blob = body instanceof Blob ? body : new Blob([JSON.stringify(body)], { type: 'application/json' });
  saveBlob(blob, filename);
  return blob;
}

async function errorOf(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) {
      return new ApiError(response.status, body.error.code, body.error.message, body.error.details);
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(response.status, 'HTTP_' + response.status, `上传失败（${response.status}），请稍后再试`, {});
}

// POST a file as the multipart field `file`; resolves to the JSON answer. A 401 renews the
// session through an ordinary call (which refreshes the tokens) and sends the file once more,
// under the same Idempotency-Key, so the server takes it at most once.
export async function upload(path, file) {
  const key = newKey();
  const post = () => {
    const form = new FormData();
    form.append('file', file, file.name);
    const current = session.get();
    const headers = { Accept: 'application/json', 'Idempotency-Key': key };
    if (current) headers.Authorization = 'Bearer ' + current.access_token;
    return fetch(BASE + path, { method: 'POST', headers, body: form, credentials: 'omit', cache: 'no-store' });
  };
  let response;
  try {
    response = await post();
    if (response.status === 401 && session.signedIn()) {
      await api.get('/me');
      response = await post();
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(0, 'NETWORK', '网络连接失败，请检查网络后重试', {});
  }
  if (!response.ok) throw await errorOf(response);
  return response.json();
}
