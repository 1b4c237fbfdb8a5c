// The unit a page works for: one of the coordinator's units (from the sign-in's roles), or for
// an admin, who coordinates no unit, a top-level unit of the tree. The choice is kept for the
// tab's session, so every page opens on the unit last chosen.

import { myUnits } from './api.js';
import { el, field } from './ui.js';

const KEY = 'console.unit';
const LEVEL_NAMES = { city: '市', county: '县（区）', township: '乡镇（街道）', village: '村（社区）' };

export function levelName(level) {
  return LEVEL_NAMES[level] || level || '';
}

// The units the caller may choose from: [{id, name}].
export async function choosableUnits(ctx) {
  const mine = myUnits();
  if (mine.length) return mine;
  const top = await ctx.api.get('/org-units');
  return (top || []).map((unit) => ({ id: unit.id, name: unit.name }));
}

function remembered(units) {
  const saved = Number(sessionStorage.getItem(KEY));
  return units.find((unit) => unit.id === saved) || units[0] || null;
}

// A <select> of the units; onChange(unit) runs when another is chosen. Resolves to
// {node, unit(), units} (node is null when the caller holds one unit only: nothing to choose).
export async function unitPicker(ctx, onChange) {
  const units = await choosableUnits(ctx);
  let chosen = remembered(units);
  if (units.length <= 1) {
    return {
      node: chosen ? el('p', { class: 'muted unit-name' }, chosen.name) : null,
      unit: () => chosen,
      units,
    };
  }
  const select = el('select', {
    'data-test': 'unit-select',
    onChange: () => {
      chosen = units.find((unit) => String(unit.id) === select.value) || chosen;
      sessionStorage.setItem(KEY, String(chosen.id));
      onChange(chosen);
    },
  }, units.map((unit) => el('option', { value: String(unit.id), selected: chosen && unit.id === chosen.id }, unit.name)));
  return { node: field('单位', select), unit: () => chosen, units };
}

// The villages (practice stations) under a unit, for filters: [{id, name}] (the first 100).
export async function stationsUnder(ctx, unit) {
  const page = await ctx.api.get(`/org-units/${unit.id}/subtree`, { level: 'village', limit: 100 });
  return page.items.map((row) => ({ id: row.id, name: row.name }));
}

// The units a coordinator may pick on a page (batch dispatch, statistics, imports…): the units
// of their coordinator roles and the direct children of each; an administrator, who holds no
// unit, picks among the top-level units and their children.
export async function unitOptions(api) {
  let roots = myUnits();
  if (!roots.length) roots = (await api.get('/org-units')).map((u) => ({ id: u.id, name: u.name }));
  const options = [];
  const seen = new Set();
  const children = await Promise.all(roots.map((u) => api.get('/org-units', { parent_id: u.id }).catch(() => [])));
  roots.forEach((unit, i) => {
    if (seen.has(unit.id)) return;
    seen.add(unit.id);
    options.push({ id: unit.id, name: unit.name, depth: 0 });
    for (const child of children[i]) {
      if (seen.has(child.id) || child.is_active === false) continue;
      seen.add(child.id);
      options.push({ id: child.id, name: child.name, depth: 1 });
    }
  });
  return options;
}

// A <select> of unitOptions(); its value is the unit's id (a string).
export function unitSelect(options, attrs = {}) {
  return el('select', attrs, options.map((u) => el('option', { value: u.id }, (u.depth ? '　└ ' : '') + u.name)));
}
