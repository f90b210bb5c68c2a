"""Run one container's tasks: import the pipeline, call each task in order, move values between them.

runtime/PROTOCOL.md is the contract: data folders, FAILED markers, the event record, log files.
"""

import os
import sys
import time

from . import _jsonio
from ._failure import Failure, describe_exception, format_traceback, one_line

MODULE_NAME = "__ptk_pipeline__"
# A results folder's repr.txt contains at most this many characters of the value's repr().
SUMMARY_CHARACTERS = 4000

_CO_VARKEYWORDS = 0x08


class Runner:
    """Runs the tasks of a validated container spec as replica ``replica`` of its pod."""

    def __init__(self, spec, replica):
        self.spec = spec
        self.replica = replica
        self.record_fd = None
        # Values that later tasks of this container take as direct inputs, by producer name.
        self.values = {}

    def run(self):
        """Run every task. Return the exit status: 0, or the failure's (1 or 2), after reporting it."""
        try:
            self._prepare()
            functions = self._import_functions()
        except Failure as failure:
            self._mark_failed(0, failure, container_failed=True)
            self._report(failure, None)
            return failure.exit_code

        last_use = {}
        for index, task in enumerate(self.spec.tasks):
            for source in task.inputs:
                if source.channel == "direct":
                    last_use[source.producer] = index

        for index, task in enumerate(self.spec.tasks):
            try:
                value = self._run_task(task, functions[index])
            except Failure as failure:
                self._mark_failed(index, failure, container_failed=False)
                self._report(failure, task)
                return failure.exit_code
            except Exception as error:
                # Not the task's own error (that is a Failure): memory, the record file, or a runtime bug.
                failure = Failure(
                    f"task '{task.name}' failed in the ptk runtime: {describe_exception(error)}",
                    "check the traceback below, and report it to ptk if it ends in ptk's own files",
                    details=format_traceback(error),
                )
                self._mark_failed(index, failure, container_failed=False)
                self._report(failure, task)
                return failure.exit_code
            if last_use.get(task.name, -1) > index:
                self.values[task.name] = value
            for producer in [name for name, last in last_use.items() if last == index]:
                self.values.pop(producer, None)
            del value
        return 0

    # --- Set-up ---------------------------------------------------------------------------------------

    def _prepare(self):
        spec = self.spec
        if spec.record is not None:
            try:
                os.makedirs(os.path.dirname(os.path.abspath(spec.record)), exist_ok=True)
                self.record_fd = os.open(spec.record, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
            except OSError as error:
                raise Failure(
                    f"cannot open the event record {spec.record}: {error.strerror}",
                    "set record to a file in a writable folder",
                    exit_code=2,
                ) from None
        if spec.log_dir is not None:
            try:
                os.makedirs(spec.log_dir, exist_ok=True)
            except OSError as error:
                raise Failure(
                    f"cannot create the log folder {spec.log_dir}: {error.strerror}",
                    "set log_dir to a writable folder",
                    exit_code=2,
                ) from None

        # Markers of an earlier attempt (a Job's retry) must not look like this attempt's.
        folders = [folder for folder in map(self._output_folder, spec.tasks) if folder is not None]
        if folders:
            from . import _folder

            for folder in folders:
                try:
                    _folder.clear(folder)
                except OSError:
                    pass  # the store reports a folder that cannot be written

    def _import_functions(self):
        import importlib.util

        spec = self.spec
        path = spec.module
        if not os.path.isfile(path):
            raise Failure(f"module {path} not found", "check the spec's module path", exit_code=2)

        # As `python pipeline.py` would see it: its folder first on sys.path, no command-line arguments.
        # Under another name than __main__, the module's `if __name__ == "__main__":` block does not run.
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        sys.argv = [path]
        module_spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[MODULE_NAME] = module
        try:
            module_spec.loader.exec_module(module)
        except BaseException as error:
            raise Failure(
                f"cannot import module {path}: {describe_exception(error)}",
                "fix the error that the traceback shows",
                details=format_traceback(error, skip_frames=_import_frames(error)),
                exit_code=2,
            ) from None

        functions = []
        for task in spec.tasks:
            function = getattr(module, task.function, None)
            if not callable(function):
                found = "is not a function" if hasattr(module, task.function) else "is not defined"
                raise Failure(
                    f"task '{task.name}' calls {task.function}, which {found} in module {path}",
                    "check the spec's function names against the module",
                    exit_code=2,
                )
            _check_parameters(task, function, path)
            functions.append(function)
        return functions

    # --- One task -------------------------------------------------------------------------------------

    def _run_task(self, task, function):
        started = time.time()
        clock = time.perf_counter()
        cpu = _cpu_seconds()
        self._event({"event": "start", "task": task.name, "time": started})

        counters = {"bytes_in": 0, "bytes_out": 0, "input_wait_s": 0.0}
        try:
            arguments = self._gather_inputs(task, counters)
            self._event({"event": "inputs", "task": task.name, "time": time.time()})
            value = self._call(task, function, arguments)
            del arguments
            counters["bytes_out"] = self._store(task, value)
        except Failure as failure:
            self._end_event(task, clock, cpu, counters, failure)
            raise
        self._end_event(task, clock, cpu, counters, None)
        return value

    def _call(self, task, function, arguments):
        # While the task runs, file descriptors 1 and 2 point at its log, so child processes write there too.
        log_fd = saved = None
        if self.spec.log_dir is not None:
            log_fd = os.open(self._log_path(task), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
            _flush_standard_streams()
            saved = (os.dup(1), os.dup(2))
            os.dup2(log_fd, 1)
            os.dup2(log_fd, 2)
        try:
            return function(**arguments)
        except BaseException as error:
            raise Failure(
                f"task '{task.name}' (function {task.function}) raised {describe_exception(error)}",
                "fix the error that the traceback shows",
                details=format_traceback(error, skip_frames=1),
            ) from None
        finally:
            if log_fd is not None:
                _flush_standard_streams()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                for fd in (*saved, log_fd):
                    os.close(fd)

    def _store(self, task, value):
        folder = self._output_folder(task)
        if folder is None:
            return 0

        from . import _folder

        summary = _summarize(value) if task.output is None else None
        try:
            return _folder.store(value, folder, self.spec.run_id, task.name, summary)
        except _folder.UnpicklableValue as error:
            raise Failure(
                f"task '{task.name}' returned a value that cannot be pickled: {_type_name(value)} "
                f"({describe_exception(error.args[0])})",
                "return plain data such as lists, dicts or numpy arrays",
            ) from None
        except _folder.StoreError as error:
            raise Failure(
                f"task '{task.name}' could not store its value: {error.args[0]}",
                "free space in the folder or make it writable, then run the pipeline again",
            ) from None

    def _gather_inputs(self, task, counters):
        arguments = {}
        waits = False
        for source in task.inputs:
            if source.channel == "direct":
                arguments[source.parameter] = self.values[source.producer]
            else:
                waits = True
        if waits:
            from ._inputs import gather

            gather(self.spec, task, arguments, counters)
        return arguments

    # --- Failures, events, paths ------------------------------------------------------------------------

    def _mark_failed(self, index, failure, container_failed):
        # Consumers in other containers stop waiting when they see FAILED: the failed task's folder and
        # the folders of the tasks after it, which will not run, get one.
        from . import _folder

        for position, task in enumerate(self.spec.tasks[index:]):
            folder = self._output_folder(task)
            if folder is None:
                continue
            if container_failed:
                error = f"task '{task.name}' did not run: {failure.problem}"
            elif position == 0:
                error = failure.problem
            else:
                error = f"task '{task.name}' did not run because task '{self.spec.tasks[index].name}' failed: {failure.problem}"
            try:
                # A value stored before the failure (say, the end event could not be written) stays usable.
                if _folder.read_marker(folder, self.spec.run_id)[0] == "complete":
                    continue
                _folder.write_failed(folder, self.spec.run_id, task.name, one_line(error), failure.details or "")
            except (OSError, _folder.StoreError, _folder.CorruptFolder):
                pass  # the consumers then time out; the failure itself is reported below

    def _report(self, failure, task):
        text = f"ptk.run: {failure.line}\n"
        if failure.details:
            text += failure.details if failure.details.endswith("\n") else failure.details + "\n"
        _flush_standard_streams()
        sys.stderr.write(text)
        sys.stderr.flush()
        if task is not None and self.spec.log_dir is not None:
            try:
                with open(self._log_path(task), "a", encoding="utf-8") as log:
                    log.write(text)
            except OSError:
                pass  # the message is on stderr already

    def _end_event(self, task, clock, cpu, counters, failure):
        event = {
            "event": "end",
            "task": task.name,
            "time": time.time(),
            "status": "ok" if failure is None else "failed",
            "wall_s": round(time.perf_counter() - clock, 6),
            "cpu_s": round(_cpu_seconds() - cpu, 6),
            "bytes_in": counters["bytes_in"],
            "bytes_out": counters["bytes_out"],
            "input_wait_s": round(counters["input_wait_s"], 6),
        }
        if failure is not None:
            event["error"] = failure.line
        self._event(event)

    def _event(self, fields):
        if self.record_fd is None:
            return
        event = {
            "event": fields.pop("event"),
            "task": fields.pop("task"),
            "pod": self.spec.pod,
            "container": self.spec.container,
            "replica": self.replica,
        }
        event.update(fields)
        # One write per line: with O_APPEND the line lands whole even when containers share the file.
        os.write(self.record_fd, (_jsonio.dumps(event) + "\n").encode())

    def _consumed_directly(self, task):
        return any(
            source.channel == "direct" and source.producer == task.name
            for other in self.spec.tasks
            for source in other.inputs
        )

    def _output_folder(self, task):
        # The folder that receives the task's value: its output, else its results folder when no later
        # task of this container consumes it directly (a final result of the pipeline), else None.
        if task.output is not None:
            path = task.output.path
        elif self.spec.results_dir is not None and not self._consumed_directly(task):
            path = os.path.join(self.spec.results_dir, task.name)
        else:
            return None
        if self.spec.replicas == 1:
            return path
        return os.path.join(path, f"replica-{self.replica}")

    def _log_path(self, task):
        name = f"{task.name}.log" if self.spec.replicas == 1 else f"{task.name}.{self.replica}.log"
        return os.path.join(self.spec.log_dir, name)


def _check_parameters(task, function, path):
    # Compares the spec's inputs with a plain function's parameters, so that a mismatch stops the
    # container before any task runs. Functions without __code__, and wrappers, are left to the call.
    code = getattr(function, "__code__", None)
    if code is None or hasattr(function, "__wrapped__"):
        return
    positional_only = code.co_varnames[: code.co_posonlyargcount]
    names = code.co_varnames[code.co_posonlyargcount : code.co_argcount + code.co_kwonlyargcount]
    defaults = len(function.__defaults__ or ())
    keyword_defaults = function.__kwdefaults__ or {}
    required = list(code.co_varnames[: code.co_argcount - defaults])
    required += [name for name in code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
                 if name not in keyword_defaults]
    input_names = [source.parameter for source in task.inputs]

    problems = []
    if not code.co_flags & _CO_VARKEYWORDS:
        problems += [f"it has no parameter '{name}'" for name in input_names if name not in names]
    problems += [f"parameter '{name}' is positional-only" for name in positional_only if name in input_names]
    problems += [f"parameter '{name}' has no input and no default" for name in required if name not in input_names]
    if problems:
        raise Failure(
            f"function {task.function} in {path} does not match the inputs of task '{task.name}' "
            f"({', '.join(input_names) or 'none'}): {'; '.join(problems)}",
            "make the function's parameters match the names of the task's inputs",
            exit_code=2,
        )


def _import_frames(error):
    # Frames of importlib's machinery come before the module's own; count them to leave them out.
    frames = error.__traceback__
    count = 0
    while frames is not None and frames.tb_next is not None:
        filename = frames.tb_frame.f_code.co_filename
        if not (filename.startswith("<frozen importlib") or filename == __file__):
            break
        frames = frames.tb_next
        count += 1
    return count


def _summarize(value):
    # The repr() that a results folder keeps for `ptk run` to show, cut to SUMMARY_CHARACTERS with a
    # closing " …" when cut, so a cut value does not look whole.
    # NOTE: repr() of a very long list is built whole before it is cut, which takes time and memory.
    try:
        text = repr(value)
    except Exception as error:
        text = f"<repr() failed: {describe_exception(error)}>"
    if len(text) > SUMMARY_CHARACTERS:
        return text[: SUMMARY_CHARACTERS - 2] + " …"
    return text


def _cpu_seconds():
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _flush_standard_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


def _type_name(value):
    cls = type(value)
    if cls.__module__ in ("builtins", MODULE_NAME):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"
