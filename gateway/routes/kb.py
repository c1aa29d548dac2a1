"""HTTP routes in front of the kb service."""


class KbRoutes:
    """Mixed into GatewayService; see gateway/routes/__init__.py."""
