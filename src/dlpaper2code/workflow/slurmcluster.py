"""A throwaway one-node SLURM cluster (munge + slurmctld + slurmd) for tests and measurements.

    with LocalSlurmCluster() as cluster:
        subprocess.run(["sbatch", "--wait", "--wrap", "hostname"], env=cluster.env)

Everything lives in one temporary directory: the munge key, socket, pid and log
files, ``slurm.conf``, the controller's state, the node's spool and both logs.  The
daemons are this process's children (``munged -F``, ``slurmctld -D``, ``slurmd -D``)
on free ports, talking to their own munged through ``AuthInfo=socket=...``; a system
cluster (``/etc/slurm``, ``/run/munge``) is neither read nor touched.  Clients find the
cluster through ``SLURM_CONF`` (``cluster.env``; jobs inherit it: sbatch exports the
submitting environment).  ``cluster.env`` also puts ``<dir>/bin`` first on ``PATH``: one-line
wrappers of the client commands (srun, sbatch, squeue, ...) that set ``SLURM_CONF`` themselves,
because snakemake-executor-plugin-slurm-jobstep drops every ``SLURM_*`` variable but the job's
identity (``SLURM_CONF`` included) before it calls ``srun`` inside a job; a real cluster's
clients read ``/etc/slurm/slurm.conf`` (or a configless slurmd's copy) instead.

Needs Debian's ``slurm-wlm`` (slurmctld, slurmd, slurm-client) and ``munge`` (``make apt``)
and root (slurmd starts every job as its submitting user).  Without them ``start()``
raises :class:`SlurmClusterError` naming what is missing.

No accounting daemon: ``AccountingStorageType=accounting_storage/none`` (slurmdbd
would need MariaDB).  ``sacct`` then has nothing to read, so job states come from the
controller (``squeue --states=all``, ``scontrol show job``), which keeps a finished
job for ``MinJobAge`` (600 s here).  The Snakemake executor plugin is told to use
squeue: ``--slurm-status-command squeue`` (snakemake-executor-plugin-slurm >= 2.x;
it falls back to sacct only when MinJobAge < 3 x its first status-check delay).
Finished jobs are also appended to ``jobcomp.txt`` (``jobcomp/filetxt``: job id,
state, start and end time), and ``jobacct_gather/linux`` samples each job's memory,
which ``sstat`` reports while it runs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["LocalSlurmCluster", "SlurmClusterError", "missing_programs"]

# program -> the Debian package that provides it
PROGRAMS = {
    "munged": "munge",
    "mungekey": "munge",
    "slurmctld": "slurmctld",
    "slurmd": "slurmd",
    "sbatch": "slurm-client",
    "squeue": "slurm-client",
    "sinfo": "slurm-client",
    "scontrol": "slurm-client",
    "srun": "slurm-client",
}
# client commands wrapped in <dir>/bin so that they find this cluster without SLURM_CONF
CLIENTS = ("srun", "sbatch", "salloc", "squeue", "sinfo", "scontrol", "scancel", "sacct", "sstat", "sprio",
           "sshare", "sacctmgr", "sattach")
SBIN = ("/usr/sbin", "/sbin")


class SlurmClusterError(RuntimeError):
    """The one-node cluster cannot be started (missing program, daemon failure); the message says why."""


def _which(program: str) -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])
    return shutil.which(program, path=path)


def missing_programs() -> list[str]:
    """``'program (Debian package)'`` for each program the cluster needs that is not installed."""
    return [f"{prog} (package {pkg})" for prog, pkg in PROGRAMS.items() if _which(prog) is None]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _node_hardware() -> str:
    """The node line's hardware part: ``slurmd -C`` (topology + RealMemory), else nproc + /proc/meminfo."""
    try:
        out = subprocess.run([_which("slurmd") or "slurmd", "-C"], capture_output=True, text=True,
                             timeout=30).stdout
        line = next(ln for ln in out.splitlines() if ln.startswith("NodeName="))
        return " ".join(part for part in line.split()[1:])
    except (OSError, StopIteration, subprocess.SubprocessError):
        mem_kb = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                      if ln.startswith("MemTotal:"))
        return f"CPUs={os.cpu_count() or 1} RealMemory={mem_kb // 1024}"


class LocalSlurmCluster:
    """One node (this machine, all its CPUs and memory), one partition ``cpu`` (Default=YES).

    ``start()``/``stop()`` or a ``with`` block.  Attributes once started: ``dir`` (the
    temporary directory), ``conf`` (its slurm.conf), ``env`` (``os.environ`` plus
    ``SLURM_CONF``), ``node`` and ``partition``.
    """

    partition = "cpu"

    def __init__(self, *, base_dir: str | os.PathLike | None = None, min_job_age_s: int = 600,
                 start_timeout_s: float = 60.0, cluster_name: str = "dlp2c"):
        self.base_dir = base_dir
        self.min_job_age_s = min_job_age_s
        self.start_timeout_s = start_timeout_s
        self.cluster_name = cluster_name
        self.dir: Path | None = None
        self.conf: Path | None = None
        self.env: dict[str, str] = {}
        self.node = socket.gethostname().split(".")[0]
        self._procs: dict[str, subprocess.Popen] = {}
        self._logs: dict[str, Path] = {}

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> "LocalSlurmCluster":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "LocalSlurmCluster":
        missing = missing_programs()
        if missing:
            raise SlurmClusterError(
                "a local SLURM cluster needs Debian's slurm-wlm and munge (`make apt`); missing: "
                + ", ".join(missing))
        if os.geteuid() != 0:
            raise SlurmClusterError("a local SLURM cluster needs root: slurmd starts jobs as their user "
                                    f"(running as uid {os.geteuid()})")
        self.dir = Path(tempfile.mkdtemp(prefix="slurm-", dir=self.base_dir))
        try:
            self._start_munge()
            self._write_conf()
            self._write_wrappers()
            self.env = {**os.environ, "SLURM_CONF": str(self.conf),
                        "PATH": f"{self.dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
            for var in [v for v in self.env if v.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_"))]:
                if var != "SLURM_CONF":      # inside a SLURM job: do not leak the outer job's settings
                    del self.env[var]
            self._daemon("slurmctld", [_which("slurmctld"), "-D", "-i", "-f", str(self.conf)])
            self._wait_for(self._controller_up, "slurmctld to answer `scontrol ping`", "slurmctld")
            self._daemon("slurmd", [_which("slurmd"), "-D", "-f", str(self.conf), "-N", self.node])
            self._wait_for(self._node_idle, f"node {self.node} to be idle in `sinfo`", "slurmd")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self._procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # ------------------------------------------------------------------ clients

    def run(self, *cmd: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        """A SLURM client command (sbatch, squeue, ...) against this cluster."""
        res = subprocess.run(list(cmd), env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise SlurmClusterError(f"{' '.join(cmd)} exited {res.returncode}: {res.stderr.strip()}")
        return res

    def job_records(self) -> list[dict[str, str]]:
        """Finished jobs from jobcomp/filetxt (JobId, JobName, JobState, StartTime, EndTime, NodeList, ...)."""
        path = self.dir / "jobcomp.txt" if self.dir else None
        if path is None or not path.exists():
            return []
        records = []
        for line in path.read_text().splitlines():
            rec = {}
            for part in line.split():
                key, sep, value = part.partition("=")
                if sep:
                    rec[key] = value
            if rec:
                records.append(rec)
        return records

    def log(self, name: str) -> str:
        """The log of munged, slurmctld or slurmd (for error messages)."""
        path = self._logs.get(name)
        return path.read_text(errors="replace") if path and path.exists() else ""

    # ------------------------------------------------------------------ internals

    def _start_munge(self) -> None:
        d = self.dir / "munge"
        d.mkdir(mode=0o700)
        key = d / "munge.key"
        res = subprocess.run([_which("mungekey"), "--create", f"--keyfile={key}"], capture_output=True,
                             text=True)
        if res.returncode != 0 or not key.exists():   # an older munge: 1 KiB of random bytes
            key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        self.munge_socket = d / "munge.socket"
        self._logs["munged"] = d / "munged.log"
        self._daemon("munged", [
            _which("munged"), "-F", "--force", f"--socket={self.munge_socket}", f"--key-file={key}",
            f"--pid-file={d / 'munged.pid'}", f"--log-file={d / 'munged.log'}",
            f"--seed-file={d / 'munged.seed'}"])
        self._wait_for(self.munge_socket.exists, f"munged's socket {self.munge_socket}", "munged")

    def _write_conf(self) -> None:
        d = self.dir
        for sub in ("state", "spool"):
            (d / sub).mkdir()
        self._logs["slurmctld"] = d / "slurmctld.log"
        self._logs["slurmd"] = d / "slurmd.log"
        ctld_port, slurmd_port = _free_port(), _free_port()
        while slurmd_port == ctld_port:
            slurmd_port = _free_port()
        hardware = _node_hardware()
        self.conf = d / "slurm.conf"
        self.conf.write_text(f"""\
# one-node cluster written by dlpaper2code.workflow.slurmcluster
ClusterName={self.cluster_name}
SlurmctldHost={self.node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={d / 'state'}
SlurmdSpoolDir={d / 'spool'}
SlurmctldPidFile={d / 'slurmctld.pid'}
SlurmdPidFile={d / 'slurmd.pid'}
SlurmctldLogFile={d / 'slurmctld.log'}
SlurmdLogFile={d / 'slurmd.log'}
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=5
JobCompType=jobcomp/filetxt
JobCompLoc={d / 'jobcomp.txt'}
MinJobAge={self.min_job_age_s}
ReturnToService=2
SlurmdTimeout=300
InactiveLimit=0
KillWait=10
NodeName={self.node} NodeAddr=127.0.0.1 {hardware} State=UNKNOWN
PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
""")

    def _write_wrappers(self) -> None:
        bin_dir = self.dir / "bin"
        bin_dir.mkdir()
        for client in CLIENTS:
            real = _which(client)
            if real is None:
                continue
            wrapper = bin_dir / client
            wrapper.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf}\nexport SLURM_CONF\nexec {real} "$@"\n')
            wrapper.chmod(0o755)

    def _daemon(self, name: str, cmd: list[str]) -> None:
        out = open(self.dir / f"{name}.out", "wb")
        self._logs.setdefault(name, self.dir / f"{name}.out")
        self._procs[name] = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, cwd=self.dir,
                                             env={**os.environ, "SLURM_CONF": str(self.conf or "")})
        out.close()

    def _wait_for(self, ready, what: str, daemon: str) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            proc = self._procs[daemon]
            if proc.poll() is not None:
                raise SlurmClusterError(f"{daemon} exited with status {proc.returncode} while waiting for "
                                        f"{what}:\n{self._tail(daemon)}")
            if ready():
                return
            time.sleep(0.5)
        raise SlurmClusterError(f"timed out after {self.start_timeout_s:.0f} s waiting for {what}:\n"
                                f"{self._tail(daemon)}")

    def _tail(self, daemon: str, lines: int = 30) -> str:
        text = self.log(daemon)
        out = self.dir / f"{daemon}.out" if self.dir else None
        if out and out.exists():
            text += out.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _controller_up(self) -> bool:
        res = self.run("scontrol", "ping", check=False, timeout=30)
        return res.returncode == 0 and "UP" in res.stdout

    def _node_idle(self) -> bool:
        res = self.run("sinfo", "-h", "-N", "-n", self.node, "-o", "%t", check=False, timeout=30)
        return res.returncode == 0 and res.stdout.strip() == "idle"
