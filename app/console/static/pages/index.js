// The console's pages, in the navigation's order. Each module exports
//   default { route: '#/name', title: '中文', nav: 'nav-name' (or null: no link), render(root, ctx) }
// Add a page by adding its module here.

import review from './review.js';
import wishes from './wishes.js';
import dispatch from './dispatch.js';
import batch from './batch.js';
import hours from './hours.js';
import activities from './activities.js';
import volunteers from './volunteers.js';
import teams from './teams.js';
import pairings from './pairings.js';
import stats from './stats.js';
import importing from './import.js';
import me from './me.js';

export default [
  review, wishes, dispatch, batch, hours, activities, volunteers, teams, pairings, stats, importing, me,
];
