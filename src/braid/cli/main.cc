#include <cstdio>

#include "braid/cli/commands.h"

namespace braid::cli {

int Fail(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "braid %s: %s\n", command.c_str(), message.c_str());
  return 1;
}

}  // namespace braid::cli

int main(int argc, char** argv) {
  CLI::App app{
      "braid: a distributed deep-learning system (train, inspect, server, launch; see each --help)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "braid 0.1");
  braid::cli::RegisterTrain(app);
  braid::cli::RegisterInspect(app);
  braid::cli::RegisterLaunch(app);
  braid::cli::RegisterServer(app);
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
