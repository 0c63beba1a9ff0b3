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
///
/// Runs start longest first (estimated cost: customers x simulated steps), each
/// on the next free thread, so runs of unequal cost still finish together. A
/// sweep can run one shard of the experiment (`--shard I/N`, for job arrays);
/// `merge_sweeps` combines shard files into the file the whole sweep gives.
/// mpi_sweep.hpp spreads one sweep over the processes of an MPI job.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

/// One of `count` disjoint shares of an experiment's runs (`--shard index/count`).
struct Shard {
  int index = 0;  ///< 0-based, < count
  int count = 1;
  bool operator==(const Shard&) const = default;
};

/// Parses `I/N` (0 <= I < N <= 1000000). Throws ConfigError("--shard", ...) otherwise.
Shard parse_shard(const std::string& text);

/// What a run costs to simulate, as far as scheduling is concerned.
struct RunSize {
  std::int64_t customers = 0;
  int steps = 0;  ///< simulated steps: burn-in + recorded steps
  /// Estimated cost: customer-steps.
  [[nodiscard]] std::uint64_t cost() const noexcept {
    return static_cast<std::uint64_t>(customers) * static_cast<std::uint64_t>(steps);
  }
  bool operator==(const RunSize&) const = default;
};

/// The size of every planned run (each distinct scenario and overrides loaded
/// once: replicates differ only in their seed). Throws like load_scenario.
std::vector<RunSize> run_sizes(const std::vector<RunPlan>& plan);

/// Indices of the runs of shard `shard`: runs are dealt longest first, each to
/// the shard with the least estimated cost so far (ties: the lower shard, then
/// the lower run index), so shards take about equal time; with equal costs run
/// i goes to shard i % count. Deterministic; the shards partition the runs.
/// Returned in ascending order.
std::vector<int> shard_runs(const std::vector<RunSize>& sizes, Shard shard);

/// Options of `cxsim sweep`.
struct SweepOptions {
  std::filesystem::path out;           ///< final results file
  int threads = 1;                     ///< worker threads
  bool resume = false;                 ///< reuse the part files of an interrupted sweep
  std::optional<Shard> shard;          ///< run only this shard of the experiment (its own file)
  const std::atomic<bool>* stop = nullptr;  ///< set to stop between (and inside) runs
  std::string command_line;
  /// Called after each finished run with (runs done, runs in total, runs done before this invocation).
  std::function<void(int, int, int)> progress;
};

/// What a sweep did.
struct SweepReport {
  int total = 0;          ///< runs of this sweep: the experiment's, or its shard's
  int reused = 0;         ///< runs found finished in part files (resume)
  int ran = 0;            ///< runs executed by this invocation
  bool complete = false;  ///< all runs done and merged into the final file
  std::vector<int> ran_by_process;  ///< MPI sweeps: runs executed by each rank
};

/// Runs (or resumes) an experiment, or one shard of it. Throws IoError if the
/// part directory holds another experiment's parts, or parts exist and
/// `resume` is false; rethrows the error of a run that failed (after stopping
/// the others).
SweepReport run_sweep(const ExperimentSpec& spec, const SweepOptions& options);

/// Options of `cxsim merge`.
struct MergeOptions {
  std::filesystem::path out;                 ///< merged results file
  std::vector<std::filesystem::path> parts;  ///< sweep files (shards, partial merges)
  bool partial = false;                      ///< allow runs of the experiment to be missing
};

/// What a merge did.
struct MergeReport {
  std::string experiment;  ///< the experiment's name
  int runs = 0;            ///< runs written
  int total = 0;           ///< runs of the experiment
};

/// Combines sweep files of one experiment (shards of `cxsim sweep --shard`, or
/// any sweep files) into one file: runs in run-id order, one /summary row per
/// run, the experiment's attributes. With every run present the result is the
/// file a single sweep writes. Everything is checked before anything is
/// written; throws IoError, naming the file, for an unreadable or non-sweep
/// file, a part of another experiment, a run in two parts, or (unless
/// `partial`) runs missing from every part.
MergeReport merge_sweeps(const MergeOptions& options);

/// Fingerprint of an experiment's runs (scenario file contents and every run's
/// overrides): parts are reused only by a sweep with the same fingerprint.
std::string experiment_fingerprint(const std::vector<RunPlan>& plan);

/// Customers at or above which runs execute one after another, each on all
/// threads; smaller runs execute side by side, one per thread.
inline constexpr std::int64_t kSideBySideLimit = 200000;

}  // namespace cxsim
