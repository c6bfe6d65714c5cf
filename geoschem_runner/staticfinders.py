"""A static-files finder for BokehJS: the installed bokeh package's minified bundles only.

Served as static/bokeh/js/<bundle>.min.js, so the JavaScript always matches the Python side's
version and the pages work offline (no CDN). Only the six minified bundles are exposed: the rest
of bokeh's static folder (24 MB of unminified sources, whose source-map comments name .map files
the wheel does not ship) is neither collected nor served.
"""

from pathlib import Path

from bokeh.util.paths import bokehjs_path
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PREFIX = "bokeh/js/"


class BokehFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        self.root = Path(bokehjs_path()) / "js"
        self.storage = FileSystemStorage(location=str(self.root))
        self.storage.prefix = PREFIX.rstrip("/")

    def _bundles(self) -> list[str]:
        return sorted(p.name for p in self.root.glob("*.min.js"))

    def find(self, path, find_all=False, **kwargs):
        name = path[len(PREFIX):] if path.startswith(PREFIX) else None
        if name is None or name not in self._bundles():
            return [] if find_all else None
        match = str(self.root / name)
        return [match] if find_all else match

    def list(self, ignore_patterns):
        for name in self._bundles():
            yield name, self.storage

    def check(self, **kwargs):
        return []
