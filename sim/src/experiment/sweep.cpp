#include "cxsim/experiment/sweep.hpp"

#include <oneapi/tbb/parallel_for_each.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>

#include "cxsim/core/clock.hpp"
#include "cxsim/core/error.hpp"
#include "cxsim/core/version.hpp"
#include "cxsim/engine/recorder.hpp"
#include "cxsim/engine/simulation.hpp"
#include "cxsim/io/results_io.hpp"
#include "cxsim/io/run_archive.hpp"
#include "cxsim/io/scenario_io.hpp"

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
      c.numbers.reserve(c.kind == K::kText ? 0 : rows);
    }
  }

  void add_row(const RunPlan& plan, const RunResult& run) {
    std::size_t j = 0;
    columns_[j++].text.push_back(plan.run_id);
    if (spec_.design == Design::kPolicies) columns_[j++].text.push_back(plan.policy);
    columns_[j++].numbers.push_back(plan.point);
    for (double v : plan.factor_values) columns_[j++].numbers.push_back(v);
    if (spec_.design == Design::kSobol) columns_[j++].text.push_back(plan.sobol_matrix);
    columns_[j++].numbers.push_back(plan.replicate);
    columns_[j++].numbers.push_back(static_cast<double>(plan.seed));
    const auto outcomes = compute_outcomes(run, spec_.outcomes, spec_.window);
    if (columns_.size() == fixed_)
      for (const auto& [name, value] : outcomes) add(name, SummaryColumn::Kind::kNumber);
    for (std::size_t k = 0; k < outcomes.size(); ++k) columns_[fixed_ + k].numbers.push_back(outcomes[k].second);
  }

  [[nodiscard]] const std::vector<SummaryColumn>& columns() const { return columns_; }

 private:
  void add(const std::string& name, SummaryColumn::Kind kind) { columns_.push_back({name, kind, {}, {}}); }
  const ExperimentSpec& spec_;
  std::vector<SummaryColumn> columns_;
  std::size_t fixed_ = 0;
};

}  // namespace

SweepReport run_sweep(const ExperimentSpec& spec, const SweepOptions& options) {
  const std::vector<RunPlan> plan = plan_runs(spec);
  const std::string fingerprint = experiment_fingerprint(plan);
  const fs::path dir = parts_dir(options.out);
  SweepReport report;
  report.total = static_cast<int>(plan.size());

  // Fail on an unusable destination now, not after hours of runs.
  { ResultsWriter probe(options.out); }

  std::error_code ec;
  std::vector<char> done(plan.size(), 0);
  if (fs::exists(dir, ec)) {
    if (!options.resume)
      throw IoError("part files of an earlier sweep are in '" + dir.string() +
                    "': continue it with --resume, or delete the directory");
    for (std::size_t i = 0; i < plan.size(); ++i) {
      const fs::path part = part_file(dir, plan[i]);
      if (!fs::exists(part, ec)) continue;
      std::string id;
      (void)read_run_archive(part, id);
      if (id != fingerprint)
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

  std::vector<const RunPlan*> todo;
  for (std::size_t i = 0; i < plan.size(); ++i)
    if (!done[i]) todo.push_back(&plan[i]);
  std::atomic<int> finished{report.reused};
  std::atomic<int> ran{0};
  std::mutex progress_mutex;

  auto one = [&](const RunPlan& run, std::shared_ptr<const ScenarioSpec> scenario, int threads, bool serial) {
    if (options.stop != nullptr && options.stop->load()) return;
    RunResult result;
    if (!execute_run(run, std::move(scenario), threads, serial, options.stop, options.command_line, result)) return;
    write_run_archive(part_file(dir, run), result, fingerprint);
    ++ran;
    const int n = ++finished;
    if (options.progress) {
      std::lock_guard lock(progress_mutex);
      options.progress(n, report.total, report.reused);
    }
  };

  // Small runs side by side (one thread each); large runs are set aside and
  // then run one after another, each on all threads.
  std::mutex large_mutex;
  std::vector<std::pair<const RunPlan*, std::shared_ptr<const ScenarioSpec>>> large;
  tbb::task_arena arena(std::max(1, options.threads));
  arena.execute([&] {
    tbb::parallel_for_each(todo.begin(), todo.end(), [&](const RunPlan* run) {
      auto scenario = std::make_shared<const ScenarioSpec>(load_scenario(run->scenario, run->overrides));
      if (scenario->customers < kSideBySideLimit) return one(*run, std::move(scenario), 1, true);
      const std::lock_guard lock(large_mutex);
      large.emplace_back(run, std::move(scenario));
    });
  });
  std::sort(large.begin(), large.end(), [](const auto& a, const auto& b) { return a.first->index < b.first->index; });
  for (auto& [run, scenario] : large) one(*run, std::move(scenario), options.threads, false);
  report.ran = ran.load();
  if (finished.load() < report.total) return report;

  // Merge: every run in run-id order, then the summary, then rename into place.
  ResultsWriter out(options.out);
  out.set_attribute("experiment", spec.name);
  out.set_attribute("experiment_file", spec.source_file.string());
  out.set_attribute("experiment_toml", read_text(spec.source_file));
  out.set_attribute("experiment_fingerprint", fingerprint);
  Summary summary(spec, plan.size());
  for (const auto& run : plan) {
    std::string tag;
    const RunResult result = read_run_archive(part_file(dir, run), tag);
    out.write_run(result);
    summary.add_row(run, result);
  }
  out.write_summary(summary.columns());
  out.commit();
  fs::remove_all(dir, ec);
  report.complete = true;
  return report;
}

}  // namespace cxsim
