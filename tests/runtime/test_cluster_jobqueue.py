"""Batch-queue clusters (issue 21 part 2): --cluster slurm:/pbs: read by a whitelist, --dry-run prints
dask-jobqueue's own job script, and atlas job arrays run one shard per task (every word shell-quoted)."""

import os
import shlex
import stat
import subprocess
import sys

import pytest

from neuromanifold.cli import main
from neuromanifold.errors import InputError
from neuromanifold.runtime.cluster import (PLACEHOLDER_ADDRESS, JobQueue, array_script, connect, job_script,
                                           parse_jobqueue)

dask_jobqueue = pytest.importorskip("dask_jobqueue")

SPEC = "linear(widths=(2,1,2))"
PATTERN = "linear(widths=(2,1..2,2))"
NO_DASHBOARD = {"dashboard_address": None}  # the reference clusters start a scheduler: no web server for it


def _cli(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _bash_ok(script: str, tmp_path) -> None:
    path = tmp_path / "job.sh"
    path.write_text(script)
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, (done.stderr, script)


def _without_address(script: str) -> list[str]:
    """The lines of a job script, the scheduler address replaced (it exists only once a scheduler runs)."""
    return [" ".join("ADDRESS" if w.startswith("tcp://") else w for w in line.split(" ")) for line in script.splitlines()]


@pytest.mark.parametrize("text, expected", [
    ("slurm:debug", JobQueue("slurm", "debug")),
    ("slurm:gpu.long-1,cores=4,memory=8GB,jobs=3,walltime=02:00:00,account=proj_7",
     JobQueue("slurm", "gpu.long-1", cores=4, memory="8GB", jobs=3, walltime="02:00:00", account="proj_7")),
    ("pbs:workq,memory=512MB,cores=1", JobQueue("pbs", "workq", cores=1, memory="512MB")),
    ("pbs:q, walltime=100:30:00 ,memory=16GiB", JobQueue("pbs", "q", memory="16GiB", walltime="100:30:00")),
])
def test_jobqueue_options_are_parsed(text, expected):
    assert parse_jobqueue(text) == expected


@pytest.mark.parametrize("text", ["local", "local:2", "tcp://127.0.0.1:8786", "slurmish:q"])
def test_other_cluster_names_are_not_jobqueues(text):
    assert parse_jobqueue(text) is None


@pytest.mark.parametrize("text, says", [
    ("slurm:", "queue name"),
    ("slurm:q;touch /tmp/x", "queue name"),
    ("pbs:q$(id)", "queue name"),
    ("slurm:q,cores=0", "cores='0' is not valid"),
    ("slurm:q,cores=-2", "cores='-2' is not valid"),
    ("slurm:q,memory=8", "memory='8' is not valid"),
    ("slurm:q,memory=8GB\n#SBATCH --x", "memory="),
    ("slurm:q,jobs=1.5", "jobs='1.5' is not valid"),
    ("slurm:q,walltime=2h", "walltime='2h' is not valid"),
    ("slurm:q,walltime=01:75:00", "walltime="),
    ("pbs:q,account=a b", "account='a b' is not valid"),
    ("pbs:q,account=x;rm", "account="),
    ("slurm:q,nodes=2", "unknown option 'nodes=2'"),
    ("slurm:q,cores", "unknown option 'cores'"),
    ("slurm:q,cores=2,cores=3", "cores is given twice"),
])
def test_bad_jobqueue_options_name_the_valid_form(text, says):
    with pytest.raises(InputError) as exc:
        parse_jobqueue(text)
    msg = str(exc.value)
    assert says in msg and "slurm:QUEUE[,cores=N,memory=8GB,jobs=N,walltime=HH:MM:SS,account=NAME]" in msg, msg
    assert "\n" not in msg.replace(text, "")


def test_bad_option_on_the_command_line_is_one_line(capsys):
    code, out, err = _cli(capsys, ["analyze", SPEC, "--cluster", "slurm:q,cores=many", "--dry-run"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "cores='many' is not valid" in err and "Traceback" not in err


def test_slurm_dry_run_is_dask_jobqueues_job_script(capsys, tmp_path):
    code, out, err = _cli(capsys, ["analyze", SPEC, "--cluster",
                                   "slurm:debug,cores=2,memory=4GB,walltime=00:45:00,account=proj", "--dry-run"])
    assert code == 0, err
    cluster = dask_jobqueue.SLURMCluster(queue="debug", cores=2, memory="4GB", walltime="00:45:00", account="proj",
                                         processes=2, scheduler_options=NO_DASHBOARD)
    try:
        reference = cluster.job_script()
    finally:
        cluster.close()
    assert _without_address(out) == _without_address(reference)
    assert PLACEHOLDER_ADDRESS in out  # nothing was started: no real address
    lines = out.splitlines()
    for line in ("#SBATCH -p debug", "#SBATCH --cpus-per-task=2", "#SBATCH --mem=4G", "#SBATCH -t 00:45:00",
                 "#SBATCH -A proj"):
        assert line in lines, out
    assert "--nworkers 2" in lines[-1] and "--nthreads 1" in lines[-1]  # one single-threaded worker per core
    _bash_ok(out, tmp_path)


def test_pbs_dry_run_is_dask_jobqueues_job_script(capsys, tmp_path):
    # a spec command (critical) takes --dry-run too; its data files are not read
    code, out, err = _cli(capsys, ["critical", SPEC, "X.npy", "Y.npy", "--cluster",
                                   "pbs:workq,cores=3,memory=6GB,walltime=01:00:00", "--dry-run"])
    assert code == 0, err
    cluster = dask_jobqueue.PBSCluster(queue="workq", cores=3, memory="6GB", walltime="01:00:00", processes=3,
                                       scheduler_options=NO_DASHBOARD)
    try:
        reference = cluster.job_script()
    finally:
        cluster.close()
    assert _without_address(out) == _without_address(reference)
    lines = out.splitlines()
    assert "#PBS -q workq" in lines and "#PBS -l walltime=01:00:00" in lines, out
    assert any(line.startswith("#PBS -l select=1:ncpus=3:mem=") for line in lines), out
    _bash_ok(out, tmp_path)


def test_dry_run_needs_a_batch_queue(capsys):
    code, out, err = _cli(capsys, ["analyze", SPEC, "--cluster", "local:2", "--dry-run"])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "slurm:QUEUE or pbs:QUEUE" in err and "local:2 submits no jobs" in err
    code, out, err = _cli(capsys, ["analyze", SPEC, "--dry-run"])
    assert code == 2 and out == "" and "add one" in err


def test_cores_and_memory_are_asked_for(capsys):
    code, out, err = _cli(capsys, ["analyze", SPEC, "--cluster", "slurm:debug", "--dry-run"])
    assert code == 2 and err.count("\n") == 1
    assert "give cores=N and memory=SIZE" in err and "slurm:debug,cores=4,memory=8GB" in err


def test_missing_dask_jobqueue_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)  # import dask_jobqueue raises ImportError
    with pytest.raises(InputError, match="pip install dask-jobqueue"):
        job_script("slurm:debug,cores=1,memory=1GB")


def test_no_sbatch_no_cluster_and_nothing_started(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch, no qsub
    for name in ("slurm:debug,cores=1,memory=1GB", "pbs:workq,cores=1,memory=1GB"):
        with pytest.raises(InputError, match="not on the PATH.*--dry-run"):
            connect(name)


def _array_words(script: str, index: int, tmp_path) -> list[str]:
    """Run the array task's command line with bash for one index, the program replaced by printf: the
    words the task's neuromanifold would receive."""
    command = script.rstrip("\n").splitlines()[-1]
    program = shlex.quote(sys.executable)
    assert command.startswith(program + " -m neuromanifold "), command
    probe = tmp_path / "probe.sh"
    probe.write_text("printf '%s\\n' " + command[len(program) + 1:] + "\n")
    env = {"PATH": os.environ["PATH"], "SLURM_ARRAY_TASK_ID": str(index), "PBS_ARRAY_INDEX": str(index),
           "HOME": "/nonexistent-home"}
    done = subprocess.run(["bash", str(probe)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("queue, directive, var", [("slurm:debug", "#SBATCH --array=1-3", "SLURM_ARRAY_TASK_ID"),
                                                   ("pbs:workq", "#PBS -J 1-3", "PBS_ARRAY_INDEX")])
def test_atlas_job_array_runs_one_quoted_shard_per_task(capsys, tmp_path, queue, directive, var):
    shards = tmp_path / "odd dir $HOME;x"  # a space, a variable and a ';' that must reach the task as text
    shards.mkdir()
    code, out, err = _cli(capsys, ["atlas", "sweep", PATTERN, "--only", "dimension", "--cluster",
                                   f"{queue},cores=1,memory=2GB", "--array", "3", "--db", str(shards), "--dry-run"])
    assert code == 0, err
    lines = out.splitlines()
    assert directive in lines and lines.index(directive) < lines.index(lines[-1]), out
    assert f'--shard "${var}/3"' in lines[-1] and lines[-1].endswith(f"/shard-'\"${var}\".sqlite"), lines[-1]
    _bash_ok(out, tmp_path)
    words = _array_words(out, 2, tmp_path)
    assert words[:4] == ["-m", "neuromanifold", "atlas", "sweep"] and words[4] == PATTERN
    assert words[words.index("--shard") + 1] == "2/3"
    assert words[words.index("--db") + 1] == f"{shards}/shard-2.sqlite"
    assert words[words.index("--only") + 1] == "dimension"
    # the header is dask-jobqueue's for the same options (job name aside)
    reference = job_script(f"{queue},cores=1,memory=2GB").splitlines()
    header = [line for line in lines if line.startswith("#") and line != directive and " -J " not in line
              and " -N " not in line]
    assert header == [line for line in reference if line.startswith("#") and " -J " not in line and " -N " not in line]


def test_array_script_refuses_what_does_not_fit(capsys, tmp_path):
    for argv, says in (
        (["--cluster", "local:2", "--array", "2", "--db", str(tmp_path)], "add --cluster slurm:QUEUE"),
        (["--cluster", "slurm:q,cores=1,memory=1GB", "--array", "2", "--shard", "1/2", "--db", str(tmp_path)],
         "drop --shard"),
        (["--cluster", "slurm:q,cores=1,memory=1GB", "--array", "2", "--db", str(tmp_path / "x.sqlite")],
         "existing directory"),
        (["--cluster", "slurm:q,cores=1,memory=1GB", "--array", "0", "--db", str(tmp_path)], "integer >= 1"),
        (["--cluster", "slurm:q,cores=1,memory=1GB,jobs=4", "--array", "2", "--db", str(tmp_path)], "drop jobs=4"),
    ):
        code, out, err = _cli(capsys, ["atlas", "sweep", PATTERN, "--only", "dimension", *argv, "--dry-run"])
        assert code == 2 and out == "" and err.count("\n") == 1 and says in err, (argv, err)
    with pytest.raises(InputError, match="integer >= 1"):
        array_script("slurm:q,cores=1,memory=1GB", ["atlas", "sweep"], True, tmp_path)


def test_array_is_submitted_with_sbatch_as_printed(capsys, tmp_path, monkeypatch):
    bin_dir, shards = tmp_path / "bin", tmp_path / "shards"
    bin_dir.mkdir()
    shards.mkdir()
    fake = bin_dir / "sbatch"  # records the script it was given, answers like sbatch
    fake.write_text(f"#!/bin/sh\ncp \"$1\" {shlex.quote(str(tmp_path / 'submitted.sh'))}\n"
                    "echo 'Submitted batch job 4242'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    argv = ["atlas", "sweep", PATTERN, "--only", "dimension", "--cluster", "slurm:debug,cores=1,memory=1GB",
            "--array", "2", "--db", str(shards)]
    code, printed, err = _cli(capsys, argv + ["--dry-run"])
    assert code == 0, err
    code, out, err = _cli(capsys, argv)
    assert code == 0, err
    assert "Submitted batch job 4242" in out and "atlas merge" in out
    assert (tmp_path / "submitted.sh").read_text() == printed
    assert list(shards.iterdir()) == []  # nothing computed here
