#include "cxsim/experiment/sweep.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <numeric>
#include <queue>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>

#include "cxsim/core/clock.hpp"
#include "cxsim/core/error.hpp"
#include "cxsim/core/version.hpp"
#include "cxsim/engine/recorder.hpp"
#include "cxsim/engine/simulation.hpp"
#include "cxsim/io/results_io.hpp"
#include "cxsim/io/run_archive.hpp"
#include "cxsim/io/scenario_io.hpp"
#include "sweep_engine.hpp"

namespace cxsim {

namespace fs = std::filesystem;

namespace {

std::uint64_t fnv1a(const std::string& text, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path parts_dir(const fs::path& out) { return fs::path(out.string() + ".parts"); }
fs::path part_file(const fs::path& dir, const RunPlan& run) { return dir / (run.run_id + ".run"); }

}  // namespace

void fill_provenance(RunResult& run, const ScenarioSpec& spec, const std::string& scenario_file,
                     const std::string& command_line, int threads, double wall_seconds) {
  auto& p = run.provenance;
  p.scenario_toml = to_toml(spec);
  p.scenario_file = scenario_file;
  p.command_line = command_line;
  p.seed = spec.seed;
  p.threads = threads;
  p.version = version();
  p.git_commit = git_commit();
  p.build_type = build_type();
  p.created_utc = utc_now();
  p.wall_seconds = wall_seconds;
}

bool execute_run(const RunPlan& plan, int threads, bool serial, const std::atomic<bool>* stop,
                 const std::string& command_line, RunResult& out) {
  return execute_run(plan, std::make_shared<const ScenarioSpec>(load_scenario(plan.scenario, plan.overrides)),
                     threads, serial, stop, command_line, out);
}

bool execute_run(const RunPlan& plan, std::shared_ptr<const ScenarioSpec> spec, int threads, bool serial,
                 const std::atomic<bool>* stop, const std::string& command_line, RunResult& out) {
  const auto start = std::chrono::steady_clock::now();
  Simulation sim(spec, {threads, serial});
  Recorder recorder(*spec, plan.run_id);
  sim.add_observer(&recorder);
  sim.run(stop);
  if (!sim.done()) return false;
  out = recorder.result();
  fill_provenance(out, *spec, plan.scenario.string(), command_line, serial ? 1 : threads,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return true;
}

std::string experiment_fingerprint(const std::vector<RunPlan>& plan) {
  std::uint64_t h = fnv1a(std::string(version()));
  std::vector<fs::path> seen;
  for (const auto& run : plan) {
    h = fnv1a(run.run_id + '\n' + run.scenario.string() + '\n', h);
    for (const auto& o : run.overrides) h = fnv1a(o + '\n', h);
    if (std::find(seen.begin(), seen.end(), run.scenario) == seen.end()) {
      seen.push_back(run.scenario);
      h = fnv1a(read_text(run.scenario), h);
    }
  }
  std::ostringstream hex;
  hex << std::hex << h;
  return hex.str();
}

namespace {

/// The summary table: identity and design columns, then outcomes.
class Summary {
 public:
  Summary(const ExperimentSpec& spec, std::size_t rows) : spec_(spec) {
    using K = SummaryColumn::Kind;
    add("run_id", K::kText);
    if (spec.design == Design::kPolicies) add("policy", K::kText);
    add("point", K::kInteger);
    for (const auto& f : spec.factors) add(f.key, K::kNumber);
    if (spec.design == Design::kSobol) add("sobol_matrix", K::kText);
    add("replicate", K::kInteger);
    add("seed", K::kInteger);
    fixed_ = columns_.size();
    for (auto& c : columns_) {
      c.text.reserve(c.kind == K::kText ? rows : 0);
      c.numbers.reserve(c.kind == K::kNumber ? rows : 0);
      c.integers.reserve(c.kind == K::kInteger ? rows : 0);
    }
  }

  void add_row(const RunPlan& plan, const RunResult& run) {
    std::size_t j = 0;
    columns_[j++].text.push_back(plan.run_id);
    if (spec_.design == Design::kPolicies) columns_[j++].text.push_back(plan.policy);
    columns_[j++].integers.push_back(plan.point);
    for (double v : plan.factor_values) columns_[j++].numbers.push_back(v);
    if (spec_.design == Design::kSobol) columns_[j++].text.push_back(plan.sobol_matrix);
    columns_[j++].integers.push_back(plan.replicate);
    columns_[j++].integers.push_back(static_cast<std::int64_t>(plan.seed));  // seeds are kept to 63 bits
    const auto outcomes = compute_outcomes(run, spec_.outcomes, spec_.window);
    if (columns_.size() == fixed_)
      for (const auto& [name, value] : outcomes) add(name, SummaryColumn::Kind::kNumber);
    for (std::size_t k = 0; k < outcomes.size(); ++k) columns_[fixed_ + k].numbers.push_back(outcomes[k].second);
  }

  [[nodiscard]] const std::vector<SummaryColumn>& columns() const { return columns_; }

 private:
  void add(const std::string& name, SummaryColumn::Kind kind) { columns_.push_back({name, kind, {}, {}, {}}); }
  const ExperimentSpec& spec_;
  std::vector<SummaryColumn> columns_;
  std::size_t fixed_ = 0;
};

}  // namespace

Shard parse_shard(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return ConfigError("--shard", 0, "", "expected I/N with 0 <= I < N <= 1000000 (e.g. 0/4), got '" + text + "'" + why);
  };
  const auto slash = text.find('/');
  if (slash == std::string::npos) throw bad("");
  const auto number = [&](const std::string& digits) {
    if (digits.empty() || digits.size() > 7 || digits.find_first_not_of("0123456789") != std::string::npos) throw bad("");
    return std::stoi(digits);
  };
  Shard shard{number(text.substr(0, slash)), number(text.substr(slash + 1))};
  if (shard.count < 1 || shard.count > 1000000) throw bad(": N must be in [1, 1000000]");
  if (shard.index >= shard.count) throw bad(": I must be less than N");
  return shard;
}

std::vector<RunSize> run_sizes(const std::vector<RunPlan>& plan) {
  // Only `population.*` and `scenario.*` overrides can change the size or the
  // horizon, so runs that differ in other keys (policies, factors) or in their
  // seed share one load: an LHS of thousands of points is usually one load.
  const auto sizing = [](const std::string& o) {
    return (o.rfind("population", 0) == 0 || o.rfind("scenario", 0) == 0) && o.rfind("scenario.seed=", 0) != 0;
  };
  std::map<std::pair<fs::path, std::vector<std::string>>, RunSize> known;
  std::map<fs::path, std::string> texts;
  std::vector<RunSize> sizes;
  sizes.reserve(plan.size());
  for (const RunPlan& run : plan) {
    std::vector<std::string> key;
    std::copy_if(run.overrides.begin(), run.overrides.end(), std::back_inserter(key), sizing);
    auto [at, fresh] = known.try_emplace({run.scenario, key});
    if (fresh) {
      const std::string name = run.scenario.string();
      auto text = texts.find(run.scenario);
      if (text == texts.end()) {
        if (!std::ifstream(run.scenario)) throw IoError("cannot read scenario file '" + name + "'");
        text = texts.emplace(run.scenario, read_text(run.scenario)).first;
      }
      ScenarioSpec spec;
      try {
        spec = parse_scenario(text->second, name, key);
      } catch (const ConfigError&) {
        spec = parse_scenario(text->second, name, run.overrides);  // valid only with all of them
      }
      at->second = RunSize{spec.customers, spec.burn_in + spec.steps};
    }
    sizes.push_back(at->second);
  }
  return sizes;
}

std::vector<int> shard_runs(const std::vector<RunSize>& sizes, Shard shard) {
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count)
    throw ConfigError("--shard", 0, "", "expected I/N with 0 <= I < N");
  std::vector<int> order(sizes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return sizes[a].cost() > sizes[b].cost(); });
  // Greedy longest-processing-time: the next longest run goes to the least
  // loaded shard. Every run also costs 1, so that equal runs deal round-robin.
  using Load = std::pair<std::uint64_t, int>;  // (estimated cost so far, shard)
  std::priority_queue<Load, std::vector<Load>, std::greater<>> loads;
  for (int s = 0; s < shard.count && s < static_cast<int>(sizes.size()); ++s) loads.emplace(0, s);
  std::vector<int> mine;
  for (int run : order) {
    auto [load, s] = loads.top();
    loads.pop();
    if (s == shard.index) mine.push_back(run);
    loads.emplace(load + sizes[run].cost() + 1, s);
  }
  std::sort(mine.begin(), mine.end());
  return mine;
}

namespace sweep_detail {

std::pair<int, std::string> describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& x) {
    return {x.exit_code(), x.what()};
  } catch (const std::exception& x) {
    return {1, std::string("internal error: ") + x.what()};
  } catch (...) {
    return {1, "internal error"};
  }
}

void write_identity(ResultsWriter& out, const SweepIdentity& identity) {
  out.set_attribute("experiment", identity.experiment);
  out.set_attribute("experiment_file", identity.file);
  out.set_attribute("experiment_toml", identity.toml);
  out.set_attribute("experiment_fingerprint", identity.fingerprint);
  out.set_attribute("experiment_runs", identity.runs);
  if (!identity.shard.empty()) out.set_attribute("shard", identity.shard);
}

SweepSetup make_setup(const ExperimentSpec& spec, const SweepOptions& options) {
  SweepSetup setup;
  setup.plan = plan_runs(spec);
  setup.sizes = run_sizes(setup.plan);
  setup.fingerprint = experiment_fingerprint(setup.plan);
  setup.dir = parts_dir(options.out);
  if (options.shard) {
    setup.mine = shard_runs(setup.sizes, *options.shard);
  } else {
    setup.mine.resize(setup.plan.size());
    std::iota(setup.mine.begin(), setup.mine.end(), 0);
  }
  return setup;
}

std::vector<Assignment> prepare_parts(const SweepSetup& setup, const SweepOptions& options, SweepReport& report) {
  // Fail on an unusable destination now, not after hours of runs.
  { ResultsWriter probe(options.out); }

  const fs::path& dir = setup.dir;
  std::error_code ec;
  std::vector<char> done(setup.plan.size(), 0);
  if (fs::exists(dir, ec)) {
    if (!options.resume)
      throw IoError("part files of an earlier sweep are in '" + dir.string() +
                    "': continue it with --resume, or delete the directory");
    for (int i : setup.mine) {
      const fs::path part = part_file(dir, setup.plan[i]);
      if (!fs::exists(part, ec)) continue;
      std::string id;
      (void)read_run_archive(part, id);
      if (id != setup.fingerprint)
        throw IoError("'" + part.string() + "' belongs to a different experiment (or scenario files changed); "
                      "delete '" + dir.string() + "' to start afresh");
      done[i] = 1;
      ++report.reused;
    }
    // Temporary files of parts, or of the merged file, being written when the sweep died.
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().string().find(".run.tmp-") != std::string::npos) fs::remove(entry.path(), ec);
    const fs::path out_dir = options.out.has_parent_path() ? options.out.parent_path() : fs::path(".");
    const std::string stale = options.out.filename().string() + ".tmp-";
    for (const auto& entry : fs::directory_iterator(out_dir, ec))
      if (entry.path().filename().string().rfind(stale, 0) == 0) fs::remove(entry.path(), ec);
  } else if (!fs::create_directory(dir, ec)) {
    throw IoError("cannot create '" + dir.string() + "': " + ec.message());
  }

  std::vector<Assignment> todo;
  for (int i : setup.mine)
    if (!done[i]) todo.push_back({i, setup.sizes[i].customers >= kSideBySideLimit});
  // Longest first, so that the last runs to finish are short ones.
  std::stable_sort(todo.begin(), todo.end(), [&](const Assignment& a, const Assignment& b) {
    return setup.sizes[a.index].cost() > setup.sizes[b.index].cost();
  });
  return todo;
}

void merge_parts(const ExperimentSpec& spec, const SweepSetup& setup, const SweepOptions& options,
                 bool wait_for_parts) {
  ResultsWriter out(options.out);
  write_identity(out, {spec.name, spec.source_file.string(), read_text(spec.source_file), setup.fingerprint,
                       static_cast<std::int64_t>(setup.plan.size()),
                       options.shard ? std::to_string(options.shard->index) + "/" + std::to_string(options.shard->count)
                                     : std::string()});
  Summary summary(spec, setup.mine.size());
  for (int i : setup.mine) {
    const RunPlan& run = setup.plan[i];
    const fs::path part = part_file(setup.dir, run);
    if (wait_for_parts) {
      // Another machine wrote it: a network file system may show it a little later.
      std::error_code ec;
      for (int tries = 0; tries < 120 && !fs::exists(part, ec); ++tries)
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    std::string tag;
    const RunResult result = read_run_archive(part, tag);
    out.write_run(result);
    summary.add_row(run, result);
  }
  out.write_summary(summary.columns());
  out.commit();
  std::error_code ec;
  fs::remove_all(setup.dir, ec);
}

RunSlots::RunSlots(const SweepSetup& setup, int threads, std::string command_line)
    : setup_(setup), threads_(std::max(1, threads)), command_line_(std::move(command_line)),
      large_(setup.plan.size(), 0) {
  workers_.reserve(static_cast<std::size_t>(threads_));
  for (int t = 0; t < threads_; ++t) workers_.emplace_back([this] { work(); });
}

RunSlots::~RunSlots() {
  abort_ = true;
  {
    const std::lock_guard lock(mutex_);
    quit_ = true;
    jobs_.clear();
  }
  work_ready_.notify_all();
  for (auto& t : workers_) t.join();
}

void RunSlots::offer(Assignment a) {
  if (a.large ? busy_ == 0 : busy_ < threads_)
    start(a);
  else
    held_ = a;
}

void RunSlots::start(Assignment a) {
  busy_ += a.large ? threads_ : 1;
  large_[static_cast<std::size_t>(a.index)] = a.large ? 1 : 0;
  {
    const std::lock_guard lock(mutex_);
    jobs_.push_back({a});
  }
  work_ready_.notify_one();
}

std::vector<Finished> RunSlots::collect(std::chrono::milliseconds timeout) {
  std::vector<Finished> out;
  {
    std::unique_lock lock(mutex_);
    run_done_.wait_for(lock, timeout, [&] { return !finished_.empty(); });
    out.swap(finished_);
  }
  for (const auto& f : out) {
    busy_ -= large_[static_cast<std::size_t>(f.index)] != 0 ? threads_ : 1;
    if (f.status == Finished::Status::kDone) ++ran_;
  }
  if (held_ && (held_->large ? busy_ == 0 : busy_ < threads_)) {
    const Assignment a = *held_;
    held_.reset();
    start(a);
  }
  return out;
}

void RunSlots::abort() {
  abort_ = true;
  held_.reset();
}

void RunSlots::work() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [&] { return quit_ || !jobs_.empty(); });
      if (quit_) return;
      job = jobs_.front();
      jobs_.pop_front();
    }
    Finished f = execute(job.run);
    {
      const std::lock_guard lock(mutex_);
      finished_.push_back(std::move(f));
    }
    run_done_.notify_all();
  }
}

Finished RunSlots::execute(const Assignment& a) {
  Finished f;
  f.index = a.index;
  f.status = Finished::Status::kInterrupted;
  if (abort_) return f;
  try {
    const RunPlan& run = setup_.plan[static_cast<std::size_t>(a.index)];
    auto scenario = std::make_shared<const ScenarioSpec>(load_scenario(run.scenario, run.overrides));
    RunResult result;
    if (!execute_run(run, std::move(scenario), a.large ? threads_ : 1, !a.large, &abort_, command_line_, result))
      return f;
    write_run_archive(part_file(setup_.dir, run), result, setup_.fingerprint);
    f.status = Finished::Status::kDone;
  } catch (...) {
    f.status = Finished::Status::kFailed;
    f.error = std::current_exception();
    std::tie(f.exit_code, f.message) = describe(f.error);
  }
  return f;
}

}  // namespace sweep_detail

SweepReport run_sweep(const ExperimentSpec& spec, const SweepOptions& options) {
  using namespace sweep_detail;
  const SweepSetup setup = make_setup(spec, options);
  SweepReport report;
  report.total = static_cast<int>(setup.mine.size());
  std::deque<Assignment> queue;
  {
    auto todo = prepare_parts(setup, options, report);
    queue.assign(todo.begin(), todo.end());
  }

  RunSlots slots(setup, options.threads, options.command_line);
  int finished = report.reused;
  std::exception_ptr failure;
  bool stopping = false;
  const auto stop_all = [&] {
    stopping = true;
    queue.clear();
    slots.abort();
  };
  while (true) {
    while (!stopping && !queue.empty() && slots.wants_work()) {
      slots.offer(queue.front());
      queue.pop_front();
    }
    if (slots.idle() && queue.empty()) break;
    for (const Finished& f : slots.collect(std::chrono::milliseconds(50))) {
      if (f.status == Finished::Status::kDone) {
        ++finished;
        if (options.progress) options.progress(finished, report.total, report.reused);
      } else if (f.status == Finished::Status::kFailed && !failure) {
        failure = f.error;
        stop_all();
      }
    }
    if (!stopping && options.stop != nullptr && options.stop->load()) stop_all();
  }
  report.ran = slots.ran();
  if (failure) std::rethrow_exception(failure);
  if (finished < report.total) return report;

  merge_parts(spec, setup, options, false);
  report.complete = true;
  return report;
}

}  // namespace cxsim
