"""Signed ids: a participant's token and the admin token, made from a secret kept in the study
folder (HMAC-SHA256), so that nothing a participant types is trusted as an id."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = "serve-secret"


def load_secret(folder: Path) -> bytes:
    """The study's signing secret, made on first use (readable by its owner only)."""
    path = folder / SECRET_FILE
    if not path.exists():
        temporary = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
        temporary.write_text(secrets.token_hex(32))
        temporary.chmod(0o600)
        os.replace(temporary, path)
    return bytes.fromhex(path.read_text().strip())


class Signer:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:32]

    def participant_token(self, participant_id: str) -> str:
        return f"{participant_id}.{self._mac('participant:' + participant_id)}"

    def participant_of(self, token: object) -> str | None:
        """The participant id a token was issued for, or None when it is not one of ours."""
        if not isinstance(token, str) or token.count(".") != 1:
            return None
        participant_id, mac = token.split(".")
        expected = self._mac("participant:" + participant_id)
        return participant_id if hmac.compare_digest(mac, expected) else None

    @property
    def admin_token(self) -> str:
        return self._mac("admin")

    def is_admin(self, token: object) -> bool:
        return isinstance(token, str) and hmac.compare_digest(token, self.admin_token)
