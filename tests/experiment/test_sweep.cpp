// Sweeps: a run inside a sweep is bit-identical to the same run alone; an
// interrupted sweep resumes to the same file; parts of another experiment are
// refused.

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cxsim/core/error.hpp"
#include "cxsim/experiment/sweep.hpp"
#include "cxsim/io/results_io.hpp"

namespace cxsim {
namespace {

namespace fs = std::filesystem;

fs::path write_experiment(const std::string& name, const std::string& extra = "") {
  const fs::path dir = fs::path(CXSIM_TEST_TMPDIR) / ("sweep_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "experiment.toml") << "[experiment]\nname = \"" << name << "\"\n"
      << "scenario = \"" << CXSIM_SOURCE_DIR << "/scenarios/baseline.toml\"\n"
      << "seed = 5\nreplicates = 3\n"
      << "set = { \"population.customers\" = 3000, \"scenario.burn_in\" = 5, \"scenario.steps\" = 20 }\n"
      << "[outcomes]\nwindow = 10\n" << extra << "\n[[policies]]\nname = \"a\"\n\n[[policies]]\nname = \"b\"\n"
      << "set = { \"brands.Anchor.price\" = 9.0 }\n";
  return dir;
}

void expect_same_series(const RunResult& a, const RunResult& b) {
  ASSERT_EQ(a.series.size(), b.series.size());
  for (std::size_t j = 0; j < a.series.size(); ++j) {
    ASSERT_EQ(a.series[j].values.size(), b.series[j].values.size());
    EXPECT_EQ(0, std::memcmp(a.series[j].values.data(), b.series[j].values.data(),
                             a.series[j].values.size() * sizeof(double)))
        << a.run_id << " " << a.series[j].name;
  }
}

TEST(Sweep, RunInsideSweepEqualsRunAlone) {
  const fs::path dir = write_experiment("alone");
  const ExperimentSpec spec = load_experiment(dir / "experiment.toml");
  SweepOptions options;
  options.out = dir / "out.h5";
  options.threads = 2;
  const SweepReport report = run_sweep(spec, options);
  ASSERT_TRUE(report.complete);
  EXPECT_EQ(report.total, 6);
  EXPECT_FALSE(fs::exists(dir / "out.h5.parts"));
  for (const RunPlan& plan : plan_runs(spec)) {
    RunResult alone;
    ASSERT_TRUE(execute_run(plan, 4, false, nullptr, "test", alone));  // other stepper, other thread count
    expect_same_series(read_run(options.out, plan.run_id), alone);
  }
}

TEST(Sweep, InterruptedSweepResumesToTheSameRuns) {
  const fs::path dir = write_experiment("resume");
  const ExperimentSpec spec = load_experiment(dir / "experiment.toml");
  SweepOptions full;
  full.out = dir / "full.h5";
  full.threads = 2;
  ASSERT_TRUE(run_sweep(spec, full).complete);

  std::atomic<bool> stop{false};
  SweepOptions cut = full;
  cut.out = dir / "cut.h5";
  cut.stop = &stop;
  cut.progress = [&](int done, int, int) {
    if (done >= 2) stop = true;
  };
  const SweepReport first = run_sweep(spec, cut);
  EXPECT_FALSE(first.complete);
  EXPECT_FALSE(fs::exists(cut.out));
  EXPECT_GE(first.ran, 2);
  EXPECT_LT(first.ran, 6);

  EXPECT_THROW(run_sweep(spec, cut), IoError) << "parts exist: --resume required";
  stop = false;
  cut.resume = true;
  cut.progress = nullptr;
  const SweepReport second = run_sweep(spec, cut);
  ASSERT_TRUE(second.complete);
  EXPECT_EQ(second.reused, first.ran);
  EXPECT_EQ(second.reused + second.ran, 6);
  EXPECT_EQ(list_runs(full.out), list_runs(cut.out));
  for (const auto& id : list_runs(full.out)) expect_same_series(read_run(full.out, id), read_run(cut.out, id));
}

TEST(Sweep, PartsOfAnotherExperimentAreRefused) {
  const fs::path dir = write_experiment("mismatch");
  const ExperimentSpec spec = load_experiment(dir / "experiment.toml");
  std::atomic<bool> stop{false};
  SweepOptions options;
  options.out = dir / "out.h5";
  options.threads = 1;
  options.stop = &stop;
  options.progress = [&](int, int, int) { stop = true; };
  ASSERT_FALSE(run_sweep(spec, options).complete);
  // Same output, different experiment (another master seed).
  std::ofstream(dir / "other.toml") << std::ifstream(dir / "experiment.toml").rdbuf();
  {
    std::ifstream in(dir / "experiment.toml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text.replace(text.find("seed = 5"), 8, "seed = 6");
    std::ofstream(dir / "other.toml") << text;
  }
  SweepOptions again = options;
  again.resume = true;
  again.stop = nullptr;
  again.progress = nullptr;
  try {
    run_sweep(load_experiment(dir / "other.toml"), again);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("different experiment"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cxsim
