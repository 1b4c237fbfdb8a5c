// The unit a page works for, chosen at its top from units.js's options (the coordinator's
// units and their direct children; an admin's top-level units and theirs). The choice is kept
// for the tab's session, so every page opens on the unit last chosen.

import { el, clear, field, errorState } from './ui.js';
import { unitOptions, unitSelect } from './units.js';

const KEY = 'console.unit';
const LEVEL_NAMES = { city: '市', county: '县（区）', township: '乡镇（街道）', village: '村（社区）' };

export function levelName(level) {
  return LEVEL_NAMES[level] || level || '';
}

// Resolves to {node, unit()}: unit() is the chosen {id, name} (null when there is none);
// onChange(unit) runs when another is chosen. With one unit only, node just names it.
export async function unitPicker(api, onChange) {
  const units = await unitOptions(api);
  const saved = Number(sessionStorage.getItem(KEY));
  let chosen = units.find((unit) => unit.id === saved) || units[0] || null;
  if (units.length <= 1) {
    return { node: chosen ? el('p', { class: 'muted unit-name' }, chosen.name) : null, unit: () => chosen };
  }
  const select = unitSelect(units, { 'data-test': 'unit-select' });
  select.value = String(chosen.id);
  select.addEventListener('change', () => {
    chosen = units.find((unit) => String(unit.id) === select.value) || chosen;
    sessionStorage.setItem(KEY, String(chosen.id));
    onChange(chosen);
  });
  return { node: field('单位', select), unit: () => chosen };
}

// The villages (practice stations) under a unit, for filters: [{id, name}] (the first 100).
export async function stationsUnder(api, unit) {
  const page = await api.get(`/org-units/${unit.id}/subtree`, { level: 'village', limit: 100 });
  return page.items.map((row) => ({ id: row.id, name: row.name }));
}

// A page over the chosen unit with tabs: `tabs` is [[key, label, list(ctx, unit, body)], ...],
// the first the default unless ctx.query's `view` names another; `test` prefixes the tabs'
// data-test names.
export async function unitTabsPage(root, ctx, { title, test, tabs }) {
  const body = el('div', {});
  const keys = tabs.map(([key]) => key);
  let view = keys.includes(ctx.query.get('view')) ? ctx.query.get('view') : keys[0];
  const strip = el('div', { class: 'tabs', role: 'tablist' });
  const picker = await unitPicker(ctx.api, () => open(view));
  function open(name) {
    view = name;
    clear(strip).append(...tabs.map(([key, label]) => el('button', {
      type: 'button', role: 'tab', class: key === view ? 'active' : null, 'aria-selected': key === view ? 'true' : 'false',
      'data-test': test + '-tab-' + key, onClick: () => open(key),
    }, label)));
    clear(body);
    const unit = picker.unit();
    if (!unit) {
      body.append(el('p', { class: 'empty' }, '没有可管理的单位'));
      return undefined;
    }
    const list = tabs.find(([key]) => key === view)[2];
    return list(ctx, unit, body).catch((error) => clear(body).append(errorState(error, () => open(view))));
  }
  root.append(el('div', { class: 'page-head' }, el('h1', {}, title), picker.node), strip, body);
  await open(view);
}
