"""KB's tables.

The service will own knowledge-base articles (versions, keywords, product, visibility),
search index, feedback, links article<->ticket. Those tables arrive with the issues that
define them; for now there are only the transactional outbox and the processed-events inbox
every service has.
"""
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from gongdan_common.outbox import define_outbox_tables

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s"})


class Base(DeclarativeBase):
    metadata = metadata


outbox, processed_events = define_outbox_tables(metadata)
