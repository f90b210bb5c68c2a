"""Decorators that mark the steps of a pipeline for ptk, and ``replica()`` for replicated pods.

Outside ptk they change nothing: each decorator returns the function it decorates, so
``python pipeline.py`` runs the pipeline as plain Python. ptk reads the decorators' arguments from
the source file without running it, which is why the arguments must be literals.

Importing this package imports nothing else, so that it stays cheap in every container. The runtime
itself is ``python -m ptk.run`` (runtime/PROTOCOL.md).
"""

import os

__all__ = ["task", "container", "pod", "replica"]


def _mark(*args, **kwargs):
    # Used bare (@task) the decorator receives the function itself.
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]

    def decorate(function):
        return function

    return decorate


def task(*args, **kwargs):
    """Mark a function as a ptk task: by default its own container in its own pod."""
    return _mark(*args, **kwargs)


def container(*args, **kwargs):
    """Put the function in the named container; functions with the same name share it."""
    return _mark(*args, **kwargs)


def pod(*args, **kwargs):
    """Put the function in the named pod; functions with the same name share it."""
    return _mark(*args, **kwargs)


def replica():
    """Return ``(index, count)``: which replica of its pod this process is, and how many there are.

    The runtime sets PTK_REPLICA_INDEX and PTK_REPLICA_COUNT before it imports the pipeline, and
    processes that a task starts inherit them. Outside ptk (no PTK_REPLICA_COUNT) it returns ``(0, 1)``.
    """
    count = os.environ.get("PTK_REPLICA_COUNT")
    if count is None:
        return (0, 1)
    return (int(os.environ.get("PTK_REPLICA_INDEX", "0")), int(count))
