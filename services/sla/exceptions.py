"""Errors sla raises; the gateway maps them through the shared AppError shape."""
from gongdan_common.errors import ErrorSpec

TIMER_NOT_FOUND = ErrorSpec("timer_not_found", 404, "Timer not found.", "定时器不存在。")
