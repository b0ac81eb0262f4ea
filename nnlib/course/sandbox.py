"""Kernel launcher for grading: the IPython kernel, with a memory cap and quiet threads.

    python -m nnlib.course.sandbox --memory-mb 2048 -- -f CONNECTION_FILE

`kernelspec(folder, memory_mb)` writes a `python3` kernel spec that starts kernels this way; the
grader puts the folder first on JUPYTER_PATH, so nbgrader's kernels are these. Above the cap
allocations fail (MemoryError in the student's cell, or the kernel dies), and the rest of the
class is unaffected. The wall-clock budget is enforced from outside, by the worker. When the
worker runs a fork server (nnlib.course.forkserver), this process only asks it for the kernel.
"""

import argparse
import json
import os
import resource
import sys
from pathlib import Path

from nnlib.course import forkserver


def kernelspec(folder, memory_mb):
    """Write <folder>/kernels/python3/kernel.json launching this module; -> folder."""
    spec = Path(folder) / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "nnlib.course.sandbox", "--memory-mb", str(int(memory_mb)),
            "--", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "Python 3 (grading sandbox)", "language": "python"}, indent=1))
    return Path(folder)


def limit_memory(memory_mb):
    """Cap this process's address space at memory_mb MiB (0: no cap)."""
    if memory_mb > 0:
        limit = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nnlib.course.sandbox")
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("kernel_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    rest = args.kernel_args[1:] if args.kernel_args[:1] == ["--"] else args.kernel_args
    server = os.environ.get(forkserver.ENV)
    if server and forkserver.launch_through_server(server, args.memory_mb, rest):
        return
    limit_memory(args.memory_mb)
    from ipykernel import kernelapp
    kernelapp.launch_new_instance(argv=rest)


if __name__ == "__main__":
    main()
