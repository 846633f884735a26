// The `braid` binary: one subcommand per file. Each Register* adds its
// subcommand (flags and callback) to the app.
#pragma once

#include <CLI/CLI.hpp>

namespace braid::cli {

void RegisterTrain(CLI::App& app);
void RegisterInspect(CLI::App& app);
void RegisterLaunch(CLI::App& app);
void RegisterServer(CLI::App& app);
void RegisterBoard(CLI::App& app);
void RegisterServe(CLI::App& app);
void RegisterPredict(CLI::App& app);

// --inter_op_threads and --intra_op_threads, shared by the commands that run
// graphs.
void AddThreadFlags(CLI::App* cmd, int* inter_op_threads, int* intra_op_threads);

// Prints "braid <command>: <message>" on stderr; returns the exit code 1.
int Fail(const std::string& command, const std::string& message);

}  // namespace braid::cli
