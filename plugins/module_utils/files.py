# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Writing files so that a crash or a full disk never leaves half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile


def write_atomically(path, data, mode):
    """Replaces ``path`` with ``data``: a temporary file in the same directory gets ``mode``
    before any byte is written (a secret is never readable by others, not even briefly), is
    flushed to disk and renamed over ``path``. On failure (OSError) ``path`` is as it was and
    no temporary file is left."""
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        try:
            os.fchmod(descriptor, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    # The rename itself is durable only once the directory is flushed; not every file
    # system can, and the data is already safe, so a failure here is not an error.
    with contextlib.suppress(OSError):
        directory_descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_descriptor)
        finally:
            os.close(directory_descriptor)
