"""nestbed's test harness: boots images on emulated platforms, parses their TAP output and
writes results. Entry point: python3 -m harness (see harness/__main__.py)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent   # the repository


class HarnessError(Exception):
    """Bad input or a broken environment: one line, exit status 2."""


class PlatformUnavailable(Exception):
    """The platform cannot run on this host (e.g. no usable KVM): exit status 77."""

    def __init__(self, platform, reason):
        super().__init__("%s: %s" % (platform, reason))
        self.platform = platform
        self.reason = reason


EXIT_PASS, EXIT_FAIL, EXIT_ERROR, EXIT_SKIP = 0, 1, 2, 77
