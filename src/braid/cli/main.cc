#include <cstdio>

#include "braid/cli/commands.h"

namespace braid::cli {

void AddThreadFlags(CLI::App* cmd, int* inter_op_threads, int* intra_op_threads) {
  cmd->add_option("--inter_op_threads", *inter_op_threads,
                  "threads running independent ops (0: as many as fit beside the intra-op threads, at least 1)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  cmd->add_option("--intra_op_threads", *intra_op_threads,
                  "threads inside one op (0: one per core)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
}

int Fail(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "braid %s: %s\n", command.c_str(), message.c_str());
  return 1;
}

}  // namespace braid::cli

int main(int argc, char** argv) {
  CLI::App app{
      "braid: a distributed deep-learning system (train, inspect, server, launch, board, serve, "
      "predict; see each --help)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "braid 0.1");
  braid::cli::RegisterTrain(app);
  braid::cli::RegisterInspect(app);
  braid::cli::RegisterLaunch(app);
  braid::cli::RegisterServer(app);
  braid::cli::RegisterBoard(app);
  braid::cli::RegisterServe(app);
  braid::cli::RegisterPredict(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // the subcommand already said what failed
  } catch (const CLI::Success&) {
    return 0;
  } catch (const CLI::ParseError& e) {
    // One clear line, not the whole help text.
    std::fprintf(stderr, "braid: %s (see braid --help)\n", e.what());
    return e.get_exit_code() == 0 ? 2 : e.get_exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "braid: %s\n", e.what());
    return 1;
  }
  return 0;
}
