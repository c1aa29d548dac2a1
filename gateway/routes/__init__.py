"""HTTP routes of the gateway grouped by the service behind them.

Each module holds one mixin class of `@api` entrypoints that `GatewayService` inherits
(Nameko finds inherited entrypoints). The mixins use the gateway's own plumbing through
`self`: `self._actor(request)`, the RPC proxies (`self.sla`, `self.notify`, `self.kb`,
`self.intake` ...), `self.uow`, `self.settings`, `self.store`; and `call(proxy, method,
*args)` from `gateway.http` for an RPC with a deadline.
"""
