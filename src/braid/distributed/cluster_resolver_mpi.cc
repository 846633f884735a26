// The MPI resolver: Open MPI's ranks exchange their addresses through files
// (see docs/distributed.md, "Cluster resolvers", for why).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "braid/base/env.h"
#include "braid/base/status_macros.h"
#include "braid/distributed/cluster_resolver.h"
#include "braid/distributed/cluster_resolver_internal.h"
#include "nlohmann/json.hpp"

namespace braid::distributed {
namespace {

using resolver_internal::CheckNumPs;
using resolver_internal::First;
using resolver_internal::ParseInt;
using resolver_internal::Quote;
using resolver_internal::Require;
using resolver_internal::Var;

constexpr char kMpirunHint[] =
    "braid reads its MPI rank from the variables Open MPI's mpirun sets: start every rank "
    "with mpirun (e.g. mpirun -np 3 braid train --cluster_resolver mpi --num_ps 1)";

// A port of this machine that is free now, held (so no rank of this machine
// draws it too) until the object goes away.
class HeldPort {
 public:
  static absl::StatusOr<HeldPort> Pick() {
    HeldPort held;
    held.fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (held.fd_ < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (::bind(held.fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(held.fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot pick a free port: ", std::strerror(errno)));
    }
    held.port_ = ntohs(addr.sin_port);
    return held;
  }
  HeldPort() = default;
  HeldPort(HeldPort&& other) noexcept : fd_(std::exchange(other.fd_, -1)), port_(other.port_) {}
  HeldPort& operator=(HeldPort&& other) noexcept {
    std::swap(fd_, other.fd_);
    std::swap(port_, other.port_);
    return *this;
  }
  ~HeldPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// FNV-1a: the same on every machine, unlike std::hash.
uint64_t Fnv1a(absl::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// A name for this mpirun's job, the same in every rank and different for
// every launch: the job id, and a hash of what mpirun draws afresh each time
// (a random key, its own address), so that files a crashed earlier job with
// the same id left behind are never read.
absl::StatusOr<std::string> MpiJobKey(const EnvLookup& env) {
  ASSIGN_OR_RETURN(Var job, Require(env, {"OMPI_MCA_ess_base_jobid", "PMIX_NAMESPACE"},
                                    absl::StrCat("cannot tell this job's ranks from another "
                                                 "job's; ",
                                                 kMpirunHint)));
  std::string key;
  for (char c : job.value) key.push_back(absl::ascii_isalnum(c) || c == '-' ? c : '_');
  if (key.size() > 64) key = absl::StrFormat("%016x", Fnv1a(job.value));
  std::optional<Var> launch =
      First(env, {"OMPI_MCA_orte_precondition_transports", "OMPI_MCA_orte_hnp_uri"});
  if (launch) absl::StrAppend(&key, "-", absl::StrFormat("%016x", Fnv1a(launch->value)));
  return key;
}

struct RankFile {
  int rank = -1;
  int size = -1;
  std::string address;
};

absl::StatusOr<RankFile> ReadRankFile(Env* files, const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, files->ReadFile(path));
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  RankFile file;
  if (json.is_object() && json.value("rank", nlohmann::json()).is_number_integer() &&
      json.value("size", nlohmann::json()).is_number_integer() &&
      json.value("address", nlohmann::json()).is_string()) {
    file.rank = json["rank"].get<int>();
    file.size = json["size"].get<int>();
    file.address = json["address"].get<std::string>();
  }
  if (file.address.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the MPI address file ", path, " holds ", Quote(text),
                     ", not {\"rank\": R, \"size\": N, \"address\": \"host:port\"}"));
  }
  return file;
}

// Waits until every file `prefix<r>` for r in 0..size-1 exists, calling
// `found(r, path)` once for each as it appears; the ranks still missing at
// `deadline` otherwise.
absl::StatusOr<std::vector<int>> AwaitFiles(
    Env* files, const std::string& prefix, int size, int64_t deadline_us, absl::Duration poll,
    const std::function<absl::Status(int, const std::string&)>& found) {
  std::vector<int> missing(size);
  std::iota(missing.begin(), missing.end(), 0);
  while (true) {
    std::vector<int> still;
    for (int r : missing) {
      const std::string path = absl::StrCat(prefix, r);
      if (!files->FileExists(path)) {
        still.push_back(r);
        continue;
      }
      RETURN_IF_ERROR(found(r, path));
    }
    missing = std::move(still);
    if (missing.empty() || files->NowMicros() >= deadline_us) return missing;
    absl::SleepFor(poll);
  }
}

std::string RankList(const std::vector<int>& ranks) {
  constexpr size_t kShown = 16;
  std::vector<int> shown(ranks.begin(), ranks.begin() + std::min(ranks.size(), kShown));
  std::string list = absl::StrJoin(shown, ", ");
  if (ranks.size() > kShown) absl::StrAppend(&list, ", ... (", ranks.size(), " in all)");
  return list;
}

// Every rank's address from the files in `dir`; DeadlineExceeded naming the
// ranks whose files are not there in time.
absl::StatusOr<std::vector<std::string>> AwaitAddresses(Env* files, const std::string& dir,
                                                        int size, const Var& size_var,
                                                        const MpiExchangeOptions& options) {
  std::vector<std::string> addresses(size);
  ASSIGN_OR_RETURN(
      std::vector<int> missing,
      AwaitFiles(files, dir + "/rank-", size,
                 files->NowMicros() + absl::ToInt64Microseconds(options.timeout),
                 options.poll_interval, [&](int r, const std::string& path) -> absl::Status {
                   ASSIGN_OR_RETURN(RankFile file, ReadRankFile(files, path));
                   if (file.rank != r || file.size != size) {
                     return absl::InvalidArgumentError(absl::StrCat(
                         "the MPI address file ", path, " is of rank ", file.rank, " of ",
                         file.size, ", not of rank ", r, " of ", size_var.Show(),
                         "; a directory left by another job? remove ", dir));
                   }
                   addresses[r] = file.address;
                   return absl::OkStatus();
                 }));
  if (!missing.empty()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "after ", absl::FormatDuration(options.timeout), ", ", missing.size(), " of ", size,
        " MPI ranks have not written their address to ", dir, ": rank(s) ", RankList(missing),
        ". Every rank must see that directory (on several machines pass "
        "--cluster_resolver_dir on a filesystem they share), and every rank must run braid "
        "with --cluster_resolver mpi"));
  }
  return addresses;
}

}  // namespace

absl::StatusOr<TaskConfig> ResolveMpi(const EnvLookup& env, int num_ps, int port_base,
                                      const MpiExchangeOptions& options) {
  ASSIGN_OR_RETURN(Var rank_var, Require(env, {"OMPI_COMM_WORLD_RANK"}, kMpirunHint));
  ASSIGN_OR_RETURN(Var size_var, Require(env, {"OMPI_COMM_WORLD_SIZE"}, kMpirunHint));
  ASSIGN_OR_RETURN(Var local_var, Require(env, {"OMPI_COMM_WORLD_LOCAL_RANK"}, kMpirunHint));
  ASSIGN_OR_RETURN(const int rank, ParseInt(rank_var, 0));
  ASSIGN_OR_RETURN(const int size, ParseInt(size_var, 1));
  ASSIGN_OR_RETURN(const int local, ParseInt(local_var, 0));
  if (rank >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        rank_var.Show(), " is out of range: ", size_var.Show(), " (ranks 0..", size - 1, ")"));
  }
  if (local >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat(local_var.Show(), " is out of range: ", size_var.Show()));
  }
  RETURN_IF_ERROR(CheckNumPs(num_ps, size_var, size, "run more ranks (mpirun -np) or fewer ps"));
  if (port_base < 0 || (port_base > 0 && port_base + local > 65535)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "port base ", port_base, " + ", local_var.Show(),
        " is not a port in 1..65535; give a smaller port base, or 0 for a free port each"));
  }
  ASSIGN_OR_RETURN(std::string key, MpiJobKey(env));
  if (options.dir.empty()) {
    if (std::optional<Var> nodes = First(env, {"OMPI_MCA_orte_num_nodes"})) {
      int n = 0;
      if (absl::SimpleAtoi(nodes->value, &n) && n > 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "the ranks run on several machines (", nodes->Show(),
            ") and exchange their addresses through files, but no directory was given and "
            "the default, $TMPDIR or /tmp, is not shared between machines; pass "
            "--cluster_resolver_dir naming a directory on a filesystem every machine sees"));
      }
    }
  }
  std::string base = options.dir;
  if (base.empty()) {
    std::optional<Var> tmp = First(env, {"TMPDIR"});
    base = tmp ? tmp->value : "/tmp";
  }
  const std::string dir = absl::StrCat(base, "/braid-mpi-", key);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot make the MPI address exchange directory ", dir, ": ", error.message(),
                     "; pass --cluster_resolver_dir naming a directory every rank can write"));
  }
  Env* files = options.files != nullptr ? options.files : Env::Default();

  std::string host = options.host;
  if (host.empty()) {
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
      return absl::UnavailableError(absl::StrCat("gethostname: ", std::strerror(errno)));
    }
    host = name;
  }
  std::optional<HeldPort> held;
  int port = port_base + local;
  if (port_base == 0) {
    ASSIGN_OR_RETURN(held, HeldPort::Pick());
    port = held->port();
  }
  const std::string address = absl::StrCat(host, ":", port);
  nlohmann::json mine = {{"rank", rank}, {"size", size}, {"address", address}};
  RETURN_IF_ERROR(files->WriteFileAtomically(absl::StrCat(dir, "/rank-", rank), mine.dump()));

  absl::StatusOr<std::vector<std::string>> addresses =
      AwaitAddresses(files, dir, size, size_var, options);
  if (!addresses.ok()) {
    // Leave nothing that a later job could take for its own.
    std::filesystem::remove(absl::StrCat(dir, "/rank-", rank), error);
    std::filesystem::remove(dir, error);  // when it is empty
    return addresses.status();
  }
  // Rank 0 removes the directory once every rank has read it. Only rank 0
  // waits, so no rank can wait for a marker another has already removed.
  (void)files->WriteFileAtomically(absl::StrCat(dir, "/read-", rank), "");
  if (rank == 0) {
    absl::StatusOr<std::vector<int>> unread =
        AwaitFiles(files, dir + "/read-", size,
                   files->NowMicros() + absl::ToInt64Microseconds(options.timeout),
                   options.poll_interval, [](int, const std::string&) { return absl::OkStatus(); });
    if (unread.ok() && unread->empty()) std::filesystem::remove_all(dir, error);
  }
  return TaskFromRanks(*addresses, rank, num_ps);
}

}  // namespace braid::distributed
