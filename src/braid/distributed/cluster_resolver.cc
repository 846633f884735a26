#include "braid/distributed/cluster_resolver.h"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <numeric>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "braid/base/status_macros.h"
#include "braid/distributed/cluster_resolver_internal.h"

namespace braid::distributed {
namespace resolver_internal {

std::string Quote(absl::string_view text, size_t max_len) {
  std::string out = "'";
  for (char c : text.substr(0, max_len)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      absl::StrAppend(&out, absl::CHexEscape(absl::string_view(&c, 1)));
    } else {
      out.push_back(c);
    }
  }
  if (text.size() > max_len) out += "...";
  return out + "'";
}

std::optional<Var> First(const EnvLookup& env, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    std::optional<std::string> value = env(name);
    if (value && !value->empty()) return Var{name, *std::move(value)};
  }
  return std::nullopt;
}

absl::StatusOr<Var> Require(const EnvLookup& env, std::initializer_list<const char*> names,
                            absl::string_view hint) {
  std::optional<Var> var = First(env, names);
  if (var) return *std::move(var);
  std::vector<std::string> list(names.begin(), names.end());
  const std::string which = list.size() == 1
                                ? absl::StrCat(list[0], " is not set")
                                : absl::StrCat("none of ", absl::StrJoin(list, ", "), " is set");
  return absl::InvalidArgumentError(absl::StrCat(which, "; ", hint));
}

absl::StatusOr<int> ParseInt(const Var& var, int min) {
  int value = 0;
  if (!absl::SimpleAtoi(var.value, &value) || value < min) {
    return absl::InvalidArgumentError(absl::StrCat(var.Show(), " is not an integer >= ", min));
  }
  return value;
}

absl::Status CheckNumPs(int num_ps, const Var& ntasks, int n, absl::string_view launcher_hint) {
  if (num_ps < 0) {
    return absl::InvalidArgumentError(absl::StrCat("num_ps=", num_ps, " is negative"));
  }
  if (num_ps >= n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "num_ps=", num_ps, " leaves no worker among the ", ntasks.Show(),
        " tasks: the first num_ps ranks are ps tasks and at least one worker must remain; ",
        launcher_hint));
  }
  return absl::OkStatus();
}

}  // namespace resolver_internal

namespace {

using resolver_internal::CheckNumPs;
using resolver_internal::First;
using resolver_internal::ParseInt;
using resolver_internal::Quote;
using resolver_internal::Require;
using resolver_internal::Var;

// More names than any machine has; a bound so that "n[0-999999999]" is an
// error, not an exhausted memory.
constexpr size_t kMaxHosts = size_t{1} << 20;

constexpr char kHostlistForm[] =
    "a hostlist is names separated by commas, each with optional bracketed ranges of "
    "non-negative integers, as in node[01-03,07],gpu1";
constexpr char kTasksPerNodeForm[] =
    "tasks per node are counts separated by commas, a count repeated k times written "
    "N(xk), as in 2(x3),1";
constexpr char kSrunHint[] =
    "braid reads its Slurm task from the variables srun sets: start every task with srun "
    "(e.g. srun --ntasks 3 braid train --cluster_resolver slurm --num_ps 1)";

absl::Status Malformed(absl::string_view label, absl::string_view value, size_t offset,
                       absl::string_view what, absl::string_view form) {
  return absl::InvalidArgumentError(absl::StrCat(label, "=", Quote(value), " is malformed: ", what,
                                                 " at offset ", offset, " (", form, ")"));
}

// The values of one bracket group's body, "01-03,07", formatted with the
// width of each range's lower bound, as Slurm does.
absl::StatusOr<std::vector<std::string>> ExpandGroup(absl::string_view label,
                                                     absl::string_view hostlist, size_t offset,
                                                     absl::string_view body) {
  std::vector<std::string> values;
  if (body.empty()) return Malformed(label, hostlist, offset, "an empty '[]'", kHostlistForm);
  size_t at = offset;
  for (absl::string_view range : absl::StrSplit(body, ',')) {
    std::pair<absl::string_view, absl::string_view> bounds = absl::StrSplit(range, '-');
    const bool has_hi = range.find('-') != absl::string_view::npos;
    auto digits = [](absl::string_view s) {
      return !s.empty() && s.size() <= 18 &&
             std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c); });
    };
    if (!digits(bounds.first) || (has_hi && !digits(bounds.second)) ||
        std::count(range.begin(), range.end(), '-') > 1) {
      return Malformed(label, hostlist, at,
                       absl::StrCat("the range ", Quote(range), " is not N or N-M"), kHostlistForm);
    }
    uint64_t lo = 0, hi = 0;
    (void)absl::SimpleAtoi(bounds.first, &lo);
    hi = lo;
    if (has_hi) (void)absl::SimpleAtoi(bounds.second, &hi);
    if (lo > hi) {
      return Malformed(label, hostlist, at,
                       absl::StrCat("the range ", Quote(range), " runs backwards"), kHostlistForm);
    }
    if (hi - lo >= kMaxHosts || values.size() + (hi - lo + 1) > kMaxHosts) {
      return Malformed(label, hostlist, at, absl::StrCat("more than ", kMaxHosts, " names"),
                       kHostlistForm);
    }
    const int width = static_cast<int>(bounds.first.size());
    for (uint64_t v = lo; v <= hi; ++v) values.push_back(absl::StrFormat("%0*u", width, v));
    at += range.size() + 1;
  }
  return values;
}

// Expands one name of a hostlist ("rack[1-2]-n[3-4]") starting at `offset`.
absl::Status ExpandName(absl::string_view label, absl::string_view hostlist, size_t offset,
                        absl::string_view name, std::vector<std::string>* hosts) {
  std::vector<std::string> names = {""};
  size_t i = 0;
  while (i < name.size()) {
    if (name[i] == ']')
      return Malformed(label, hostlist, offset + i, "a ']' without '['", kHostlistForm);
    if (name[i] == '[') {
      const size_t close = name.find_first_of("[]", i + 1);
      if (close == absl::string_view::npos) {
        return Malformed(label, hostlist, offset + i, "a '[' without ']'", kHostlistForm);
      }
      if (name[close] == '[') {
        return Malformed(label, hostlist, offset + close, "a '[' inside brackets", kHostlistForm);
      }
      ASSIGN_OR_RETURN(
          std::vector<std::string> values,
          ExpandGroup(label, hostlist, offset + i + 1, name.substr(i + 1, close - i - 1)));
      if (hosts->size() + names.size() * values.size() > kMaxHosts) {
        return Malformed(label, hostlist, offset + i,
                         absl::StrCat("more than ", kMaxHosts, " names"), kHostlistForm);
      }
      // The first group is the outermost loop: r[1-2]-n[3-4] is r1-n3 r1-n4 r2-n3 r2-n4.
      std::vector<std::string> product;
      product.reserve(names.size() * values.size());
      for (const std::string& prefix : names) {
        for (const std::string& value : values) product.push_back(prefix + value);
      }
      names = std::move(product);
      i = close + 1;
      continue;
    }
    size_t end = name.find_first_of("[]", i);
    if (end == absl::string_view::npos) end = name.size();
    for (size_t j = i; j < end; ++j) {
      if (absl::ascii_isspace(name[j]) || absl::ascii_iscntrl(name[j])) {
        return Malformed(label, hostlist, offset + j, "a blank inside a name", kHostlistForm);
      }
    }
    for (std::string& n : names) absl::StrAppend(&n, name.substr(i, end - i));
    i = end;
  }
  hosts->insert(hosts->end(), std::make_move_iterator(names.begin()),
                std::make_move_iterator(names.end()));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ExpandHostlistAs(absl::string_view label,
                                                          absl::string_view hostlist) {
  std::vector<std::string> hosts;
  // Split at the commas outside brackets; the brackets are checked per name.
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i <= hostlist.size(); ++i) {
    if (i < hostlist.size() && hostlist[i] != ',') {
      if (hostlist[i] == '[') ++depth;
      if (hostlist[i] == ']') --depth;
      continue;
    }
    if (i < hostlist.size() && depth > 0) continue;
    absl::string_view name = hostlist.substr(start, i - start);
    const size_t lead = name.size() - absl::StripLeadingAsciiWhitespace(name).size();
    name = absl::StripAsciiWhitespace(name);
    if (name.empty()) return Malformed(label, hostlist, start, "an empty name", kHostlistForm);
    RETURN_IF_ERROR(ExpandName(label, hostlist, start + lead, name, &hosts));
    start = i + 1;
    depth = 0;
  }
  return hosts;
}

absl::StatusOr<std::vector<int>> ParseTasksPerNodeAs(absl::string_view label,
                                                     absl::string_view value) {
  std::vector<int> counts;
  size_t at = 0;
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    absl::string_view count = item, repeat = "1";
    if (const size_t paren = item.find('('); paren != absl::string_view::npos) {
      count = item.substr(0, paren);
      absl::string_view rest = item.substr(paren);
      if (!absl::ConsumePrefix(&rest, "(x") || !absl::ConsumeSuffix(&rest, ")")) {
        return Malformed(label, value, at + paren, absl::StrCat(Quote(item), " is not N or N(xK)"),
                         kTasksPerNodeForm);
      }
      repeat = rest;
    }
    int n = 0, k = 0;
    const bool digits = !count.empty() && !repeat.empty() &&
                        std::all_of(count.begin(), count.end(), absl::ascii_isdigit) &&
                        std::all_of(repeat.begin(), repeat.end(), absl::ascii_isdigit);
    if (!digits || !absl::SimpleAtoi(count, &n) || !absl::SimpleAtoi(repeat, &k) || n < 1 ||
        k < 1) {
      return Malformed(label, value, at,
                       absl::StrCat(Quote(item), " is not N or N(xK) with N, K >= 1"),
                       kTasksPerNodeForm);
    }
    if (counts.size() + static_cast<size_t>(k) > kMaxHosts) {
      return Malformed(label, value, at, absl::StrCat("more than ", kMaxHosts, " nodes"),
                       kTasksPerNodeForm);
    }
    counts.insert(counts.end(), k, n);
    at += item.size() + 1;
  }
  return counts;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

absl::StatusOr<std::vector<std::string>> ExpandHostlist(absl::string_view hostlist) {
  return ExpandHostlistAs("hostlist", hostlist);
}

absl::StatusOr<std::vector<int>> ParseTasksPerNode(absl::string_view tasks_per_node) {
  return ParseTasksPerNodeAs("tasks per node", tasks_per_node);
}

absl::StatusOr<TaskConfig> TaskFromRanks(const std::vector<std::string>& addresses, int rank,
                                         int num_ps) {
  const int n = static_cast<int>(addresses.size());
  if (rank < 0 || rank >= n || num_ps < 0 || num_ps >= n) {
    return absl::InvalidArgumentError(absl::StrCat("rank ", rank, " with num_ps=", num_ps,
                                                   " does not fit a cluster of ", n, " ranks"));
  }
  std::map<std::string, std::vector<std::string>> jobs;
  if (num_ps > 0) jobs["ps"].assign(addresses.begin(), addresses.begin() + num_ps);
  jobs["worker"].assign(addresses.begin() + num_ps, addresses.end());
  TaskConfig task;
  ASSIGN_OR_RETURN(task.cluster, ClusterSpec::Create(std::move(jobs)));
  task.job = rank < num_ps ? "ps" : "worker";
  task.index = rank < num_ps ? rank : rank - num_ps;
  return task;
}

absl::StatusOr<TaskConfig> ResolveSlurm(const EnvLookup& env, int num_ps, int port_base) {
  ASSIGN_OR_RETURN(Var nodelist,
                   Require(env, {"SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST"}, kSrunHint));
  ASSIGN_OR_RETURN(std::vector<std::string> hosts, ExpandHostlistAs(nodelist.name, nodelist.value));
  ASSIGN_OR_RETURN(Var per_node,
                   Require(env, {"SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE"}, kSrunHint));
  ASSIGN_OR_RETURN(std::vector<int> counts, ParseTasksPerNodeAs(per_node.name, per_node.value));
  if (counts.size() != hosts.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(nodelist.Show(), " names ", hosts.size(), " node(s) but ", per_node.Show(),
                     " gives the tasks of ", counts.size(), "; both must describe the same nodes"));
  }
  ASSIGN_OR_RETURN(Var ntasks_var,
                   Require(env, {"SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"}, kSrunHint));
  ASSIGN_OR_RETURN(const int ntasks, ParseInt(ntasks_var, 1));
  const int64_t sum = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  if (sum != ntasks) {
    return absl::InvalidArgumentError(
        absl::StrCat(per_node.Show(), " sums to ", sum, " tasks, but ", ntasks_var.Show()));
  }
  ASSIGN_OR_RETURN(Var procid_var, Require(env, {"SLURM_PROCID"}, kSrunHint));
  ASSIGN_OR_RETURN(const int procid, ParseInt(procid_var, 0));
  if (procid >= ntasks) {
    return absl::InvalidArgumentError(absl::StrCat(procid_var.Show(),
                                                   " is out of range: ", ntasks_var.Show(),
                                                   " (ranks 0..", ntasks - 1, ")"));
  }
  RETURN_IF_ERROR(
      CheckNumPs(num_ps, ntasks_var, ntasks, "run more tasks (srun --ntasks) or fewer ps"));
  const int most_per_node = *std::max_element(counts.begin(), counts.end());
  if (port_base == 0) {
    return absl::InvalidArgumentError(
        "port base 0 (a free port each) works with the mpi resolver only: Slurm tasks compute "
        "each other's ports, so the ports must be fixed; give a port base such as 2222");
  }
  if (port_base < 1 || port_base > 65536 - most_per_node) {
    return absl::InvalidArgumentError(
        absl::StrCat("port base ", port_base, " with up to ", most_per_node, " task(s) per node (",
                     per_node.Show(),
                     ") leaves 1..65535; the ports are port base + the task's index on its node"));
  }

  // Block distribution: node j runs the ranks of the j-th block of counts[j].
  std::vector<std::string> addresses;
  addresses.reserve(ntasks);
  size_t node = 0;
  int local = 0;
  for (size_t j = 0; j < hosts.size(); ++j) {
    for (int k = 0; k < counts[j]; ++k) {
      if (static_cast<int>(addresses.size()) == procid) {
        node = j;
        local = k;
      }
      addresses.push_back(absl::StrCat(hosts[j], ":", port_base + k));
    }
  }
  const std::string layout =
      absl::StrCat("the block layout of ", nodelist.Show(), " and ", per_node.Show(), " puts ",
                   procid_var.Show(), " at index ", local, " on node ", Quote(hosts[node]));
  constexpr char kBlockOnly[] =
      "; braid needs srun's default block distribution (--distribution=block), where a node's "
      "tasks have consecutive ranks";
  if (std::optional<Var> localid = First(env, {"SLURM_LOCALID"})) {
    ASSIGN_OR_RETURN(const int id, ParseInt(*localid, 0));
    if (id != local) {
      return absl::InvalidArgumentError(absl::StrCat(localid->Show(), " but ", layout, kBlockOnly));
    }
  }
  if (std::optional<Var> nodename = First(env, {"SLURMD_NODENAME"})) {
    if (nodename->value != hosts[node]) {
      return absl::InvalidArgumentError(
          absl::StrCat(nodename->Show(), " but ", layout, kBlockOnly));
    }
  }
  absl::StatusOr<TaskConfig> task = TaskFromRanks(addresses, procid, num_ps);
  if (!task.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(nodelist.Show(), ": ", task.status().message()));
  }
  return task;
}

}  // namespace braid::distributed
