"""HTTP routes in front of the notify service."""


class NotifyRoutes:
    """Mixed into GatewayService; see gateway/routes/__init__.py."""
