"""Static files: whitenoise's compressed, hashed-name storage, able to take bokeh's folder as shipped."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed names and compression as usual, but `//# sourceMappingURL=` comments in JavaScript
    are left as they are rather than rewritten to hashed names.

    The bokeh wheel's unminified bundles name .map files it does not ship (and its bundled
    compiler holds such comments inside strings), so rewriting them makes collectstatic fail.
    The project's own JavaScript has no source maps; CSS url() references are still rewritten."""

    patterns = tuple((glob, rules) for glob, rules in CompressedManifestStaticFilesStorage.patterns if glob != "*.js")
