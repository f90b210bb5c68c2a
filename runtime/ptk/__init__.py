"""Decorators that mark the steps of a pipeline for ptk.

Outside ptk they change nothing: each decorator returns the function it decorates, so
``python pipeline.py`` runs the pipeline as plain Python. ptk reads the decorators' arguments from
the source file without running it, which is why the arguments must be literals.
"""

__all__ = ["task", "container", "pod"]


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
