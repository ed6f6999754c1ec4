"""A process's TCP sockets as the kernel sees them (`/proc`), not as a server sees its sessions: a
connection still in its handshake is not in PostgreSQL's `pg_stat_activity` yet, but its socket is
already the process's."""

from __future__ import annotations

import os
from pathlib import Path

# /proc/net/tcp's `st` column: https://www.kernel.org/doc/Documentation/networking/proc_net_tcp.txt
STATES = {
    "01": "ESTABLISHED",
    "02": "SYN_SENT",
    "03": "SYN_RECV",
    "04": "FIN_WAIT1",
    "05": "FIN_WAIT2",
    "06": "TIME_WAIT",
    "07": "CLOSE",
    "08": "CLOSE_WAIT",
    "09": "LAST_ACK",
    "0A": "LISTEN",
    "0B": "CLOSING",
}


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets among the process's open file descriptors."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def peers(pid: int, port: int) -> list[str]:
    """The states of the process's TCP sockets whose remote end is `port` (IPv4 and IPv6), one entry a socket."""
    inodes = socket_inodes(pid)
    found = []
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            remote, state, inode = fields[2], fields[3], fields[9]
            if inode in inodes and int(remote.rpartition(":")[2], 16) == port:
                found.append(STATES.get(state, state))
    return found
