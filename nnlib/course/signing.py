"""Signatures for what the grader keeps between runs, so that a changed file is never believed.

Stored results (`<out>/.grading/results/`) and template gradebooks (`<root>/build/gradebooks/`)
are signed with HMAC-SHA256 under a secret key kept in the same folder (`.signing-key`, mode
0600, made once per folder). A kernel sandboxed away from both folders can neither read the key
nor forge a signature; a file whose signature does not match is discarded and made again.

    key = folder_key(folder)
    signature = sign(key, "results/a1/alice", data)
    verify(key, "results/a1/alice", data, signature)   # -> bool

The label names what was signed (a path relative to the folder), so a file signed for one place
does not verify in another (one student's result copied over another's).
"""

import hashlib
import hmac
import os
import secrets
from contextlib import suppress
from pathlib import Path

KEY_FILE = ".signing-key"


def folder_key(folder):
    """The secret key of `folder` (Path): read it, or create it (mode 0600) on first use -> bytes."""
    path = Path(folder) / KEY_FILE
    if not path.is_file():
        _create_key(path)
    key = path.read_bytes()
    if len(key) < 32:
        raise RuntimeError(f"signing key {path} is too short ({len(key)} bytes); delete it to make a new one")
    return key


def _create_key(path):
    """Write a fresh random key at `path` (Path) atomically; a key another process made first wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
        with suppress(FileExistsError):   # another process made the key meanwhile: use theirs
            os.link(partial, path)
    finally:
        partial.unlink()


def sign(key, label, data):
    """HMAC-SHA256 of `data` (bytes) under `key` (bytes), bound to `label` (str) -> hex str."""
    mac = hmac.new(key, label.encode() + b"\0", hashlib.sha256)
    mac.update(data)
    return mac.hexdigest()


def verify(key, label, data, signature):
    """Is `signature` (str or None) the one `sign(key, label, data)` gives? -> bool."""
    return isinstance(signature, str) and hmac.compare_digest(sign(key, label, data), signature)
