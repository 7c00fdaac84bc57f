"""Signed ids, made from a secret kept in the study folder (HMAC-SHA256), so that nothing a
participant types is trusted as an id: a participant's token, the admin token, an invitation
(one per platform slot: `slot.mac`), and the opaque handle a trial is shown under (the same
for a method's trial and a screening trial, so neither id nor order tells them apart)."""

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
        if not isinstance(token, str) or token.count(".") != 1 or len(token) > 80:
            return None
        participant_id, mac = token.split(".")
        expected = self._mac("participant:" + participant_id)
        return participant_id if _same(mac, expected) else None

    def invitation(self, slot: str) -> str:
        return f"{slot}.{self._mac('invitation:' + slot)}"

    def slot_of(self, invitation: object) -> str | None:
        """The slot an invitation was made for, or None when it is not one of ours."""
        if not isinstance(invitation, str) or invitation.count(".") != 1 or len(invitation) > 80:
            return None
        slot, mac = invitation.split(".")
        expected = self._mac("invitation:" + slot)
        return slot if _same(mac, expected) else None

    def handle(self, participant_id: str, trial_id: str) -> str:
        """The id trial `trial_id` is shown to the participant under."""
        return self._mac(f"trial:{participant_id}:{trial_id}")[:16]

    @property
    def secret(self) -> bytes:
        return self._secret

    @property
    def admin_token(self) -> str:
        return self._mac("admin")

    def is_admin(self, token: object) -> bool:
        return isinstance(token, str) and _same(token, self.admin_token)


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of a string a client sent with an ASCII one we made."""
    return given.isascii() and hmac.compare_digest(given.encode(), expected.encode())
