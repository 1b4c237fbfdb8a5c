"""Batch dispatch (批量派单): one global assignment for every approved wish of a unit.

A coordinator asks for a plan, reviews it, then applies it. The plan changes nothing; applying
sends each pair as an ordinary directed OFFER through `apply_event` — an invitation that only
the volunteer's accept turns into a task (《志愿服务条例》 Art 25: no forced assignment).

The package: `problem.py` builds the problem of one unit (the approved wishes, the volunteers
within reach, the eligible pairs' scores, the spare capacities), `solver.py` solves it exactly
(SciPy), `plan.py` turns the solution into a plan to review, `apply.py` sends a reviewed plan
as offers, `errors.py` holds the per-item errors; `router.py` and `schemas.py` are the
endpoints.
"""
