"""A real SMTP server for the notification tests (aiosmtpd): every message it accepts is
written to DIR as one .eml file, so a test reads exactly what arrived.

    python -m tests.support.smtp_sink HOST PORT DIR

Run as its own process so that a test can take the mail server down and bring it back.
"""
import asyncio
import os
import sys
import uuid

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        path = os.path.join(self.directory, uuid.uuid4().hex)
        with open(path + ".tmp", "wb") as fh:
            fh.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path + ".eml")
        return "250 Message accepted"


async def main(host, port, directory):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Sink(directory)), host, port)
    print("ready", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
