import { el } from '../ui.js';

async function render(root) {
  root.append(el('h1', {}, '批量派单'), el('p', { class: 'empty' }, '此页面正在建设中'));
}

export default { route: '#/batch', title: '批量派单', nav: 'nav-batch', render };
