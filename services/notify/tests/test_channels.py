"""The email a delivery becomes: a retry of the same delivery carries the same Message-ID
(so a resend after a crash between "server accepted" and "recorded as sent" is recognisable
as the same message), another delivery a different one."""
from services.notify.channels import SmtpEmail


def _delivery(id):
    return {"id": id, "subject": "[TS20261122001] 已受理", "address": "c@example.com",
            "body_text": "您的工单已受理", "body_html": "<p>您的工单已受理</p>", "language": "zh"}


def test_message_id_is_stable_per_delivery():
    smtp = SmtpEmail("127.0.0.1", 25, "none", None, None, "Gongdan <noreply@x>", 5)
    first, again = smtp.message(_delivery("d-1")), smtp.message(_delivery("d-1"))
    other = smtp.message(_delivery("d-2"))
    assert first["Message-ID"] == again["Message-ID"] == "<d-1@gongdan.notify>"
    assert other["Message-ID"] != first["Message-ID"]
    assert first["X-Gongdan-Delivery"] == "d-1" and first["Content-Language"] == "zh-CN"
