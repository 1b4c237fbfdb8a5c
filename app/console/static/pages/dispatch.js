import { el } from '../ui.js';

async function render(root) {
  root.append(el('h1', {}, '派单'), el('p', { class: 'empty' }, '此页面正在建设中'));
}

export default { route: '#/dispatch', title: '派单', nav: 'nav-dispatch', render };
