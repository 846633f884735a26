#include "braid/distributed/cluster_resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "braid/base/env.h"

namespace braid::distributed {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using Vars = std::map<std::string, std::string>;

template <typename T>
void ExpectError(const absl::StatusOr<T>& result, absl::StatusCode code,
                 const std::vector<std::string>& parts) {
  ASSERT_FALSE(result.ok()) << "expected an error";
  EXPECT_EQ(result.status().code(), code) << result.status();
  for (const std::string& part : parts) {
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(part));
  }
}

std::vector<std::string> Expand(const std::string& hostlist) {
  absl::StatusOr<std::vector<std::string>> hosts = ExpandHostlist(hostlist);
  EXPECT_TRUE(hosts.ok()) << hostlist << ": " << hosts.status();
  return hosts.ok() ? *hosts : std::vector<std::string>{};
}

TEST(HostlistTest, ExpandsLikeScontrolShowHostnames) {
  EXPECT_THAT(Expand("gpu1"), ElementsAre("gpu1"));
  EXPECT_THAT(Expand("node[01-03,07],gpu1"),
              ElementsAre("node01", "node02", "node03", "node07", "gpu1"));
  EXPECT_THAT(Expand("a,b,c"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(Expand("n[5]"), ElementsAre("n5"));
  EXPECT_THAT(Expand("n[007]"), ElementsAre("n007"));
  EXPECT_THAT(Expand("localhost"), ElementsAre("localhost"));
  EXPECT_THAT(Expand("c1-[2-3].cluster.org"), ElementsAre("c1-2.cluster.org", "c1-3.cluster.org"));
}

TEST(HostlistTest, RangesKeepTheWidthOfTheirLowerBound) {
  EXPECT_THAT(Expand("n[8-11]"), ElementsAre("n8", "n9", "n10", "n11"));
  EXPECT_THAT(Expand("n[08-11]"), ElementsAre("n08", "n09", "n10", "n11"));
  EXPECT_THAT(Expand("n[098-101]"), ElementsAre("n098", "n099", "n100", "n101"));
  EXPECT_THAT(Expand("n[1-2,009-010]"), ElementsAre("n1", "n2", "n009", "n010"));
  EXPECT_THAT(Expand("n[0-1]"), ElementsAre("n0", "n1"));
}

TEST(HostlistTest, SeveralGroupsExpandAsAProductFirstGroupOutermost) {
  EXPECT_THAT(Expand("rack[1-2]-n[3-4]"),
              ElementsAre("rack1-n3", "rack1-n4", "rack2-n3", "rack2-n4"));
  EXPECT_THAT(Expand("r[1-2]n[01,03]x,solo,b[9-10]"),
              ElementsAre("r1n01x", "r1n03x", "r2n01x", "r2n03x", "solo", "b9", "b10"));
  EXPECT_THAT(Expand("[1-2]"), ElementsAre("1", "2"));
}

TEST(HostlistTest, IgnoresBlanksAroundNames) {
  EXPECT_THAT(Expand(" a , n[1-2] "), ElementsAre("a", "n1", "n2"));
}

TEST(HostlistTest, MalformedHostlistsAreErrorsNamingTheFault) {
  struct Case {
    std::string hostlist;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"", "an empty name at offset 0"},
           {"a,,b", "an empty name at offset 2"},
           {"a,", "an empty name at offset 2"},
           {"node[1-3", "a '[' without ']' at offset 4"},
           {"node1-3]", "a ']' without '[' at offset 7"},
           {"n[1-[2]]", "a '[' inside brackets at offset 4"},
           {"n[]", "an empty '[]'"},
           {"n[3-1]", "the range '3-1' runs backwards"},
           {"n[a-b]", "the range 'a-b' is not N or N-M"},
           {"n[1-2-3]", "the range '1-2-3' is not N or N-M"},
           {"n[1,,2]", "the range '' is not N or N-M"},
           {"n[-1]", "the range '-1' is not N or N-M"},
           {"n[0-99999999]", "more than 1048576 names"},
           {"n[0-1023][0-1024]", "more than 1048576 names"},
           {"my node", "a blank inside a name at offset 2"},
       }) {
    absl::StatusOr<std::vector<std::string>> hosts = ExpandHostlist(c.hostlist);
    ExpectError(hosts, absl::StatusCode::kInvalidArgument,
                {absl::StrCat("hostlist='", c.hostlist, "' is malformed"), c.message,
                 "node[01-03,07],gpu1"});
  }
}

TEST(TasksPerNodeTest, ParsesCountsAndRepeats) {
  EXPECT_THAT(*ParseTasksPerNode("2(x3),1"), ElementsAre(2, 2, 2, 1));
  EXPECT_THAT(*ParseTasksPerNode("3"), ElementsAre(3));
  EXPECT_THAT(*ParseTasksPerNode("4(x1)"), ElementsAre(4));
  EXPECT_THAT(*ParseTasksPerNode("1,2(x2),16"), ElementsAre(1, 2, 2, 16));
  for (const std::string bad :
       {"", "0", "2(x0)", "x", "2(3)", "2(x3", "(x3)", "2(x3),", "-1", "2 (x3)"}) {
    ExpectError(ParseTasksPerNode(bad), absl::StatusCode::kInvalidArgument,
                {absl::StrCat("tasks per node='", bad, "' is malformed"), "2(x3),1"});
  }
}

// The variables srun sets for task `procid` of a block layout.
Vars Srun(const std::string& nodelist, const std::string& per_node, int ntasks, int procid) {
  return {{"SLURM_JOB_NODELIST", nodelist},
          {"SLURM_TASKS_PER_NODE", per_node},
          {"SLURM_NTASKS", std::to_string(ntasks)},
          {"SLURM_PROCID", std::to_string(procid)}};
}

TEST(SlurmResolverTest, OnePsTwoWorkersOnOneNode) {
  const std::vector<std::string> want = {"localhost:2222", "localhost:2223", "localhost:2224"};
  for (int procid = 0; procid < 3; ++procid) {
    Vars vars = Srun("localhost", "3", 3, procid);
    vars["SLURM_LOCALID"] = std::to_string(procid);
    vars["SLURMD_NODENAME"] = "localhost";
    absl::StatusOr<TaskConfig> task = ResolveSlurm(MapEnv(vars), 1, 2222);
    ASSERT_TRUE(task.ok()) << task.status();
    EXPECT_THAT(task->cluster.jobs().at("ps"), ElementsAre(want[0]));
    EXPECT_THAT(task->cluster.jobs().at("worker"), ElementsAre(want[1], want[2]));
    EXPECT_FALSE(task->cluster.HasJob("chief"));
    EXPECT_EQ(task->job, procid == 0 ? "ps" : "worker");
    EXPECT_EQ(task->index, procid == 0 ? 0 : procid - 1);
    EXPECT_EQ(task->IsChief(), procid == 1);
  }
}

TEST(SlurmResolverTest, BlockLayoutOverSeveralNodes) {
  // 2 tasks on n01 and n02, 1 on gpu1: ranks 0,1 | 2,3 | 4.
  const std::string nodes = "n[01-02],gpu1";
  const std::vector<std::string> all = {"n01:3000", "n01:3001", "n02:3000", "n02:3001",
                                        "gpu1:3000"};
  struct Want {
    int procid;
    int num_ps;
    std::string job;
    int index;
  };
  for (const Want& w : std::vector<Want>{{0, 1, "ps", 0},
                                         {1, 1, "worker", 0},
                                         {3, 1, "worker", 2},
                                         {4, 1, "worker", 3},
                                         {0, 2, "ps", 0},
                                         {1, 2, "ps", 1},
                                         {2, 2, "worker", 0},
                                         {4, 2, "worker", 2}}) {
    SCOPED_TRACE(absl::StrCat("procid ", w.procid, " num_ps ", w.num_ps));
    absl::StatusOr<TaskConfig> task =
        ResolveSlurm(MapEnv(Srun(nodes, "2(x2),1", 5, w.procid)), w.num_ps, 3000);
    ASSERT_TRUE(task.ok()) << task.status();
    EXPECT_EQ(task->job, w.job);
    EXPECT_EQ(task->index, w.index);
    EXPECT_THAT(task->cluster.jobs().at("ps"),
                ElementsAreArray(std::vector<std::string>(all.begin(), all.begin() + w.num_ps)));
    EXPECT_THAT(task->cluster.jobs().at("worker"),
                ElementsAreArray(std::vector<std::string>(all.begin() + w.num_ps, all.end())));
  }
}

TEST(SlurmResolverTest, StepVariablesWinOverJobVariables) {
  // An allocation of 3 nodes; this step runs on two of them.
  Vars vars = Srun("n[1-3]", "4(x3)", 12, 1);
  vars["SLURM_STEP_NODELIST"] = "n[2-3]";
  vars["SLURM_STEP_TASKS_PER_NODE"] = "1(x2)";
  vars["SLURM_STEP_NUM_TASKS"] = "2";
  absl::StatusOr<TaskConfig> task = ResolveSlurm(MapEnv(vars), 1, 2222);
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_THAT(task->cluster.jobs().at("ps"), ElementsAre("n2:2222"));
  EXPECT_THAT(task->cluster.jobs().at("worker"), ElementsAre("n3:2222"));
  EXPECT_EQ(task->job, "worker");
}

TEST(SlurmResolverTest, NoPsMakesEveryTaskAWorker) {
  absl::StatusOr<TaskConfig> task = ResolveSlurm(MapEnv(Srun("a,b", "1,1", 2, 0)), 0, 2222);
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_FALSE(task->cluster.HasJob("ps"));
  EXPECT_THAT(task->cluster.jobs().at("worker"), ElementsAre("a:2222", "b:2222"));
  EXPECT_TRUE(task->IsChief());
}

TEST(SlurmResolverTest, InconsistenciesAreErrorsNamingTheVariable) {
  using Code = absl::StatusCode;
  const Code kBad = Code::kInvalidArgument;
  ExpectError(ResolveSlurm(MapEnv({}), 1, 2222), kBad,
              {"none of SLURM_STEP_NODELIST, SLURM_JOB_NODELIST is set", "srun --ntasks"});
  Vars vars = Srun("n1", "3", 3, 0);
  vars.erase("SLURM_PROCID");
  ExpectError(ResolveSlurm(MapEnv(vars), 1, 2222), kBad, {"SLURM_PROCID is not set", "srun"});
  vars = Srun("n1", "3", 3, 0);
  vars.erase("SLURM_TASKS_PER_NODE");
  ExpectError(ResolveSlurm(MapEnv(vars), 1, 2222), kBad,
              {"SLURM_STEP_TASKS_PER_NODE, SLURM_TASKS_PER_NODE is set"});
  ExpectError(ResolveSlurm(MapEnv(Srun("n[1-", "3", 3, 0)), 1, 2222), kBad,
              {"SLURM_JOB_NODELIST='n[1-' is malformed", "a '[' without ']'"});
  ExpectError(ResolveSlurm(MapEnv(Srun("n1", "3(x", 3, 0)), 1, 2222), kBad,
              {"SLURM_TASKS_PER_NODE='3(x' is malformed"});
  ExpectError(ResolveSlurm(MapEnv(Srun("n[1-2]", "3", 3, 0)), 1, 2222), kBad,
              {"SLURM_JOB_NODELIST='n[1-2]' names 2 node(s)", "SLURM_TASKS_PER_NODE='3'",
               "gives the tasks of 1"});
  ExpectError(ResolveSlurm(MapEnv(Srun("n[1-2]", "2(x2)", 3, 0)), 1, 2222), kBad,
              {"SLURM_TASKS_PER_NODE='2(x2)' sums to 4 tasks, but SLURM_NTASKS='3'"});
  ExpectError(ResolveSlurm(MapEnv(Srun("n1", "3", 3, 3)), 1, 2222), kBad,
              {"SLURM_PROCID='3' is out of range", "SLURM_NTASKS='3'", "ranks 0..2"});
  vars = Srun("n1", "3", 3, 0);
  vars["SLURM_PROCID"] = "one";
  ExpectError(ResolveSlurm(MapEnv(vars), 1, 2222), kBad,
              {"SLURM_PROCID='one' is not an integer >= 0"});
  vars["SLURM_PROCID"] = "0";
  vars["SLURM_NTASKS"] = "0";
  ExpectError(ResolveSlurm(MapEnv(vars), 1, 2222), kBad,
              {"SLURM_NTASKS='0' is not an integer >= 1"});
  ExpectError(ResolveSlurm(MapEnv(Srun("n1", "3", 3, 0)), 3, 2222), kBad,
              {"num_ps=3 leaves no worker", "SLURM_NTASKS='3'", "fewer ps"});
  ExpectError(ResolveSlurm(MapEnv(Srun("n1", "3", 3, 0)), -1, 2222), kBad, {"num_ps=-1"});
  ExpectError(ResolveSlurm(MapEnv(Srun("n1", "3", 3, 0)), 1, 0), kBad,
              {"port base 0", "mpi resolver only"});
  ExpectError(ResolveSlurm(MapEnv(Srun("n1", "3", 3, 0)), 1, 65534), kBad,
              {"port base 65534 with up to 3 task(s) per node", "SLURM_TASKS_PER_NODE='3'"});
  // The same node twice would give two tasks one address.
  ExpectError(ResolveSlurm(MapEnv(Srun("n1,n1", "1,1", 2, 0)), 1, 2222), kBad,
              {"SLURM_JOB_NODELIST='n1,n1'", "n1:2222"});
}

TEST(SlurmResolverTest, ACyclicDistributionIsAnErrorNotWrongAddresses) {
  // srun --distribution=cyclic puts rank 1 on the second node.
  Vars vars = Srun("n[1-2]", "2(x2)", 4, 1);
  vars["SLURMD_NODENAME"] = "n2";
  ExpectError(ResolveSlurm(MapEnv(vars), 1, 2222), absl::StatusCode::kInvalidArgument,
              {"SLURMD_NODENAME='n2'", "puts SLURM_PROCID='1' at index 1 on node 'n1'",
               "--distribution=block"});
  vars = Srun("n[1-2]", "2(x2)", 4, 2);
  vars["SLURM_LOCALID"] = "1";
  ExpectError(ResolveSlurm(MapEnv(vars), 1, 2222), absl::StatusCode::kInvalidArgument,
              {"SLURM_LOCALID='1'", "at index 0 on node 'n2'", "--distribution=block"});
}

// The variables mpirun sets for one rank of a job on one machine.
Vars Mpirun(int rank, int size, const std::string& job = "2101542913") {
  return {{"OMPI_COMM_WORLD_RANK", std::to_string(rank)},
          {"OMPI_COMM_WORLD_SIZE", std::to_string(size)},
          {"OMPI_COMM_WORLD_LOCAL_RANK", std::to_string(rank)},
          {"OMPI_COMM_WORLD_LOCAL_SIZE", std::to_string(size)},
          {"OMPI_COMM_WORLD_NODE_RANK", std::to_string(rank)},
          {"OMPI_MCA_ess_base_jobid", job},
          {"OMPI_MCA_orte_num_nodes", "1"},
          {"OMPI_MCA_orte_precondition_transports", "8d2f7cab4396e4fe-8225ce3d5f4336a4"},
          {"OMPI_MCA_orte_hnp_uri", job + ".0;tcp://192.0.2.2:53771"}};
}

class MpiResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = absl::StrCat(tmp ? tmp : "/tmp", "/braid_mpi_resolver_test.", getpid(), ".",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  MpiExchangeOptions Options(absl::Duration timeout = absl::Seconds(20)) const {
    MpiExchangeOptions options;
    options.dir = dir_;
    options.host = "localhost";
    options.timeout = timeout;
    options.poll_interval = absl::Milliseconds(5);
    return options;
  }

  // Runs the ranks of `vars` at once, as threads.
  std::vector<absl::StatusOr<TaskConfig>> RunRanks(const std::vector<Vars>& vars, int num_ps,
                                                   int port_base,
                                                   const MpiExchangeOptions& options) {
    std::vector<absl::StatusOr<TaskConfig>> results(vars.size(), absl::UnknownError("not run"));
    std::vector<std::thread> threads;
    for (size_t r = 0; r < vars.size(); ++r) {
      threads.emplace_back(
          [&, r] { results[r] = ResolveMpi(MapEnv(vars[r]), num_ps, port_base, options); });
    }
    for (std::thread& t : threads) t.join();
    return results;
  }

  std::string dir_;
};

TEST_F(MpiResolverTest, ThreeRanksExchangeTheirAddresses) {
  for (int num_ps : {1, 2}) {
    SCOPED_TRACE(absl::StrCat("num_ps ", num_ps));
    std::vector<absl::StatusOr<TaskConfig>> tasks =
        RunRanks({Mpirun(0, 3), Mpirun(1, 3), Mpirun(2, 3)}, num_ps, 5000, Options());
    for (int r = 0; r < 3; ++r) {
      ASSERT_TRUE(tasks[r].ok()) << "rank " << r << ": " << tasks[r].status();
      EXPECT_EQ(tasks[r]->job, r < num_ps ? "ps" : "worker");
      EXPECT_EQ(tasks[r]->index, r < num_ps ? r : r - num_ps);
      EXPECT_EQ(tasks[r]->cluster.ToJson(), tasks[0]->cluster.ToJson());
    }
    std::vector<std::string> all = {"localhost:5000", "localhost:5001", "localhost:5002"};
    EXPECT_THAT(tasks[0]->cluster.jobs().at("ps"),
                ElementsAreArray(std::vector<std::string>(all.begin(), all.begin() + num_ps)));
    EXPECT_THAT(tasks[0]->cluster.jobs().at("worker"),
                ElementsAreArray(std::vector<std::string>(all.begin() + num_ps, all.end())));
    // Rank 0 removed the exchange directory once everyone had read it.
    EXPECT_TRUE(std::filesystem::is_empty(dir_));
  }
}

TEST_F(MpiResolverTest, PortBaseZeroPicksAFreePortPerRank) {
  std::vector<absl::StatusOr<TaskConfig>> tasks =
      RunRanks({Mpirun(0, 3), Mpirun(1, 3), Mpirun(2, 3)}, 1, 0, Options());
  for (const auto& task : tasks) ASSERT_TRUE(task.ok()) << task.status();
  const auto& workers = tasks[0]->cluster.jobs().at("worker");
  const std::string ps = tasks[0]->cluster.jobs().at("ps")[0];
  // Held while the ranks exchanged: three different ports.
  EXPECT_NE(ps, workers[0]);
  EXPECT_NE(ps, workers[1]);
  EXPECT_NE(workers[0], workers[1]);
  EXPECT_THAT(ps, HasSubstr("localhost:"));
}

TEST_F(MpiResolverTest, AMissingRankIsADeadlineNamingIt) {
  // Rank 2 of 3 never starts.
  std::vector<absl::StatusOr<TaskConfig>> tasks =
      RunRanks({Mpirun(0, 3), Mpirun(1, 3)}, 1, 5000, Options(absl::Seconds(1)));
  for (const auto& task : tasks) {
    // (A loaded machine may start rank 1 so late that rank 0 misses it too.)
    ExpectError(task, absl::StatusCode::kDeadlineExceeded,
                {"after 1s, ", " of 3 MPI ranks have not written their address", dir_, "rank(s) ",
                 "2. Every rank must see that directory", "--cluster_resolver_dir"});
  }
  // The ranks that gave up took their files with them.
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(MpiResolverTest, EveryLaunchHasItsOwnDirectory) {
  // A job with the same job id, launched before, crashed and left its
  // address file behind (another mpirun key, another port).
  Vars crashed = Mpirun(1, 3);
  crashed["OMPI_MCA_orte_precondition_transports"] = "0000000000000000-0000000000000000";
  ExpectError(ResolveMpi(MapEnv(crashed), 1, 9000, Options(absl::Milliseconds(50))),
              absl::StatusCode::kDeadlineExceeded, {"rank(s) 0, 2."});
  std::vector<absl::StatusOr<TaskConfig>> tasks =
      RunRanks({Mpirun(0, 3), Mpirun(1, 3), Mpirun(2, 3)}, 1, 6000, Options());
  for (const auto& task : tasks) ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_THAT(tasks[0]->cluster.jobs().at("worker"),
              ElementsAre("localhost:6001", "localhost:6002"));
}

// Files through the real file system, but blind to every file it did not
// write itself: a rank that sees none of its peers (and so waits, rather than
// racing to fail first).
class BlindEnv : public Env {
 public:
  absl::StatusOr<std::string> ReadFile(const std::string& path) override {
    return Env::Default()->ReadFile(path);
  }
  absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) override {
    absl::MutexLock lock(&mu_);
    written_.insert(path);
    return Env::Default()->WriteFileAtomically(path, contents);
  }
  bool FileExists(const std::string& path) override {
    absl::MutexLock lock(&mu_);
    return written_.count(path) > 0 && Env::Default()->FileExists(path);
  }
  int64_t NowMicros() override { return Env::Default()->NowMicros(); }

 private:
  absl::Mutex mu_;
  std::set<std::string> written_;  // guarded by mu_
};

TEST_F(MpiResolverTest, AFileOfAnotherSizeIsAnError) {
  // Rank 1 of a job of 3 left its file; rank 0 of a job of 2 with the same
  // job id and launch finds it.
  BlindEnv blind;
  MpiExchangeOptions waits = Options(absl::Seconds(2));
  waits.files = &blind;
  absl::StatusOr<TaskConfig> other = absl::UnknownError("not run");
  std::thread other_rank([&] { other = ResolveMpi(MapEnv(Mpirun(1, 3)), 0, 5000, waits); });
  absl::StatusOr<TaskConfig> task = ResolveMpi(MapEnv(Mpirun(0, 2)), 0, 5000, Options());
  other_rank.join();
  ExpectError(task, absl::StatusCode::kInvalidArgument,
              {"rank-1 is of rank 1 of 3, not of rank 1 of OMPI_COMM_WORLD_SIZE='2'",
               "a directory left by another job?"});
  ExpectError(other, absl::StatusCode::kDeadlineExceeded, {"rank(s) 0, 2."});
}

TEST_F(MpiResolverTest, BadEnvironmentsAreClearErrors) {
  const absl::StatusCode kBad = absl::StatusCode::kInvalidArgument;
  ExpectError(ResolveMpi(MapEnv({}), 1, 2222, Options()), kBad,
              {"OMPI_COMM_WORLD_RANK is not set", "mpirun -np 3"});
  Vars vars = Mpirun(3, 3);
  ExpectError(ResolveMpi(MapEnv(vars), 1, 2222, Options()), kBad,
              {"OMPI_COMM_WORLD_RANK='3' is out of range", "OMPI_COMM_WORLD_SIZE='3'"});
  ExpectError(ResolveMpi(MapEnv(Mpirun(0, 2)), 2, 2222, Options()), kBad,
              {"num_ps=2 leaves no worker", "OMPI_COMM_WORLD_SIZE='2'", "mpirun -np"});
  ExpectError(ResolveMpi(MapEnv(Mpirun(2, 3)), 1, 65534, Options()), kBad,
              {"port base 65534 + OMPI_COMM_WORLD_LOCAL_RANK='2'"});
  vars = Mpirun(0, 3);
  vars.erase("OMPI_MCA_ess_base_jobid");
  ExpectError(ResolveMpi(MapEnv(vars), 1, 2222, Options()), kBad,
              {"none of OMPI_MCA_ess_base_jobid, PMIX_NAMESPACE is set"});
  // Several machines need a directory they share.
  vars = Mpirun(0, 3);
  vars["OMPI_MCA_orte_num_nodes"] = "2";
  MpiExchangeOptions options = Options();
  options.dir.clear();
  ExpectError(ResolveMpi(MapEnv(vars), 1, 2222, options), kBad,
              {"OMPI_MCA_orte_num_nodes='2'", "--cluster_resolver_dir"});
}

TEST(TaskFromRanksTest, FirstRanksArePs) {
  absl::StatusOr<TaskConfig> task = TaskFromRanks({"a:1", "b:1", "c:1", "d:1"}, 2, 2);
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->job, "worker");
  EXPECT_EQ(task->index, 0);
  EXPECT_TRUE(task->IsChief());
  EXPECT_THAT(task->cluster.jobs().at("ps"), ElementsAre("a:1", "b:1"));
  ExpectError(TaskFromRanks({"a:1"}, 0, 1), absl::StatusCode::kInvalidArgument, {"num_ps=1"});
}

}  // namespace
}  // namespace braid::distributed
