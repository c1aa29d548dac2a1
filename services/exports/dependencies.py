"""The owners of the exported rows, asked over RPC as the requester with a deadline (nameko
2.14's service-side proxy would otherwise wait forever): intake (tickets, ratings), worklog
(work-log entries), sla (clocks). "Not there" becomes exports' OWNER_UNAVAILABLE; an owner's
refusal (bad filter, forbidden) is passed on as it is."""
import eventlet
from nameko.exceptions import UnknownService

from gongdan_common.errors import AppError

from . import domain, exceptions as exc


class Owners:
    def __init__(self, proxies, timeout):
        self.proxies, self.timeout = proxies, timeout

    def page(self, kind, actor, filters, after, limit):
        """{items, next, total?} from the kind's owner."""
        service, method = domain.SOURCES[kind]
        timer = eventlet.Timeout(self.timeout)
        try:
            return getattr(self.proxies[service], method)(actor, filters, after, limit)
        except eventlet.Timeout as err:
            if err is not timer:
                raise
            raise exc.OWNER_UNAVAILABLE() from None
        except UnknownService:
            raise exc.OWNER_UNAVAILABLE() from None
        except AppError as err:
            if err.code == "service_unavailable":
                raise exc.OWNER_UNAVAILABLE() from None
            raise
        finally:
            timer.cancel()
