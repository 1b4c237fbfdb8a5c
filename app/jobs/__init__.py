"""Timers: the jobs table (store.py), the registry of their handlers (registry.py) and the
runner that claims and runs them (scheduler.py). Every domain registers its own kinds; this
package imports none of them."""
