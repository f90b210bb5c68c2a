"""Data folders: how a task's value is stored for tasks in other containers, and read back.

A folder contains ``data.pkl`` (the value pickled with protocol 5), ``buffer-<n>.bin`` (large buffers kept
out of band), and then ``COMPLETE`` (file sizes and the CRC-32s of their chunks) or ``FAILED``.
runtime/PROTOCOL.md defines the format. A numpy array kept out of band is written from its own memory,
and the loaded array uses a copy-on-write mapping of the file instead of a copy.

Every file is written under a temporary name and renamed into place, and ``COMPLETE`` is renamed last,
so a reader that sees ``COMPLETE`` sees every file whole, even when the producer was killed while
writing. Nothing is fsync'ed, as ``cp`` does not fsync either: rename makes a killed writer safe for
readers, but a crash of the machine itself can lose files that ``COMPLETE`` lists. Readers catch that
through the size and CRC-32 checks, and they unpickle nothing before every file is checked.
"""

import os
import time

import _pickle

from . import _crc, _jsonio, _mapping

DATA_FILE = "data.pkl"
SUMMARY_FILE = "repr.txt"
COMPLETE = "COMPLETE"
FAILED = "FAILED"
TEMPORARY_PREFIX = ".tmp-"

# Buffers from this size up are stored in their own file. Smaller ones stay in data.pkl, so that a list
# of many small arrays does not become as many files.
OUT_OF_BAND_MIN_BYTES = 1 << 20
# A data.pkl from this size up is mapped rather than read. Below it, reading costs less than the
# mapping's system calls.
MAP_MIN_BYTES = 1 << 20


class StoreError(Exception):
    """Writing a data folder failed (disk full, permission denied): ``args[0]`` names the file."""


class UnpicklableValue(Exception):
    """The value cannot be pickled: ``args[0]`` is the pickling error."""


class CorruptFolder(Exception):
    """A folder's files disagree with its COMPLETE marker: ``args[0]`` names the file and the mismatch."""


class LoadError(Exception):
    """Unpickling a verified data.pkl failed: ``args[0]`` is the unpickling error."""


def replica_folder(path, replicas, index):
    """Return the folder of one replica's value: ``path`` itself when the pod has a single replica."""
    return path if replicas == 1 else os.path.join(path, f"replica-{index}")


def clear(folder):
    """Remove the ptk files of an earlier attempt from a folder, so no reader takes them for this run's.

    Other files in the folder are kept.
    """
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        if name in (COMPLETE, FAILED, DATA_FILE, SUMMARY_FILE) or name.startswith(TEMPORARY_PREFIX) or _is_buffer_name(name):
            try:
                os.unlink(os.path.join(folder, name))
            except FileNotFoundError:
                pass


def store(value, folder, run_id, producer, summary=None):
    """Store a value in a folder and mark it COMPLETE. Return the number of bytes of data.pkl and buffers.

    ``summary``, when given, is written to repr.txt before COMPLETE (results folders hold the value's
    repr() there). Raises UnpicklableValue when the value cannot be pickled and StoreError when a file
    cannot be written. Either way no COMPLETE is written and the temporary files are removed.
    """
    os.makedirs(folder, exist_ok=True)
    temporary = []
    try:
        with _crc.ChunkPool() as pool:
            files, buffers = _write_pickle(value, folder, temporary, pool)
            for index, buffer in enumerate(buffers):
                files.append(_write_file(folder, f"buffer-{index}.bin", buffer.raw(), temporary, pool))
        total = sum(entry["size"] for entry in files)
        if summary is not None:
            _write_file(folder, SUMMARY_FILE, summary.encode("utf-8", "backslashreplace"), temporary)
        marker = {"run_id": run_id, "producer": producer, "files": files, "bytes": total, "finished_at": time.time()}
        _write_file(folder, COMPLETE, _jsonio.dumps(marker).encode(), temporary)
        return total
    finally:
        _remove_all(temporary)


def write_failed(folder, run_id, producer, error, traceback_text):
    """Mark a folder FAILED with a one-line error and a traceback (possibly empty)."""
    os.makedirs(folder, exist_ok=True)
    marker = {"run_id": run_id, "producer": producer, "error": error, "traceback": traceback_text}
    temporary = []
    try:
        _write_file(folder, FAILED, _jsonio.dumps(marker).encode(), temporary)
    finally:
        _remove_all(temporary)


def read_marker(folder, run_id):
    """Return ``(state, marker)`` for a folder: state is "complete", "failed" or None (not yet written).

    A COMPLETE or FAILED of another run is a leftover and counts as not written. Then marker is that
    leftover's run_id, else None. Raises CorruptFolder when a marker is not a JSON object.
    """
    leftover = None
    for state, name in (("complete", COMPLETE), ("failed", FAILED)):
        marker = _read_marker_file(os.path.join(folder, name))
        if marker is None:
            continue
        if marker.get("run_id") == run_id:
            return state, marker
        leftover = leftover or marker.get("run_id")
    return None, leftover


def load(folder, complete):
    """Check the files that a COMPLETE marker lists, then unpickle the value.

    Buffer files are mapped copy-on-write (``_mapping``), and the loaded buffers use the mappings as
    their memory. Returns the value and the number of bytes of its files. Raises CorruptFolder when a
    file is missing or its size or the CRC-32 of a chunk differs from the marker, and LoadError when
    unpickling fails.
    """
    listing = _check_listing(folder, complete)
    mapper = _mapping.Mapper()
    with _crc.ChunkPool() as pool:
        data = _read_verified(os.path.join(folder, DATA_FILE), listing[DATA_FILE], pool, mapper, MAP_MIN_BYTES, False)
        buffers = []
        for index in range(len(listing) - 1):
            name = f"buffer-{index}.bin"
            buffers.append(_read_verified(os.path.join(folder, name), listing[name], pool, mapper, 1, True))
    try:
        value = _pickle.loads(data, buffers=buffers)
    except Exception as error:
        raise LoadError(error) from error
    finally:
        # The unpickled value keeps no reference to data.pkl's bytes: unmap them now.
        if isinstance(data, memoryview):
            try:
                data.release()
            except BufferError:
                pass  # still exported somewhere: the mapping goes when its last user does
    return value, sum(size for size, _, _ in listing.values())


class _Pickler(_pickle.Pickler):
    # A memoryview cannot be pickled on its own; this sends it out of band like a numpy array's buffer.
    # (bytes and bytearray never reach reducer_override: the C pickler writes them itself, in band.)

    def reducer_override(self, obj):
        if type(obj) is memoryview:
            return _reduce_memoryview(obj)
        return NotImplemented


def _reduce_memoryview(view):
    if view.c_contiguous:
        data = view
    else:
        data = view.tobytes() if view.readonly else bytearray(view.tobytes())
    # _rebuild_memoryview casts every other view, and memoryview.cast() rejects some, such as empty
    # views with a shape: those cannot be stored.
    try:
        if not (view.format == "B" and view.ndim == 1):
            memoryview(data).cast("B").cast(view.format, view.shape)
    except (TypeError, ValueError):
        raise _pickle.PicklingError(
            f"a memoryview of format {view.format!r} and shape {view.shape} cannot be rebuilt"
        ) from None
    return _rebuild_memoryview, (_pickle.PickleBuffer(data), view.format, view.shape)


def _rebuild_memoryview(buffer, format, shape):
    view = memoryview(buffer)
    if format == "B" and len(shape) == 1:
        return view
    return view.cast("B").cast(format, shape)


def _remove_all(paths):
    # Removes the temporary files that a failed write left behind.
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _write_pickle(value, folder, temporary, pool):
    # Pickles straight into the temporary file: a large bytes object goes from its own memory to the
    # file, with no copy in between.
    buffers = []

    def keep_out_of_band(buffer):
        # pickle calls this for each PickleBuffer; returning a false value keeps it out of band.
        try:
            size = buffer.raw().nbytes
        except BufferError:
            return True  # not contiguous: pickle stores it in band (or reports why it cannot)
        if size < OUT_OF_BAND_MIN_BYTES:
            return True
        buffers.append(buffer)
        return False

    path = os.path.join(folder, f"{TEMPORARY_PREFIX}{DATA_FILE}-{os.getpid()}")
    fd = _create(path, temporary)
    writer = _crc.ChecksumWriter(fd, pool)
    try:
        _Pickler(writer, protocol=5, buffer_callback=keep_out_of_band).dump(value)
    except Exception as error:
        if error is writer.error:
            raise StoreError(f"cannot write {path}: {error.strerror or error}") from error
        raise UnpicklableValue(error) from error
    finally:
        os.close(fd)
    _rename(path, os.path.join(folder, DATA_FILE))
    return [_file_entry(DATA_FILE, writer.checksum)], buffers


def _write_file(folder, name, data, temporary, pool=None):
    path = os.path.join(folder, f"{TEMPORARY_PREFIX}{name}-{os.getpid()}")
    fd = _create(path, temporary)
    try:
        checksum = _crc.write_all(fd, data, pool)
    except OSError as error:
        raise StoreError(f"cannot write {path}: {error.strerror or error}") from error
    finally:
        os.close(fd)
    _rename(path, os.path.join(folder, name))
    return _file_entry(name, checksum)


def _file_entry(name, checksum):
    # The entry of a file in COMPLETE's "files".
    return {"name": name, "size": checksum.size, "chunk_size": checksum.chunk_size, "crc32": checksum.chunk_crcs()}


def _create(path, temporary):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise StoreError(f"cannot create {path}: {error.strerror}") from error
    temporary.append(path)
    return fd


def _rename(source, target):
    try:
        os.rename(source, target)
    except OSError as error:
        raise StoreError(f"cannot rename {source} to {target}: {error.strerror}") from error


def _is_buffer_name(name):
    return name.startswith("buffer-") and name.endswith(".bin") and name[7:-4].isdigit()


def _read_marker_file(path):
    try:
        with open(path, "rb") as file:
            text = file.read()
    except FileNotFoundError:
        return None
    try:
        marker = _jsonio.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise CorruptFolder(f"{path} is not valid JSON ({error})") from None
    if not isinstance(marker, dict):
        raise CorruptFolder(f"{path} is not a JSON object")
    return marker


def _check_listing(folder, complete):
    # Returns {name: (size, chunk_size, chunk CRC-32s)} for data.pkl and buffer-0.bin … buffer-<n-1>.bin.
    path = os.path.join(folder, COMPLETE)
    files = complete.get("files")
    listing = {}
    if isinstance(files, list):
        for entry in files:
            if not _is_file_entry(entry):
                break
            name, size, chunk_size, crcs = entry["name"], entry["size"], entry["chunk_size"], entry["crc32"]
            chunks = -(-size // chunk_size)
            if len(crcs) != chunks:
                raise CorruptFolder(
                    f"{path} has the wrong number of CRC-32s for {name}: {size} bytes in chunks of "
                    f"{chunk_size} bytes need {chunks}, it lists {len(crcs)}"
                )
            listing[name] = (size, chunk_size, crcs)
        else:
            expected = {DATA_FILE} | {f"buffer-{index}.bin" for index in range(len(listing) - 1)}
            if set(listing) == expected and len(listing) == len(files):
                return listing
    raise CorruptFolder(
        f"{path} does not list data.pkl and buffer-0.bin … buffer-<n>.bin, each with its size, chunk_size "
        "and crc32 (a list of one CRC-32 per chunk)"
    )


def _is_file_entry(entry):
    if not isinstance(entry, dict):
        return False
    size, chunk_size, crcs = entry.get("size"), entry.get("chunk_size"), entry.get("crc32")
    return (
        isinstance(entry.get("name"), str)
        and type(size) is int
        and size >= 0
        and type(chunk_size) is int
        and chunk_size > 0
        and isinstance(crcs, list)
        and all(type(crc) is int and 0 <= crc <= 0xFFFFFFFF for crc in crcs)
    )


def _read_verified(path, entry, pool, mapper, map_min_bytes, writable):
    # Returns a file's bytes after checking its size and chunk CRC-32s: a mapping (as a memoryview,
    # copy-on-write when writable, else read-only) when the file has map_min_bytes or more and the
    # mapper allows it, else a new bytearray. Empty files cannot be mapped.
    size, chunk_size, crcs = entry
    try:
        file = open(path, "rb", buffering=0)
    except FileNotFoundError:
        raise CorruptFolder(f"{path} is missing, but COMPLETE lists it") from None
    with file:
        actual = os.fstat(file.fileno()).st_size
        if actual != size:
            raise CorruptFolder(f"{path} is {actual} bytes, but COMPLETE records {size}")
        data = _map(file, size, mapper, writable) if size >= max(map_min_bytes, 1) else None
        if data is None:
            data = bytearray(size)
            try:
                _crc.read_exactly(file, data)
            except _crc.ShortFileError:
                raise CorruptFolder(f"{path} became shorter while it was read") from None

    checksum = _crc.ChunkedCrc(pool, chunk_size)
    checksum.update(data)
    for index, (actual_crc, crc) in enumerate(zip(checksum.chunk_crcs(), crcs)):
        if actual_crc != crc:
            first = index * chunk_size
            last = min(first + chunk_size, size) - 1
            raise CorruptFolder(
                f"{path} has CRC-32 {actual_crc:08x} in chunk {index} (bytes {first} to {last}), "
                f"but COMPLETE records {crc:08x}"
            )
    return data


def _map(file, size, mapper, writable):
    # A mapping of the file as a memoryview, or None to read the file instead.
    try:
        mapping = mapper.map(file.fileno(), size, writable)
    except ValueError:
        raise CorruptFolder(f"{file.name} became shorter while it was read") from None
    except OSError:
        return None  # a filesystem without mmap support, or no memory for the mapping: read instead
    return None if mapping is None else memoryview(mapping)
