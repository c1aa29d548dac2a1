"""Command-line administration of the gateway's accounts.

    python -m gateway.cli create-admin --email admin@example.com --phone 13800000000 \
        --name Admin --password 'a long password'
"""
import argparse
import getpass
import json
import os
import sys

import eventlet

eventlet.monkey_patch()

from gongdan_common.config import load_config, repo_root, service_db_url  # noqa: E402
from gongdan_common.db import Database  # noqa: E402

from . import handlers  # noqa: E402
from .models import metadata  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gateway.cli")
    parser.add_argument("--config", default=os.path.join(repo_root(), "config", "gongdan.yaml"))
    sub = parser.add_subparsers(dest="command", required=True)
    ca = sub.add_parser("create-admin", help="create an administrator account (an existing "
                        "one is left alone unless --reset-password)")
    ca.add_argument("--name", default="Administrator")
    ca.add_argument("--email")
    ca.add_argument("--phone")
    ca.add_argument("--password", help="prompted for when omitted; or GONGDAN_ADMIN_PASSWORD")
    ca.add_argument("--reset-password", action="store_true",
                    help="the account exists: set this password, make it an active "
                         "administrator and unlock it")
    args = parser.parse_args(argv)
    if not (args.email or args.phone):
        parser.error("give --email or --phone (or both)")
    password = args.password or os.environ.get("GONGDAN_ADMIN_PASSWORD") or \
        getpass.getpass("Password for the administrator: ")
    if len(password) < 8:
        parser.error("the password must be at least 8 characters")
    config = load_config(args.config)
    db = Database(service_db_url(config, "gateway"), metadata)
    try:
        user, written = handlers.create_admin(args.name, args.email, args.phone, password,
                                     db.unit_of_work(), reset_password=args.reset_password)
    except handlers.AdminExists as e:
        print(f"create-admin: not changed: {e.why}; pass --reset-password to set its "
              "password and make it an active administrator", file=sys.stderr)
        sys.exit(3)
    if not written:
        print("create-admin: this administrator already exists; password unchanged "
              "(--reset-password sets it)", file=sys.stderr)
    json.dump(user, sys.stdout, ensure_ascii=False, indent=2)
    print()


if __name__ == "__main__":
    main()
