"""SLA's tables.

The service will own SLA policies, priority targets, business calendars and holidays, one
clock per ticket and target, durable timers. Those tables arrive with the issues that define
them; for now there are only the transactional outbox and the processed-events inbox every
service has.
"""
from sqlalchemy.orm import DeclarativeBase

from gongdan_common.db import service_metadata

metadata = service_metadata()


class Base(DeclarativeBase):
    metadata = metadata

