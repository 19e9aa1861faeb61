"""The secret key file and the private folders it lives in.

The key (pseudonyms, signed buttons, hashed invite codes) is made once, on the first
start, in the data folder. Two processes may start at once on an empty folder (`buurtbot
run` and a `buurtbot workers invite` by the operator): both must end up with the same
key, and no other user may read it at any moment. So the key is written whole into a
file of this process's own, created with `O_CREAT | O_EXCL` and mode 0600 from the
first byte, and then linked to its name: `link` fails when the name exists, so exactly
one key wins, and a reader sees either no file or the whole key. The data folder is
0700: it also holds the SQLite database and the health file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def private_folder(path: Path, narrow: bool = True) -> Path:
    """Create `path` (and its parents) as 0700; with `narrow`, also make an existing
    one 0700 (the data folder; not a folder the operator chose for a database file)."""
    path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        if narrow and path.stat().st_mode & 0o077:
            path.chmod(PRIVATE_FOLDER)
    return path


def private_file(path: Path) -> None:
    """Create `path` empty as 0600 if it does not exist; narrow it if we own it."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    with contextlib.suppress(PermissionError, FileNotFoundError):
        if path.stat().st_mode & 0o077:
            path.chmod(PRIVATE_FILE)


def read_or_create(path: Path) -> str:
    """The key in `path`, made (once, atomically, 0600) if there is none."""
    private_folder(path.parent)
    with contextlib.suppress(FileNotFoundError):
        return _read(path)
    key = secrets.token_urlsafe(32)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        os.write(descriptor, (key + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(partial, path)
    except FileExistsError:
        return _read(path)  # another process was first: its key is the key
    finally:
        partial.unlink()
    return key


def _read(path: Path) -> str:
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"{path} is empty: delete it, or set BUURTBOT_SECRET_KEY")
    return key
