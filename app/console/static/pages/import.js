// 导入: volunteers or staff in bulk from a workbook. Download the template, fill it in, upload
// it for a unit; the server checks every row first and writes nothing unless all are right, so
// the page shows the progress and, when it fails, every row's error to mend in the file.

import { el, clear, table, section, field, toast, busy, showError } from '../ui.js';
import { unitPicker } from '../unit-picker.js';
import { download, upload } from '../api.js';

const KINDS = [['volunteers', '志愿者'], ['staff', '工作人员']];
const STATUS = { validating: '正在检查', applying: '正在写入', done: '已完成', failed: '未导入' };
const POLL_MS = 1000;
const MAX_BYTES = 10 * 1024 * 1024;

function kindName(kind) {
  const found = KINDS.find(([key]) => key === kind);
  return found ? found[1] : kind;
}

async function render(root, ctx) {
  let timer = null;
  let left = false;
  const stop = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };

  // ------------------------------------------------------------ templates

  const templates = section('下载模板',
    el('p', { class: 'muted' }, '请使用模板填写，不要改动表头；日期写成 2026-12-01 的格式。'),
    el('div', { class: 'actions' }, KINDS.map(([kind, label]) => {
      const button = el('button', { type: 'button', 'data-test': 'import-template-' + kind }, `${label}导入模板`);
      button.addEventListener('click', () => busy(button,
        () => download(`/imports/templates/${kind}`, {}, `${label}导入模板.xlsx`)));
      return button;
    })));

  // ------------------------------------------------------------ upload

  const picker = await unitPicker(ctx.api, () => {});
  const kind = el('select', { 'data-test': 'import-kind' }, KINDS.map(([key, label]) => el('option', { value: key }, label)));
  const file = el('input', {
    type: 'file',
    required: true,
    'data-test': 'import-file',
    accept: '.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  });
  const send = el('button', { type: 'submit', class: 'primary', 'data-test': 'import-upload' }, '上传并导入');
  const result = el('div', { 'data-test': 'import-result' });

  function drawJob(job) {
    const bar = el('progress', { max: String(Math.max(1, job.total || 0)), value: String(job.done || 0), 'data-test': 'import-progress' });
    const errors = job.errors || [];
    const count = typeof job.error_count === 'number' ? job.error_count : errors.length;
    const finished = job.status === 'done' || job.status === 'failed';
    clear(result).append(section(`导入${kindName(job.kind)}：${STATUS[job.status] || job.status}`,
      el('p', { 'data-test': 'import-status', 'data-status': job.status },
        {
          validating: `正在检查${job.total ? ` ${job.total} 行` : ''}…`,
          failed: `共 ${job.total} 行`,
        }[job.status] || `已写入 ${job.done} / ${job.total} 行`),
      finished ? null : bar,
      job.status === 'failed'
        ? el('p', { class: 'field-error' }, count
          ? `有 ${count} 处错误${count > errors.length ? `（下表列出前 ${errors.length} 处）` : ''}，本次没有写入任何一行；请按下表修改文件后重新上传。`
          : '导入失败，本次没有写入任何一行。')
        : null,
      errors.length ? table([
        { title: '行', cell: (e) => (e.row ? String(e.row) : '整个文件') },
        { title: '列', cell: (e) => e.column || '整行' },
        { title: '错误', cell: (e) => e.message, class: 'wrap' },
        { title: '代码', cell: (e) => e.code },
      ], errors, { rowAttrs: (e) => ({ 'data-test': 'import-error', 'data-row': String(e.row) }) }) : null));
  }

  async function follow(id) {
    stop();
    if (left) return;
    try {
      const job = await ctx.api.get(`/imports/${encodeURIComponent(id)}`);
      if (left) return;
      drawJob(job);
      if (job.status === 'done') toast(`已导入 ${job.done} 行`, 'success');
      else if (job.status === 'failed') toast('导入未通过检查，没有写入任何数据', 'error');
      else timer = setTimeout(() => follow(id), POLL_MS);
    } catch (error) {
      showError(error);
    }
  }

  const form = el('form', { class: 'filters', onSubmit: (event) => {
    event.preventDefault();
    const chosen = file.files && file.files[0];
    const unit = picker.unit();
    if (!chosen || !unit) return;
    if (chosen.size > MAX_BYTES) {
      toast('文件太大（不超过 10 MB）', 'error');
      return;
    }
    busy(send, async () => {
      stop();
      const job = await upload(`/org-units/${unit.id}/imports/${kind.value}`, chosen);
      drawJob(job);
      await follow(job.id);
    });
  } }, picker.node, field('导入', kind), field('文件（.xlsx）', file), send);

  root.append(el('div', { class: 'page-head' }, el('h1', {}, '批量导入')), templates,
    section('上传', el('p', { class: 'muted' }, '先检查全部行：任何一行有错，整份文件都不导入。'), form), result);
  const wanted = ctx.query.get('job');
  if (wanted) await follow(wanted);
  return () => {
    left = true;
    stop();
  };
}

export default { route: '#/import', title: '导入', nav: 'nav-import', render };
