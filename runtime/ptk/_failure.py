"""The error that ends a container's run, with the message parts that the runtime prints and records."""


class Failure(Exception):
    """A failure that the runtime reports in one line, ``problem — fix``, and then exits.

    ``problem`` names what failed and on which value. It is also the ``error`` of the FAILED markers
    that stop consumers in other containers. ``fix`` tells the user what to do next. ``details`` is
    printed after the line: the traceback of a task's exception, or None.
    """

    def __init__(self, problem, fix, details=None, exit_code=1):
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.details = details
        self.exit_code = exit_code

    @property
    def line(self):
        return f"{self.problem} — {self.fix}"


def one_line(text, limit=1000):
    """Return a text as a single line of at most ``limit`` characters, for messages and markers."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_exception(error):
    """Return ``Type: message`` for an exception, in one line."""
    message = one_line(error)
    name = type(error).__qualname__
    return f"{name}: {message}" if message else name


def format_traceback(error, skip_frames=0):
    """Return an exception's traceback as text, without its first ``skip_frames`` frames (the runtime's)."""
    import traceback

    frames = error.__traceback__
    for _ in range(skip_frames):
        if frames is not None and frames.tb_next is not None:
            frames = frames.tb_next
    return "".join(traceback.format_exception(type(error), error, frames))
