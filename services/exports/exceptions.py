"""Errors exports raises; the gateway maps them through the shared AppError shape."""
from gongdan_common.errors import ErrorSpec

JOB_NOT_FOUND = ErrorSpec("export_not_found", 404, "Export not found.", "导出任务不存在。")
NOT_READY = ErrorSpec(
    "export_not_ready", 409,
    "The export is not ready to download (it is “{status}”).",
    "导出文件尚不可下载（任务状态：{status}）。")
TOO_MANY = ErrorSpec(
    "too_many_exports", 429,
    "You have {count} exports waiting or running; wait for one to finish.",
    "您已有 {count} 个导出任务在排队或进行中，请等待其完成后再试。")
OWNER_UNAVAILABLE = ErrorSpec(
    "service_unavailable", 503,
    "The service holding this data did not answer in time; try again shortly.",
    "数据所在的服务暂时无响应，请稍后重试。")
STORAGE_UNAVAILABLE = ErrorSpec(
    "storage_unavailable", 503, "File storage is unavailable; try again shortly.",
    "文件存储暂时不可用，请稍后重试。")
