"""Render every shipped notification template a real event causes, strictly (issue 17)."""
from services.notify import domain, templates


def render_for(envelope):
    """The kinds of message the shipped rules send for `envelope`, each rendered in zh and en
    with notify's own context; raises AssertionError naming any missing or empty value."""
    kinds = set()
    for rule in domain.matching_rules(envelope, domain.DEFAULT_RULES):
        ticket = domain.ticket_of(envelope)
        context = domain.message_context(envelope, ticket, {"id": "u-1", "name": "王五"},
                                         "http://127.0.0.1/#/tickets/x")
        for language in templates.LANGUAGES:
            try:
                templates.render_strict(rule["kind"], language, context)
            except ValueError as err:
                raise AssertionError(f"{domain.event_key(envelope)}: {err}") from None
        kinds.add(rule["kind"])
    return kinds
