"""Errors sla raises, declared as `gongdan_common.errors.ErrorSpec`s.

None of its own yet: the shared ones (VALIDATION_FAILED, NOT_FOUND, FORBIDDEN, CONFLICT in
`gongdan_common.errors`) cover the frame. Service-specific errors are added here with the
capabilities that raise them.
"""
