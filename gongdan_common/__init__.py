"""Cross-cutting plumbing shared by every Gongdan service.

Config loading, database engine and unit of work, event envelope, transactional
outbox and idempotent consumption, error vocabulary and bilingual messages.
No ticket, account or dispatch rules live here: those belong to the services.
"""
