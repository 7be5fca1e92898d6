"""Files responder writes about an incident are its operator's alone: 0600 files in 0700 directories, whatever
the umask, and whatever mode an earlier file of the same name had (a copied run directory stays private)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def private_directory(path: Path) -> None:
    """Create `path` (and its parents, as usual) if needed; `path` itself is 0700. Raises FileExistsError as mkdir."""
    path.mkdir(parents=True, exist_ok=False, mode=DIRECTORY_MODE)
    os.chmod(path, DIRECTORY_MODE)  # mkdir's mode is filtered by the umask


def _private_fd(path: Path, flags: int) -> int:
    fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through open: set it
    return fd


def write_private(path: Path, text: str) -> None:
    """`path` rewritten with `text` (UTF-8), mode 0600."""
    with os.fdopen(_private_fd(path, os.O_WRONLY | os.O_TRUNC), "w", encoding="utf-8") as stream:
        stream.write(text)


def append_private(path: Path) -> IO[str]:
    """`path` opened to append (UTF-8 text), mode 0600."""
    return os.fdopen(_private_fd(path, os.O_WRONLY | os.O_APPEND), "a", encoding="utf-8")


def make_private(path: Path) -> None:
    """A file another library wrote (a timeline picture): 0600 from now on."""
    os.chmod(path, FILE_MODE)


def readable_by_others(path: Path) -> bool:
    """Whether anyone but the owner may read `path` (group or other permission bits set)."""
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
