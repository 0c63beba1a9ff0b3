#pragma once
/// \file
/// Running an experiment: every planned run, in parallel, each written as it
/// finishes to its own part file, then merged into one results file.
///
/// Part files live in `<out>.parts/`, one `<run_id>.run` (io/run_archive.hpp)
/// per finished run, each written under a temporary name and renamed, so a sweep killed at any moment
/// (even by SIGKILL) keeps every finished run intact. `resume` reuses the parts
/// of the same experiment and runs only the missing ones. The merge writes
/// runs in run-id order and renames the final file into place, so the result
/// does not depend on the order in which runs finished or on interruptions.

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "cxsim/experiment/experiment.hpp"
#include "cxsim/model/metrics.hpp"
#include "cxsim/model/scenario.hpp"

namespace cxsim {

/// Fills a run's provenance: resolved scenario text, seed, threads, build identity, time.
void fill_provenance(RunResult& run, const ScenarioSpec& spec, const std::string& scenario_file,
                     const std::string& command_line, int threads, double wall_seconds);

/// Runs one planned run to the end. Returns false (and leaves `out` alone) if
/// `stop` became true first. `threads` and `serial` choose the stepper; the
/// result does not depend on them.
bool execute_run(const RunPlan& plan, int threads, bool serial, const std::atomic<bool>* stop,
                 const std::string& command_line, RunResult& out);
/// Same, with the run's scenario already loaded.
bool execute_run(const RunPlan& plan, std::shared_ptr<const ScenarioSpec> spec, int threads, bool serial,
                 const std::atomic<bool>* stop, const std::string& command_line, RunResult& out);

/// Options of `cxsim sweep`.
struct SweepOptions {
  std::filesystem::path out;           ///< final results file
  int threads = 1;                     ///< worker threads
  bool resume = false;                 ///< reuse the part files of an interrupted sweep
  const std::atomic<bool>* stop = nullptr;  ///< set to stop between (and inside) runs
  std::string command_line;
  /// Called after each finished run with (runs done, runs in total, runs done before this invocation).
  std::function<void(int, int, int)> progress;
};

/// What a sweep did.
struct SweepReport {
  int total = 0;          ///< runs in the experiment
  int reused = 0;         ///< runs found finished in part files (resume)
  int ran = 0;            ///< runs executed by this invocation
  bool complete = false;  ///< all runs done and merged into the final file
};

/// Runs (or resumes) an experiment. Throws IoError if the part directory holds
/// another experiment's parts, or parts exist and `resume` is false.
SweepReport run_sweep(const ExperimentSpec& spec, const SweepOptions& options);

/// Fingerprint of an experiment's runs (scenario file contents and every run's
/// overrides): parts are reused only by a sweep with the same fingerprint.
std::string experiment_fingerprint(const std::vector<RunPlan>& plan);

/// Customers at or above which runs execute one after another, each on all
/// threads; smaller runs execute side by side, one per thread.
inline constexpr std::int64_t kSideBySideLimit = 200000;

}  // namespace cxsim
