"""Worklog's service layer: plain functions over a unit of work. No nameko here.

Empty until its capabilities (add_entry, list_entries, time_report) arrive; each becomes a
function `def name(actor, payload, uow, ...)` that `service.py` delegates to.
"""
