"""siting: where to put Bitcoin mines and AI data centres so that they use surplus electricity."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("siting")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
