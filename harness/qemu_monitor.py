"""QEMU's human monitor on a Unix socket in the run directory, asked once when a run
times out: where the CPU was (registers, halted or not) and what its local APIC held
(timer, IRR, ISR, PPR), so that a stalled run says whether its guest slept with nothing
to wake it or spun. `summarize` is pure and unit-tested; `query` talks to QEMU."""

import os
import re
import socket
import time
from pathlib import Path
from typing import Dict, List, Sequence

SOCKET_NAME = "qemu-monitor.sock"    # in the run directory: QEMU runs there
COMMANDS = ("info registers -a", "info lapic")   # every CPU's registers; the LAPIC of CPU 0
PROMPT = b"(qemu) "
UNIX_PATH_MAX = 108                  # sun_path's size on Linux, its NUL included

# "RIP=ffffffff81e0e2ab RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1" (EIP/EFL in
# 32-bit modes): QEMU's x86_cpu_dump_state
REGISTER_LINE = re.compile(r"^(?:RIP|EIP)=")
LAPIC_KEEP = {"LVTT", "Timer", "ISR", "IRR", "APR"}   # first word of QEMU's lines
# the monitor's line editor redraws the echoed command with escape sequences
ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def argv() -> List[str]:
    """QEMU options for the monitor socket (relative: QEMU's cwd is the run directory)."""
    return ["-monitor", "unix:%s,server=on,wait=off" % SOCKET_NAME]


def _connect(s: socket.socket, path: Path) -> None:
    """A Unix socket's path holds at most 107 bytes (unix(7)): a deeper run directory is
    reached through an open descriptor of it."""
    if len(os.fsencode(str(path))) < UNIX_PATH_MAX:
        s.connect(str(path))
        return
    fd = os.open(str(path.parent), os.O_RDONLY | os.O_DIRECTORY)
    try:
        s.connect("/proc/self/fd/%d/%s" % (fd, path.name))
    finally:
        os.close(fd)


def query(path: Path, commands: Sequence[str] = COMMANDS, timeout: float = 3.0) -> Dict[str, str]:
    """Each command's answer ({} when the monitor cannot be reached in time)."""
    answers: Dict[str, str] = {}
    deadline = time.monotonic() + timeout
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            _connect(s, path)
            buf = b""

            def until_prompt() -> bytes:
                nonlocal buf
                while PROMPT not in buf:
                    if time.monotonic() > deadline:
                        raise TimeoutError
                    data = s.recv(65536)
                    if not data:
                        raise ConnectionError
                    buf += data
                before, _, buf = buf.partition(PROMPT)
                return before

            until_prompt()                      # the banner
            for command in commands:
                s.sendall(command.encode() + b"\n")
                text = ESCAPE.sub("", until_prompt().decode("utf-8", errors="replace"))
                lines = [l.rstrip("\r") for l in text.split("\n")]
                if lines and lines[0].strip().endswith(command):
                    lines = lines[1:]           # QEMU echoes the command line
                answers[command] = "\n".join(l for l in lines if l.strip())
    except (OSError, TimeoutError, ConnectionError):
        pass
    return answers


def summarize(answers: Dict[str, str]) -> str:
    """One line: each CPU's RIP/RFL/CPL/HLT line (HLT=1: halted), and the first LAPIC's
    timer, ISR, IRR and priorities. "" when nothing was answered."""
    parts = []
    cpu = None
    for line in answers.get("info registers -a", "").splitlines():
        line = line.strip()
        header = re.fullmatch(r"CPU#(\d+)", line)
        if header:
            cpu = header.group(1)
        elif REGISTER_LINE.match(line):
            parts.append(("CPU %s: " % cpu if cpu is not None else "") + line)
    lapic = [re.sub(r"\s+", " ", l.strip()) for l in answers.get("info lapic", "").splitlines()
             if l.split() and l.split()[0] in LAPIC_KEEP]
    if lapic:
        parts.append("lapic: " + "; ".join(lapic))
    return " | ".join(parts)
