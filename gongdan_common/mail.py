"""Mail plumbing shared by the services that send mail (notify's deliveries, channels' answers)
and the one that reads replies (channels): the SMTP connection as configured, and the
threading contract between the mail Gongdan sends and the replies it reads back.

- Message-IDs Gongdan makes end in `@gongdan.notify` (a delivery: `<delivery-id@...>`);
- every mail about a ticket carries `In-Reply-To`/`References: <ticket.<id>@gongdan.notify>`
  (`thread_root`), which mail programs keep in the reply's References;
- the text starts with `REPLY_MARKER`: what a person writes above it is the reply.
"""
import smtplib
import ssl


ID_DOMAIN = "gongdan.notify"
REPLY_MARKER = "##- 请在此行以上回复 / Please reply above this line -##"


def thread_root(ticket_id):
    return f"<ticket.{ticket_id}@{ID_DOMAIN}>"


def connect(host, port, security="none", username=None, password=None, timeout=10):
    """-> a connected (and, with a username, logged-in) smtplib client; use it in `with`."""
    if security == "ssl":
        client = smtplib.SMTP_SSL(host, int(port), timeout=float(timeout),
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, int(port), timeout=float(timeout))
    try:
        if security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if username:
            client.login(username, password or "")
    except BaseException:
        client.close()
        raise
    return client
