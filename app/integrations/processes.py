"""Which process owns a job run, and whether that process is still alive.

A run records its owner: the host name, the process id and a mark of that very process (the
kernel's boot id, the pid namespace and the process's start time, read from ``/proc``). The mark
keeps a pid that the kernel has since given to another process from passing for the owner. Only an
owner on this host, in this pid namespace, can be judged; for any other the answer is "cannot tell"
and the caller falls back on the run's heartbeat. Pure Python: no Flask, no database.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    mark: str   # "<boot id>|<pid namespace>|<start time>"; "" where /proc is missing

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}"


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    """Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]   # the command name in (...) may hold spaces


def _namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


_current: dict[int, Owner] = {}


def current() -> Owner:
    """This process (computed once per pid: a forked worker gets its own)."""
    pid = os.getpid()
    if pid not in _current:
        boot, start = _read("/proc/sys/kernel/random/boot_id"), _start_time(pid)
        mark = f"{boot}|{_namespace()}|{start}" if boot and start else ""
        _current.clear()
        _current[pid] = Owner(socket.gethostname()[:255], pid, mark)
    return _current[pid]


def is_gone(host: str | None, pid: int | None, mark: str | None) -> bool | None:
    """True when the process (host, pid, mark) has ended, False when it still runs, None when this
    process cannot tell (another host or pid namespace, or no owner recorded)."""
    me = current()
    if not pid or not host or host != me.host:
        return None
    boot, ns, start = (mark.split("|") + ["", "", ""])[:3] if mark else ("", "", "")
    my_boot, my_ns, _ = (me.mark.split("|") + ["", "", ""])[:3] if me.mark else ("", "", "")
    if boot and my_boot:
        if boot != my_boot:
            return True   # the machine has restarted since
        if ns != my_ns:
            return None   # another container on this machine: its pids are not ours to look up
        now = _start_time(pid)
        return now != start   # no such process, or the pid now belongs to another process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
