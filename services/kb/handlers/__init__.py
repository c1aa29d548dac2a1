"""KB's service layer: plain functions over a unit of work. No nameko here.

`index` is the process's `LiveIndex` (live.py). Every article write, in one transaction,
saves the article and a version, appends to `kb_index_log` (so every other instance
re-indexes it within a poll) and emits its event through the outbox; after the commit the
writing process updates its own index at once. Searches rank with the index and then read
the page's rows from the database, re-checking visibility, so a customer never sees an
internal or unpublished article even from an index a fraction of a second behind.

Split by capability: `articles` (write, read, versions, feedback), `search` (search,
suggestions and their sessions, the deflection report), `tickets` (from a ticket, links,
writing suggestions), `files`, `synonyms` (the search dictionary); `common` holds what
they share.
"""
# re-exported: service.py and the benches call `handlers.<name>`
from .articles import (create_article, delete_article, feedback, get_article,  # noqa: F401
                       get_version, list_articles, list_versions, transition, update_article)
from .common import guess_language, settings_from_config  # noqa: F401
from .files import add_file, authorize_file, get_file  # noqa: F401
from .search import (_suggest_in, deflection_report, index_stats, rank_suggestions,  # noqa: F401
                     search, suggest, suggestion_opened, suggestion_outcome)
from .synonyms import (create_synonym, delete_synonym, list_synonyms,  # noqa: F401
                       update_synonym)
from .tickets import (CONSUMER, create_from_ticket, link_ticket,  # noqa: F401
                      list_writing_suggestions, on_ticket_solved, ticket_articles)
