"""Nameko entrypoint decorators with the shared error vocabulary declared as expected.

An `AppError` is the caller's mistake (bad input, forbidden, not found): it is returned to
the caller as usual, and nameko's "(expected)" warning with a traceback is dropped in favour
of the one INFO line `gongdan_common.logs.Correlation` writes.
"""
from .amqp import rpc as _rpc  # nameko's, made to survive broker loss

from .errors import AppError


def rpc(fn=None, **kwargs):
    """`@rpc` or `@rpc(...)`. (nameko's bare-decorator form drops keyword arguments, so the
    default must be applied here, not with functools.partial.)"""
    kwargs.setdefault("expected_exceptions", (AppError,))
    decorator = _rpc(**kwargs)
    return decorator(fn) if fn is not None else decorator
