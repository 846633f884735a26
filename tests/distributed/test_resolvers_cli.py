"""End-to-end tests of the cluster resolvers: `braid train` under a real
`mpirun -np 3` (Open MPI) and a real `srun --ntasks 3` (a private
single-node Slurm the test starts, when slurm-wlm's daemons are installed and
the test runs as root), and `braid train` / `braid server` with the variables
srun sets for each task of a Slurm step. Real processes on this machine, real
gRPC, real Fashion-MNIST."""
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build")).resolve()
BRAID = Path(os.environ.get("BRAID_BIN", BUILD / "bin" / "braid")).resolve()

# Steps of one epoch of Fashion-MNIST's 60,000 examples split over two
# workers, batch 128: 30,000 / 128 rounded up.
STEPS_PER_WORKER = 235


def clean_env(extra=None):
    """This process's environment without anything a cluster engine set (the
    tests may themselves run under Slurm or MPI), plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLURM_", "SLURMD_", "OMPI_", "PMIX_", "PMI_"))
           and k != "TF_CONFIG"}
    env.update(extra or {})
    return env


def run(args, env=None, timeout=60):
    return subprocess.run([str(BRAID), *args], capture_output=True, text=True, timeout=timeout,
                          env=clean_env(env))


def free_port_block(n):
    """A first port of n consecutive ports that are free now (Slurm tasks
    listen on port_base + their index on the node)."""
    for _ in range(200):
        base = random.randrange(20000, 60000 - n)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no {n} consecutive free ports")


def srun_env(procid, ntasks, port_base=None, node="localhost"):
    """The variables srun sets for task `procid` of `srun --ntasks N` on one
    node (a step of a job of one node), as Slurm 22.05 names them."""
    return {
        "SLURM_JOB_ID": "4242", "SLURM_JOBID": "4242", "SLURM_STEP_ID": "0",
        "SLURM_JOB_NODELIST": node, "SLURM_NODELIST": node, "SLURM_JOB_NUM_NODES": "1",
        "SLURM_NNODES": "1", "SLURM_TASKS_PER_NODE": str(ntasks), "SLURM_NTASKS": str(ntasks),
        "SLURM_NPROCS": str(ntasks), "SLURM_STEP_NODELIST": node, "SLURM_STEP_NUM_NODES": "1",
        "SLURM_STEP_NUM_TASKS": str(ntasks), "SLURM_STEP_TASKS_PER_NODE": str(ntasks),
        "SLURM_PROCID": str(procid), "SLURM_LOCALID": str(procid), "SLURM_NODEID": "0",
        "SLURMD_NODENAME": node, "SLURM_CPUS_ON_NODE": "2",
    }


def check_training(metrics_dir, worker0_rank, ranks):
    """Worker 0 (the chief) evaluated after both workers were done; the global
    step counts both workers' steps."""
    chief = json.loads((metrics_dir / f"metrics.{worker0_rank}").read_text())
    assert chief["test_accuracy"] >= 0.78, chief
    assert chief["steps"] == STEPS_PER_WORKER
    assert chief["global_step"] == 2 * STEPS_PER_WORKER, chief
    # The other worker trained its own shard and did not evaluate; the ps
    # wrote no metrics.
    for rank in ranks:
        if rank == worker0_rank:
            continue
        path = metrics_dir / f"metrics.{rank}"
        if rank == 0:
            assert not path.exists()
        else:
            other = json.loads(path.read_text())
            assert other["steps"] == STEPS_PER_WORKER and "test_accuracy" not in other


def announced(stderr):
    """{task name: cluster} from the lines a resolved task prints."""
    tasks = {}
    for m in re.finditer(r"--cluster_resolver \w+: this is (\S+) of the cluster (\{.*\})",
                         stderr):
        tasks[m.group(1)] = json.loads(m.group(2))
    return tasks


@pytest.mark.skipif(shutil.which("mpirun") is None,
                    reason="Open MPI's mpirun is not installed (openmpi-bin, scripts/setup.sh)")
def test_mpirun_three_ranks_train_one_ps_two_workers(tmp_path):
    # Each rank writes its own metrics file, named by its rank; rank 0 is the
    # ps, rank 1 worker 0 (the chief), rank 2 worker 1. Ports: a free one
    # each, exchanged through files under TMPDIR.
    exchange = tmp_path / "tmp"
    exchange.mkdir()
    r = subprocess.run(
        ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "3",
         "sh", "-c", 'exec "$0" train --cluster_resolver mpi --num_ps 1 '
                     '--resolver_port_base 0 --model mlp --epochs 1 '
                     '--metrics_json "$1.$OMPI_COMM_WORLD_RANK"',
         str(BRAID), str(tmp_path / "metrics")],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
        env=clean_env({"TMPDIR": str(exchange)}))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    tasks = announced(r.stderr)
    assert set(tasks) == {"/job:ps/replica:0/task:0", "/job:worker/replica:0/task:0",
                          "/job:worker/replica:0/task:1"}, r.stderr
    # Every rank resolved the same cluster: one ps, two workers.
    clusters = list(tasks.values())
    assert all(c == clusters[0] for c in clusters), clusters
    assert len(clusters[0]["ps"]) == 1 and len(clusters[0]["worker"]) == 2
    assert "/job:ps/replica:0/task:0: every worker is done" in r.stderr
    check_training(tmp_path, worker0_rank=1, ranks=[0, 1, 2])
    # Rank 0 removed the exchange directory once everyone had read it.
    assert not list(exchange.glob("braid-mpi-*")), list(exchange.iterdir())


def test_slurm_tasks_of_one_node_train_one_ps_two_workers(tmp_path):
    # Three processes with the variables srun sets for `srun --ntasks 3` on
    # one node: rank 0 the ps, ranks 1 and 2 the workers.
    base = free_port_block(3)
    procs = []
    for rank in range(3):
        procs.append(subprocess.Popen(
            [str(BRAID), "train", "--cluster_resolver", "slurm", "--num_ps", "1",
             "--resolver_port_base", str(base), "--model", "mlp", "--epochs", "1",
             "--metrics_json", str(tmp_path / f"metrics.{rank}")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
            env=clean_env(srun_env(rank, 3))))
    outputs = []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=900))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, out[-3000:] + err[-3000:]
    want = {"ps": [f"localhost:{base}"],
            "worker": [f"localhost:{base + 1}", f"localhost:{base + 2}"]}
    names = ["/job:ps/replica:0/task:0", "/job:worker/replica:0/task:0",
             "/job:worker/replica:0/task:1"]
    for rank, (_, err) in enumerate(outputs):
        assert announced(err) == {names[rank]: want}, err
    check_training(tmp_path, worker0_rank=1, ranks=[0, 1, 2])


SLURM_DAEMONS = ["munged", "slurmctld", "slurmd", "srun", "sinfo"]


def free_port():
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


@pytest.fixture
def slurm_cluster():
    """A private Slurm of this one machine: munged, slurmctld and slurmd with
    their configuration, sockets, state and logs in a fresh directory, on
    free ports. Yields the environment srun needs (SLURM_CONF); stops the
    three daemons it started afterwards."""
    missing = [d for d in SLURM_DAEMONS if shutil.which(d) is None]
    if missing:
        pytest.skip(f"slurm-wlm is not installed (no {', '.join(missing)}; scripts/setup.sh "
                    "installs slurmctld slurmd slurm-client munge)")
    if os.geteuid() != 0:
        pytest.skip("slurmd starts tasks as their user only when it runs as root")
    node = socket.gethostname().split(".")[0]
    try:
        socket.gethostbyname(node)
    except OSError:
        pytest.skip(f"this machine's name {node!r} does not resolve; Slurm's node list uses it")
    # Short: the munge socket's path must fit a sockaddr_un.
    d = Path(tempfile.mkdtemp(prefix="braid-slurm-"))
    for sub in ["munge", "ctld", "slurmd", "log"]:
        (d / sub).mkdir()
    (d / "munge").chmod(0o700)
    key = d / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    socket_path = d / "munge" / "munge.socket"
    conf = d / "slurm.conf"
    conf.write_text("\n".join([
        "ClusterName=braidtest",
        f"SlurmctldHost={node}",
        f"SlurmctldPort={free_port()}",
        f"SlurmdPort={free_port()}",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={socket_path}",
        "SlurmUser=root",
        "SlurmdUser=root",
        f"StateSaveLocation={d / 'ctld'}",
        f"SlurmdSpoolDir={d / 'slurmd'}",
        f"SlurmctldPidFile={d / 'slurmctld.pid'}",
        f"SlurmdPidFile={d / 'slurmd.pid'}",
        f"SlurmctldLogFile={d / 'log' / 'slurmctld.log'}",
        f"SlurmdLogFile={d / 'log' / 'slurmd.log'}",
        # No cgroups in a container: plain process tracking, no task binding.
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "MpiDefault=none",
        "ReturnToService=2",
        "SlurmdParameters=config_overrides",
        f"NodeName={node} CPUs={max(4, os.cpu_count() or 1)} State=UNKNOWN",
        "PartitionName=braid Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
    ]) + "\n")
    env = clean_env({"SLURM_CONF": str(conf)})
    pid_files = [d / "munge" / "munged.pid", d / "slurmctld.pid", d / "slurmd.pid"]
    try:
        subprocess.run(["munged", "--force", f"--key-file={key}", f"--socket={socket_path}",
                        f"--pid-file={pid_files[0]}", f"--log-file={d / 'munge' / 'munged.log'}",
                        f"--seed-file={d / 'munge' / 'munged.seed'}"],
                       check=True, env=env, timeout=30, capture_output=True)
        subprocess.run(["slurmctld", "-f", str(conf)], check=True, env=env, timeout=30,
                       capture_output=True)
        subprocess.run(["slurmd", "-f", str(conf)], check=True, env=env, timeout=30,
                       capture_output=True)
        give_up = time.monotonic() + 60
        state = ""
        while time.monotonic() < give_up:
            r = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True,
                               text=True, timeout=30)
            state = r.stdout.strip()
            if state == "idle":
                break
            time.sleep(0.5)
        assert state == "idle", (state, (d / "log" / "slurmctld.log").read_text()[-2000:],
                                 (d / "log" / "slurmd.log").read_text()[-2000:])
        yield env
    finally:
        for pid_file in reversed(pid_files):
            try:
                pid = int(pid_file.read_text().strip())
            except (OSError, ValueError):
                continue
            try:
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.1)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(d, ignore_errors=True)


def test_real_srun_three_tasks_train_one_ps_two_workers(tmp_path, slurm_cluster):
    # `srun --ntasks 3` on the private Slurm; -O (overcommit): this machine may
    # have fewer cores than tasks. Each task writes its own metrics file.
    base = free_port_block(3)
    r = subprocess.run(
        ["srun", "--ntasks", "3", "-O", "--time", "15",
         "sh", "-c", 'exec "$0" train --cluster_resolver slurm --num_ps 1 '
                     f'--resolver_port_base {base} --model mlp --epochs 1 '
                     '--metrics_json "$1.$SLURM_PROCID"',
         str(BRAID), str(tmp_path / "metrics")],
        capture_output=True, text=True, timeout=900, cwd=tmp_path, env=slurm_cluster)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    node = socket.gethostname().split(".")[0]
    want = {"ps": [f"{node}:{base}"], "worker": [f"{node}:{base + 1}", f"{node}:{base + 2}"]}
    assert announced(r.stderr) == {"/job:ps/replica:0/task:0": want,
                                   "/job:worker/replica:0/task:0": want,
                                   "/job:worker/replica:0/task:1": want}, r.stderr
    check_training(tmp_path, worker0_rank=1, ranks=[0, 1, 2])


@pytest.mark.parametrize("procid,num_ps,task,port_offset", [
    (0, 1, "/job:ps/replica:0/task:0", 0),
    (2, 1, "/job:worker/replica:0/task:1", 2),
    (1, 2, "/job:ps/replica:0/task:1", 1),
    (2, 2, "/job:worker/replica:0/task:0", 2),
])
def test_slurm_server_serves_as_the_resolved_task(procid, num_ps, task, port_offset):
    base = free_port_block(3)
    p = subprocess.Popen(
        [str(BRAID), "server", "--cluster_resolver", "slurm", "--num_ps", str(num_ps),
         "--resolver_port_base", str(base)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=clean_env(srun_env(procid, 3)))
    try:
        lines = [p.stderr.readline(), p.stderr.readline()]
    finally:
        p.terminate()
        p.wait(timeout=30)
    addresses = [f"localhost:{base + i}" for i in range(3)]
    assert announced(lines[0]) == {
        task: {"ps": addresses[:num_ps], "worker": addresses[num_ps:]}}, lines
    assert lines[1].strip() == (
        f"braid: {task} serving at grpc://localhost:{base + port_offset}"), lines


def test_mpi_rank_without_its_peers_times_out_naming_them(tmp_path):
    env = {"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "3",
           "OMPI_COMM_WORLD_LOCAL_RANK": "0", "OMPI_MCA_ess_base_jobid": "77",
           "TMPDIR": str(tmp_path)}
    r = run(["server", "--cluster_resolver", "mpi", "--resolver_timeout_s", "1"], env=env)
    assert r.returncode == 1
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert "after 1s, 2 of 3 MPI ranks have not written their address" in lines[0]
    assert "rank(s) 1, 2" in lines[0] and str(tmp_path) in lines[0]
    # It took its own file with it.
    assert not list(tmp_path.glob("braid-mpi-*")), list(tmp_path.iterdir())


@pytest.mark.parametrize("args,env,message", [
    (["--cluster_resolver", "slurm"], {}, "SLURM_JOB_NODELIST is set"),
    (["--cluster_resolver", "mpi"], {}, "OMPI_COMM_WORLD_RANK is not set"),
    (["--num_ps", "2"], {}, "--num_ps applies with --cluster_resolver slurm or mpi only"),
    (["--resolver_port_base", "3000"], {}, "--resolver_port_base applies"),
    (["--cluster_resolver", "slurm", "--cluster_spec", '{"ps": ["localhost:1"]}',
      "--job_name", "ps"], {}, "give one or the other"),
    (["--cluster_resolver", "slurm", "--num_ps", "3"], srun_env(0, 3),
     "num_ps=3 leaves no worker among the SLURM_STEP_NUM_TASKS='3' tasks"),
    (["--cluster_resolver", "slurm"], {**srun_env(0, 3), "SLURM_STEP_NODELIST": "n[1-"},
     "SLURM_STEP_NODELIST='n[1-' is malformed"),
    (["--cluster_resolver", "slurm"], {**srun_env(0, 3), "SLURM_STEP_TASKS_PER_NODE": "2"},
     "SLURM_STEP_TASKS_PER_NODE='2' sums to 2 tasks, but SLURM_STEP_NUM_TASKS='3'"),
    (["--cluster_resolver", "slurm", "--cluster_resolver_dir", "/tmp"], srun_env(0, 3),
     "--cluster_resolver_dir applies with --cluster_resolver mpi only"),
    (["--cluster_resolver", "sge"], {}, "--cluster_resolver"),
])
@pytest.mark.parametrize("command", ["server", "train"])
def test_resolver_mistakes_are_one_clear_error(command, args, env, message):
    r = run([command, *args], env=env)
    assert r.returncode != 0, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert message in lines[0], lines[0]


def test_help_documents_the_resolver_flags():
    for command in ["server", "train"]:
        text = run([command, "--help"]).stdout
        for flag in ["--cluster_resolver", "tf_config", "slurm", "mpi", "--num_ps",
                     "--resolver_port_base", "--cluster_resolver_dir", "--resolver_timeout_s"]:
            assert flag in text, (command, flag)
