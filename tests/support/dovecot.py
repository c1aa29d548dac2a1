"""A real IMAP server for the mail-in tests and the bench: Debian's dovecot-imapd, run in the
foreground on a free port with a private configuration, mail directory and passwd-file
users, and stopped afterwards. Nothing of the machine's own dovecot set-up is used.

    with Dovecot(users={"support@gongdan.test": "secret"}) as imap:
        imap.append("support@gongdan.test", raw_bytes)

`./gongdan test` installs the package when missing (ensure_mail_tools); `available()` says
whether it is there.
"""
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from scripts._proc import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
first_valid_uid = 1
"""


def available():
    return os.path.exists(DOVECOT)


class Dovecot:
    def __init__(self, users):
        # a folder of its own outside pytest's (0700) temporary tree: dovecot's auth and mail
        # processes run as other users and must reach the users file and the mail
        self.dir = tempfile.mkdtemp(prefix="gongdan-dovecot-")
        os.chmod(self.dir, 0o755)
        self.users = dict(users)
        self.port, self.proc = free_port(), None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        # mail is stored as an unprivileged user: dovecot refuses uid 0 for mail access
        if os.getuid() == 0:
            owner = pwd.getpwnam("nobody")
            uid, gid = owner.pw_uid, owner.pw_gid
        else:
            uid, gid = os.getuid(), os.getgid()
        for sub in ("mail", "home"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
            os.chown(os.path.join(self.dir, sub), uid, gid) if os.getuid() == 0 else None
        with open(os.path.join(self.dir, "users"), "w") as fh:
            fh.writelines(f"{user}:{{PLAIN}}{password}\n" for user, password in self.users.items())
        conf = os.path.join(self.dir, "dovecot.conf")
        with open(conf, "w") as fh:
            fh.write(CONF.format(dir=self.dir, uid=uid, gid=gid, port=self.port))
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                imaplib.IMAP4("127.0.0.1", self.port, timeout=2).logout()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dovecot did not start: " + self.log()[-2000:])
                time.sleep(0.1)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log"), errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""

    def client(self, user):
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        conn.login(user, self.users[user])
        return conn

    def append(self, user, raw, folder="INBOX", conn=None):
        own = conn is None
        conn = conn or self.client(user)
        try:
            typ, data = conn.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            if own:
                conn.logout()

    def flags(self, user, folder="INBOX"):
        """{uid: flags text} of every message in the folder."""
        conn = self.client(user)
        try:
            conn.select(folder, readonly=True)
            typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            out = {}
            for line in data or ():
                if isinstance(line, bytes) and b"UID" in line:
                    text = line.decode()
                    uid = text.split("UID ")[1].split()[0].rstrip(")")
                    out[uid] = text.split("FLAGS (")[1].split(")")[0]
            return out
        finally:
            conn.logout()
