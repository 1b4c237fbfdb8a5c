import { el } from '../ui.js';

async function render(root) {
  root.append(el('h1', {}, '心愿'), el('p', { class: 'empty' }, '此页面正在建设中'));
}

export default { route: '#/wishes', title: '心愿', nav: 'nav-wishes', render };
