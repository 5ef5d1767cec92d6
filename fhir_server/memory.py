"""Giving the heap a burst of work freed back to the system."""

from __future__ import annotations

import ctypes
import gc

__all__ = ["release_free_memory"]


def release_free_memory() -> None:
    """Give back to the system the heap that was used and freed (storing the shipped
    content: about 100 MB), which glibc would otherwise keep for the life of the process."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
