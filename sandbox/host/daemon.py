"""A small supervisor for machines without systemd.

``python -m sandbox.host.daemon start --pidfile P --logfile L -- CMD...`` detaches,
writes P (the supervisor's pid), runs CMD with output appended to L, and
restarts CMD if it dies (with back-off, giving up after repeated crashes).
``stop`` sends SIGTERM to the supervisor, which stops CMD and removes P.
Every action is idempotent and prints one word: started, running, stopped.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

MAX_RAPID_RESTARTS = 5
RAPID_WINDOW = 60.0
STOP_TIMEOUT = 20.0


def read_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def running_as(pidfile: Path, program: str) -> int | None:
    """The live pid ``pidfile`` names if that process's command line names
    ``program``: a pidfile left behind may name a pid since reused by another."""
    pid = read_pid(pidfile)
    return pid if pid and program in _command_line(pid) else None


def forget_foreign(pidfile: Path, program: str) -> None:
    """Remove ``pidfile`` unless it names a live ``program``. JupyterHub kills
    whatever live pid its proxy pidfile names at start, taking it for a
    leftover proxy; a reused pid would be some other program."""
    if pidfile.exists() and not running_as(pidfile, program):
        pidfile.unlink(missing_ok=True)


def start(pidfile: Path, logfile: Path, command: list[str], env: dict[str, str]) -> str:
    if read_pid(pidfile):
        return "running"
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    logfile.parent.mkdir(parents=True, exist_ok=True)
    read_end, write_end = os.pipe()
    if os.fork() > 0:
        os.close(write_end)
        with os.fdopen(read_end) as ready:
            answer = ready.read()
        return "started" if answer == "ok" else f"failed: {answer}"
    os.close(read_end)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    log = os.open(logfile, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    tmp = pidfile.with_suffix(".tmp")
    tmp.write_text(str(os.getpid()))
    tmp.replace(pidfile)
    os.write(write_end, b"ok")
    os.close(write_end)
    try:
        supervise(command, env)
    finally:
        pidfile.unlink(missing_ok=True)
        os._exit(0)


def supervise(command: list[str], env: dict[str, str]) -> None:
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def on_term(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    crashes: list[float] = []
    while not stopping:
        child = subprocess.Popen(command, env={**os.environ, **env})
        while child.poll() is None:
            try:
                child.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                continue
        if stopping:
            break
        now = time.monotonic()
        crashes = [t for t in crashes if now - t < RAPID_WINDOW] + [now]
        print(f"[supervisor] exited with {child.returncode}; restarting", flush=True)
        if len(crashes) >= MAX_RAPID_RESTARTS:
            print("[supervisor] too many restarts; giving up", flush=True)
            return
        time.sleep(min(2 ** len(crashes), 10))
    if child and child.poll() is None:
        try:
            child.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def stop(pidfile: Path, only: str = "") -> str:
    """Stop the process of ``pidfile``; with ``only``, only if its command line
    names ``only`` (a stale pidfile may hold a pid reused by another program)."""
    pid = running_as(pidfile, only)
    if not pid:
        pidfile.unlink(missing_ok=True)
        return "stopped"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT + 5
    while time.monotonic() < deadline:
        if not _alive(pid):
            pidfile.unlink(missing_ok=True)
            return "stopped"
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)
    return "stopped"


def _command_line(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    """Running (an exited process its parent has not reaped yet is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.host.daemon")
    parser.add_argument("action", choices=["start", "stop", "restart", "status"])
    parser.add_argument("--pidfile", type=Path, required=True)
    parser.add_argument("--logfile", type=Path)
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--only", default="", help="stop: only a process whose command names this")
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    env = dict(item.split("=", 1) for item in args.env)
    if args.action == "status":
        print("running" if read_pid(args.pidfile) else "stopped")
        return 0
    if args.action in ("stop", "restart"):
        result = stop(args.pidfile, args.only)
        if args.action == "stop":
            print(result)
            return 0
    if not command or not args.logfile:
        parser.error("start needs --logfile and a command after --")
    result = start(args.pidfile, args.logfile, command, env)
    print(result)
    return 0 if result in ("started", "running") else 1


if __name__ == "__main__":
    sys.exit(main())
