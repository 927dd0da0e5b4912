"""`daemon stop --only NAME` stops the process of a pidfile only when its
command line names NAME: `down` uses it for a proxy that outlived its hub,
whose pidfile may be stale and hold a pid another program now has."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sandbox.host import daemon


def sleeper(tag: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", tag])


def test_only_a_process_whose_command_names_it_is_stopped(tmp_path: Path):
    pidfile = tmp_path / "proxy.pid"
    other = sleeper("some-other-program")
    proxy = sleeper("configurable-http-proxy")
    try:
        pidfile.write_text(str(other.pid))
        assert (
            daemon.main(["stop", "--pidfile", str(pidfile), "--only", "configurable-http-proxy"])
            == 0
        )
        time.sleep(0.2)
        assert other.poll() is None  # left alone
        assert not pidfile.exists()  # the stale pidfile goes

        pidfile.write_text(str(proxy.pid))
        assert daemon.stop(pidfile, only="configurable-http-proxy") == "stopped"
        assert proxy.wait(timeout=10) is not None
    finally:
        for process in (other, proxy):
            process.kill()
            process.wait()


def test_a_pidfile_of_no_process_is_removed(tmp_path: Path):
    pidfile = tmp_path / "proxy.pid"
    pidfile.write_text("999999999")
    assert daemon.stop(pidfile, only="configurable-http-proxy") == "stopped"
    assert not pidfile.exists()
