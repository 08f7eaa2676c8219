"""numba's on-disk cache follows the whole source tree (qmaestro.jitcache), not each function's own file."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numba

from qmaestro import jitcache


def _tree(root: Path) -> None:
    (root / "qmaestro").mkdir(parents=True)
    (root / "qgamma" / "sub").mkdir(parents=True)
    (root / "qmaestro" / "kernel.py").write_text("def f():\n    return 1\n")
    (root / "qgamma" / "sub" / "ops.py").write_text("def g():\n    return 2\n")


def test_digest_follows_every_source_file(tmp_path: Path):
    _tree(tmp_path)
    before = jitcache.source_digest(tmp_path)
    assert before == jitcache.source_digest(tmp_path)
    callee = tmp_path / "qgamma" / "sub" / "ops.py"
    callee.write_text("def g():\n    return 3\n")          # only a callee's module changes
    assert jitcache.source_digest(tmp_path) != before
    callee.write_text("def g():\n    return 2\n")
    assert jitcache.source_digest(tmp_path) == before
    (tmp_path / "qmaestro" / "new.py").write_text("")        # a new module counts too
    assert jitcache.source_digest(tmp_path) != before
    (tmp_path / "other.py").write_text("x = 1\n")            # files outside the packages do not
    (tmp_path / "qmaestro" / "new.py").unlink()
    assert jitcache.source_digest(tmp_path) == before


def test_cache_root_prefers_numba_cache_dir_then_xdg(tmp_path: Path):
    assert jitcache.cache_root({"NUMBA_CACHE_DIR": str(tmp_path)}) == tmp_path / "qgamma"
    assert jitcache.cache_root({"XDG_CACHE_HOME": str(tmp_path / "x")}) == tmp_path / "x" / "qgamma"
    assert jitcache.cache_root({}) == Path.home() / ".cache" / "qgamma"


def test_configure_points_numba_at_this_tree(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)    # restored after the test
    tree = jitcache.configure({"NUMBA_CACHE_DIR": str(tmp_path)})
    src_root = Path(jitcache.__file__).resolve().parents[1]
    assert jitcache.installed_digest() == jitcache.source_digest(src_root)
    assert tree == tmp_path / "qgamma" / f"numba-{jitcache.source_digest(src_root)}"
    assert tree.is_dir() and numba.config.CACHE_DIR == str(tree)


def test_configure_leaves_numba_alone_without_a_writable_directory(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", "unchanged")
    blocker = tmp_path / "file"
    blocker.write_text("")                                   # a file where the cache directory would go
    assert jitcache.configure({"NUMBA_CACHE_DIR": str(blocker)}) is None
    assert numba.config.CACHE_DIR == "unchanged"


def test_the_kernels_cache_in_the_configured_tree():
    from qmaestro.analysis.kernel import analyze_batch_core
    from qmaestro.analysis.closed import closed_form
    tree = numba.config.CACHE_DIR
    assert tree and Path(tree).name.startswith("numba-")     # set when qmaestro was imported
    for f in (analyze_batch_core, closed_form):
        assert f._cache._cache_path.startswith(tree)


def test_prune_keeps_recent_and_current_trees(tmp_path: Path):
    now = time.time()
    ages_days = [0, 1, 2, 10, 20, 30]
    trees = []
    for i, age in enumerate(ages_days):
        t = tmp_path / f"numba-{i:016x}"
        t.mkdir()
        os.utime(t, (now - age * 86400, now - age * 86400))
        trees.append(t)
    current = trees[-1]                                      # in use, however old its timestamp
    removed = jitcache.prune(tmp_path, current, now)
    # the KEEP_TREES - 1 newest others stay (0, 1, 2 days); older ones go once unused for a week (10, 20 days)
    assert sorted(removed) == [trees[3], trees[4]]
    assert all(t.exists() for t in trees[:3] + [current])
    young = tmp_path / "numba-young"
    young.mkdir()
    assert jitcache.prune(tmp_path, current, now) == []     # a tree used this week is never removed
