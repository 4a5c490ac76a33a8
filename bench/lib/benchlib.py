"""Helpers shared by the benchmarks in bench/<name>/run (Python 3.11 standard library only).

A benchmark script imports this module with:

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
    import benchlib

What lives here is what every benchmark needs in the same shape: the balanced run order,
the hybrid-cgroup mount namespace, timing a process, percentiles, the machine note, Markdown
wrapping and the in-place rewrite of one section of docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DOCS = REPO / "docs" / "benchmarks.md"
UNIFIED = Path("/sys/fs/cgroup/unified")
NS_MARKER = "BERTH_BENCH_IN_MNTNS"
DOCS_INTRO = """\
# Benchmarks

Berth is measured against the tools people compare it with. Every benchmark lives in
`bench/<name>/run`, runs all contenders interleaved on the same machine in one go, and prints
ratios from that single run; see `bench/README.md`. Each section below is rewritten in place
by its benchmark's `--write-docs` and says which command, machine and date produced it.
"""

# Run order of the contenders, one permutation per round, repeating every len(schedule)
# rounds. Every contender takes every position equally often per cycle and, counting across
# round boundaries, is preceded equally often by each contender (itself included). Plain
# rotation (ABC, BCA, CAB) is not enough: within a round B then always follows A, and what
# ran just before matters (e.g. the previous container's namespaces are torn down
# asynchronously). With rotation, runc in the berth slot of bench/runtime measured 12 %
# slower than runc in its own slot in two runs here; with this schedule the two agree within
# noise. For two contenders, AB BA gives the transitions AB, BB, BA, AA per cycle.
SCHEDULES = {
    2: ((0, 1), (1, 0)),
    3: ((0, 1, 2), (2, 0, 1), (1, 0, 2), (2, 1, 0), (0, 2, 1), (1, 2, 0)),
}


class BenchError(Exception):
    """A failure that aborts the benchmark; the message is printed as is."""


# ---------------------------------------------------------------- processes


def call(argv: list[str], errfile) -> tuple[int, int]:
    """Run argv with stdio detached from us; return (exit code, elapsed ns).

    stderr goes to a file, not a pipe: after a runtime's `create` the container's init holds
    the runtime's stdio, so reading a pipe to EOF would wait until the container exits.
    """
    errfile.seek(0)
    errfile.truncate()
    t0 = time.perf_counter_ns()
    rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=errfile, check=False).returncode
    return rc, time.perf_counter_ns() - t0


def stderr_text(errfile) -> str:
    errfile.flush()
    errfile.seek(0)
    text = errfile.read().strip()
    return text or "(no stderr)"


def resolve_binary(name: str, given: str) -> str:
    found = shutil.which(given)
    if found is None:
        raise BenchError(f"{name}: {given} not found or not executable")
    return str(Path(found).resolve())


def interrupted(signum, _frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def berth_commit() -> str:
    res = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=False)
    return res.stdout.strip() if res.returncode == 0 else ""


# ---------------------------------------------------------------- cgroups


def hybrid_cgroups() -> bool:
    """cgroup v1 plus a (controller-less) cgroup2 at /sys/fs/cgroup/unified: crun refuses it."""
    return UNIFIED.is_mount()


def enter_mount_namespace(script: str | Path, argv: list[str]) -> None:
    """Re-exec `script argv` inside a private mount namespace without the empty cgroup2 mount.

    crun refuses the hybrid v1 + empty-unified layout; every contender runs in the same
    namespace so all of them see the same cgroup layout and nobody pays for `unshare`
    per iteration. Returns at once when there is nothing to hide or when already inside.
    """
    if os.environ.get(NS_MARKER) == "1":
        if UNIFIED.is_mount():
            res = subprocess.run(["umount", str(UNIFIED)], check=False)
            if res.returncode != 0:
                raise BenchError(f"umount {UNIFIED} failed inside the mount namespace")
        return
    if not UNIFIED.is_mount():
        return  # no hybrid layout here: nothing to hide
    unshare = shutil.which("unshare")
    if unshare is None:
        raise BenchError("`unshare` (util-linux) is needed to hide the hybrid cgroup2 mount")
    env = dict(os.environ, **{NS_MARKER: "1"})
    os.execve(unshare, [unshare, "--mount", "--propagation", "private", "--",
                        sys.executable, str(Path(script).resolve()), *argv], env)


def cgroup_layout(who: str = "runtimes") -> str:
    fstypes = {}
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            parts = line.split()
            if len(parts) >= 3:
                fstypes[parts[1]] = parts[2]
    if fstypes.get("/sys/fs/cgroup") == "cgroup2":
        return "cgroup v2"
    hybrid = str(UNIFIED) in fstypes
    note = " with cgroup2 at /sys/fs/cgroup/unified" if hybrid else ""
    if not hybrid and os.environ.get(NS_MARKER) == "1":
        note = " (the empty cgroup2 at /sys/fs/cgroup/unified unmounted in the " \
               f"benchmark's mount namespace, for all {who})"
    return "cgroup v1" + note


# ---------------------------------------------------------------- report


def deciles(values: list[float]) -> tuple[float, float, float]:
    """(p10, median, p90) with linear interpolation between samples."""
    cuts = statistics.quantiles(values, n=10, method="inclusive")
    return cuts[0], statistics.median(values), cuts[8]


def machine_note(who: str = "runtimes") -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = ", " + line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0]
    return (f"nproc {os.cpu_count()}{cpu}, kernel {platform.release()}, "
            f"load average {load:.2f} at start, {cgroup_layout(who)}")


def prose(text: str, width: int = 96) -> list[str]:
    """Wrap a paragraph at `width` columns (96), never inside a `code span`."""
    parts = text.split("`")
    parts[1::2] = [part.replace(" ", "\0") for part in parts[1::2]]
    wrapped = textwrap.wrap("`".join(parts), width=width, break_long_words=False,
                            break_on_hyphens=False)
    return [line.replace("\0", " ") for line in wrapped]


def write_docs(path: Path, heading: str, section: str) -> None:
    """Replace the section `heading` (up to the next `## ` heading) in place, or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else DOCS_INTRO
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
