// cxsim command-line interface. Only this file knows Boost.Program_options.

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <limits>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>

#include "cxsim/core/error.hpp"
#include "cxsim/core/version.hpp"
#include "cxsim/engine/recorder.hpp"
#include "cxsim/experiment/experiment.hpp"
#include "cxsim/experiment/mpi_sweep.hpp"
#include "cxsim/experiment/sweep.hpp"
#include "cxsim/engine/simulation.hpp"
#include "cxsim/io/results_io.hpp"
#include "cxsim/io/scenario_io.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true); }

constexpr const char* kUsage =
    "Usage: cxsim <command> [options]\n"
    "\n"
    "Commands:\n"
    "  run [SCENARIO]       run a scenario (the bundled default if none) and write HDF5 results\n"
    "  validate SCENARIO    check a scenario file; exit 2 with FILE:LINE: key: message if invalid\n"
    "  sweep EXPERIMENT     run every run of an experiment (policies or factors x replicates);\n"
    "                       under mpirun, across all its processes; --shard I/N: one share of it\n"
    "  merge OUT PART...    combine the shard files of a sweep into the file the whole sweep gives\n"
    "  report RESULTS.h5    write an HTML report with figures of a results file (cxsim-report)\n"
    "\n"
    "Options:\n"
    "  -h, --help           show this help (cxsim run --help: options of run)\n"
    "  --version            print the version and build\n"
    "\n"
    "Exit codes: 0 success, 1 internal error, 2 bad input, 3 file error, 130 interrupted.\n";

/// Parsed options of `run` and `validate`.
struct Options {
  std::optional<std::string> scenario;
  std::string out;
  std::vector<std::string> sets;
  std::optional<std::uint64_t> seed;
  std::optional<std::int64_t> customers;
  std::optional<int> steps;
  std::optional<std::int64_t> panel;
  int threads = 0;
  bool quiet = false;
  bool serial = false;
  bool print = false;
};

std::string join_args(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  return s;
}

/// Loads the scenario with --set overrides, then the shorthand flags, which are
/// validated like any override but reported under their own names.
cxsim::ScenarioSpec load(const Options& o) {
  std::vector<std::string> overrides = o.sets;
  std::vector<std::string> flags;
  if (o.seed) overrides.push_back("scenario.seed=" + std::to_string(*o.seed)), flags.push_back("--seed");
  if (o.steps) overrides.push_back("scenario.steps=" + std::to_string(*o.steps)), flags.push_back("--steps");
  if (o.customers)
    overrides.push_back("population.customers=" + std::to_string(*o.customers)), flags.push_back("--customers");
  if (o.panel) overrides.push_back("metrics.panel=" + std::to_string(*o.panel)), flags.push_back("--panel");
  try {
    if (o.scenario) return cxsim::load_scenario(*o.scenario, overrides);
    return cxsim::parse_scenario(std::string(cxsim::default_scenario_text()),
                                 std::string(cxsim::default_scenario_name()), overrides);
  } catch (const cxsim::ConfigError& e) {
    const auto user = static_cast<int>(o.sets.size());
    if (e.file() != "--set" || e.line() <= user) throw;
    const std::string& flag = flags[static_cast<std::size_t>(e.line() - user - 1)];
    std::string msg = e.what();
    const std::string prefix = "--set:" + std::to_string(e.line()) + ": ";
    if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
    throw cxsim::ConfigError(flag, 0, "", msg);
  }
}

/// Progress: a rewritten line on a terminal, a few plain lines otherwise.
class Progress : public cxsim::StepObserver {
 public:
  /// Rates and ETAs count burn-in steps, which are simulated but not reported.
  Progress(bool tty, bool quiet, int steps, int burn_in, std::int64_t customers)
      : tty_(tty), quiet_(quiet), steps_(steps), burn_in_(burn_in), customers_(customers), start_(Clock::now()) {}

  void on_step(const cxsim::Simulation& /*sim*/, const cxsim::StepMetrics& m) override {
    if (quiet_) return;
    const int done = m.step + 1;
    const double secs = seconds();
    const int simulated = burn_in_ + done;
    const double rate = secs > 0 ? static_cast<double>(customers_) * simulated / secs : 0.0;
    const double eta = secs / simulated * (steps_ - done);
    if (tty_) {
      if (secs - last_print_ < 0.1 && done != steps_) return;
      last_print_ = secs;
      std::fprintf(stderr, "\r  step %d/%d  %5.1f%%  %.3g customer-steps/s  ETA %.0f s   ", done, steps_,
                   100.0 * done / steps_, rate, eta);
      if (done == steps_) std::fputc('\n', stderr);
    } else if (done * 4 / steps_ != (done - 1) * 4 / steps_ || done == steps_) {
      std::fprintf(stderr, "cxsim: step %d/%d (%.0f%%), %.3g customer-steps/s, ETA %.0f s\n", done, steps_,
                   100.0 * done / steps_, rate, eta);
    }
  }
  [[nodiscard]] double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  bool tty_, quiet_;
  int steps_, burn_in_;
  std::int64_t customers_;
  Clock::time_point start_;
  double last_print_ = -1.0;
};

void add_scenario_options(po::options_description& d, Options& o) {
  d.add_options()("set", po::value(&o.sets)->composing()->value_name("KEY=VALUE"),
                  "override a scenario key, e.g. --set brands.Verde.price=9.5 (repeatable)");
}

/// Parses a command's options `d` plus one optional positional scenario file.
po::variables_map parse(const std::vector<std::string>& args, const po::options_description& d, std::string& file) {
  po::options_description hidden;
  hidden.add_options()("scenario", po::value(&file));
  po::options_description all;
  all.add(d).add(hidden);
  po::positional_options_description pos;
  pos.add("scenario", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

int cmd_validate(const std::vector<std::string>& args) {
  Options o;
  po::options_description d("Options of cxsim validate SCENARIO");
  d.add_options()("help,h", "show this help")("print", po::bool_switch(&o.print),
                                               "print the resolved scenario (every key explicit) as TOML");
  add_scenario_options(d, o);
  std::string file;
  const po::variables_map vm = parse(args, d, file);
  if (vm.count("help")) {
    std::cout << "Usage: cxsim validate SCENARIO [--set KEY=VALUE]... [--print]\n\n" << d;
    return 0;
  }
  if (file.empty()) throw cxsim::ConfigError("cxsim validate", 0, "", "expected a scenario file argument");
  o.scenario = file;
  const auto spec = load(o);
  if (o.print)
    std::cout << cxsim::to_toml(spec);
  else
    std::cout << file << ": ok (" << spec.brands.size() << " brands, " << spec.cohorts.size() << " cohorts, "
              << spec.k() << " value dimensions, " << spec.customers << " customers, " << spec.steps << " steps)\n";
  return 0;
}

int cmd_run(const std::vector<std::string>& args, const std::string& command_line) {
  Options o;
  po::options_description d("Options of cxsim run [SCENARIO]");
  d.add_options()("help,h", "show this help")
      ("out,o", po::value(&o.out)->value_name("FILE.h5"), "results file (default: <scenario name>.h5)")
      ("seed", po::value<std::string>()->value_name("N"), "master seed (scenario.seed), in [0, 2^63 - 1]")
      ("threads", po::value(&o.threads)->value_name("N"), "worker threads (default: all cores)")
      ("steps", po::value<int>()->value_name("N"), "horizon in steps (scenario.steps)")
      ("customers", po::value<std::int64_t>()->value_name("N"), "population size (population.customers)")
      ("panel", po::value<std::int64_t>()->value_name("N"),
       "record every purchase of N sampled customers, with a panel summary (metrics.panel)")
      ("quiet,q", po::bool_switch(&o.quiet), "print nothing but errors")
      ("serial", po::bool_switch(&o.serial), "use the serial reference stepper instead of TBB");
  add_scenario_options(d, o);
  std::string file;
  const po::variables_map vm = parse(args, d, file);
  if (vm.count("help")) {
    std::cout << "Usage: cxsim run [SCENARIO] [options]\n"
                 "Runs SCENARIO (default: the bundled " << cxsim::default_scenario_name()
              << ") and writes its results to an HDF5 file.\n\n" << d;
    return 0;
  }
  // From here on SIGINT/SIGTERM stop the run cleanly (checked between steps).
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  if (!file.empty()) o.scenario = file;
  if (vm.count("seed")) {
    // Read by hand: Boost would take "-1" as 2^64 - 1.
    const auto text = vm["seed"].as<std::string>();
    std::uint64_t seed = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
        seed > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      throw cxsim::ConfigError("--seed", 0, "", "expected an integer in [0, 9223372036854775807], got '" + text + "'");
    o.seed = seed;
  }
  if (vm.count("steps")) o.steps = vm["steps"].as<int>();
  if (vm.count("customers")) o.customers = vm["customers"].as<std::int64_t>();
  if (vm.count("panel")) o.panel = vm["panel"].as<std::int64_t>();
  if (vm.count("threads") && (o.threads < 1 || o.threads > 1024))
    throw cxsim::ConfigError("--threads", 0, "", "expected an integer in [1, 1024], got " + std::to_string(o.threads));
  if (o.threads == 0) o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  auto spec = std::make_shared<const cxsim::ScenarioSpec>(load(o));
  if (o.out.empty()) o.out = spec->name + ".h5";
  cxsim::ResultsWriter writer(o.out);  // fails now, not after the run, if the path is unusable

  const bool tty = isatty(STDERR_FILENO) != 0;
  if (!o.quiet)
    std::fprintf(stderr, "cxsim %s: %s (%s): %lld customers, %zu brands, %d steps (+%d burn-in), seed %llu, %d thread%s\n",
                 std::string(cxsim::version()).c_str(), spec->name.c_str(),
                 o.scenario ? o.scenario->c_str() : std::string(cxsim::default_scenario_name()).c_str(),
                 static_cast<long long>(spec->customers), spec->brands.size(), spec->steps, spec->burn_in,
                 static_cast<unsigned long long>(spec->seed), o.serial ? 1 : o.threads, o.threads == 1 ? "" : "s");

  Progress progress(tty, o.quiet, spec->steps, spec->burn_in, spec->customers);
  cxsim::Simulation sim(spec, {o.threads, o.serial});
  cxsim::Recorder recorder(*spec, "000000");
  sim.add_observer(&recorder);
  sim.add_observer(&progress);
  sim.run(&g_stop);
  if (!sim.done()) {
    if (tty && !o.quiet) std::fputc('\n', stderr);
    throw cxsim::Interrupted("interrupted at step " + std::to_string(sim.steps_done()) + " of " +
                             std::to_string(spec->steps) + "; no results written to '" + o.out + "'");
  }

  cxsim::RunResult result = recorder.result();
  cxsim::fill_provenance(result, *spec, o.scenario ? *o.scenario : std::string(cxsim::default_scenario_name()),
                         command_line, o.serial ? 1 : o.threads, progress.seconds());
  const auto& p = result.provenance;
  writer.write_run(result);
  writer.commit();
  if (!o.quiet)
    std::fprintf(stderr, "cxsim: done in %.2f s (%.3g customer-steps/s); results in %s\n", p.wall_seconds,
                 static_cast<double>(spec->customers) * spec->total_steps() / p.wall_seconds, o.out.c_str());
  return 0;
}

/// CPUs this process may run on: its affinity mask, which batch systems and
/// MPI launchers narrow to the process's allocation.
int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

/// Default threads of a sweep process: the CPUs it may use, shared with the
/// other processes of its MPI job on the same machine.
int default_sweep_threads(int processes_here) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, std::min(available_cpus(), cores / std::max(1, processes_here)));
}

/// An error another MPI process hit, reported by rank 0 with that process's exit code.
class RelayedError : public cxsim::Error {
 public:
  RelayedError(int code, const std::string& message) : Error(message), code_(code) {}
  [[nodiscard]] int exit_code() const noexcept override { return code_; }

 private:
  int code_;
};

/// Exit code and one-line message (as main prints it) of an exception.
std::pair<int, std::string> describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const po::error& x) {
    return {2, std::string(x.what()) + " (see cxsim --help)"};
  } catch (const cxsim::Error& x) {
    return {x.exit_code(), x.what()};
  } catch (const std::exception& x) {
    return {1, std::string("internal error: ") + x.what()};
  }
}

int cmd_sweep(const std::vector<std::string>& args, const std::string& command_line, cxsim::MpiWorld* world) {
  const bool root = world == nullptr || world->rank() == 0;
  cxsim::SweepOptions so;
  std::vector<std::string> sets;
  std::string out, shard;
  bool quiet = false;
  po::options_description d("Options of cxsim sweep EXPERIMENT");
  d.add_options()("help,h", "show this help")
      ("out,o", po::value(&out)->value_name("FILE.h5"),
       "results file (default: <experiment name>.h5, with --shard <name>.shard-I-of-N.h5)")
      ("threads", po::value(&so.threads)->value_name("N"),
       "worker threads (default: the CPUs this process may use; under MPI shared by the processes on a machine)")
      ("resume", po::bool_switch(&so.resume), "continue an interrupted sweep: run only the missing runs")
      ("shard", po::value(&shard)->value_name("I/N"),
       "run only shard I of N (0 <= I < N) into its own file, e.g. one per job-array task; combine with cxsim merge")
      ("quiet,q", po::bool_switch(&quiet), "print nothing but errors")
      ("set", po::value(&sets)->composing()->value_name("KEY=VALUE"),
       "override a scenario key in every run, after the experiment's own `set` (repeatable)");

  // Everything that can go wrong before the runs, so that MPI processes can agree on it.
  cxsim::ExperimentSpec spec;
  std::string file;
  po::variables_map vm;
  const auto prepare = [&] {
    vm = parse(args, d, file);
    if (vm.count("help")) return;
    if (file.empty()) throw cxsim::ConfigError("cxsim sweep", 0, "", "expected an experiment file argument");
    if (vm.count("threads") && (so.threads < 1 || so.threads > 1024))
      throw cxsim::ConfigError("--threads", 0, "", "expected an integer in [1, 1024], got " + std::to_string(so.threads));
    if (vm.count("shard")) so.shard = cxsim::parse_shard(shard);
    if (world == nullptr && cxsim::MpiWorld::launched_size() > 1)
      throw cxsim::ConfigError("cxsim sweep", 0, "",
                               "started as one of " + std::to_string(cxsim::MpiWorld::launched_size()) +
                                   " MPI processes, but this cxsim was built without MPI (CXSIM_MPI=OFF): each "
                                   "process would run the whole sweep; use one process, an MPI build, or --shard I/N");
    spec = cxsim::load_experiment(file);
    if (!sets.empty()) {
      // Command-line overrides join the experiment-wide ones; check every run again before any starts.
      const auto own = static_cast<int>(spec.overrides.size());
      spec.overrides.insert(spec.overrides.end(), sets.begin(), sets.end());
      try {
        for (const auto& run : cxsim::plan_runs(spec)) (void)cxsim::load_scenario(run.scenario, run.overrides);
      } catch (const cxsim::ConfigError& e) {
        // Number the command line's --set options as the user wrote them.
        const int n = e.line() - own;
        if (e.file() != "--set" || n < 1 || n > static_cast<int>(sets.size())) throw;
        std::string msg = e.what();
        msg = msg.substr(msg.find(": ") + 2);
        throw cxsim::ConfigError("--set", n, "", msg);
      }
    }
  };
  std::exception_ptr error;
  try {
    prepare();
  } catch (...) {
    error = std::current_exception();
  }
#ifdef CXSIM_WITH_MPI
  if (world != nullptr) {
    const auto [code, message] = error ? describe(error) : std::pair<int, std::string>{0, ""};
    const auto [agreed, text] = world->agree(code, message);
    if (agreed != 0) {
      if (!root) throw cxsim::PeerExit(agreed);
      if (!error) throw RelayedError(agreed, text);
    }
  }
#endif
  if (error) std::rethrow_exception(error);
  if (vm.count("help")) {
    if (root)
      std::cout << "Usage: cxsim sweep EXPERIMENT [--out FILE.h5] [--threads N] [--resume] [--shard I/N] "
                   "[--set KEY=VALUE]...\n"
                   "Runs every run of EXPERIMENT (docs/experiments.md); finished runs are kept in FILE.h5.parts/\n"
                   "until all are merged into FILE.h5, so an interrupted sweep continues with --resume.\n"
                   "Under mpirun (mpirun -np P cxsim sweep ...) the runs are spread over the P processes\n"
                   "(docs/cluster.md).\n\n"
                << d;
    return 0;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  const int processes = world != nullptr ? world->size() : 1;
  if (!vm.count("threads")) so.threads = default_sweep_threads(world != nullptr ? world->local_size() : 1);
  if (!out.empty())
    so.out = out;
  else if (so.shard)
    so.out = spec.name + ".shard-" + std::to_string(so.shard->index) + "-of-" + std::to_string(so.shard->count) + ".h5";
  else
    so.out = spec.name + ".h5";
  so.stop = &g_stop;
  so.command_line = command_line;
  quiet = quiet || !root;
  const bool tty = isatty(STDERR_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  double last = -1.0;
  so.progress = [&](int done, int total, int reused) {
    if (quiet) return;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = secs > 0 ? (done - reused) / secs : 0.0;
    const double eta = rate > 0 ? (total - done) / rate : 0.0;
    if (tty) {
      if (secs - last < 0.1 && done != total) return;
      last = secs;
      std::fprintf(stderr, "\r  run %d/%d  %5.1f%%  %.2f runs/s  ETA %.0f s   ", done, total, 100.0 * done / total, rate, eta);
      if (done == total) std::fputc('\n', stderr);
    } else if (done * 10 / total != (done - 1) * 10 / total || done == total) {
      std::fprintf(stderr, "cxsim: run %d/%d (%.0f%%), %.2f runs/s, ETA %.0f s\n", done, total, 100.0 * done / total,
                   rate, eta);
    }
  };
  if (!quiet) {
    std::string how = std::to_string(so.threads) + (so.threads == 1 ? " thread" : " threads");
    if (processes > 1) how = std::to_string(processes) + " MPI processes (" + how + " on rank 0)";
    if (so.shard) how += ", shard " + shard;
    std::fprintf(stderr, "cxsim %s: sweep %s (%s): %s%s\n", std::string(cxsim::version()).c_str(), spec.name.c_str(),
                 file.c_str(), how.c_str(), so.resume ? ", resuming" : "");
  }
#ifdef CXSIM_WITH_MPI
  const cxsim::SweepReport r = world != nullptr ? cxsim::run_sweep_mpi(*world, spec, so) : cxsim::run_sweep(spec, so);
#else
  const cxsim::SweepReport r = cxsim::run_sweep(spec, so);
#endif
  if (!root) return 0;
  if (!r.complete) {
    if (tty && !quiet) std::fputc('\n', stderr);
    throw cxsim::Interrupted("interrupted with " + std::to_string(r.reused + r.ran) + " of " +
                             std::to_string(r.total) + " runs done (kept in '" + so.out.string() +
                             ".parts'); continue with --resume");
  }
  if (!quiet) {
    std::string by;
    if (r.ran_by_process.size() > 1) {
      const auto [lo, hi] = std::minmax_element(r.ran_by_process.begin(), r.ran_by_process.end());
      if (r.ran_by_process.size() <= 8) {
        by = " by ranks 0..." + std::to_string(r.ran_by_process.size() - 1) + ": ";
        for (std::size_t i = 0; i < r.ran_by_process.size(); ++i)
          by += (i ? " + " : "") + std::to_string(r.ran_by_process[i]);
      } else {
        by = " by " + std::to_string(r.ran_by_process.size()) + " processes, " + std::to_string(*lo) + " to " +
             std::to_string(*hi) + " each";
      }
    }
    std::fprintf(stderr, "cxsim: %d runs (%d reused, %d run now%s); results in %s\n", r.total, r.reused, r.ran,
                 by.c_str(), so.out.string().c_str());
  }
  return 0;
}

int cmd_merge(const std::vector<std::string>& args) {
  cxsim::MergeOptions mo;
  std::vector<std::string> files;
  bool quiet = false;
  po::options_description d("Options of cxsim merge OUT.h5 PART.h5...");
  d.add_options()("help,h", "show this help")
      ("partial", po::bool_switch(&mo.partial), "merge even if some runs of the experiment are in no part")
      ("quiet,q", po::bool_switch(&quiet), "print nothing but errors");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&files));
  po::options_description all;
  all.add(d).add(hidden);
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << "Usage: cxsim merge OUT.h5 PART.h5... [--partial]\n"
                 "Combines the files of `cxsim sweep --shard I/N` (any sweep files of one experiment) into OUT.h5:\n"
                 "the file a single sweep of the experiment writes. Refuses parts of different experiments,\n"
                 "runs in two parts and (without --partial) missing runs; writes nothing then.\n\n"
              << d;
    return 0;
  }
  if (files.size() < 2)
    throw cxsim::ConfigError("cxsim merge", 0, "", "expected the output file and at least one part: cxsim merge OUT.h5 PART.h5...");
  mo.out = files.front();
  mo.parts.assign(files.begin() + 1, files.end());
  std::error_code ec;
  for (const auto& part : mo.parts)
    if (fs::exists(mo.out, ec) && fs::equivalent(mo.out, part, ec))
      throw cxsim::IoError("the output file '" + mo.out.string() + "' is also one of the parts; expected a new file first: cxsim merge OUT.h5 PART.h5...");
  if (fs::exists(mo.out, ec)) {
    // `cxsim merge part0.h5 part1.h5 ...` forgets the output and would overwrite a shard.
    std::optional<std::string> shard;
    try {
      shard = cxsim::ResultsReader(mo.out).text_attribute("shard");
    } catch (const cxsim::IoError&) {
    }
    if (shard)
      throw cxsim::IoError("the output file '" + mo.out.string() + "' is shard " + *shard +
                           " of a sweep; expected a new file first: cxsim merge OUT.h5 PART.h5...");
  }
  const cxsim::MergeReport r = cxsim::merge_sweeps(mo);
  if (!quiet)
    std::fprintf(stderr, "cxsim: merged %d of the %d runs of %s from %zu files into %s\n", r.runs, r.total,
                 r.experiment.c_str(), mo.parts.size(), mo.out.string().c_str());
  return 0;
}

/// `cxsim report ...`: the report is Python (analysis/, docs/analysis.md). Runs the cxsim-report
/// launcher installed (in the build tree: generated) next to this binary, else the one on PATH.
int cmd_report(const std::vector<std::string>& args) {
  std::error_code ec;
  const fs::path beside = fs::read_symlink("/proc/self/exe", ec).parent_path() / "cxsim-report";
  const std::string program = !ec && fs::exists(beside, ec) ? beside.string() : "cxsim-report";
  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(stdout);
  execvp(program.c_str(), argv.data());  // returns only if it failed
  throw cxsim::IoError("cannot run " + program + ": " + std::generic_category().message(errno) +
                       " (it is installed with cxsim by cmake --install)");
}

}  // namespace

int main(int argc, char** argv) {
#ifdef CXSIM_WITH_MPI
  std::optional<cxsim::MpiWorld> world;  // finalised after everything else
#endif
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
      std::cout << kUsage;
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
#ifdef CXSIM_WITH_MPI
      const char* mpi = ", MPI";  // mpirun -np P cxsim sweep spreads a sweep over P processes
#else
      const char* mpi = "";
#endif
      std::cout << "cxsim " << cxsim::version() << " (" << cxsim::git_commit() << ", " << cxsim::build_type() << mpi
                << ")\n";
      return 0;
    }
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "run") return cmd_run(rest, join_args(argc, argv));
    if (args[0] == "validate") return cmd_validate(rest);
    if (args[0] == "sweep") {
      const std::string command_line = join_args(argc, argv);
      cxsim::MpiWorld* mpi = nullptr;
#ifdef CXSIM_WITH_MPI
      if (cxsim::MpiWorld::launched()) mpi = &world.emplace(&argc, &argv);
#endif
      return cmd_sweep(rest, command_line, mpi);
    }
    if (args[0] == "merge") return cmd_merge(rest);
    if (args[0] == "report") return cmd_report(rest);
    if (args[0] == "schema-doc") {  // regenerates docs/scenarios.md's reference section
      std::cout << cxsim::scenario_reference_markdown();
      return 0;
    }
    std::cerr << "cxsim: unknown command '" << args[0] << "'\n" << kUsage;
    return 2;
  } catch (const po::error& e) {
    std::cerr << "cxsim: " << e.what() << " (see cxsim --help)\n";
    return 2;
  } catch (const cxsim::PeerExit&) {
    return 0;  // rank 0 of the MPI job reports the error and exits with its code
  } catch (const cxsim::ConfigError& e) {
    std::cerr << e.what() << '\n';  // already FILE:LINE: key: expected
    return e.exit_code();
  } catch (const cxsim::Error& e) {
    std::cerr << "cxsim: " << e.what() << '\n';
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "cxsim: internal error: " << e.what() << '\n';
    return 1;
  }
}
