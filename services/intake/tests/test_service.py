"""Entrypoints are thin: each delegates to its handler with the service's dependencies."""
from unittest import mock

from nameko.testing.services import worker_factory

from services.intake.service import IntakeService


def test_entrypoints_delegate_to_handlers():
    service = worker_factory(IntakeService)
    with mock.patch("services.intake.service.tickets") as h, \
            mock.patch("services.intake.service.lifecycle") as lc:
        h.create_ticket.return_value = {"id": "t1"}
        assert service.create_ticket({"id": "u"}, {"title": "x"}) == {"id": "t1"}
        h.create_ticket.assert_called_once_with({"id": "u"}, {"title": "x"}, service.uow,
                                                service.settings)
        service.transition({"id": "u"}, "t1", "cancel", {})
        lc.transition.assert_called_once_with({"id": "u"}, "t1", "cancel", {}, service.uow,
                                              service.settings)
