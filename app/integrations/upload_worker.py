"""Upload export files from a process of its own.

A big invoice export renders and records thousands of files while they travel. In one process
both halves take turns on Python's interpreter lock, and each network reply waits for its turn:
the upload slows to a crawl. So from ``ERP_UPLOAD_PROCESS_FROM`` files on, the job starts this
module as a child process (``python -m app.integrations.upload_worker``) and hands it the files:
the two run side by side, the job on its database, the child on the network.

They talk over the child's stdin and stdout in frames: four bytes of length (big-endian), then
that many bytes. The job sends one JSON frame with the transport's settings and the folder (the
secrets travel over the pipe, never on a command line), then per file a JSON frame
``{"name": ..., "check_first": ..., "sub": ...}`` (``sub``: a sub-folder of the folder, or "") followed by a frame with the file's bytes; an empty frame or
the end of stdin means "no more". The child answers one JSON frame per file, in order:
``{"done": "exported" | "already there"}`` once the server holds the file under its final name, or
``{"error": "..."}``, after which it stops. Nothing is ever sent twice by the child: a file it
reports as failed was not renamed onto its final name by it.
"""
from __future__ import annotations

import json
import os
import queue
import select
import struct
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import BinaryIO

from ..text import T, Text, english, stored
from .transport import TransferError, from_settings

_LENGTH = struct.Struct(">I")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "app.integrations.upload_worker"]
NICENESS = 5


def write_frame(out: BinaryIO, data: bytes) -> None:
    out.write(_LENGTH.pack(len(data)))
    out.write(data)


def read_frame(inp: BinaryIO) -> bytes | None:
    """The next frame; None at the end of the stream."""
    head = inp.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    data = inp.read(length)
    if len(data) < length:
        return None
    return data


# -- the child -------------------------------------------------------------------------------------

def _refusal(message) -> dict:
    """The answer telling the job a file did not go: the English words and the Text to show translated."""
    return {"error": english(message), "text": stored(message)}


def main() -> int:
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    # Below the job and the web workers: it mostly waits on the network, and they must not wait on it.
    os.nice(NICENESS)

    def answer(message: dict) -> None:
        write_frame(out, json.dumps(message).encode())
        out.flush()

    first = read_frame(inp)
    if not first:
        return 0
    settings = json.loads(first)
    folder = settings.pop("folder")
    try:
        transport = from_settings(settings)
    except TransferError as exc:
        answer(_refusal(exc.text))
        return 0
    try:
        while True:
            head = read_frame(inp)
            if not head:
                return 0
            job = json.loads(head)
            content = read_frame(inp)
            if content is None:
                return 0
            where = f"{folder}/{job['sub']}" if job.get("sub") else folder   # e.g. original/
            try:
                if job["check_first"] and transport.holds(where, job["name"], content):
                    answer({"done": "already there"})
                else:
                    transport.publish(where, job["name"], content)
                    answer({"done": "exported"})
            except TransferError as exc:
                answer(_refusal(exc.text))
                return 0
    except Exception as exc:   # the job must hear why its files stopped going
        answer(_refusal(T("The upload process failed: %(error)s", error=f"{type(exc).__name__}: {exc}")))
        return 1
    finally:
        try:
            transport.close()
        except Exception:
            pass


# -- the job's side --------------------------------------------------------------------------------

class UploadProcess:
    """The child seen from the job: :meth:`put` queues a file (a feeder thread writes it to the
    pipe, so the job never blocks on a full pipe), :meth:`result` gives the next file's outcome
    in order, :meth:`ready` how many outcomes can be had without waiting."""

    def __init__(self, settings: dict, folder: str):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                                       os.environ.get("PYTHONPATH")])))
        self.proc = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                     cwd=PROJECT_ROOT)
        self.fd = self.proc.stdout.fileno()
        self.buffer = bytearray()          # what the child wrote, short of a whole frame
        self.frames: deque[bytes] = deque()   # whole answers not taken yet
        self.ended = False
        self.todo: queue.Queue = queue.Queue()
        self.todo.put(json.dumps(dict(settings, folder=folder)).encode())
        self.feeder = threading.Thread(target=self._feed, name="invoice-export-feed", daemon=True)
        self.feeder.start()

    def _feed(self) -> None:
        stdin = self.proc.stdin
        try:
            while True:
                frame = self.todo.get()
                if frame is None:
                    break
                write_frame(stdin, frame)
                if self.todo.empty():   # what is queued goes in one write; the last frame goes now
                    stdin.flush()
        except (BrokenPipeError, OSError):   # the child stopped; the job hears why from its answers
            pass
        finally:
            try:
                stdin.close()
            except OSError:
                pass

    def put(self, name: str, content: bytes, check_first: bool, sub: str = "") -> None:
        self.todo.put(json.dumps({"name": name, "check_first": check_first, "sub": sub}).encode())
        self.todo.put(content)

    def _read(self, wait: bool) -> None:
        """Take what the child has written (waiting for some if ``wait``) and split off whole frames."""
        if self.ended or (not wait and not select.select([self.fd], [], [], 0)[0]):
            return
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            self.ended = True
            return
        self.buffer += chunk
        while len(self.buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(self.buffer)
            if len(self.buffer) < _LENGTH.size + length:
                break
            self.frames.append(bytes(self.buffer[_LENGTH.size:_LENGTH.size + length]))
            del self.buffer[:_LENGTH.size + length]

    def ready(self) -> int:
        """Outcomes that can be had now without waiting."""
        self._read(wait=False)
        return len(self.frames)

    def result(self, block: bool) -> str | None:
        """"exported" or "already there" for the next file (None: not known yet and ``block`` is
        false); raises :class:`TransferError` when the file did not go."""
        self._read(wait=False)
        while not self.frames:
            if self.ended:
                code = self.proc.wait()
                raise TransferError(T("The upload process stopped unexpectedly (exit code %(code)s); the files "
                                      "it did not confirm are sent again by the next run.", code=code))
            if not block:
                return None
            self._read(wait=True)
        message = json.loads(self.frames.popleft())
        if "error" in message:
            raise TransferError(Text.from_json(message.get("text"), message["error"]))
        return message["done"]

    def stop(self) -> None:
        """No more files: the child finishes the one it is sending and ends."""
        while True:   # what was not handed over yet is dropped
            try:
                self.todo.get_nowait()
            except queue.Empty:
                break
        self.todo.put(None)
        self.feeder.join(timeout=60)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
