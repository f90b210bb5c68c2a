"""Map data files into memory, so that a loaded array uses the page cache instead of a copy.

A buffer file is mapped with ``mmap.ACCESS_COPY``: a private copy-on-write mapping. A consumer that
writes into its array gets private copies of the pages it writes, so the file never changes and other
consumers of the same file are not affected. A mapping stays alive as long as any memoryview or array
made from it, because each of them holds a reference to the ``mmap`` object.

NOTE: reading a mapped page of a file that someone else truncated in place raises SIGBUS, which ends the
process. ptk's writers never truncate a data file in place: they write a temporary file and rename it,
and they remove files by unlinking them, which leaves the mapped inode intact on local filesystems. On a
network filesystem (NFS) another machine that unlinks the file can still make later page faults fail,
if the kernel had evicted those pages and must read them again.

Before Python 3.13, each ``mmap`` object keeps a duplicate of the file descriptor open for as long as
it lives. ``Mapper`` then maps files only while at most half of the process's limit of open files is
in use, and its caller reads the remaining files into memory instead.
"""

import os
import sys

# Python 3.13 added mmap(..., trackfd=False), which keeps no file descriptor per mapping.
_TRACKS_FD = sys.version_info < (3, 13)


class Mapper:
    """Memory mappings of data files, within the process's budget of file descriptors."""

    def __init__(self):
        # Set by the first map(), so that a load without large files imports nothing.
        self._mmap = None
        self._spare_descriptors = None

    def map(self, fd, size, writable):
        """Map the first ``size`` bytes (at least 1) of an open file. Return the mmap, or None.

        ``writable`` maps it copy-on-write, else read-only. None means that mapping it would use up the
        file descriptors left for the task: read the file instead. Raises ValueError when the file is
        shorter than ``size``, and OSError when the system cannot map it.
        """
        if self._mmap is None:
            import mmap

            self._mmap = mmap
            self._spare_descriptors = _count_spare_descriptors() if _TRACKS_FD else None
        if self._spare_descriptors is not None:
            if self._spare_descriptors <= 0:
                return None
            self._spare_descriptors -= 1
        access = self._mmap.ACCESS_COPY if writable else self._mmap.ACCESS_READ
        if _TRACKS_FD:
            return self._mmap.mmap(fd, size, access=access)
        return self._mmap.mmap(fd, size, access=access, trackfd=False)


def _count_spare_descriptors():
    # Half of the soft limit of open files, minus those open now. None: no limit.
    import resource

    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if limit == resource.RLIM_INFINITY:
        return None
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return limit // 2 - len(os.listdir(folder))
        except OSError:
            continue
    return limit // 2
