// SIGINT and SIGTERM for the long-running subcommands (server, board,
// serve): caught once, then polled by the command's main loop.
#pragma once

namespace braid::cli {

// From now on SIGINT and SIGTERM set the stop signal instead of killing.
void CatchStopSignals();
// The signal that asked to stop, or 0.
int StopSignal();

}  // namespace braid::cli
