"""SLA's service layer: plain functions over a unit of work. No nameko here.

Empty until its capabilities (policy_for, clock_status, breaches) arrive; each becomes a
function `def name(actor, payload, uow, ...)` that `service.py` delegates to.
"""
