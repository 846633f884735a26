// Cluster resolvers: who this process is, derived from what a cluster engine
// that does not set TF_CONFIG gives each of its tasks. Slurm's srun and Open
// MPI's mpirun start one process per rank and tell it its rank; these turn
// that into a TaskConfig: the first `num_ps` ranks are ps tasks, the others
// workers (rank num_ps is worker 0, the chief). No chief job is made.
//
// Both read the environment through an EnvLookup, so tests pass a map and
// production passes ProcessEnv(). Every inconsistency is an InvalidArgument
// naming the variable and its value. See docs/distributed.md, "Cluster
// resolvers", for why MPI ranks exchange addresses through files.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "braid/distributed/cluster_spec.h"

namespace braid {
class Env;
}

namespace braid::distributed {

// The value of an environment variable, nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
// This process's environment (getenv).
EnvLookup ProcessEnv();
// A fixed environment, for tests and for launchers that simulate one.
EnvLookup MapEnv(std::map<std::string, std::string> vars);

// Expands a Slurm hostlist exactly like `scontrol show hostnames`:
// "node[01-03,07],gpu1" is node01 node02 node03 node07 gpu1. A range keeps the
// width of its lower bound ("[08-10]" is 08 09 10, "[8-10]" is 8 9 10); several
// bracket groups in one name expand as a product, the first group outermost
// ("r[1-2]-n[3-4]" is r1-n3 r1-n4 r2-n3 r2-n4); text may follow a group.
// Names are separated by commas outside brackets; whitespace around a name is
// ignored. InvalidArgument naming the hostlist and the offset of the fault
// otherwise (unbalanced or nested brackets, an empty name or range, a bound
// that is not a non-negative integer, lo > hi, more than 2^20 names).
absl::StatusOr<std::vector<std::string>> ExpandHostlist(absl::string_view hostlist);

// Parses Slurm's tasks-per-node form: "2(x3),1" is 2, 2, 2, 1.
absl::StatusOr<std::vector<int>> ParseTasksPerNode(absl::string_view tasks_per_node);

// The task of this process under `srun`, from SLURM_STEP_NODELIST (else
// SLURM_JOB_NODELIST), SLURM_STEP_TASKS_PER_NODE (else SLURM_TASKS_PER_NODE),
// SLURM_STEP_NUM_TASKS (else SLURM_NTASKS) and SLURM_PROCID. Tasks are laid out
// node by node (srun's default block distribution): rank r runs on the node
// whose block of tasks holds r, and listens on port_base + its index on that
// node. SLURM_LOCALID and SLURMD_NODENAME, when set, must agree with that
// layout (they do not under --distribution=cyclic, which is then an error
// rather than a cluster of wrong addresses).
// num_ps and port_base are checked too: 0 <= num_ps < ntasks, every port in
// 1..65535 (port_base 0, "any free port", needs the exchange of ResolveMpi).
absl::StatusOr<TaskConfig> ResolveSlurm(const EnvLookup& env, int num_ps, int port_base);

// How MPI ranks exchange their addresses: every rank writes its host:port to
// a file `rank-<r>` in a directory all ranks see, then waits until every
// rank's file is there.
struct MpiExchangeOptions {
  // The directory under which the job's exchange directory
  // (braid-mpi-<job id>) is made. Empty: $TMPDIR, else /tmp — which only
  // ranks on one machine share, so a job on several nodes must name a shared
  // filesystem here.
  std::string dir;
  // This rank's host as the others reach it. Empty: gethostname().
  std::string host;
  absl::Duration timeout = absl::Seconds(60);
  absl::Duration poll_interval = absl::Milliseconds(50);
  Env* files = nullptr;  // nullptr: Env::Default()
};

// The task of this process under Open MPI's `mpirun`, from
// OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE and OMPI_COMM_WORLD_LOCAL_RANK,
// with every rank's address exchanged through `options.dir`. The port is
// port_base + the local rank, or, with port_base 0, a free port this rank
// picks (held until the exchange is over). The exchange directory is removed
// by rank 0 once every rank has read it. DeadlineExceeded naming the missing
// ranks when some do not write their address within `options.timeout`.
absl::StatusOr<TaskConfig> ResolveMpi(const EnvLookup& env, int num_ps, int port_base,
                                      const MpiExchangeOptions& options = {});

// The cluster of `addresses` (one per rank): the first num_ps are ps tasks,
// the rest workers; this process is `rank`.
absl::StatusOr<TaskConfig> TaskFromRanks(const std::vector<std::string>& addresses, int rank,
                                         int num_ps);

}  // namespace braid::distributed
