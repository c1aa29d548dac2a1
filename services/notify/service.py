"""Nameko entrypoints of the notify service: translate, delegate to handlers, return dicts.

Only the frame for now: its unit of work (with the outbox relay) and the `health` RPC.
"""
from gongdan_common.dependencies import UnitOfWorkProvider
from gongdan_common.health import HealthMixin

from .models import metadata


class NotifyService(HealthMixin):
    name = "notify"

    uow = UnitOfWorkProvider(metadata)
