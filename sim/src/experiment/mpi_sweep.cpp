// MPI sweeps (mpi_sweep.hpp). The only file that includes mpi.h.
//
// Protocol on a private duplicate of MPI_COMM_WORLD, all messages small and
// sent non-blocking (so two processes sending to each other never wait on
// each other), every process polling between short waits for its own runs:
//
//   worker -> 0   kRequest      a thread is free: asks for a run
//   0 -> worker   kAssign       {index, large}, or {-1, 0}: no more runs
//   worker -> 0   kFinished     {index}: its part file is in place
//   worker -> 0   kFailed       "code\nmessage": a run failed; everyone stops
//   worker -> 0   kInterrupted  SIGINT/SIGTERM reached the worker; everyone stops
//   0 -> worker   kStop         stop runs in progress, ask for no more
//   worker -> 0   kBye          {runs executed}: idle, asks for nothing more
//   0 -> worker   kFinal        {exit code}: after the merge; the last message
//
// Rank 0 sends nothing to a worker after kFinal and a worker leaves only after
// kFinal, so no message is ever left unreceived at MPI_Finalize.

#include "cxsim/experiment/mpi_sweep.hpp"

#include <mpi.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <list>
#include <numeric>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "sweep_engine.hpp"

namespace cxsim {

namespace {

using namespace sweep_detail;

enum Tag : int { kRequest = 1, kAssign, kFinished, kFailed, kInterrupted, kStop, kBye, kFinal };

constexpr std::chrono::milliseconds kPoll{2};

std::string host_name() {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(name, &len);
  return {name, static_cast<std::size_t>(len)};
}

/// Non-blocking sends whose buffers live until the send completes.
class Outbox {
 public:
  explicit Outbox(MPI_Comm comm) : comm_(comm) {}
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;
  ~Outbox() { flush(); }

  void send(int dest, Tag tag, std::vector<int> ints) {
    auto& p = pending_.emplace_back();
    p.ints = std::move(ints);
    MPI_Isend(p.ints.data(), static_cast<int>(p.ints.size()), MPI_INT, dest, tag, comm_, &p.request);
    progress();
  }
  void send_text(int dest, Tag tag, std::string text) {
    auto& p = pending_.emplace_back();
    p.text = std::move(text);
    MPI_Isend(p.text.data(), static_cast<int>(p.text.size()), MPI_CHAR, dest, tag, comm_, &p.request);
    progress();
  }
  /// Forgets completed sends.
  void progress() {
    for (auto it = pending_.begin(); it != pending_.end();) {
      int done = 0;
      MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
      it = done != 0 ? pending_.erase(it) : std::next(it);
    }
  }
  /// Waits until every send completed.
  void flush() {
    for (auto& p : pending_) MPI_Wait(&p.request, MPI_STATUS_IGNORE);
    pending_.clear();
  }

 private:
  struct Pending {
    MPI_Request request = MPI_REQUEST_NULL;
    std::vector<int> ints;
    std::string text;
  };
  MPI_Comm comm_;
  std::list<Pending> pending_;
};

/// A received message.
struct Message {
  int source = -1;
  int tag = 0;
  std::vector<int> ints;
  std::string text;
};

/// The next message from `source` (MPI_ANY_SOURCE for any), if one has arrived.
bool receive(MPI_Comm comm, int source, Message& m) {
  int flag = 0;
  MPI_Status status;
  MPI_Iprobe(source, MPI_ANY_TAG, comm, &flag, &status);
  if (flag == 0) return false;
  m.source = status.MPI_SOURCE;
  m.tag = status.MPI_TAG;
  int count = 0;
  if (m.tag == kFailed) {
    MPI_Get_count(&status, MPI_CHAR, &count);
    m.text.assign(static_cast<std::size_t>(count), '\0');
    MPI_Recv(m.text.data(), count, MPI_CHAR, m.source, m.tag, comm, MPI_STATUS_IGNORE);
  } else {
    MPI_Get_count(&status, MPI_INT, &count);
    m.ints.assign(static_cast<std::size_t>(count), 0);
    MPI_Recv(m.ints.data(), count, MPI_INT, m.source, m.tag, comm, MPI_STATUS_IGNORE);
  }
  return true;
}

/// How the protocol ended for one rank.
struct Outcome {
  SweepReport report;
  int code = 0;                ///< the exit code every rank ends with
  std::exception_ptr failure;  ///< rank 0: the error to report
};

bool stop_requested(const SweepOptions& options) { return options.stop != nullptr && options.stop->load(); }

/// Rank 0: hands out runs (longest first) to its own threads and to the
/// workers, runs its share, and merges.
class Coordinator {
 public:
  Coordinator(MPI_Comm comm, int size, const ExperimentSpec& spec, const SweepSetup& setup,
              const SweepOptions& options, std::vector<Assignment> todo, SweepReport& report)
      : comm_(comm), spec_(spec), setup_(setup), options_(options), report_(report), queue_(todo.begin(), todo.end()),
        slots_(setup, options.threads, options.command_line), outbox_(comm), active_(size, 1),
        active_count_(size - 1), ran_by_(size, 0), finished_(report.reused) {
    active_[0] = 0;
  }

  /// Runs the sweep to its end, tells every worker the exit code, returns how it went.
  Outcome run() {
    while (true) {
      while (!stopping_ && !queue_.empty() && slots_.wants_work()) {
        slots_.offer(queue_.front());
        queue_.pop_front();
      }
      Message m;
      while (receive(comm_, MPI_ANY_SOURCE, m)) handle(m);
      for (const Finished& f : slots_.collect(kPoll)) finished(f);
      if (!stopping_ && stop_requested(options_)) stop_all();
      outbox_.progress();
      if (slots_.idle() && queue_.empty() && active_count_ == 0) break;
    }
    ran_by_[0] = slots_.ran();
    report_.ran = std::accumulate(ran_by_.begin(), ran_by_.end(), 0);
    report_.ran_by_process = ran_by_;

    int code = 130;  // interrupted
    if (failure_) {
      code = failure_code_;
    } else if (finished_ == report_.total) {
      try {
        merge_parts(spec_, setup_, options_, true);
        report_.complete = true;
        code = 0;
      } catch (...) {
        failure_ = std::current_exception();
        code = describe(failure_).first;
      }
    }
    for (int w = 1; w < static_cast<int>(active_.size()); ++w) outbox_.send(w, kFinal, {code});
    outbox_.flush();
    return {report_, code, failure_};
  }

 private:
  void handle(const Message& m) {
    switch (m.tag) {
      case kRequest: {
        Assignment a;
        if (!stopping_ && !queue_.empty()) {
          a = queue_.front();
          queue_.pop_front();
        }
        outbox_.send(m.source, kAssign, {a.index, a.large ? 1 : 0});
        break;
      }
      case kFinished:
        ++finished_;
        progress();
        break;
      case kFailed: {
        const auto newline = m.text.find('\n');
        fail(std::make_exception_ptr(ReportedError(std::atoi(m.text.substr(0, newline).c_str()),
                                                   newline == std::string::npos ? m.text : m.text.substr(newline + 1))));
        break;
      }
      case kInterrupted:
        if (!stopping_) stop_all();
        break;
      case kBye:
        if (active_[static_cast<std::size_t>(m.source)] != 0) {
          active_[static_cast<std::size_t>(m.source)] = 0;
          --active_count_;
          ran_by_[static_cast<std::size_t>(m.source)] = m.ints.empty() ? 0 : m.ints[0];
        }
        break;
      default:
        break;
    }
  }

  void finished(const Finished& f) {
    if (f.status == Finished::Status::kDone) {
      ++finished_;
      progress();
    } else if (f.status == Finished::Status::kFailed) {
      fail(f.error);
    }
  }

  void fail(std::exception_ptr error) {
    if (!failure_) {
      failure_ = std::move(error);
      failure_code_ = describe(failure_).first;
    }
    if (!stopping_) stop_all();
  }

  void stop_all() {
    stopping_ = true;
    queue_.clear();
    slots_.abort();
    for (int w = 1; w < static_cast<int>(active_.size()); ++w)
      if (active_[static_cast<std::size_t>(w)] != 0) outbox_.send(w, kStop, {0});
  }

  void progress() {
    if (options_.progress) options_.progress(finished_, report_.total, report_.reused);
  }

  MPI_Comm comm_;
  const ExperimentSpec& spec_;
  const SweepSetup& setup_;
  const SweepOptions& options_;
  SweepReport& report_;
  std::deque<Assignment> queue_;
  RunSlots slots_;
  Outbox outbox_;
  std::vector<char> active_;  ///< per rank: a worker that has not said goodbye
  int active_count_;
  std::vector<int> ran_by_;
  int finished_;
  bool stopping_ = false;
  std::exception_ptr failure_;
  int failure_code_ = 0;
};

/// Ranks 1..P-1: ask rank 0 for runs while a thread is free, run them, report.
Outcome work(MPI_Comm comm, const SweepSetup& setup, const SweepOptions& options) {
  RunSlots slots(setup, options.threads, options.command_line);
  Outbox outbox(comm);
  bool requested = false, no_more = false, stopping = false;
  const auto stop = [&] {
    stopping = true;
    slots.abort();
  };
  while (true) {
    if (!requested && !no_more && !stopping && slots.wants_work()) {
      outbox.send(0, kRequest, {0});
      requested = true;
    }
    Message m;
    while (receive(comm, 0, m)) {
      if (m.tag == kAssign) {
        requested = false;
        if (m.ints.at(0) < 0)
          no_more = true;
        else if (!stopping)
          slots.offer({m.ints.at(0), m.ints.at(1) != 0});
      } else if (m.tag == kStop && !stopping) {
        stop();
      }
    }
    for (const Finished& f : slots.collect(kPoll)) {
      if (f.status == Finished::Status::kDone) {
        outbox.send(0, kFinished, {f.index});
      } else if (f.status == Finished::Status::kFailed) {
        outbox.send_text(0, kFailed, std::to_string(f.exit_code) + "\n" + f.message.substr(0, 2000));
        if (!stopping) stop();
      }
    }
    if (!stopping && stop_requested(options)) {
      outbox.send(0, kInterrupted, {0});
      stop();
    }
    outbox.progress();
    if (slots.idle() && (no_more || stopping)) break;
  }
  outbox.send(0, kBye, {slots.ran()});
  int code = -1;
  while (code < 0) {
    Message m;
    if (!receive(comm, 0, m)) {
      outbox.progress();
      std::this_thread::sleep_for(kPoll);
      continue;
    }
    if (m.tag == kFinal) code = m.ints.at(0);  // anything else (a late assignment, stop) no longer matters
  }
  outbox.flush();
  Outcome outcome;
  outcome.code = code;
  outcome.report.total = static_cast<int>(setup.mine.size());
  outcome.report.ran = slots.ran();
  outcome.report.complete = code == 0;
  return outcome;
}

/// Broadcasts rank 0's text to every rank.
std::string broadcast(MPI_Comm comm, std::string text) {
  int n = static_cast<int>(text.size());
  MPI_Bcast(&n, 1, MPI_INT, 0, comm);
  text.resize(static_cast<std::size_t>(n));
  MPI_Bcast(text.data(), n, MPI_CHAR, 0, comm);
  return text;
}

}  // namespace

MpiWorld::MpiWorld(int* argc, char*** argv) {
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm local = MPI_COMM_NULL;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
  MPI_Comm_size(local, &local_size_);
  MPI_Comm_free(&local);
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw IoError("the MPI library does not support threads (MPI_THREAD_FUNNELED), which cxsim sweep needs");
  }
}

MpiWorld::~MpiWorld() { MPI_Finalize(); }

void MpiWorld::abort(int code) const noexcept {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

std::pair<int, std::string> MpiWorld::agree(int code, const std::string& message) const {
  const std::string mine = std::to_string(code) + "\n" + message.substr(0, 4000);
  int length = static_cast<int>(mine.size());
  std::vector<int> lengths(rank_ == 0 ? size_ : 0), offsets(rank_ == 0 ? size_ : 0);
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::string all;
  if (rank_ == 0) {
    std::exclusive_scan(lengths.begin(), lengths.end(), offsets.begin(), 0);
    all.resize(static_cast<std::size_t>(offsets.back() + lengths.back()));
  }
  MPI_Gatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, 0,
              MPI_COMM_WORLD);
  int agreed = 0;
  std::string text;
  if (rank_ == 0) {
    for (int r = 0; r < size_ && agreed == 0; ++r) {
      const std::string one = all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r]));
      const auto newline = one.find('\n');
      agreed = std::atoi(one.substr(0, newline).c_str());
      if (agreed != 0) text = one.substr(newline + 1);
      if (agreed != 0 && r != 0) {
        // Say which process failed; its message names files as that machine sees them.
        text = "rank " + std::to_string(r) + ": " + text;
      }
    }
  }
  MPI_Bcast(&agreed, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return {agreed, text};
}

SweepReport run_sweep_mpi(const MpiWorld& world, const ExperimentSpec& spec, const SweepOptions& options) {
  if (world.size() == 1) {
    SweepReport report = run_sweep(spec, options);
    report.ran_by_process = {report.ran};
    return report;
  }
  const bool root = world.rank() == 0;

  // 1. Every rank plans the same runs: the same experiment, the same scenario files, the same cxsim.
  SweepSetup setup;
  std::exception_ptr error;
  try {
    setup = make_setup(spec, options);
  } catch (...) {
    error = std::current_exception();
  }
  const std::string expected = broadcast(MPI_COMM_WORLD, root ? setup.fingerprint : std::string());
  auto [code, message] = error ? describe(error) : std::pair<int, std::string>{0, ""};
  if (!error && !expected.empty() && setup.fingerprint != expected) {
    code = 3;
    message = "on " + host_name() + " the experiment has fingerprint " + setup.fingerprint + ", not " + expected +
              " as on rank 0: every process needs the same experiment and scenario files and the same cxsim";
  }
  auto agreed = world.agree(code, message);
  if (agreed.first != 0) {
    if (!root) throw PeerExit(agreed.first);
    if (error) std::rethrow_exception(error);
    throw ReportedError(agreed.first, agreed.second);
  }

  // 2. Rank 0 checks the output and the part directory; the others wait for it.
  SweepReport report;
  report.total = static_cast<int>(setup.mine.size());
  std::vector<Assignment> todo;
  if (root) {
    try {
      todo = prepare_parts(setup, options, report);
    } catch (...) {
      error = std::current_exception();
    }
  }
  std::tie(code, message) = error ? describe(error) : std::pair<int, std::string>{0, ""};
  agreed = world.agree(code, message);
  if (agreed.first != 0) {
    if (!root) throw PeerExit(agreed.first);
    if (error) std::rethrow_exception(error);
    throw ReportedError(agreed.first, agreed.second);
  }

  // 3. The runs. Failures and interruptions travel through the protocol;
  // anything unexpected ends the whole job rather than leave ranks waiting.
  MPI_Comm comm = MPI_COMM_NULL;
  MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  Outcome outcome;
  try {
    outcome = root ? Coordinator(comm, world.size(), spec, setup, options, std::move(todo), report).run()
                   : work(comm, setup, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cxsim: rank %d: internal error: %s\n", world.rank(), e.what());
    world.abort(1);
  } catch (...) {
    std::fprintf(stderr, "cxsim: rank %d: internal error\n", world.rank());
    world.abort(1);
  }
  MPI_Comm_free(&comm);
  if (outcome.failure) std::rethrow_exception(outcome.failure);  // rank 0: every worker knows
  if (!root && outcome.code != 0) throw PeerExit(outcome.code);
  return outcome.report;
}

}  // namespace cxsim
