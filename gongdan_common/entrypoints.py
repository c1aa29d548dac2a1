"""Nameko entrypoint decorators with the shared error vocabulary declared as expected.

An `AppError` is the caller's mistake (bad input, forbidden, not found): nameko then logs
it as a warning instead of a crash, and still returns it to the caller.
"""
from functools import partial

from nameko.rpc import rpc as _rpc

from .errors import AppError

rpc = partial(_rpc, expected_exceptions=(AppError,))
