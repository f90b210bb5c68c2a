"""CRC-32 of files in fixed-size chunks, computed by a few threads while a file is written or read.

A file's checksum is a list: the CRC-32 of each chunk of ``chunk_size`` bytes, the last chunk shorter
(none for an empty file). The chunks are independent, so several threads share the work on one large
file. CPython's ``zlib.crc32`` releases the GIL on buffers above 5 KiB, as ``os.write`` does, so the
threads also run while the calling thread writes the same bytes. Pieces smaller than ``POOL_MIN_BYTES``
are checksummed in the calling thread, because handing them over costs more than the checksum itself.

NOTE: the threads only help when cores are free. When other processes keep every core busy, the
threads take turns with them, and the checksum costs its full time: about 0.37 s per GiB with zlib
1.2.13 on one AMD EPYC core (bench/README.md).
"""

import os
import zlib

# The chunk size that writers record. 32 chunks per GiB share out evenly between a few threads, and the
# list stays short in COMPLETE (about 11 bytes of JSON per chunk).
CHUNK_BYTES = 32 << 20
# Pieces from this size up are checksummed by the pool threads.
POOL_MIN_BYTES = 16 << 20
# At most this many checksum threads, and no more than the CPUs that this process may use.
MAX_THREADS = 4


class ShortFileError(OSError):
    """A file ended before the number of bytes that its reader expected."""


class ChunkPool:
    """Threads that compute CRC-32s, started at the first ``submit`` and stopped by ``close``.

    Creating a pool imports nothing and starts no thread, so a store or load of small files pays nothing.
    """

    def __init__(self):
        self._tasks = None
        self._threads = []
        self._event_type = None

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()

    def submit(self, view, start):
        """Queue ``zlib.crc32(view, start)``. Return a job whose ``result()`` waits for the value."""
        if self._tasks is None:
            self._start()
        job = _Job(view, start, self._event_type())
        self._tasks.put(job)
        return job

    def close(self):
        """Stop the threads after the jobs queued so far."""
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []
        self._tasks = None

    def _start(self):
        import queue
        import threading

        self._tasks = queue.SimpleQueue()
        self._event_type = threading.Event
        for index in range(min(MAX_THREADS, _usable_cpus())):
            thread = threading.Thread(target=_work, args=(self._tasks,), name=f"ptk-crc32-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)


class _Job:
    __slots__ = ("view", "start", "done", "value", "error")

    def __init__(self, view, start, done):
        self.view = view
        self.start = start
        self.done = done
        self.value = None
        self.error = None

    def wait(self):
        self.done.wait()

    def result(self):
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value


def _work(tasks):
    while True:
        job = tasks.get()
        if job is None:
            return
        try:
            job.value = zlib.crc32(job.view, job.start)
        except Exception as error:
            job.error = error
        finally:
            job.view = None  # drops the export of the caller's buffer before the caller resumes
            job.done.set()


def _usable_cpus():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class ChunkedCrc:
    """The chunk CRC-32s of one file, built from the file's bytes in order by ``update``.

    Without a pool, every piece is checksummed in the calling thread.
    """

    def __init__(self, pool=None, chunk_size=CHUNK_BYTES):
        self.pool = pool
        self.chunk_size = chunk_size
        self.size = 0
        self._done = []  # CRC-32s of the full chunks so far
        self._crc = 0  # CRC-32 of the bytes of the open chunk
        self._filled = 0  # number of bytes in the open chunk

    def update(self, data, transfer=None):
        """Add the next bytes of the file.

        ``transfer``, when given, is called once while the pool threads checksum the bytes: the write
        that puts them into the file. Its exception propagates after the threads are done with ``data``.
        """
        view = byte_view(data)
        segments = self._split(view)
        if self.pool is None or view.nbytes < POOL_MIN_BYTES:
            if transfer is not None:
                transfer()
            for segment in segments:
                self._add(segment.nbytes, zlib.crc32(segment, self._crc))
            return

        # Only the first segment continues the open chunk: each later one starts a chunk of its own.
        jobs = [self.pool.submit(segment, self._crc if index == 0 else 0) for index, segment in enumerate(segments)]
        try:
            if transfer is not None:
                transfer()
        except BaseException:
            for job in jobs:
                job.wait()
            raise
        values = [job.result() for job in jobs]
        for segment, value in zip(segments, values):
            self._add(segment.nbytes, value)

    def chunk_crcs(self):
        """Return the CRC-32s of the chunks so far, the open chunk last."""
        return self._done + [self._crc] if self._filled else list(self._done)

    def _split(self, view):
        # Cuts the view where chunks end, counting from the start of the file.
        segments = []
        position = 0
        room = self.chunk_size - self._filled
        while position < view.nbytes:
            end = min(position + room, view.nbytes)
            segments.append(view[position:end])
            position = end
            room = self.chunk_size
        return segments

    def _add(self, count, crc):
        self._crc = crc
        self._filled += count
        self.size += count
        if self._filled == self.chunk_size:
            self._done.append(crc)
            self._crc = 0
            self._filled = 0


def write_all(fd, data, pool=None):
    """Write all of a bytes-like object to a file descriptor. Return its ``ChunkedCrc``."""
    view = byte_view(data)
    checksum = ChunkedCrc(pool)
    checksum.update(view, lambda: _write_view(fd, view))
    return checksum


def read_exactly(file, view):
    """Fill a writable memoryview from a raw file. Raises ShortFileError when the file ends first."""
    view = byte_view(view)
    while view.nbytes:
        count = file.readinto(view)
        if not count:
            raise ShortFileError(f"{getattr(file, 'name', 'file')} ended {view.nbytes} bytes early")
        view = view[count:]


class ChecksumWriter:
    """A file-like object for ``pickle.Pickler``: writes to a descriptor and keeps the chunk CRC-32s.

    ``checksum`` is the ``ChunkedCrc`` of what was written. ``error`` is the OSError of a failed write,
    so that a caller can tell it from a pickling error.
    """

    def __init__(self, fd, pool=None):
        self.fd = fd
        self.checksum = ChunkedCrc(pool)
        self.error = None

    def write(self, data):
        view = byte_view(data)
        try:
            self.checksum.update(view, lambda: _write_view(self.fd, view))
        except OSError as error:
            self.error = error
            raise
        return view.nbytes


def byte_view(data):
    """Return a one-dimensional memoryview of unsigned bytes over a bytes-like object."""
    view = data if isinstance(data, memoryview) else memoryview(data)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


def _write_view(fd, view):
    # os.write can write fewer bytes than requested (to a pipe, after a signal, or above 2 GiB on
    # Linux), so this loops.
    while view.nbytes:
        written = os.write(fd, view)
        view = view[written:]
