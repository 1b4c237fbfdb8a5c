"""The composition of the service: importing this module registers every timer handler
(app.jobs.registry) and every delivery channel (app.delivery.channels), each at the bottom of
the module that owns it. Imported by whatever runs timers or deliveries: the web app
(app/main.py) and the worker process (app/workers.py)."""

from app.dispatch import ladder as _ladder  # noqa: F401 - the dispatch ladder's timers
from app.privacy import retention as _retention  # noqa: F401 - the retention timer
from app.push import channel as _push_channel  # noqa: F401 - the "user" channel
from app.records import messages as _record_messages  # noqa: F401 - record confirmation timers
from app.webhooks import delivery as _webhook_delivery  # noqa: F401 - the "webhook" channel
