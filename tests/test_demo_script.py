"""./scripts/demo PORT: a port already taken stops it at once, with a message, before it loads or
prints where to log in; the README says how to choose the port."""
from __future__ import annotations

import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_taken_port_stops_the_demo_at_once_with_a_clear_message():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        # the timeout only keeps a broken script from hanging the suite (it would start installing)
        done = subprocess.run([str(ROOT / "scripts" / "demo"), str(port)], capture_output=True, text=True,
                              timeout=120, cwd=ROOT)
    assert done.returncode == 1
    assert f"Port {port} is already in use" in done.stderr and f"./scripts/demo {port + 1}" in done.stderr
    assert "Log in at" not in done.stdout and "Demo institution ready" not in done.stdout


def test_a_port_that_is_not_a_number_is_refused():
    done = subprocess.run([str(ROOT / "scripts" / "demo"), "80a"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 2 and "Usage: ./scripts/demo [PORT]" in done.stderr


def test_the_readme_says_how_to_choose_the_port():
    readme = (ROOT / "README.md").read_text()
    assert "./scripts/demo 5001" in readme and "already taken" in readme
