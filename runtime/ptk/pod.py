"""Run a pod's containers on this machine: ``python -m ptk.pod``, the pod launcher of local runs.

The pod spec comes from the environment variable PTK_POD_SPEC. The launcher starts every container at
once as its child, restricted to the pod's CPUs, waits for all of them, and writes a status file with
each container's exit, times, CPU time and peak memory. On SIGTERM or SIGINT it sends SIGTERM to every
container still running, and SIGKILL after ``grace_s``. Exit status 0: every container exited 0;
1: one did not; 2: the pod spec is invalid. runtime/PROTOCOL.md defines the pod spec and the status.
"""

import os
import signal
import sys
import time

from . import _jsonio
from ._jsonio import show as _show

_POD_FIELDS = ("pod", "cpus", "status", "grace_s", "containers")
_CONTAINER_FIELDS = ("name", "argv", "env", "log")
_DEFAULT_GRACE_S = 5

# The exit status a shell gives a command that cannot be started; used when spawning a container fails.
_CANNOT_START = 127


class PodSpecError(Exception):
    """An invalid pod spec: the launcher exits with status 2."""


class _Container:
    __slots__ = ("name", "argv", "env", "log", "pid", "exit_code", "signal", "started_at", "finished_at",
                 "cpu_s", "max_rss_bytes")


def main():
    """Run the pod in PTK_POD_SPEC. Return the exit status."""
    try:
        pod, cpus, status_path, grace_s, containers = read_pod_spec(os.environ.get("PTK_POD_SPEC"))
        if cpus is not None:
            _restrict_cpus(cpus)
    except PodSpecError as error:
        sys.stderr.write(f"ptk.pod: {error}\n")
        return 2

    launcher = _Launcher(containers, grace_s, pod)
    launcher.run()
    try:
        _write_status(status_path, pod, containers)
    except OSError as error:
        sys.stderr.write(f"ptk.pod: cannot write the status file {status_path}: {error.strerror}\n")
        return 1
    return 0 if all(container.exit_code == 0 for container in containers) else 1


def read_pod_spec(text):
    """Parse and validate PTK_POD_SPEC. Return (pod, cpus or None, status path, grace_s, containers)."""
    if text is None:
        raise PodSpecError("PTK_POD_SPEC is not set: set it to the pod spec's JSON")
    try:
        document = _jsonio.loads(text)
    except ValueError as error:
        raise PodSpecError(f"invalid pod spec in PTK_POD_SPEC: not valid JSON ({error})") from None

    problems = []
    if not isinstance(document, dict):
        raise PodSpecError(f"invalid pod spec in PTK_POD_SPEC: expected a JSON object, got {_show(document)}")
    _check_fields(document, "", _POD_FIELDS, ("pod", "status", "containers"), problems)

    pod = document.get("pod")
    if "pod" in document and not _is_text(pod):
        problems.append(f"pod: expected a non-empty string, got {_show(pod)}")
    status = document.get("status")
    if "status" in document and not _is_text(status):
        problems.append(f"status: expected a non-empty string, got {_show(status)}")

    cpus = document.get("cpus")
    if cpus is not None and not (
        isinstance(cpus, list) and cpus and all(type(cpu) is int and cpu >= 0 for cpu in cpus)
    ):
        problems.append(f"cpus: expected null or a non-empty list of CPU numbers, got {_show(cpus)}")

    grace_s = document.get("grace_s", _DEFAULT_GRACE_S)
    if type(grace_s) not in (int, float) or not 0 <= grace_s < float("inf"):
        problems.append(f"grace_s: expected a number of seconds of 0 or more, got {_show(grace_s)}")

    containers = []
    entries = document.get("containers")
    if "containers" in document and (not isinstance(entries, list) or not entries):
        problems.append(f"containers: expected a non-empty list, got {_show(entries)}")
    elif isinstance(entries, list):
        names = set()
        for index, entry in enumerate(entries):
            container = _read_container(entry, f"containers[{index}]", problems)
            if container is None:
                continue
            if container.name in names:
                problems.append(f"containers[{index}].name: duplicate container name {_show(container.name)}")
            names.add(container.name)
            containers.append(container)

    if problems:
        count = len(problems)
        lines = [f"invalid pod spec in PTK_POD_SPEC ({count} problem{'s' if count > 1 else ''}):"]
        lines.extend(f"  {problem}" for problem in problems)
        raise PodSpecError("\n".join(lines))
    return pod, cpus, status, grace_s, containers


def _read_container(entry, field, problems):
    if not isinstance(entry, dict):
        problems.append(f"{field}: expected a JSON object, got {_show(entry)}")
        return None
    _check_fields(entry, f"{field}.", _CONTAINER_FIELDS, ("name", "argv"), problems)

    container = _Container()
    container.name = entry.get("name")
    if "name" in entry and not _is_text(container.name):
        problems.append(f"{field}.name: expected a non-empty string, got {_show(container.name)}")
    container.argv = entry.get("argv")
    if "argv" in entry and not (
        isinstance(container.argv, list) and container.argv and all(_is_text(arg) or arg == "" for arg in container.argv)
        and _is_text(container.argv[0])
    ):
        problems.append(f"{field}.argv: expected a non-empty list of strings, got {_show(container.argv)}")
    container.env = entry.get("env") or {}
    if not (isinstance(container.env, dict) and all(isinstance(value, str) for value in container.env.values())):
        problems.append(f"{field}.env: expected an object of strings, got {_show(container.env)}")
    container.log = entry.get("log")
    if container.log is not None and not _is_text(container.log):
        problems.append(f"{field}.log: expected null or a non-empty string, got {_show(container.log)}")

    container.pid = container.exit_code = container.signal = None
    container.started_at = container.finished_at = container.cpu_s = container.max_rss_bytes = None
    return container


def _check_fields(document, prefix, allowed, required, problems):
    for key in document:
        if key not in allowed:
            problems.append(f"{prefix}{key}: unknown field (expected one of {', '.join(allowed)})")
    for key in required:
        if key not in document:
            problems.append(f"{prefix}{key}: missing")


def _is_text(value):
    return isinstance(value, str) and value != ""


def _restrict_cpus(cpus):
    # Containers inherit the launcher's CPU affinity, so restricting the launcher restricts the pod.
    try:
        os.sched_setaffinity(0, cpus)
    except OSError as error:
        usable = sorted(os.sched_getaffinity(0))
        raise PodSpecError(
            f"cpus: cannot restrict the pod to CPUs {cpus}: {error.strerror}. "
            f"Choose among the CPUs this process may use: {usable}"
        ) from None


class _Launcher:
    # Starts the containers, forwards SIGTERM and SIGINT to them, and reaps them with os.wait4.

    def __init__(self, containers, grace_s, pod=""):
        self.pod = pod
        self.containers = containers
        self.grace_s = grace_s
        self.running = {}
        self.stopping = False

    def run(self):
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGALRM, self._kill)

        # A SIGTERM during the start-up waits until every container has started, so that all receive it.
        stop_signals = {signal.SIGTERM, signal.SIGINT}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        try:
            for container in self.containers:
                self._start(container)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)

        while self.running:
            try:
                pid, status, usage = os.wait4(-1, 0)
            except ChildProcessError:
                break
            container = self.running.pop(pid, None)
            if container is None:
                continue
            container.finished_at = time.time()
            if os.WIFSIGNALED(status):
                container.signal = signal.Signals(os.WTERMSIG(status)).name
            else:
                container.exit_code = os.WEXITSTATUS(status)
            container.cpu_s = round(usage.ru_utime + usage.ru_stime, 6)
            # NOTE: Linux counts the memory that a child shares with its parent before exec, so the peak
            # is never below the launcher's own (about 14 MB with CPython 3.11).
            container.max_rss_bytes = usage.ru_maxrss * 1024  # Linux reports kibibytes
            _mark_unwritten_outputs(container, self.pod)

        signal.setitimer(signal.ITIMER_REAL, 0)

    def _start(self, container):
        environment = dict(os.environ)
        environment.pop("PTK_POD_SPEC", None)
        environment.update(container.env)
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
        if container.log is not None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
            actions += [(os.POSIX_SPAWN_OPEN, 1, container.log, flags, 0o644), (os.POSIX_SPAWN_DUP2, 1, 2)]

        container.started_at = time.time()
        try:
            if container.log is not None:
                os.makedirs(os.path.dirname(os.path.abspath(container.log)), exist_ok=True)
            # Python ignores SIGPIPE, and the stop signals are blocked here: containers get the defaults.
            pid = os.posix_spawnp(
                container.argv[0], container.argv, environment, file_actions=actions,
                setsigdef=(signal.SIGPIPE, signal.SIGTERM, signal.SIGINT), setsigmask=(),
            )
        except OSError as error:
            container.exit_code = _CANNOT_START
            container.finished_at = time.time()
            container.cpu_s = 0.0
            container.max_rss_bytes = 0
            self._log_start_failure(container, error)
            return
        container.pid = pid
        self.running[pid] = container

    def _log_start_failure(self, container, error):
        message = f"ptk.pod: cannot start container '{container.name}' ({container.argv[0]}): {error.strerror or error}\n"
        sys.stderr.write(message)
        if container.log is not None:
            try:
                with open(container.log, "a", encoding="utf-8") as log:
                    log.write(message)
            except OSError:
                pass

    def _stop(self, signum, frame):
        if self.stopping:
            return
        self.stopping = True
        self._signal_all(signal.SIGTERM)
        if self.grace_s > 0:
            signal.setitimer(signal.ITIMER_REAL, self.grace_s)
        else:
            self._kill(signal.SIGALRM, frame)

    def _kill(self, signum, frame):
        self._signal_all(signal.SIGKILL)

    def _signal_all(self, signum):
        for pid in list(self.running):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass


def _mark_unwritten_outputs(container, pod):
    # A container that was killed (SIGKILL, the out-of-memory killer) or exited without storing its
    # outputs leaves no marker, and its consumers, in this pod or others, would wait until their input
    # timeout. Marking those folders FAILED lets them fail at once with the reason.
    text = container.env.get("PTK_SPEC")
    if not text:
        return
    from . import _folder, _spec

    try:
        spec = _spec.parse_spec(text, "PTK_SPEC")
    except Exception:  # The container itself reported an invalid spec; there is nothing to mark.
        return
    index = int(container.env.get("PTK_REPLICA_INDEX", os.environ.get("PTK_REPLICA_INDEX", "0")) or 0)
    if container.signal:
        ending = f"was killed by {container.signal}"
    else:
        ending = f"exited with code {container.exit_code}"
    for task in spec.tasks:
        if task.output is None:
            continue
        folder = _folder.replica_folder(task.output.path, spec.replicas, index)
        try:
            state, _ = _folder.read_marker(folder, spec.run_id)
            if state is not None:
                continue
            error = f"container {container.name} of pod {pod} {ending} before task {task.name} stored its output"
            _folder.write_failed(folder, spec.run_id, task.name, error, "")
        except Exception as problem:  # A folder that cannot be marked must not stop the launcher.
            sys.stderr.write(f"ptk.pod: cannot mark {folder} FAILED: {problem}\n")


def _write_status(path, pod, containers):
    status = {
        "pod": pod,
        "containers": [
            {
                "name": container.name,
                "exit_code": container.exit_code,
                "signal": container.signal,
                "started_at": container.started_at,
                "finished_at": container.finished_at,
                "cpu_s": container.cpu_s,
                "max_rss_bytes": container.max_rss_bytes,
            }
            for container in containers
        ],
    }
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".tmp-{os.path.basename(path)}-{os.getpid()}")
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(_jsonio.dumps(status) + "\n")
    os.replace(temporary, path)


if __name__ == "__main__":
    sys.exit(main())
