"""Multi-node GCHP on AWS Batch (multi-node parallel jobs).

Batch starts the same container on every node with ``AWS_BATCH_JOB_NODE_INDEX``,
``AWS_BATCH_JOB_MAIN_NODE_INDEX`` and ``AWS_BATCH_JOB_NUM_NODES`` set (and, on the other
nodes, ``AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS``). The nodes meet through the job's
report location:

1. every node prepares its own run directory (node-local disks: the MPI ranks on each node
   read the same files at the same path), then writes ``nodes/<index>.json`` with its private
   IP and slot count;
2. the main node waits until all nodes have registered, writes ``hostfile`` (``<ip> slots=<n>``)
   and runs ``mpirun --hostfile hostfile -np TOTAL_CORES gchp``; when it is done, whatever
   happened, it writes ``nodes/done``;
3. the other nodes run sshd (so that mpirun can start ranks on them) and wait for
   ``nodes/done`` or SIGTERM, then exit 0. Only the main node writes runner.log, progress.json
   and metrics.json.

``node_role`` and ``hostfile_text`` are pure; the rest talks to the report store
(``FileStore`` or ``S3Store``: ``put_bytes``, ``get_bytes``, ``keys``).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Callable

NODES_FOLDER = "nodes"
DONE_KEY = f"{NODES_FOLDER}/done"
HOSTFILE = "hostfile"
DEFAULT_SSHD = "/usr/sbin/sshd -D"
SSHD_ENV = "GCR_SSHD_COMMAND"


class RendezvousError(Exception):
    """Not every node registered in time."""


@dataclass(frozen=True)
class NodeRole:
    index: int
    main_index: int
    num_nodes: int
    main_ip: str | None  # set on the other nodes only

    @property
    def is_main(self) -> bool:
        return self.index == self.main_index


def _env_int(env: dict, name: str) -> int | None:
    raw = env.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from None


def node_role(env: dict) -> NodeRole | None:
    """This node's place in a multi-node job, or None for a single-node job (no Batch
    multi-node variables, or a job of one node)."""
    num_nodes = _env_int(env, "AWS_BATCH_JOB_NUM_NODES")
    index = _env_int(env, "AWS_BATCH_JOB_NODE_INDEX")
    if num_nodes is None or index is None or num_nodes <= 1:
        return None
    main_index = _env_int(env, "AWS_BATCH_JOB_MAIN_NODE_INDEX") or 0
    if not 0 <= index < num_nodes or not 0 <= main_index < num_nodes:
        raise ValueError(f"node index {index} or main node index {main_index} is outside 0..{num_nodes - 1}")
    return NodeRole(index, main_index, num_nodes, env.get("AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS") or None)


def hostfile_text(registrations: dict[int, dict]) -> str:
    """An Open MPI hostfile for the registered nodes, by node index: ``<ip> slots=<n>``."""
    return "".join(f"{registrations[index]['ip']} slots={int(registrations[index]['slots'])}\n"
                   for index in sorted(registrations))


def own_ip(env: dict, role: NodeRole) -> str:
    """This node's private IPv4 address: ``GCR_NODE_IP`` if set, else the address the
    route towards the main node (or any private address) leaves from. Connecting a UDP
    socket sends nothing; it only picks the outgoing interface."""
    if env.get("GCR_NODE_IP"):
        return env["GCR_NODE_IP"]
    target = role.main_ip or "10.255.255.255"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((target, 9))
            return probe.getsockname()[0]
    except OSError:
        return socket.gethostbyname(socket.gethostname())


def register(store, role: NodeRole, *, ip: str, slots: int, error: str | None = None) -> None:
    """Write ``nodes/<index>.json`` for this node; ``error`` says it could not prepare its
    run directory, so that the main node fails at once instead of waiting for it."""
    document = {"index": role.index, "ip": ip, "slots": slots, "host": socket.gethostname()}
    if error:
        document["error"] = error
    store.put_bytes(json.dumps(document).encode(), f"{NODES_FOLDER}/{role.index}.json")


def registrations(store) -> dict[int, dict]:
    """The registered nodes by index (unreadable entries are skipped)."""
    found = {}
    for key in store.keys(NODES_FOLDER):
        name = key.rsplit("/", 1)[-1]
        if not name.endswith(".json") or not name[:-5].isdigit():
            continue
        raw = store.get_bytes(key)
        try:
            document = json.loads(raw) if raw else None
        except ValueError:
            document = None
        if isinstance(document, dict) and "ip" in document and "slots" in document:
            found[int(name[:-5])] = document
    return found


def wait_for_nodes(store, num_nodes: int, *, timeout: float, stop_requested: Callable[[], bool],
                   say: Callable[[str], None] = lambda text: None, poll: float = 2.0) -> dict[int, dict]:
    """Registrations of all ``num_nodes`` nodes, or of those so far as soon as one of them
    reports an ``error`` (waiting longer would not help); RendezvousError after ``timeout``
    seconds or on a stop request, naming the nodes that never registered."""
    deadline = time.monotonic() + timeout
    seen = -1
    while True:
        found = {index: doc for index, doc in registrations(store).items() if index < num_nodes}
        if len(found) != seen:
            seen = len(found)
            say(f"{seen} of {num_nodes} node(s) registered")
        if len(found) == num_nodes or any(doc.get("error") for doc in found.values()):
            return found
        if stop_requested() or time.monotonic() > deadline:
            absent = ", ".join(str(i) for i in range(num_nodes) if i not in found)
            why = "a stop was requested" if stop_requested() else f"within {timeout:g} s"
            raise RendezvousError(f"only {len(found)} of {num_nodes} nodes registered ({why}); "
                                  f"missing node(s) {absent}")
        time.sleep(poll)


def mark_done(store) -> None:
    store.put_bytes(b"done\n", DONE_KEY)


def sshd_command(env: dict, exists: Callable[[str], bool] = os.path.exists) -> list[str] | None:
    """The command that serves ssh on a non-main node: ``$GCR_SSHD_COMMAND`` (empty means
    none), else ``/usr/sbin/sshd -D`` when that program exists, else None."""
    if SSHD_ENV in env:
        return shlex.split(env[SSHD_ENV]) or None
    return shlex.split(DEFAULT_SSHD) if exists(DEFAULT_SSHD.split()[0]) else None


def serve_until_done(store, *, sshd: list[str] | None, stop_requested: Callable[[], bool],
                     say: Callable[[str], None], poll: float = 2.0) -> str:
    """Run sshd (if any) until the main node writes ``nodes/done`` or a stop is requested;
    returns why it stopped ("done" or "stopped")."""
    server = None
    if sshd:
        try:
            server = subprocess.Popen(sshd, stdin=subprocess.DEVNULL, process_group=0)
            say(f"started {shlex.join(sshd)} (pid {server.pid})")
        except OSError as exc:
            say(f"could not start {shlex.join(sshd)}: {exc}")
    try:
        while True:
            if store.get_bytes(DONE_KEY) is not None:
                return "done"
            if stop_requested():
                return "stopped"
            slept = 0.0
            while slept < poll and not stop_requested():
                time.sleep(0.1)
                slept += 0.1
    finally:
        if server is not None and server.poll() is None:
            try:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(10)
            except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
                server.kill()
