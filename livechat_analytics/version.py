"""The release, importable without importing the extension (setup.cfg, the CLI, the cache key)."""

__version__ = "0.2.0.dev0"
