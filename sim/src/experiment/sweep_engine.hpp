#pragma once
/// \file
/// What a single-process sweep (sweep.cpp) and an MPI sweep (mpi_sweep.cpp)
/// share: the setup of an invocation, the part directory, a process's run
/// slots and the final merge. Private to sim/src/experiment.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cxsim/core/error.hpp"
#include "cxsim/experiment/experiment.hpp"
#include "cxsim/experiment/sweep.hpp"
#include "cxsim/io/results_io.hpp"

namespace cxsim::sweep_detail {

/// The root attributes that make a results file a sweep file, in the order they are written.
struct SweepIdentity {
  std::string experiment;    ///< `experiment`: the experiment's name
  std::string file;          ///< `experiment_file`: path of the experiment file
  std::string toml;          ///< `experiment_toml`: its text
  std::string fingerprint;   ///< `experiment_fingerprint`
  std::int64_t runs = 0;     ///< `experiment_runs`: runs of the whole experiment
  std::string shard;         ///< `shard`: "I/N" in a shard's file, absent ("") otherwise
};
void write_identity(ResultsWriter& out, const SweepIdentity& identity);

/// One run handed to a process: its index in the plan, and whether it is large
/// (runs alone, on all of the process's threads) or small (one thread).
struct Assignment {
  int index = -1;
  bool large = false;
};

/// One sweep invocation: the experiment's runs, their sizes, the runs this
/// invocation is responsible for, and where their part files go.
struct SweepSetup {
  std::vector<RunPlan> plan;    ///< every run of the experiment
  std::vector<RunSize> sizes;   ///< one per run of `plan`
  std::vector<int> mine;        ///< runs of this invocation (its shard, or all), ascending
  std::string fingerprint;      ///< experiment_fingerprint(plan)
  std::filesystem::path dir;    ///< `<out>.parts`
};

/// Plans the experiment and picks this invocation's runs. Same result in every process.
SweepSetup make_setup(const ExperimentSpec& spec, const SweepOptions& options);

/// Fails now on an unusable destination, checks (resume) or creates the part
/// directory, and returns the runs of `setup.mine` still to do, longest first.
/// Counts reused parts in `report.reused`. One process does this per sweep.
std::vector<Assignment> prepare_parts(const SweepSetup& setup, const SweepOptions& options, SweepReport& report);

/// Writes the parts of `setup.mine` into `options.out` (runs in run-id order,
/// the summary, the experiment's attributes), renames it into place and
/// deletes the part directory. `wait_for_parts`: allow a shared file system
/// some seconds to show parts that other machines wrote.
void merge_parts(const ExperimentSpec& spec, const SweepSetup& setup, const SweepOptions& options,
                 bool wait_for_parts);

/// How a run handed to RunSlots ended.
struct Finished {
  enum class Status : std::uint8_t { kDone, kInterrupted, kFailed };
  int index = -1;
  Status status = Status::kDone;
  int exit_code = 0;           ///< kFailed: the error's exit code
  std::string message;         ///< kFailed: the error's message
  std::exception_ptr error;    ///< kFailed: the error itself
};

/// A process's threads for runs: small runs side by side, one per thread
/// (serial stepper); a large run alone on all threads (TBB). Each finished
/// run is written to its part file before it is reported. Used by one
/// controlling thread, which may also talk MPI: nothing here blocks for long.
class RunSlots {
 public:
  RunSlots(const SweepSetup& setup, int threads, std::string command_line);
  /// Abandons runs in progress and joins the threads.
  ~RunSlots();
  RunSlots(const RunSlots&) = delete;
  RunSlots& operator=(const RunSlots&) = delete;

  /// True if an assignment offered now would start at once.
  [[nodiscard]] bool wants_work() const noexcept { return !held_ && busy_ < threads_; }
  /// Starts `a`, or holds it until enough threads are free (a large run waits
  /// for every thread). Only when wants_work().
  void offer(Assignment a);
  /// Waits up to `timeout` for runs to finish and returns those that did
  /// (possibly none); starts a held run once its threads are free.
  std::vector<Finished> collect(std::chrono::milliseconds timeout);
  /// No run in progress and none held.
  [[nodiscard]] bool idle() const noexcept { return busy_ == 0 && !held_; }
  /// Stops runs in progress (they finish as kInterrupted) and drops a held one.
  void abort();
  /// Runs this object executed to the end.
  [[nodiscard]] int ran() const noexcept { return ran_; }

 private:
  struct Job {
    Assignment run;
  };
  void start(Assignment a);
  void work();
  Finished execute(const Assignment& a);

  const SweepSetup& setup_;
  const int threads_;
  const std::string command_line_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable work_ready_, run_done_;
  std::deque<Job> jobs_;
  std::vector<Finished> finished_;
  bool quit_ = false;
  std::atomic<bool> abort_{false};
  // Controlling thread only.
  int busy_ = 0;                    ///< threads taken (a large run takes them all)
  std::optional<Assignment> held_;  ///< waiting for threads
  std::vector<char> large_;         ///< per plan index: started as a large run
  int ran_ = 0;
};

/// An error that happened in another process, reported with its exit code.
class ReportedError : public Error {
 public:
  ReportedError(int code, const std::string& message) : Error(message), code_(code) {}
  [[nodiscard]] int exit_code() const noexcept override { return code_; }

 private:
  int code_;
};

/// Exit code and message of the exception `e` (1 and "internal error: ..." if it is not a cxsim::Error).
std::pair<int, std::string> describe(const std::exception_ptr& e);

}  // namespace cxsim::sweep_detail
