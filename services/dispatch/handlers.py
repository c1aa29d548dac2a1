"""Dispatch's service layer: plain functions over a unit of work. No nameko here.

Empty until its capabilities (qualified_engineers, assign, reassign, auto_assign) arrive;
each becomes a function `def name(actor, payload, uow, ...)` that `service.py` delegates to.
"""
