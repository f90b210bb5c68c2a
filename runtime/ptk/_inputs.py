"""Wait for a task's inputs from other containers' data folders, and load them."""

import os
import time

from . import _folder
from ._failure import Failure, describe_exception, format_traceback, one_line

# Polling for a marker starts at this interval and doubles up to the maximum, in seconds.
FIRST_POLL_S = 0.005
MAX_POLL_S = 0.2


def gather(spec, task, arguments, counters):
    """Put the value of each of the task's folder inputs into ``arguments``, by parameter name.

    Waits for every folder at once, so that a FAILED anywhere ends the wait at once, and loads each
    folder as soon as its COMPLETE appears. A replicated producer's values arrive as a list in replica
    index order. Adds to ``counters["bytes_in"]`` and sets ``counters["input_wait_s"]``, the time spent
    waiting rather than loading. Raises Failure when an input failed, timed out or is corrupt.
    """
    pending = []
    for source in task.inputs:
        if source.channel == "direct":
            continue
        if source.replicas > 1:
            arguments[source.parameter] = [None] * source.replicas
        for index in range(source.replicas):
            pending.append((source, index, _folder.replica_folder(source.path, source.replicas, index)))

    start = time.perf_counter()
    deadline = start + spec.input_timeout_s
    loading_s = 0.0
    delay = FIRST_POLL_S
    leftovers = {}
    while True:
        waiting = []
        for source, index, folder in pending:
            try:
                state, marker = _folder.read_marker(folder, spec.run_id)
                if state == "complete":
                    loaded = time.perf_counter()
                    value, size = _folder.load(folder, marker)
                    loading_s += time.perf_counter() - loaded
            except _folder.CorruptFolder as error:
                raise Failure(
                    f"input '{source.parameter}' of task '{task.name}' from producer '{source.producer}' "
                    f"is corrupt: {error.args[0]}",
                    f"run task '{source.producer}' again to write its value again",
                ) from None
            except _folder.LoadError as error:
                cause = error.args[0]
                raise Failure(
                    f"input '{source.parameter}' of task '{task.name}' from producer '{source.producer}' "
                    f"cannot be unpickled: {describe_exception(cause)}",
                    "run both tasks with the same pipeline code and package versions",
                    details=format_traceback(cause),
                ) from None

            if state == "complete":
                counters["bytes_in"] += size
                if source.replicas > 1:
                    arguments[source.parameter][index] = value
                else:
                    arguments[source.parameter] = value
                del value
            elif state == "failed":
                raise Failure(
                    f"input '{source.parameter}' of task '{task.name}' failed in producer "
                    f"'{source.producer}': {one_line(marker.get('error', 'no error given'))}",
                    f"fix task '{source.producer}' and run the pipeline again "
                    f"(its traceback is in {os.path.join(folder, _folder.FAILED)})",
                )
            else:
                if marker is not None:
                    leftovers[folder] = marker
                waiting.append((source, index, folder))

        pending = waiting
        now = time.perf_counter()
        if not pending:
            counters["input_wait_s"] = max(0.0, now - start - loading_s)
            return
        if now >= deadline:
            source, index, folder = pending[0]
            leftover = f" (the marker there is from run {leftovers[folder]})" if folder in leftovers else ""
            raise Failure(
                f"input '{source.parameter}' of task '{task.name}' timed out after {spec.input_timeout_s:g} s: "
                f"producer '{source.producer}' wrote no COMPLETE in {folder}{leftover}",
                f"check that task '{source.producer}' runs and succeeds, or raise input_timeout_s",
            )
        time.sleep(min(delay, deadline - now))
        delay = min(delay * 2, MAX_POLL_S)
