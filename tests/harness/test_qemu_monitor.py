import os
import socket
import threading

from harness import qemu_monitor

REGISTERS = """CPU#0
RAX=0000000000000000 RBX=ffffffff82a03f28 RCX=0000000000000001 RDX=0000000000000000
RIP=ffff82d0402aa8e6 RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1
CR0=80050033 CR2=0000000000000000 CR3=000000007fe3d000 CR4=003506f0
CPU#1
EIP=000fd09a EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0
"""
LAPIC = """dumping local APIC state for CPU 0

LVT0\t 0x00010700 active-hi edge  masked                      ExtINT (vec 0)
LVTTHMR\t 0x00010000 active-hi edge  masked                      Fixed  (vec 0)
LVTT\t 0x000400ec active-hi edge                 tsc-deadline Fixed  (vec 236)
Timer\t DCR=0x0 (divide by 2) initial_count = 0 current_count = 0
ISR\t (none)
IRR\t 236

APR 0x00 TPR 0x00 DFR 0x0f LDR 0x00 PPR 0x00
"""


def test_summarize_names_every_cpu_and_the_lapic():
    line = qemu_monitor.summarize({"info registers -a": REGISTERS, "info lapic": LAPIC})
    assert line == ("CPU 0: RIP=ffff82d0402aa8e6 RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 "
                    "HLT=1 | CPU 1: EIP=000fd09a EFL=00000002 [-------] CPL=0 II=0 A20=1 "
                    "SMM=0 HLT=0 | lapic: LVTT 0x000400ec active-hi edge tsc-deadline Fixed "
                    "(vec 236); Timer DCR=0x0 (divide by 2) initial_count = 0 current_count "
                    "= 0; ISR (none); IRR 236; APR 0x00 TPR 0x00 DFR 0x0f LDR 0x00 PPR 0x00")


def test_summarize_nothing_answered():
    assert qemu_monitor.summarize({}) == ""


def test_query_without_a_monitor_is_empty(tmp_path):
    assert qemu_monitor.query(tmp_path / "absent.sock", timeout=0.5) == {}


def test_query_reads_each_answer_without_the_echo(tmp_path):
    """A fake monitor: banner and prompt, then per command its echo (redrawn with escape
    sequences, as QEMU's line editor does) and the answer."""
    path = tmp_path / "m.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def serve():
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) ")
            buf = b""
            for answer in (b"CPU#0\r\nRIP=1 HLT=1\r\n", b"IRR\t (none)\r\n"):
                while b"\n" not in buf:
                    buf += conn.recv(100)
                command, _, buf = buf.partition(b"\n")
                conn.sendall(b"i\x1b[K\x1b[D" + command + b"\x1b[K\r\n" + answer + b"(qemu) ")

    t = threading.Thread(target=serve)
    t.start()
    got = qemu_monitor.query(path, timeout=3)
    t.join()
    server.close()
    assert got == {"info registers -a": "CPU#0\nRIP=1 HLT=1", "info lapic": "IRR\t (none)"}



def test_query_reaches_a_socket_deeper_than_sun_path(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    path = deep / "m.sock"
    assert len(str(path)) > qemu_monitor.UNIX_PATH_MAX
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    fd = os.open(str(deep), os.O_RDONLY | os.O_DIRECTORY)   # bind() has the same limit
    try:
        server.bind("/proc/self/fd/%d/m.sock" % fd)
    finally:
        os.close(fd)
    server.listen(1)

    def serve():
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"(qemu) ")
            conn.recv(100)
            conn.sendall(b"info lapic\r\nIRR\t 236\r\n(qemu) ")

    t = threading.Thread(target=serve)
    t.start()
    got = qemu_monitor.query(path, commands=("info lapic",), timeout=3)
    t.join()
    server.close()
    assert got == {"info lapic": "IRR\t 236"}
