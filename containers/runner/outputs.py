"""Copying the model's files to ``io.output_uri``.

Layout (docs/run-spec.md): every file of ``OutputDir/`` at the top of the output location,
every file of ``Restarts/`` under ``Restarts/``. A file is copied again only when it changed
(size or modification time) since it was last copied, so calling ``ship`` often is cheap.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .rundir import GCHP_CHECKPOINT, OUTPUT_DIR, RESTART_DIR

# During the run a file is copied only once it has not changed for this long: the model may
# still be writing it. Anything that changes later is copied again by the final ship.
SETTLE_SECONDS = 10.0

# (folder in the run directory, prefix of its keys in the output location)
_LAYOUT = ((OUTPUT_DIR, ""), (RESTART_DIR, f"{RESTART_DIR}/"))


def _signature(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_size, stat.st_mtime_ns


class OutputShipper:
    """Copies new and changed output files of one run directory into one store."""

    def __init__(self, run_root: Path, store, clock=time.time):
        """``store``: a FileStore or S3Store (``transport.open_store``)."""
        self.run_root = run_root
        self.store = store
        self.clock = clock
        self._copied: dict[str, tuple[int, int]] = {}
        self._copied_keys: list[str] = []
        self._ignored: dict[str, tuple[int, int]] = {}

    def ignore_unchanged(self, path: Path) -> None:
        """Do not copy ``path`` unless it changes: the restart the runner staged itself is
        already in a store and can be hundreds of megabytes."""
        key = self._key_of(path)
        if key and path.is_file():
            self._ignored[key] = _signature(path.stat())

    def ignore_present(self, folder: str = RESTART_DIR) -> list[str]:
        """Do not copy the files now in ``folder`` unless they change; returns their keys.
        createRunDir.sh puts sample restarts (or links to them) in Restarts/: they are
        GEOS-Chem's inputs, not this run's outputs."""
        keys = []
        for key, path, stat in self._candidates():
            if path.parent == self.run_root / folder:
                self._ignored[key] = _signature(stat)
                keys.append(key)
        return keys

    def latest_restart(self) -> str | None:
        """The key of the most recently written restart copied so far, or None."""
        restarts = [key for key in self._copied_keys if key.startswith(f"{RESTART_DIR}/")]
        if not restarts:
            return None
        return max(restarts, key=lambda key: self._copied[key][1])

    def _key_of(self, path: Path) -> str | None:
        for folder, prefix in _LAYOUT:
            if path.parent == self.run_root / folder:
                return prefix + path.name
        return None

    def _candidates(self):
        for folder, prefix in _LAYOUT:
            try:
                entries = list(os.scandir(self.run_root / folder))
            except FileNotFoundError:
                continue
            for entry in sorted(entries, key=lambda e: e.name):
                # Hidden names are temporary files; GCHP's raw checkpoint is renamed to its
                # restart name at the end and copied under that name.
                if entry.name.startswith(".") or entry.name == GCHP_CHECKPOINT:
                    continue
                if entry.is_file(follow_symlinks=True):
                    yield prefix + entry.name, Path(entry.path), entry.stat(follow_symlinks=True)

    def ship(self, *, final: bool) -> list[str]:
        """Copy what is new or changed; returns the keys copied by this call.

        ``final=False`` (during the run) skips files changed in the last ``SETTLE_SECONDS``.
        """
        done = []
        now = self.clock()
        for key, path, stat in self._candidates():
            signature = _signature(stat)
            if self._copied.get(key) == signature or self._ignored.get(key) == signature:
                continue
            if not final and now - stat.st_mtime < SETTLE_SECONDS:
                continue
            self.store.put(path, key)
            self._copied[key] = signature
            if key not in self._copied_keys:
                self._copied_keys.append(key)
            done.append(key)
        return done

    @property
    def copied(self) -> list[str]:
        """Every key copied so far, in the order first copied."""
        return list(self._copied_keys)
