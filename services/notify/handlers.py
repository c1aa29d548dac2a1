"""Notify's service layer: plain functions over a unit of work. No nameko here.

Empty until its capabilities (inbox, mark_read, subscribe_webhook) arrive; each becomes a
function `def name(actor, payload, uow, ...)` that `service.py` delegates to.
"""
