"""Secrets a service must keep at rest and read back (identity numbers in the gateway,
support mailbox passwords in channels): Fernet (AES-128-CBC + HMAC-SHA256).

The key is GATEWAY.data_key (GONGDAN_DATA_KEY), or, when that is unset, derived from
GATEWAY.secret_key for the purpose at hand, so a database dump alone never reveals them.
"""
import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["Vault", "InvalidToken", "from_config"]


class Vault:
    def __init__(self, data_key, secret_key, purpose="national-id"):
        if data_key:
            key = data_key.encode()
        else:  # the gateway's identity numbers were sealed with these exact parameters
            raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"gongdan-identity",
                       info=purpose.encode()).derive(secret_key.encode())
            key = base64.urlsafe_b64encode(raw)
        self.fernet = Fernet(key)

    def seal(self, value):
        return self.fernet.encrypt(value.encode()).decode()

    def open(self, token):
        """-> the value; InvalidToken when the key is not the one it was sealed with."""
        return self.fernet.decrypt(token.encode()).decode()


def from_config(config, purpose):
    gw = config.get("GATEWAY") or {}
    return Vault(gw.get("data_key"), str(gw.get("secret_key") or ""), purpose)
