"""HTTP routes in front of the sla service."""


class SlaRoutes:
    """Mixed into GatewayService; see gateway/routes/__init__.py."""
