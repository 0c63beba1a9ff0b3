#pragma once
/// \file
/// Sweeps across the processes of an MPI job: `mpirun -np P cxsim sweep ...`.
///
/// Rank 0 checks the part directory, hands out run ids on request (longest
/// runs first), runs runs itself too, and merges. Every rank runs what it is
/// given on its own threads (sweep.hpp: small runs side by side, large ones on
/// all threads) and writes each finished run to the shared part directory, so
/// a job that dies keeps its finished runs for `--resume` with any number of
/// processes. The merged file is the one a single-process sweep writes.
///
/// Only MPI calls from the thread that created the MpiWorld
/// (MPI_THREAD_FUNNELED). The definitions are in mpi_sweep.cpp, built only with
/// CXSIM_MPI; this header does not include mpi.h.

#include <cstdlib>
#include <string>
#include <utility>

#include "cxsim/core/error.hpp"
#include "cxsim/experiment/sweep.hpp"

namespace cxsim {

/// The processes of this MPI job (MPI_COMM_WORLD).
class MpiWorld {
 public:
  /// True if an MPI launcher (mpirun/mpiexec, srun with PMI or PMIx) started
  /// this process. (Inline: also usable in a build without MPI.)
  static bool launched() noexcept {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
      if (std::getenv(name) != nullptr) return true;
    return false;
  }
  /// Processes in the job according to the launcher's environment (1 if unknown).
  static int launched_size() noexcept {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
      if (const char* v = std::getenv(name); v != nullptr && std::atoi(v) > 0) return std::atoi(v);
    return 1;
  }

  /// Initialises MPI (MPI_THREAD_FUNNELED). Throws IoError if that level is unavailable.
  MpiWorld(int* argc, char*** argv);
  /// Finalises MPI.
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  [[nodiscard]] int rank() const noexcept { return rank_; }
  [[nodiscard]] int size() const noexcept { return size_; }
  /// Processes of this job on this machine (this one included).
  [[nodiscard]] int local_size() const noexcept { return local_size_; }

  /// Collective: every rank says how its preparation went (exit code, 0 for
  /// success, and the error message). Returns, on every rank, the exit code of
  /// the first failing rank (0 if none) and, on rank 0, its message (prefixed
  /// with the rank and host if it is not rank 0's own).
  [[nodiscard]] std::pair<int, std::string> agree(int code, const std::string& message) const;

  /// Ends every process of the job (MPI_Abort).
  [[noreturn]] void abort(int code) const noexcept;

 private:
  int rank_ = 0;
  int size_ = 1;
  int local_size_ = 1;
};

/// Thrown on ranks other than 0 when the job fails or is interrupted: rank 0
/// reports the error and exits with its code; this rank exits silently with
/// 0, so that the launcher (mpirun aborts a job once any process exits
/// non-zero) never kills rank 0 before it has said what happened.
class PeerExit : public Error {
 public:
  /// `code`: the exit code rank 0 ends with.
  explicit PeerExit(int code) : Error("rank 0 reports exit " + std::to_string(code)), code_(code) {}
  /// Rank 0's exit code (this process exits with 0).
  [[nodiscard]] int reported_code() const noexcept { return code_; }

 private:
  int code_;
};

/// Runs a sweep (or one shard of it) with every process of `world`
/// (collective: each rank passes the same experiment and options but for
/// `threads`, its own). Rank 0 returns the report (ran_by_process filled),
/// calls `options.progress` for runs finished anywhere, and throws what
/// run_sweep would (IoError, a run's error, nothing but an incomplete report
/// when interrupted). Other ranks return their report when the sweep is
/// complete and throw PeerExit otherwise. A failure or interruption on any
/// rank stops every rank within seconds; finished runs stay in the part
/// directory. Unexpected errors call MPI_Abort rather than leave ranks waiting.
SweepReport run_sweep_mpi(const MpiWorld& world, const ExperimentSpec& spec, const SweepOptions& options);

}  // namespace cxsim
