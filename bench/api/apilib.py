"""Docker API daemons for the benchmarks: `berth-agent serve` and `podman system service`.

Used by bench/api/run (latency through the docker CLI) and bench/engine/run (the idle
engine's memory). Python 3.11 standard library only. Each daemon gets a private store and a
private socket under the benchmark's temporary directory; the docker CLI reaches it through
DOCKER_HOST and a private DOCKER_CONFIG, so the machine's engines and ~/.docker are not
touched.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from benchlib import BenchError  # the caller has put bench/lib on sys.path

# Flags podman needs on this kind of host: no systemd or journald, and crun refuses the
# hybrid cgroup layout, so runc (the reference runtime of every podman figure here).
PODMAN_GLOBAL = ["--cgroup-manager=cgroupfs", "--events-backend=file"]
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def ping(sock: Path, timeout: float = 2.0) -> bool:
    """True when an HTTP server answers `GET /_ping` with 200 on the Unix socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(sock))
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
            head = s.recv(64)
    except OSError:
        return False
    return head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")


def http_get(sock: Path, path: str, timeout: float = 30.0) -> tuple[int, bytes]:
    """One `GET path` on a fresh connection to the Unix socket: (status, body).

    HTTP/1.0 semantics (`Connection: close`, read to EOF), so a chunked body is returned
    with its chunk framing; callers only look for substrings in it.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(sock))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"
                  .encode())
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        status = 0
    return status, body


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


class Daemon:
    """One engine serving the Docker API on a private socket, and the docker CLI for it."""

    def __init__(self, label: str, argv: list[str], sock: Path, workdir: Path,
                 docker: str = "docker"):
        self.label = label
        self.argv = argv
        self.sock = sock
        self.workdir = workdir
        self.docker_bin = docker
        self.log = workdir / f"{label.split()[0]}-daemon.log"
        self.proc: subprocess.Popen | None = None
        config = workdir / "docker-config"
        config.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, DOCKER_HOST=f"unix://{sock}", DOCKER_CONFIG=str(config),
                        DOCKER_CLI_HINTS="false")
        self.env.pop("DOCKER_CONTEXT", None)
        self.env.pop("DOCKER_TLS_VERIFY", None)
        self.env.pop("DOCKER_CERT_PATH", None)

    @property
    def pid(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            raise BenchError(f"{self.label}: the daemon is not running\n{log_tail(self.log)}")
        return self.proc.pid

    def start(self) -> None:
        """Start the daemon and wait until `GET /_ping` answers."""
        self.sock.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.label}: `{shlex.join(self.argv)}` exited "
                                 f"{self.proc.returncode} before serving:\n"
                                 f"{log_tail(self.log)}")
            if self.sock.exists() and ping(self.sock):
                return
            time.sleep(0.05)
        raise BenchError(f"{self.label}: no answer to GET /_ping on {self.sock} within "
                         f"{READY_TIMEOUT_S:.0f} s:\n{log_tail(self.log)}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; idempotent."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def docker(self, *args: str) -> list[str]:
        return [self.docker_bin, *args]

    def capture(self, *args: str, timeout: float = 120, expect: int | None = 0) -> str:
        """Run `docker ARGS` against this daemon and return stdout.

        A different exit code (or a timeout) aborts with the command, its stderr and the
        end of the daemon's log, so an endpoint that does not work yet is named.
        """
        argv = self.docker(*args)
        try:
            res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                 text=True, timeout=timeout, env=self.env, check=False)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{self.label}: `{shlex.join(['docker', *args])}` did not finish "
                             f"within {timeout:.0f} s\n-- daemon log:\n{log_tail(self.log)}") \
                from None
        if expect is not None and res.returncode != expect:
            raise BenchError(
                f"{self.label}: `{shlex.join(['docker', *args])}` exited {res.returncode}, "
                f"expected {expect}:\n{(res.stderr or res.stdout).strip() or '(no output)'}"
                f"\n-- end of the daemon's log ({self.log.name}):\n{log_tail(self.log, 8)}")
        return res.stdout

    def remove_all(self) -> None:
        """Best effort, for cleanup: remove every container of this private store."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            res = subprocess.run(self.docker("ps", "--all", "--quiet"), capture_output=True,
                                 text=True, env=self.env, timeout=30, check=False)
            ids = res.stdout.split()
            if ids:
                subprocess.run(self.docker("rm", "--force", *ids), capture_output=True,
                               env=self.env, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            pass


def berth_daemon(berth: str, root: Path, runtime_root: Path, workdir: Path,
                 docker: str = "docker") -> Daemon:
    root.mkdir(parents=True, exist_ok=True)
    runtime_root.mkdir(parents=True, exist_ok=True)
    sock = workdir / "berth.sock"
    argv = [berth, "--root", str(root), "--runtime-root", str(runtime_root), "serve",
            "-H", str(sock)]
    return Daemon("berth", argv, sock, workdir, docker)


def podman_argv(podman: str, store: Path, driver: str) -> list[str]:
    """podman with a private --root/--runroot/--tmpdir under `store` (created here)."""
    for sub in ("root", "run", "tmp"):
        (store / sub).mkdir(parents=True, exist_ok=True)
    return [podman, "--root", str(store / "root"), "--runroot", str(store / "run"),
            "--tmpdir", str(store / "tmp"), "--storage-driver", driver, *PODMAN_GLOBAL,
            "--runtime", "runc"]


def podman_daemon(podman: str, store: Path, driver: str, workdir: Path,
                  docker: str = "docker") -> Daemon:
    sock = workdir / "podman.sock"
    argv = podman_argv(podman, store, driver) + ["system", "service", "--time=0",
                                                 f"unix://{sock}"]
    return Daemon("podman (runc)", argv, sock, workdir, docker)


def wipe_podman_store(podman: str, store: Path, driver: str) -> None:
    """After the service stopped: remove what it may have left, through podman itself."""
    if (store / "root").is_dir():
        subprocess.run(podman_argv(podman, store, driver) + ["rm", "--all", "--force",
                                                             "--time", "0"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def wipe_berth_root(berth: str, root: Path, runtime_root: Path) -> None:
    """After the server stopped: remove what it may have left, through the CLI."""
    if not root.is_dir():
        return
    base = [berth, "--root", str(root), "--runtime-root", str(runtime_root)]
    res = subprocess.run(base + ["ps", "--all"], capture_output=True, text=True, check=False)
    for row in res.stdout.splitlines()[1:]:
        if row.strip():
            subprocess.run(base + ["rm", "--force", row.split()[0]],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def kill_leftovers(path: Path) -> list[str]:
    """SIGKILL every process whose command line names a file under path (ours alone).

    podman's conmon keeps an exec session's exit code for `--exit-delay 300` seconds after
    the exec ends, and then runs `podman container cleanup` on the store, which would
    re-create (and mount) the deleted private store. SIGKILL ends conmon without running
    that exit command. Returns what was killed, for the log.
    """
    prefix = (str(path.resolve()) + "/").encode()
    killed = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if prefix in cmdline:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                argv0 = cmdline.split(b"\0")[0].decode(errors="replace")
                killed.append(f"{entry.name} {argv0}")
            except ProcessLookupError:
                pass
    return killed


def sweep_berth_host_state(berth: str) -> None:
    """Have berth remove the bridges and firewall rules of engine roots deleted since.

    Berth records in /run/berth/bridges.json which engine root owns which bridge; every
    engine that opens removes those of roots that no longer exist (network/host.rs,
    `sweep_stale_roots`). Call this after deleting the benchmark's roots: opening an engine
    on a throwaway root (which creates no bridge by itself) leaves nothing of ours behind.
    """
    with tempfile.TemporaryDirectory(prefix="berth-bench-sweep-") as tmp:
        subprocess.run([berth, "--root", f"{tmp}/root", "--runtime-root", f"{tmp}/run",
                        "ps", "--all"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)


def mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as info:
        for line in info:
            mountpoint = line.split()[4].replace("\\040", " ")
            if mountpoint.startswith(prefix):
                found.append(mountpoint)
    return found


def unmount_under(path: Path) -> None:
    """Unmount whatever an engine left mounted below path, deepest first."""
    for mountpoint in sorted(mounts_under(path), key=lambda m: m.count("/"), reverse=True):
        if subprocess.run(["umount", mountpoint], stderr=subprocess.DEVNULL,
                          check=False).returncode != 0:
            subprocess.run(["umount", "-l", mountpoint], stderr=subprocess.DEVNULL,
                           check=False)


def proc_memory(pid: int) -> dict[str, int]:
    """VmRSS, RssAnon, RssFile (status) and Pss (smaps_rollup) of pid, in KiB."""
    mem = {}
    for name in ("status", "smaps_rollup"):
        try:
            text = Path(f"/proc/{pid}/{name}").read_text(encoding="utf-8")
        except OSError as exc:
            raise BenchError(f"reading /proc/{pid}/{name}: {exc}") from None
        for line in text.splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Pss") and rest.strip():
                mem.setdefault(key, int(rest.split()[0]))
    missing = {"VmRSS", "RssAnon", "RssFile", "Pss"} - mem.keys()
    if missing:
        raise BenchError(f"/proc/{pid}: no {', '.join(sorted(missing))}")
    return mem
