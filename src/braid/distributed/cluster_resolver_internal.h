// Helpers the Slurm and MPI resolvers share (cluster_resolver.cc and
// cluster_resolver_mpi.cc); not part of the API.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "braid/distributed/cluster_resolver.h"

namespace braid::distributed::resolver_internal {

// Text from the environment goes into messages escaped and cut short.
std::string Quote(absl::string_view text, size_t max_len = 80);

// A variable that was found, for messages: NAME='value'.
struct Var {
  std::string name;
  std::string value;
  std::string Show() const { return name + "=" + Quote(value); }
};

// The first of `names` that is set and not empty.
std::optional<Var> First(const EnvLookup& env, std::initializer_list<const char*> names);
// The first of `names` that is set, else InvalidArgument naming them all,
// followed by `hint`.
absl::StatusOr<Var> Require(const EnvLookup& env, std::initializer_list<const char*> names,
                            absl::string_view hint);
// The variable's value as an integer >= min; InvalidArgument naming it otherwise.
absl::StatusOr<int> ParseInt(const Var& var, int min);
// 0 <= num_ps < n, where n is the number of tasks `ntasks` gives.
absl::Status CheckNumPs(int num_ps, const Var& ntasks, int n, absl::string_view launcher_hint);

}  // namespace braid::distributed::resolver_internal
