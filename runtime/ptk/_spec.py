"""Read and validate the container spec (version 1) that ``python -m ptk.run`` runs.

runtime/PROTOCOL.md defines the format. Validation collects every problem of a spec, so that one run
reports all of them, each as one line: ``field: what is wrong``.
"""

import os

from . import _jsonio
from ._jsonio import show as _show

CHANNELS = ("direct", "IPC", "Volume", "PVC")
FOLDER_CHANNELS = ("IPC", "Volume", "PVC")

_CONTAINER_FIELDS = (
    "version", "run_id", "module", "pod", "container", "replicas", "input_timeout_s",
    "log_dir", "record", "results_dir", "tasks",
)
_OPTIONAL_CONTAINER_FIELDS = ("log_dir", "record", "results_dir")
_TASK_FIELDS = ("name", "function", "inputs", "output")
_INPUT_FIELDS = ("parameter", "producer", "channel", "path", "replicas")
_OUTPUT_FIELDS = ("channel", "path")


class SpecError(Exception):
    """An invalid spec, replica index or command line: the runtime exits with status 2."""


class ContainerSpec:
    """One container's work: its tasks in order, and where their inputs and outputs live."""

    __slots__ = (
        "run_id", "module", "pod", "container", "replicas", "input_timeout_s",
        "log_dir", "record", "results_dir", "tasks",
    )


class TaskSpec:
    """A task: the module-level function to call, its inputs and its output folder (or None)."""

    __slots__ = ("name", "function", "inputs", "output")


class InputSpec:
    """A parameter's source: an earlier task of the container ("direct"), or a producer's folder."""

    __slots__ = ("parameter", "producer", "channel", "path", "replicas")


class OutputSpec:
    """The folder where a task stores its value for tasks in other containers."""

    __slots__ = ("channel", "path")


def read_spec_text(spec_file):
    """Return the spec's JSON text and a description of its source, from ``--spec FILE`` or PTK_SPEC."""
    if spec_file is not None:
        try:
            with open(spec_file, encoding="utf-8") as file:
                return file.read(), spec_file
        except OSError as error:
            raise SpecError(f"cannot read the spec file --spec {spec_file}: {error.strerror}") from None

    text = os.environ.get("PTK_SPEC")
    if text is None:
        raise SpecError("no container spec: set PTK_SPEC to the spec's JSON, or give --spec FILE")
    return text, "PTK_SPEC"


def parse_spec(text, source):
    """Parse and validate a spec's JSON text. Raises SpecError that lists every problem."""
    try:
        document = _jsonio.loads(text)
    except ValueError as error:
        raise SpecError(f"invalid container spec in {source}: not valid JSON ({error})") from None

    checker = _Checker()
    spec = checker.container(document)
    if checker.problems:
        count = len(checker.problems)
        lines = [
            f"invalid container spec in {source} ({count} problem{'s' if count > 1 else ''}). "
            "Fix these fields, or write the spec again with the ptk version that matches this runtime:"
        ]
        lines.extend(f"  {problem}" for problem in checker.problems)
        raise SpecError("\n".join(lines))
    return spec


def check_flags(spec, source, module, pod, container):
    """Raise SpecError when a --module, --pod or --container flag differs from the spec."""
    mismatches = []
    if module is not None and os.path.abspath(module) != os.path.abspath(spec.module):
        mismatches.append(f"--module is {module!r} but the spec's module is {spec.module!r}")
    if pod is not None and pod != spec.pod:
        mismatches.append(f"--pod is {pod!r} but the spec's pod is {spec.pod!r}")
    if container is not None and container != spec.container:
        mismatches.append(f"--container is {container!r} but the spec's container is {spec.container!r}")
    if mismatches:
        raise SpecError(
            f"the flags do not match the container spec in {source}: {'; '.join(mismatches)}. "
            "Pass the flags and the spec of the same container"
        )


def replica_index(replicas):
    """Return this process's replica index: PTK_REPLICA_INDEX, else JOB_COMPLETION_INDEX, else 0."""
    for variable in ("PTK_REPLICA_INDEX", "JOB_COMPLETION_INDEX"):
        text = os.environ.get(variable)
        if text is None:
            continue
        if not text.isdigit() or int(text) >= replicas:
            raise SpecError(
                f"invalid replica index: {variable} is {text!r}, but the spec's replicas is {replicas}. "
                f"Set it to a whole number from 0 to {replicas - 1}"
            )
        return int(text)
    return 0


class _Checker:
    # Builds the spec objects while it records each problem as "field: what is wrong".

    def __init__(self):
        self.problems = []

    def problem(self, field, message):
        self.problems.append(f"{field}: {message}")

    def fields(self, document, field, allowed, optional=()):
        # Return the object's fields, or None (with a problem) when it is not an object.
        if not isinstance(document, dict):
            self.problem(field or "spec", f"expected a JSON object, got {_show(document)}")
            return None
        prefix = f"{field}." if field else ""
        for key in document:
            if key not in allowed:
                self.problem(f"{prefix}{key}", f"unknown field (expected one of {', '.join(allowed)})")
        for key in allowed:
            if key not in document and key not in optional:
                self.problem(f"{prefix}{key}", "missing")
        return document

    def string(self, document, key, field, nullable=False, identifier=False, file_name=False):
        value = document.get(key)
        if key not in document or (value is None and nullable):
            return None
        if not isinstance(value, str) or not value:
            expected = "null or a non-empty string" if nullable else "a non-empty string"
            self.problem(field, f"expected {expected}, got {_show(value)}")
            return None
        if identifier and not value.isidentifier():
            self.problem(field, f"expected a Python identifier, got {_show(value)}")
        if file_name and ("/" in value or "\0" in value or value in (".", "..")):
            self.problem(field, f"{_show(value)} cannot be used as a file name (it names the task's log and results)")
        return value

    def whole_number(self, document, key, field):
        value = document.get(key)
        if key not in document:
            return None
        if type(value) is not int or value < 1:
            self.problem(field, f"expected a whole number of 1 or more, got {_show(value)}")
            return None
        return value

    def container(self, document):
        if self.fields(document, "", _CONTAINER_FIELDS, _OPTIONAL_CONTAINER_FIELDS) is None:
            return None

        spec = ContainerSpec()
        version = document.get("version")
        if "version" in document and (type(version) is not int or version != 1):
            self.problem("version", f"expected 1, got {_show(version)} (this runtime reads version 1 only)")
        spec.run_id = self.string(document, "run_id", "run_id")
        spec.module = self.string(document, "module", "module")
        spec.pod = self.string(document, "pod", "pod")
        spec.container = self.string(document, "container", "container")
        spec.replicas = self.whole_number(document, "replicas", "replicas")

        timeout = document.get("input_timeout_s")
        spec.input_timeout_s = None
        if "input_timeout_s" in document:
            if type(timeout) not in (int, float) or not timeout > 0 or timeout == float("inf"):
                self.problem("input_timeout_s", f"expected a number of seconds above 0, got {_show(timeout)}")
            else:
                spec.input_timeout_s = timeout

        spec.log_dir = self.string(document, "log_dir", "log_dir", nullable=True)
        spec.record = self.string(document, "record", "record", nullable=True)
        spec.results_dir = self.string(document, "results_dir", "results_dir", nullable=True)
        spec.tasks = self.tasks(document.get("tasks")) if "tasks" in document else []
        return spec

    def tasks(self, documents):
        if not isinstance(documents, list) or not documents:
            self.problem("tasks", f"expected a non-empty list of tasks, got {_show(documents)}")
            return []

        tasks = []
        earlier = set()
        for index, document in enumerate(documents):
            task = self.task(document, f"tasks[{index}]", earlier)
            if task is None:
                continue
            if task.name is not None:
                if task.name in earlier:
                    self.problem(f"tasks[{index}].name", f"duplicate task name {_show(task.name)}")
                earlier.add(task.name)
            tasks.append(task)
        return tasks

    def task(self, document, field, earlier):
        if self.fields(document, field, _TASK_FIELDS) is None:
            return None

        task = TaskSpec()
        task.name = self.string(document, "name", f"{field}.name", file_name=True)
        task.function = self.string(document, "function", f"{field}.function", identifier=True)

        task.inputs = []
        inputs = document.get("inputs")
        if "inputs" in document and not isinstance(inputs, list):
            self.problem(f"{field}.inputs", f"expected a list, got {_show(inputs)}")
        elif isinstance(inputs, list):
            parameters = set()
            for index, entry in enumerate(inputs):
                source = self.input(entry, f"{field}.inputs[{index}]", earlier)
                if source is None:
                    continue
                if source.parameter is not None:
                    if source.parameter in parameters:
                        self.problem(f"{field}.inputs[{index}].parameter", f"duplicate parameter {_show(source.parameter)}")
                    parameters.add(source.parameter)
                task.inputs.append(source)

        task.output = None
        output = document.get("output")
        if output is not None:
            output_field = f"{field}.output"
            if self.fields(output, output_field, _OUTPUT_FIELDS) is not None:
                task.output = OutputSpec()
                task.output.channel = self.channel(output, f"{output_field}.channel", FOLDER_CHANNELS)
                task.output.path = self.string(output, "path", f"{output_field}.path")
        return task

    def input(self, document, field, earlier):
        if self.fields(document, field, _INPUT_FIELDS, optional=("path", "replicas")) is None:
            return None

        source = InputSpec()
        source.parameter = self.string(document, "parameter", f"{field}.parameter", identifier=True)
        source.producer = self.string(document, "producer", f"{field}.producer")
        source.channel = self.channel(document, f"{field}.channel", CHANNELS)
        source.path = None
        source.replicas = 1

        if source.channel == "direct":
            for key in ("path", "replicas"):
                if key in document:
                    self.problem(f"{field}.{key}", "not allowed with channel 'direct'")
            if source.producer is not None and source.producer not in earlier:
                self.problem(
                    f"{field}.producer",
                    f"{_show(source.producer)} is not an earlier task of this container, which a direct input needs",
                )
        elif source.channel is not None:
            for key in ("path", "replicas"):
                if key not in document:
                    self.problem(f"{field}.{key}", f"missing (channel {source.channel!r} needs it)")
            source.path = self.string(document, "path", f"{field}.path")
            source.replicas = self.whole_number(document, "replicas", f"{field}.replicas") or 1
        return source

    def channel(self, document, field, allowed):
        key = field.rsplit(".", 1)[1]
        if key not in document:
            return None
        value = document[key]
        if value not in allowed:
            self.problem(field, f"expected one of {', '.join(allowed)}, got {_show(value)}")
            return None
        return value
