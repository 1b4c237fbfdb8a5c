"""The coordinators' web console, served by the app itself at `/console`.

Plain files, no build step: ES modules loaded by the browser as they are, hand-written CSS, no
framework and nothing fetched from a CDN (county intranets often have no internet). Installing
the app (the README's two commands) is all it takes; there is no Node toolchain to install,
and what runs in the browser is exactly what is committed in `static/`. See `static/README`.
"""
