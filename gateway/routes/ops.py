"""The gateway's own ops routes on its HTTP port: `/metrics` (Prometheus text) and `/livez`
(its hub and AMQP consumers). `/readyz` is the gateway's existing readiness route
(service.py). The same three are also on the gateway's ops port (gongdan_common/ops.py),
like every other process."""
from werkzeug.wrappers import Response

from gongdan_common import metrics
from gongdan_common.metrics import MetricsProvider
from gongdan_common.ops import OpsServer

from ..http import api


class OpsRoutes:
    _metrics = MetricsProvider()
    _ops = OpsServer()

    @api("GET", "/metrics")
    def metrics_text(self, request):
        return Response(metrics.render(), status=200, content_type=metrics.CONTENT_TYPE)

    @api("GET", "/livez")
    def livez(self, request):
        ok, checks = self._ops.liveness()
        return (200 if ok else 503), {"status": "ok" if ok else "fail", "service": "gateway",
                                      "checks": checks}
