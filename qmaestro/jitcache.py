"""Keep numba's on-disk cache true to the installed source.

Why: numba keys a cached compiled function by the timestamp of its *own* source file. A jitted function that
inlines a jitted callee from another module keeps its stale machine code when only the callee's module changes
(an edit, a checkout, an upgrade that rewrites some files): it loads and runs the old callee without a word.
This happened to us (a benchmark ran last week's closed form). So the cache lives in a directory named after a
hash of every source file of qmaestro and qgamma (and of numba's version): any change to either package starts a
fresh cache, and an unchanged tree finds its compiled code again in a new process.

Where: under $NUMBA_CACHE_DIR if the user set it, else the user cache directory ($XDG_CACHE_HOME or ~/.cache)
/qgamma/numba-<hash>. The newest few trees are kept; older ones (not used for a week) are removed. If no such
directory is writable, numba's own choice stands (next to the sources), with its blind spot.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import numba

PACKAGES = ("qmaestro", "qgamma")
KEEP_TREES = 4                  #: cache trees always kept (the most recently used)
STALE_SECONDS = 7 * 24 * 3600   #: older trees beyond those are removed after a week unused


def source_digest(root: Path, packages: tuple[str, ...] = PACKAGES) -> str:
    """A short hash of the packages' Python sources under `root` (paths and contents) and of numba's version."""
    h = hashlib.sha1(numba.__version__.encode())
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            h.update(path.relative_to(root).as_posix().encode() + b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


@lru_cache(maxsize=1)
def installed_digest() -> str:
    """source_digest of the installed qmaestro and qgamma: once per process (both packages' imports configure)."""
    return source_digest(Path(__file__).resolve().parents[1])


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    """The directory that holds one numba cache tree per source hash."""
    user = environ.get("NUMBA_CACHE_DIR")
    if user:
        return Path(user) / "qgamma"
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qgamma"


def prune(root: Path, current: Path, now: float | None = None) -> list[Path]:
    """Remove cache trees other than `current` beyond the KEEP_TREES most recently used that were not used for
    STALE_SECONDS; returns what was removed. A tree another process still uses is young, so it stays; one that
    another process removes meanwhile is skipped."""
    now = time.time() if now is None else now
    trees = []
    for p in root.glob("numba-*"):
        try:
            if p.is_dir() and p != current:
                trees.append((p.stat().st_mtime, p))
        except OSError:
            continue
    trees.sort(reverse=True)
    removed = []
    for mtime, tree in trees[KEEP_TREES - 1:]:
        if now - mtime > STALE_SECONDS:
            shutil.rmtree(tree, ignore_errors=True)
            removed.append(tree)
    return removed


def configure(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Point numba's cache at the tree of this exact source (before any cached function is defined); returns it,
    or None where no cache directory is writable (numba then keeps its default)."""
    try:
        tree = cache_root(environ) / f"numba-{installed_digest()}"
        tree.mkdir(parents=True, exist_ok=True)
        os.utime(tree)          # marks it used: pruning goes by modification time
    except (OSError, RuntimeError, KeyError):  # no home directory, read-only file system, ...
        return None
    try:
        prune(tree.parent, tree)
    except OSError:             # housekeeping only: the cache works without it
        pass
    if not os.access(tree, os.W_OK):
        return None
    numba.config.CACHE_DIR = str(tree)
    return tree
