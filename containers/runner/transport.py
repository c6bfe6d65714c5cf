"""Where the runner reads its inputs and writes its outputs and reports.

Every location in the run spec is a URI. A *store* is one location that files are put into
under relative keys (``GEOSChem.SpeciesConc.20190101_0000z.nc4``, ``Restarts/...``).
Schemes: ``file://`` (and plain paths) here, ``s3://`` in ``s3.py``; each scheme registers
its store class, reader and fetcher in ``_STORE_FACTORIES``, ``_READERS`` and ``_FETCHERS``.

Contract of a store:
- ``put(local_path, key)`` copies a local file to ``key``; readers of the store never see a
  half-written file.
- ``put_bytes(data, key)`` writes a small document (progress.json, metrics.json) the same way.
- ``local_path(key)`` is where the file for ``key`` can be written in place, or ``None`` when
  the store is remote (then the runner writes locally and ``put``s the file).
- ``get_bytes(key)`` reads a small document back (None if there is none) and ``keys(folder)``
  lists the keys under a folder: the multi-node rendezvous uses them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit


class TransportError(Exception):
    """A location cannot be used: unsupported scheme, missing file, bad key."""


def scheme_of(uri: str) -> str:
    """The URI scheme in lower case; ``"file"`` for a plain path."""
    scheme = urlsplit(uri).scheme.lower()
    # A one-letter "scheme" is a Windows drive, and no scheme at all is a plain path.
    return "file" if len(scheme) <= 1 else scheme


def path_from_uri(uri: str) -> Path:
    """The local path of a ``file://`` URI or a plain path.

    ``file:///abs/dir/`` and ``file://localhost/abs/dir`` are accepted; another host is not.
    """
    if scheme_of(uri) != "file":
        raise TransportError(f"not a file:// location: {uri}")
    if not uri.lower().startswith("file:"):
        return Path(uri)
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost"):
        raise TransportError(f"file:// URI names another host ({parts.netloc}): {uri}")
    return Path(unquote(parts.path))


def checked_key(key: str) -> PurePosixPath:
    """``key`` as a relative path; TransportError if it could escape its store."""
    # Keys come from file names the model wrote; refuse anything that could escape the store.
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts:
        raise TransportError(f"bad key for a store: {key!r}")
    return path


class FileStore:
    """A directory on a local or shared file system (``file://`` URIs and plain paths)."""

    def __init__(self, root: Path):
        self.root = root

    @classmethod
    def from_uri(cls, uri: str) -> FileStore:
        return cls(path_from_uri(uri))

    def uri_of(self, key: str) -> str:
        """The ``file://`` URI of ``key``, for log lines and reports."""
        return (self.root / checked_key(key)).resolve().as_uri()

    def local_path(self, key: str) -> Path:
        """The path where ``key`` lives; its folder is created."""
        path = self.root / checked_key(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def put(self, local_path: Path, key: str) -> None:
        """Copy ``local_path`` to ``key`` through a temporary name, then rename."""
        target = self.local_path(key)
        if Path(local_path).resolve() == target.resolve():
            return
        tmp = self._temp_name(target)
        try:
            shutil.copyfile(local_path, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            _discard(tmp)
            raise TransportError(f"could not copy {local_path} to {target}: {exc}") from exc

    def put_bytes(self, data: bytes, key: str) -> None:
        """Write ``data`` to ``key`` through a temporary name, then rename."""
        target = self.local_path(key)
        tmp = self._temp_name(target)
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except OSError as exc:
            _discard(tmp)
            raise TransportError(f"could not write {target}: {exc}") from exc

    def get_bytes(self, key: str) -> bytes | None:
        """The content of ``key``, or None when there is no such file."""
        try:
            return (self.root / checked_key(key)).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TransportError(f"cannot read {self.root / key}: {exc.strerror or exc}") from exc

    def keys(self, folder: str) -> list[str]:
        """Keys of the files under ``folder`` (temporary files excluded)."""
        base = self.root / checked_key(folder)
        if not base.is_dir():
            return []
        return sorted(str(path.relative_to(self.root).as_posix()) for path in base.rglob("*")
                      if path.is_file() and not path.name.startswith("."))

    @staticmethod
    def _temp_name(target: Path) -> Path:
        # The temporary file sits in the target's folder so that os.replace is a rename on one
        # file system, which is atomic; the leading dot keeps it out of glob listings.
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(handle)
        return Path(name)


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _read_file(uri: str) -> bytes:
    path = path_from_uri(uri)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TransportError(f"cannot read {uri}: {exc.strerror or exc}") from exc


def _fetch_file(uri: str, dest: Path) -> None:
    source = path_from_uri(uri)
    if not source.is_file():
        raise TransportError(f"file not found: {uri}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(source, dest)
    except OSError as exc:
        raise TransportError(f"could not copy {uri} to {dest}: {exc}") from exc


# The S3 entries import s3.py on first use: it imports this module, and boto3 stays unloaded
# for runs that never touch S3.
def _s3_store(uri: str):
    from .s3 import S3Store

    return S3Store.from_uri(uri)


def _s3_read(uri: str) -> bytes:
    from . import s3

    return s3.read_bytes(uri)


def _s3_fetch(uri: str, dest: Path) -> None:
    from . import s3

    s3.download(uri, dest)


_STORE_FACTORIES = {"file": FileStore.from_uri, "s3": _s3_store}
_READERS = {"file": _read_file, "s3": _s3_read}
_FETCHERS = {"file": _fetch_file, "s3": _s3_fetch}


def _unsupported(uri: str) -> TransportError:
    return TransportError(f"unsupported location scheme {scheme_of(uri)}:// in {uri}")


def is_remote(uri: str) -> bool:
    """True for locations that are not on this machine's file system (s3://)."""
    return scheme_of(uri) != "file"


def open_store(uri: str):
    """The store (FileStore or S3Store) for a location URI; ``TransportError`` when its
    scheme is not supported."""
    factory = _STORE_FACTORIES.get(scheme_of(uri))
    if factory is None:
        raise _unsupported(uri)
    return factory(uri)


def read_bytes(uri: str) -> bytes:
    """The whole content of the file at ``uri`` (the run spec, small documents)."""
    reader = _READERS.get(scheme_of(uri))
    if reader is None:
        raise _unsupported(uri)
    return reader(uri)


def fetch(uri: str, dest: Path) -> None:
    """Copy the file at ``uri`` (a restart file) to the local path ``dest``."""
    fetcher = _FETCHERS.get(scheme_of(uri))
    if fetcher is None:
        raise _unsupported(uri)
    fetcher(uri, dest)
