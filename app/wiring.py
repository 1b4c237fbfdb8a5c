"""The composition root: importing it registers every domain's handlers with the layers below.

Lower layers keep registries (timer handlers in `app.jobs.registry`, delivery channels in
`app.delivery.channels`, the wish loop's specs and hooks) and never import the domains that fill
them; each domain registers at the bottom of the module that owns the handler. The web app, the
worker process, the demo seeder and the benchmarks import this module once, so each process runs
with the same set registered.
"""

from app.activities import attending as _activity_records  # noqa: F401 - records of activity sessions
from app.activities import timers as _activity_timers  # noqa: F401 - sign-up closing, no-shows
from app.attendance import events as _attendance_events  # noqa: F401 - check-in and check-out
from app.dispatch import ladder as _ladder  # noqa: F401 - the dispatch ladder's timers
from app.dispatch import timers as _timers  # noqa: F401 - the ladder's timer follows each event
from app.dispatch.batch import background as _batch_apply  # noqa: F401 - large plans sent by a timer
from app.imports import service as _imports  # noqa: F401 - large imports written by a timer
from app.pairings import occasion as _pairing_visits  # noqa: F401 - a visit's service record
from app.pairings import timer as _pairing_timer  # noqa: F401 - the pairing visit timer
from app.push import channel as _push_channel  # noqa: F401 - the "user" delivery channel
from app.records import messages as _record_messages  # noqa: F401 - records await confirmation
from app.records import ratings as _ratings  # noqa: F401 - ratings counted on the volunteers
from app.rights import retention as _retention  # noqa: F401 - the retention timer
from app.teams import callups as _team_callups  # noqa: F401 - a team lets go of a wish given back
from app.webhooks import delivery as _webhook_delivery  # noqa: F401 - the "webhook" channel
from app.webhooks import fanout as _webhook_fanout  # noqa: F401 - public events of wish events
