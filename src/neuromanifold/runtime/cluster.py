"""Dask scale-out: one way to name a cluster (``local``, ``local:N``, a scheduler address, or a batch
queue ``slurm:QUEUE[,...]`` / ``pbs:QUEUE[,...]``) and the client that batched path tracking and atlas
sweeps hand their independent work to.

Work sent to the cluster is a pure function of its inputs (paths are tracked independently; every
invariant draws its generic points from its own seeded generator), so a cluster run returns what the
single-process run returns.

Batch queues go through dask-jobqueue (``SLURMCluster``, ``PBSCluster``): the scheduler runs in this
process and ``jobs`` batch jobs, each with ``cores`` single-threaded Dask workers, join it.  The option
text is read with a whitelist (``parse_jobqueue``), never evaluated, and every value is checked against a
pattern before it reaches a job script.  ``job_script`` gives the script dask-jobqueue submits (for
``--dry-run``; nothing is started or submitted), ``array_script`` a job-array script that runs one
neuromanifold command per array task (atlas sweeps split into shards).
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from ..errors import InputError

_CLIENT: ContextVar[Any] = ContextVar("neuromanifold_dask_client", default=None)

JOBQUEUE_FORM = "slurm:QUEUE[,cores=N,memory=8GB,jobs=N,walltime=HH:MM:SS,account=NAME] or pbs:QUEUE[,same keys]"
# scheduler -> (cluster class, job class, submit command, array directive, array index variable)
SCHEDULERS: dict[str, tuple[str, str, str, str, str]] = {
    "slurm": ("SLURMCluster", "SLURMJob", "sbatch", "#SBATCH --array=1-{n}", "SLURM_ARRAY_TASK_ID"),
    "pbs": ("PBSCluster", "PBSJob", "qsub", "#PBS -J 1-{n}", "PBS_ARRAY_INDEX"),
}
# the address dask-jobqueue writes into job_script() before a scheduler runs
PLACEHOLDER_ADDRESS = "tcp://<insert-scheduler-address-here>:8786"
_NAME = r"[A-Za-z0-9_.-]{1,64}"
# key -> (pattern of the value, what to write)
_KEYS: dict[str, tuple[str, str]] = {
    "cores": (r"[1-9][0-9]{0,3}", "a positive integer, e.g. cores=4"),
    "memory": (r"[1-9][0-9]{0,5}(?:\.[0-9]{1,3})?(?:[KMGT]i?B)", "a size such as 8GB, 512MB or 16GiB"),
    "jobs": (r"[1-9][0-9]{0,4}", "a positive integer, e.g. jobs=10"),
    "walltime": (r"[0-9]{1,4}:[0-5][0-9]:[0-5][0-9]", "HH:MM:SS, e.g. walltime=02:00:00"),
    "account": (_NAME, "a name of letters, digits, '_', '.' or '-'"),
}


@dataclass(frozen=True)
class JobQueue:
    """A batch-queue cluster named by ``slurm:QUEUE[,key=value...]`` or ``pbs:QUEUE[,...]``: the values
    passed to dask-jobqueue (None: its default or the user's jobqueue configuration)."""

    scheduler: str  # 'slurm' or 'pbs'
    queue: str
    cores: int | None = None
    memory: str | None = None
    jobs: int = 1
    walltime: str | None = None
    account: str | None = None

    def kwargs(self) -> dict[str, Any]:
        """Keywords of ``SLURMCluster``/``PBSCluster`` (and their job classes): the values given, and one
        single-threaded worker process per core (as ``local:N``)."""
        kw: dict[str, Any] = {"queue": self.queue}
        for key in ("cores", "memory", "walltime", "account"):
            if getattr(self, key) is not None:
                kw[key] = getattr(self, key)
        if self.cores is not None:
            kw["processes"] = self.cores
        return kw


def parse_jobqueue(text: str) -> JobQueue | None:
    """``slurm:QUEUE[,key=value...]`` or ``pbs:QUEUE[,...]`` as a JobQueue; None for any other cluster
    name.  Keys: cores, memory, jobs, walltime, account, each at most once; anything else is refused
    with one line (InputError) naming the valid form."""
    kind, sep, rest = text.partition(":")
    if not sep or kind not in SCHEDULERS:
        return None
    parts = rest.split(",")
    queue = parts[0].strip()
    if not re.fullmatch(_NAME, queue):
        raise InputError(f"--cluster {text!r}: the queue name must be letters, digits, '_', '.' or '-'; "
                         f"write {JOBQUEUE_FORM}")
    values: dict[str, Any] = {}
    for part in parts[1:]:
        key, eq, value = (s.strip() for s in part.partition("="))
        if key not in _KEYS or not eq:
            raise InputError(f"--cluster {text!r}: unknown option {part.strip()!r}; "
                             f"the options are {', '.join(_KEYS)}: write {JOBQUEUE_FORM}")
        if key in values:
            raise InputError(f"--cluster {text!r}: {key} is given twice; give it once: {JOBQUEUE_FORM}")
        pattern, what = _KEYS[key]
        if not re.fullmatch(pattern, value, flags=re.IGNORECASE if key == "memory" else 0):
            raise InputError(f"--cluster {text!r}: {key}={value!r} is not valid; {key} is {what}; write {JOBQUEUE_FORM}")
        values[key] = int(value) if key in ("cores", "jobs") else value
    return JobQueue(kind, queue, **values)


def _dask_jobqueue() -> Any:
    try:
        import dask_jobqueue
    except ImportError:
        raise InputError("--cluster slurm:/pbs: needs dask-jobqueue: pip install dask-jobqueue") from None
    return dask_jobqueue


def _job(jq: JobQueue, **extra: Any) -> Any:
    """The dask-jobqueue Job object of ``jq`` as ``SLURMCluster(...)._dummy_job`` builds it (the placeholder
    scheduler address, the worker name 'dummy-name'), without starting a scheduler or submitting."""
    import dask

    _dask_jobqueue()
    module = importlib.import_module(f"dask_jobqueue.{jq.scheduler}")
    job_cls = getattr(module, SCHEDULERS[jq.scheduler][1])
    interface = dask.config.get(f"jobqueue.{jq.scheduler}.interface", None)
    try:
        return job_cls(PLACEHOLDER_ADDRESS, name="dummy-name", config_name=jq.scheduler, interface=interface,
                       protocol=None, security=None, **jq.kwargs(), **extra)
    except ValueError as exc:
        if "cores and memory" in str(exc):
            raise InputError(f"--cluster {jq.scheduler}:{jq.queue}: give cores=N and memory=SIZE, e.g. "
                             f"{jq.scheduler}:{jq.queue},cores=4,memory=8GB (or set them in dask-jobqueue's "
                             "configuration)") from None
        raise InputError(f"--cluster {jq.scheduler}:{jq.queue}: dask-jobqueue refused the options ({exc}); "
                         f"write {JOBQUEUE_FORM}") from None


def _require_jobqueue(cluster: Any) -> JobQueue:
    jq = parse_jobqueue(cluster) if isinstance(cluster, str) else None
    if jq is None:
        shown = cluster if isinstance(cluster, str) or cluster is None else "a Dask client"
        raise InputError(f"--dry-run prints the batch job script of --cluster slurm:QUEUE or pbs:QUEUE; "
                         f"--cluster {shown} submits no jobs: drop --dry-run or write {JOBQUEUE_FORM}")
    return jq


def job_script(cluster: str | None) -> str:
    """The job script dask-jobqueue would submit for ``cluster`` (slurm:/pbs: only): exactly
    ``SLURMCluster(**options).job_script()`` (``PBSCluster``), whose scheduler address is a placeholder
    until the scheduler runs.  Starts nothing and submits nothing."""
    return _job(_require_jobqueue(cluster)).job_script()


def array_script(cluster: str, words: Sequence[str], n: int, shard_dir: str | os.PathLike[str]) -> str:
    """A job-array script of ``n`` tasks (numbered 1..n) for ``cluster`` (slurm:/pbs:): the batch header of
    ``job_script(cluster)`` (job name neuromanifold-sweep), the array directive, and in place of the Dask
    worker the command ``python -m neuromanifold WORDS --shard $INDEX/n --db SHARD_DIR/shard-$INDEX.sqlite``.
    Every word is quoted with shlex.quote; only the array index variable is left to the shell."""
    jq = _require_jobqueue(cluster)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"--array {n!r}: give the number of array tasks, an integer >= 1")
    if jq.jobs != 1:
        raise InputError(f"--cluster {cluster!r}: with --array the job array has the tasks; drop jobs={jq.jobs}")
    _, _, _, directive, index = SCHEDULERS[jq.scheduler]
    job = _job(jq, job_name="neuromanifold-sweep")
    script = job.job_script()
    head, _, worker = script.rstrip("\n").rpartition("\n")
    if "distributed" not in worker or job.job_header not in head:  # pragma: no cover - a dask-jobqueue change
        raise RuntimeError("unexpected dask-jobqueue job script layout; cannot build the job array")
    head = head.replace(job.job_header, job.job_header + "\n" + directive.format(n=n), 1)
    db = shlex.quote(os.path.abspath(os.fspath(shard_dir)).rstrip("/") + "/shard-")
    command = " ".join([shlex.quote(sys.executable), "-m", "neuromanifold", *(shlex.quote(str(w)) for w in words),
                        "--shard", f'"${index}/{n}"', "--db", f'{db}"${index}".sqlite'])
    return f"{head}\n{command}\n"


def submit(script: str, cluster: str) -> str:
    """Submit ``script`` with sbatch (slurm:) or qsub (pbs:) and return what it printed (the job id).
    The script goes to a temporary file passed as one argument; no shell is involved."""
    jq = _require_jobqueue(cluster)
    command = SCHEDULERS[jq.scheduler][2]
    if shutil.which(command) is None:
        raise InputError(f"--cluster {jq.scheduler}:...: {command} is not on the PATH; run on a login node of "
                         "the cluster, or add --dry-run to print the job script")
    with tempfile.NamedTemporaryFile("w", suffix=".sh", prefix="neuromanifold-", delete=False) as fh:
        fh.write(script)
    try:
        done = subprocess.run([command, fh.name], capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(fh.name)
    if done.returncode != 0:
        raise InputError(f"{command} refused the job ({(done.stderr or done.stdout).strip()}); "
                         "check the queue, account and limits in --cluster")
    return done.stdout.strip()


def _jobqueue_cluster(jq: JobQueue) -> tuple[Any, int]:
    """A running SLURMCluster/PBSCluster scaled to ``jq.jobs`` jobs, and its number of worker processes."""
    command = SCHEDULERS[jq.scheduler][2]
    if shutil.which(command) is None:
        raise InputError(f"--cluster {jq.scheduler}:{jq.queue}: {command} is not on the PATH; run on a login node "
                         "of the cluster, or add --dry-run to print the job script")
    processes = _job(jq).worker_processes  # also checks the options before a scheduler starts
    cluster_cls = getattr(_dask_jobqueue(), SCHEDULERS[jq.scheduler][0])
    cluster = cluster_cls(**jq.kwargs())
    cluster.scale(jobs=jq.jobs)
    return cluster, jq.jobs * int(processes or 1)


def connect(cluster: Any) -> tuple[Any, Any, int]:
    """(client, cluster it started or None, number of workers) for 'local', 'local:N', an address,
    'slurm:QUEUE[,...]', 'pbs:QUEUE[,...]', or a Client (left to its owner)."""
    if not isinstance(cluster, str):  # a distributed.Client the caller owns
        return cluster, None, len(cluster.scheduler_info().get("workers", {})) or 1
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise InputError("--cluster needs dask.distributed: pip install 'dask[distributed]'") from None
    jq = parse_jobqueue(cluster)
    if jq is not None:
        started, n = _jobqueue_cluster(jq)
        return Client(started), started, n
    if cluster == "local" or cluster.startswith("local:"):
        n = cluster.partition(":")[2] or str(os.cpu_count() or 1)
        if not n.isdigit() or int(n) < 1:
            raise InputError(f"--cluster {cluster!r}: write local, local:N (N >= 1 workers), a scheduler address "
                             f"or {JOBQUEUE_FORM}")
        lc = LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(lc), lc, int(n)
    if "://" not in cluster:
        raise InputError(f"--cluster {cluster!r}: write local, local:N, a scheduler address such as "
                         f"tcp://host:8786, or {JOBQUEUE_FORM}")
    try:
        client = Client(cluster, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {cluster!r} ({exc}); "
                         "give tcp://host:port of a running scheduler, or local[:N]") from None
    return client, None, len(client.scheduler_info().get("workers", {})) or 1


@contextmanager
def using(cluster: Any) -> Iterator[Any]:
    """Within the block, batched path tracking sends its chunks of paths to ``cluster`` (None: no-op).
    A cluster given by name is started (or connected to, or its batch jobs submitted) here and closed
    (jobs cancelled) on exit."""
    if cluster is None:
        yield None
        return
    client, local, _ = connect(cluster)
    token = _CLIENT.set(client)
    try:
        yield client
    finally:
        _CLIENT.reset(token)
        if isinstance(cluster, str):
            client.close()
            if local is not None:
                local.close()


def current_client() -> Any:
    """The Dask client path tracking should use here, or None."""
    return _CLIENT.get()


def n_workers(client: Any) -> int:
    """Workers connected to ``client`` (at least 1)."""
    return len(client.scheduler_info().get("workers", {})) or 1
