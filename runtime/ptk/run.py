"""Run one container's tasks: ``python -m ptk.run``, the entry point of every ptk container.

    python -m ptk.run [--spec FILE] [--module FILE] [--pod NAME] [--container NAME] [--idle-after-finish]

The container spec comes from ``--spec FILE`` or else the environment variable PTK_SPEC. Exit status 0:
every task succeeded; 1: a task or an input failed; 2: the spec, the flags or the module is invalid.
runtime/PROTOCOL.md defines the spec, the data folders and the event record.

Only modules that load fast are imported up front (no argparse, json or re), because every container
pays for this start-up once per run.
"""

import os
import sys
import time

USAGE = "usage: python -m ptk.run [--spec FILE] [--module FILE] [--pod NAME] [--container NAME] [--idle-after-finish]"

_VALUE_OPTIONS = ("--spec", "--module", "--pod", "--container")


def main(argv=None):
    """Run the container described by the spec. Return the exit status."""
    from . import _spec
    from ._runner import Runner

    try:
        options = parse_arguments(sys.argv[1:] if argv is None else argv)
        if options is None:
            print(USAGE)
            print("Runs the tasks of one ptk container; the spec comes from --spec FILE or PTK_SPEC.")
            return 0
        text, source = _spec.read_spec_text(options["--spec"])
        spec = _spec.parse_spec(text, source)
        _spec.check_flags(spec, source, options["--module"], options["--pod"], options["--container"])
        replica = _spec.replica_index(spec.replicas)
    except _spec.SpecError as error:
        sys.stderr.write(f"ptk.run: {error}\n")
        return 2

    # ptk.replica() reads these, in this process and in any Python process that a task starts.
    os.environ["PTK_REPLICA_INDEX"] = str(replica)
    os.environ["PTK_REPLICA_COUNT"] = str(spec.replicas)

    status = Runner(spec, replica).run()
    if status == 0 and options["--idle-after-finish"]:
        idle()
    return status


def parse_arguments(argv):
    """Return the options as a dict, or None for --help. Raises SpecError on an invalid command line."""
    from ._spec import SpecError

    options = dict.fromkeys(_VALUE_OPTIONS)
    options["--idle-after-finish"] = False
    arguments = list(argv)
    while arguments:
        argument = arguments.pop(0)
        name, has_value, value = argument.partition("=")
        if argument in ("-h", "--help"):
            return None
        if argument == "--idle-after-finish":
            options[argument] = True
        elif name in _VALUE_OPTIONS:
            if not has_value:
                if not arguments:
                    raise SpecError(f"option {name} needs a value\n{USAGE}")
                value = arguments.pop(0)
            options[name] = value
        else:
            raise SpecError(f"unknown argument {argument!r}\n{USAGE}")
    return options


def idle():
    """Sleep until a signal ends the process: a Deployment restarts a container that exits."""
    sys.stdout.flush()
    sys.stderr.flush()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    try:
        exit_status = main()
    except KeyboardInterrupt:
        sys.stderr.write("ptk.run: interrupted\n")
        exit_status = 130
    sys.exit(exit_status)
