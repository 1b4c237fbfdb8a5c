// The units a coordinator may pick on a page (batch dispatch, statistics, imports…): the units
// of their coordinator roles and the direct children of each; an administrator, who holds no
// unit, picks among the top-level units and their children.

import { myUnits } from './api.js';
import { el } from './ui.js';

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
