#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "cxsim/core/error.hpp"
#include "cxsim/experiment/experiment.hpp"
#include "cxsim/io/scenario_io.hpp"

namespace cxsim {
namespace {

namespace fs = std::filesystem;

const fs::path kLibrary = fs::path(CXSIM_SOURCE_DIR) / "scenarios";

constexpr const char* kMiniScenario = R"([scenario]
name = "mini"
steps = 60

[values]
dimensions = ["eco", "fair"]

[cohorts.all]
fraction = 1.0

[brands.A]
price = 10

[brands.B]
price = 11
)";

/// A scratch directory holding mini.toml; experiment texts are written next to it.
class Scratch {
 public:
  Scratch() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(CXSIM_TEST_TMPDIR) /
           ("experiment_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    write("mini.toml", kMiniScenario);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }
  [[nodiscard]] const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

/// The message load_experiment throws for `text` (written as x.toml), or "no error".
std::string error_of(const Scratch& s, const std::string& text) {
  try {
    load_experiment(s.write("x.toml", text));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

::testing::AssertionResult starts_with(const std::string& text, const std::string& prefix) {
  if (text.rfind(prefix, 0) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\"\ndoes not start with\n\"" << prefix << "\"";
}

ExperimentSpec load(const Scratch& s, const std::string& text) { return load_experiment(s.write("x.toml", text)); }

// ---------------------------------------------------------------------------
// The shipped experiments

TEST(ExperimentParse, StanceOptions) {
  const ExperimentSpec e = load_experiment(kLibrary / "experiments/stance_options.toml");
  EXPECT_EQ(e.name, "stance_options");
  EXPECT_EQ(e.design, Design::kPolicies);
  EXPECT_EQ(e.replicates, 10);
  ASSERT_EQ(e.policies.size(), 3u);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"no_stand", "baseline.toml"}, {"authentic_stand", "take_a_stand.toml"}, {"hollow_stand", "hollow_stand.toml"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(e.policies[i].name, expected[i].first);
    EXPECT_EQ(e.policies[i].scenario, (kLibrary / expected[i].second).lexically_normal());
  }
  EXPECT_EQ(e.outcomes,
            (std::vector<std::string>{"final_share", "mean_share", "mean_margin", "mean_nps", "churn", "mean_trust"}));
  EXPECT_EQ(e.window, 52);
  EXPECT_TRUE(e.factors.empty());
  EXPECT_EQ(plan_runs(e).size(), 30u);
}

TEST(ExperimentParse, SalienceXAuthenticity) {
  const ExperimentSpec e = load_experiment(kLibrary / "experiments/salience_x_authenticity.toml");
  EXPECT_EQ(e.design, Design::kSobol);
  EXPECT_EQ(e.scenario, (kLibrary / "experiments/stand_from_start.toml").lexically_normal());
  ASSERT_EQ(e.factors.size(), 2u);
  EXPECT_EQ(e.factors[0].key, "choice.beta_life");
  EXPECT_EQ(e.factors[0].low, 2.0);
  EXPECT_EQ(e.factors[0].high, 8.0);
  EXPECT_EQ(e.factors[1].key, "brands.Anchor.action");
  EXPECT_EQ(e.factors[1].low, 0.1);
  EXPECT_EQ(e.factors[1].high, 0.9);
  EXPECT_FALSE(e.factors[1].integer);
  EXPECT_GE(e.samples, 2);
  EXPECT_EQ(plan_runs(e).size(), static_cast<std::size_t>(e.samples * 4 * e.replicates));

  const ExperimentSpec g = load_experiment(kLibrary / "experiments/salience_x_authenticity_grid.toml");
  EXPECT_EQ(g.design, Design::kGrid);
  ASSERT_EQ(g.factors.size(), 2u);
  EXPECT_EQ(g.factors[1].key, "brands.Anchor.action");
  EXPECT_FALSE(g.factors[0].values.empty());
}

TEST(ExperimentParse, StandFromStartSetsAuthenticityInTheBrandTable) {
  const ScenarioSpec s = load_scenario(kLibrary / "experiments/stand_from_start.toml");
  const ScenarioSpec t = load_scenario(kLibrary / "take_a_stand.toml");
  ASSERT_EQ(s.brands.size(), t.brands.size());
  EXPECT_EQ(s.brands[1].name, "Anchor");
  EXPECT_EQ(s.brands[1].policy.action, 0.85);
  ASSERT_EQ(s.events.size(), 1u);
  ASSERT_EQ(s.events[0].changes.size(), 1u);
  EXPECT_EQ(s.events[0].changes[0].field, EventField::kStance);
  EXPECT_EQ(s.events[0].changes[0].vector, t.events[0].changes[0].vector);
  EXPECT_EQ(s.events[0].step, t.events[0].step);
  const ScenarioSpec varied = load_scenario(kLibrary / "experiments/stand_from_start.toml", {"brands.Anchor.action=0.2"});
  EXPECT_EQ(varied.brands[1].policy.action, 0.2);
}

TEST(ExperimentParse, DefaultsAndOverridesInFileOrder) {
  Scratch s;
  const ExperimentSpec e = load(s, R"([experiment]
name = "t"
scenario = "mini.toml"
set = { "population.customers" = 5000, "brands.A.stance" = { eco = 0.5 }, "scenario.description" = "a \"b\"" }

[[policies]]
name = "a"

[[policies]]
name = "b-2"
set = { "brands.A.price" = 9.5, "brands.B.price" = 12 }
)");
  EXPECT_EQ(e.seed, 1u);
  EXPECT_EQ(e.replicates, 1);
  EXPECT_EQ(e.design, Design::kPolicies);
  EXPECT_EQ(e.outcomes, kOutcomeNames);
  EXPECT_EQ(e.window, 52);
  EXPECT_EQ(e.source_file, s.dir() / "x.toml");
  EXPECT_EQ(e.scenario, s.dir() / "mini.toml");
  EXPECT_EQ(e.overrides, (std::vector<std::string>{"population.customers=5000", "brands.A.stance={ eco = 0.5 }",
                                                   "scenario.description=\"a \\\"b\\\"\""}));
  ASSERT_EQ(e.policies.size(), 2u);
  EXPECT_EQ(e.policies[0].scenario, e.scenario);
  EXPECT_TRUE(e.policies[0].overrides.empty());
  EXPECT_EQ(e.policies[1].overrides, (std::vector<std::string>{"brands.A.price=9.5", "brands.B.price=12"}));
  const ScenarioSpec run = load_scenario(e.scenario, plan_runs(e)[1].overrides);
  EXPECT_EQ(run.customers, 5000);
  EXPECT_EQ(run.brands[0].policy.stance, (std::vector<double>{0.5, 0.0}));
  EXPECT_EQ(run.brands[0].policy.price, 9.5);
  EXPECT_EQ(run.description, "a \"b\"");
}

TEST(ExperimentParse, EachPolicyMayNameItsScenario) {
  Scratch s;
  s.write("other.toml", std::string(kMiniScenario) + "\n[choice]\nbeta_life = 7\n");
  const ExperimentSpec e = load(s, R"([experiment]
name = "t"

[[policies]]
name = "a"
scenario = "mini.toml"

[[policies]]
name = "b"
scenario = "./sub/../other.toml"
)");
  EXPECT_TRUE(e.scenario.empty());
  EXPECT_EQ(e.policies[1].scenario, s.dir() / "other.toml");
  const auto runs = plan_runs(e);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].scenario, s.dir() / "mini.toml");
  EXPECT_EQ(runs[1].scenario, s.dir() / "other.toml");
}

// ---------------------------------------------------------------------------
// Bad input: one case per kind of problem, with the exact FILE:LINE: key prefix.

struct BadCase {
  const char* what;
  const char* text;
  const char* prefix;  ///< after "FILE:"
};

const std::vector<BadCase>& bad_cases() {
  static const std::vector<BadCase> cases{
      {"syntax", "[experiment]\nname = \n", "2: syntax error"},
      {"missing section", "[outcomes]\nwindow = 4\n", "1: experiment: required section is missing"},
      {"unknown section", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[policy]\nname = \"a\"\n",
       "4: policy: unknown key (expected one of: experiment, outcomes, policies, factors)"},
      {"section type", "experiment = 3\n", "1: experiment: expected a table, got an integer"},
      {"missing name", "\n[experiment]\nscenario = \"mini.toml\"\n[[policies]]\nname = \"a\"\n",
       "2: experiment.name: required key is missing"},
      {"unknown key", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\nseeed = 3\n",
       "4: experiment.seeed: unknown key (expected one of: name, description, scenario, seed, replicates, "
       "design, samples, set)"},
      {"name chars", "[experiment]\nname = \"a b\"\n",
       "2: experiment.name: expected a name made of letters, digits, _ and -, got \"a b\""},
      {"seed type", "[experiment]\nname = \"t\"\nseed = \"x\"\n", "3: experiment.seed: expected an integer >= 0, got a string"},
      {"negative seed", "[experiment]\nname = \"t\"\nseed = -1\n", "3: experiment.seed: expected an integer >= 0, got -1"},
      {"replicates range", "[experiment]\nname = \"t\"\nreplicates = 0\n",
       "3: experiment.replicates: expected an integer in [1, 1000000], got 0"},
      {"replicates float", "[experiment]\nname = \"t\"\nreplicates = 2.0\n",
       "3: experiment.replicates: expected an integer in [1, 1000000], got a float"},
      {"design name", "[experiment]\nname = \"t\"\ndesign = \"random\"\n",
       "3: experiment.design: expected one of \"policies\", \"grid\", \"lhs\", \"sobol\", got \"random\""},
      {"first error wins", "[experiment]\nname = 3\nseed = -1\n", "2: experiment.name: expected a string"},
      {"scenario empty", "[experiment]\nname = \"t\"\nscenario = \"\"\n",
       "3: experiment.scenario: expected a file path, got \"\""},
      {"set bare dotted key", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\nset = { population.customers = 5 }\n",
       "4: experiment.set.population: expected a quoted scenario key path"},
      {"set date", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\nset = { \"scenario.name\" = 2020-01-01 }\n",
       "4: experiment.set.\"scenario.name\": expected a number, boolean, string, array or inline table, got a date"},
      {"set type", "[experiment]\nname = \"t\"\nset = 3\n", "3: experiment.set: expected an inline table"},
      {"nothing to vary", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n",
       "1: policies: expected [[policies]] or [[factors]] tables"},
      {"empty policies", "policies = []\n[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n",
       "1: policies: expected at least one [[policies]] table"},
      {"policy not a table", "policies = [1]\n[experiment]\nname = \"t\"\n",
       "1: policies[0]: expected a table, got an integer"},
      {"policy unknown key", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[policies]]\nname = \"a\"\nsett = 1\n",
       "6: policies[0].sett: unknown key (expected one of: name, scenario, set)"},
      {"policy name missing", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[policies]]\nset = {}\n",
       "4: policies[0].name: required key is missing"},
      {"duplicate policy", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[policies]]\nname = \"a\"\n"
                           "[[policies]]\nname = \"a\"\n",
       "7: policies[1].name: duplicate policy name \"a\""},
      {"policy without scenario", "[experiment]\nname = \"t\"\n[[policies]]\nname = \"a\"\nscenario = \"mini.toml\"\n"
                                  "[[policies]]\nname = \"b\"\n",
       "6: policies[1].scenario: required key is missing (the experiment names no scenario)"},
      {"policy set key", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[policies]]\nname = \"a\"\n"
                         "set = { \"brands.\" = 1 }\n",
       "6: policies[0].set.\"brands.\": expected a quoted scenario key path"},
      {"policies and factors", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[policies]]\nname = \"a\"\n"
                               "[[factors]]\nkey = \"choice.beta_life\"\nvalues = [1]\n",
       "6: factors: expected either [[policies]] or [[factors]], not both"},
      {"design without policies", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\ndesign = \"policies\"\n"
                                  "[[factors]]\nkey = \"choice.beta_life\"\nvalues = [1]\n",
       "4: experiment.design: expected [[policies]] tables with design \"policies\""},
      {"design without factors", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\ndesign = \"lhs\"\nsamples = 4\n"
                                 "[[policies]]\nname = \"a\"\n",
       "4: experiment.design: expected [[factors]] tables with design \"lhs\""},
      {"samples missing", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\ndesign = \"sobol\"\n"
                          "[[factors]]\nkey = \"choice.beta_life\"\nrange = [1, 2]\n",
       "1: experiment.samples: required key is missing (design \"sobol\")"},
      {"samples with grid", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\nsamples = 8\n"
                            "[[factors]]\nkey = \"choice.beta_life\"\nvalues = [1]\n",
       "4: experiment.samples: expected no samples with design \"grid\""},
      {"samples range", "[experiment]\nname = \"t\"\nsamples = 1\n",
       "3: experiment.samples: expected an integer in [2, 1000000], got 1"},
      {"factor scenario missing", "[experiment]\nname = \"t\"\n[[factors]]\nkey = \"choice.beta_life\"\nvalues = [1]\n",
       "1: experiment.scenario: required key is missing"},
      {"factor key missing", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[factors]]\nvalues = [1]\n",
       "4: factors[0].key: required key is missing"},
      {"factor key not a path", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[factors]]\nkey = \"seed\"\n",
       "5: factors[0].key: expected a scenario key path such as \"brands.Anchor.price\", got \"seed\""},
      {"range with grid", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\ndesign = \"grid\"\n"
                          "[[factors]]\nkey = \"choice.beta_life\"\nrange = [1, 2]\n",
       "7: factors[0].range: expected values = [...], not a range, with design \"grid\""},
      {"values with lhs", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\ndesign = \"lhs\"\nsamples = 4\n"
                          "[[factors]]\nkey = \"choice.beta_life\"\nvalues = [1, 2]\n",
       "8: factors[0].values: expected range = [low, high], not a list of values, with design \"lhs\""},
      {"values missing", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[factors]]\nkey = \"choice.beta_life\"\n"
                         "integer = true\n",
       "4: factors[0].values: required key is missing (design \"grid\")"},
      {"values empty", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[factors]]\nkey = \"choice.beta_life\"\n"
                       "values = []\n",
       "6: factors[0].values: expected a non-empty array of numbers, got 0 values"},
      {"values element", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[factors]]\nkey = \"choice.beta_life\"\n"
                         "values = [1, \"2\"]\n",
       "6: factors[0].values[1]: expected a finite number, got \"2\""},
      {"range order", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\ndesign = \"lhs\"\nsamples = 4\n"
                      "[[factors]]\nkey = \"choice.beta_life\"\nrange = [2, 1]\n",
       "8: factors[0].range: expected low < high, got [2, 1]"},
      {"range size", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\ndesign = \"lhs\"\nsamples = 4\n"
                     "[[factors]]\nkey = \"choice.beta_life\"\nrange = [1, 2, 3]\n",
       "8: factors[0].range: expected an array [low, high] of two numbers, got 3 values"},
      {"integer values", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[factors]]\nkey = \"network.degree\"\n"
                         "integer = true\nvalues = [4, 6.5]\n",
       "7: factors[0].values[1]: expected an integer (the factor is integer), got 6.5"},
      {"duplicate factor", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[factors]]\nkey = \"choice.beta_life\"\n"
                           "values = [1]\n[[factors]]\nkey = \"choice.beta_life\"\nvalues = [2]\n",
       "8: factors[1].key: duplicate factor \"choice.beta_life\""},
      {"unknown outcome", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[outcomes]\nmetrics = [\"final_share\", \"profit\"]\n",
       "5: outcomes.metrics[1]: unknown outcome \"profit\" (expected one of: final_share, mean_share"},
      {"duplicate outcome", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[outcomes]\nmetrics = [\"churn\", \"churn\"]\n",
       "5: outcomes.metrics[1]: duplicate outcome \"churn\""},
      {"empty outcomes", "[experiment]\nname = \"t\"\n[outcomes]\nmetrics = []\n",
       "4: outcomes.metrics: expected a non-empty array of outcome names"},
      {"window range", "[experiment]\nname = \"t\"\n[outcomes]\nwindow = 0\n",
       "4: outcomes.window: expected an integer in [1, 65000], got 0"},
      {"window above steps", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[policies]]\nname = \"a\"\n"
                             "[outcomes]\nwindow = 61\n",
       "7: outcomes.window: expected at most the scenario's steps (60 in "},
      {"default window above steps", "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n[[policies]]\nname = \"a\"\n"
                                     "set = { \"scenario.steps\" = 40 }\n",
       "1: outcomes.window: expected at most the scenario's steps (40 in "},
  };
  return cases;
}

TEST(ExperimentErrors, EachKindOfBadInput) {
  Scratch s;
  for (const auto& c : bad_cases()) {
    SCOPED_TRACE(c.what);
    const std::string file = (s.dir() / "x.toml").string();
    EXPECT_TRUE(starts_with(error_of(s, c.text), file + ":" + c.prefix));
  }
}

TEST(ExperimentErrors, ErrorCarriesFileLineAndKey) {
  Scratch s;
  try {
    load(s, "[experiment]\nname = \"t\"\nreplicates = -2\n");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), (s.dir() / "x.toml").string());
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "experiment.replicates");
    EXPECT_EQ(e.exit_code(), 2);
  }
}

TEST(ExperimentErrors, UnreadableFileIsAnIoError) {
  Scratch s;
  EXPECT_THROW(load_experiment(s.dir() / "missing.toml"), IoError);
  EXPECT_THROW(load_experiment(s.dir()), IoError);
}

TEST(ExperimentErrors, ScenarioErrorsSurfaceAsTheyAre) {
  Scratch s;
  const std::string head = "[experiment]\nname = \"t\"\nscenario = \"mini.toml\"\n";
  // A factor key that is not a scenario key: the scenario's --set error (override 1 of the run).
  EXPECT_TRUE(starts_with(error_of(s, head + "[[factors]]\nkey = \"brands.Nope.price\"\nvalues = [1]\n"),
                          "--set:1: brands.Nope: unknown brand (expected one of: A, B)"));
  EXPECT_TRUE(starts_with(error_of(s, head + "[[factors]]\nkey = \"choice.beta_lief\"\nvalues = [1]\n"),
                          "--set:1: choice.beta_lief: unknown key"));
  // A value out of the scenario's range, after the experiment's own override.
  EXPECT_TRUE(starts_with(error_of(s, head + "set = { \"population.customers\" = 500 }\n"
                                             "[[policies]]\nname = \"a\"\nset = { \"brands.A.price\" = -1 }\n"),
                          "--set:2: brands.A.price: expected a number > 0, got -1"));
  // Only one point of a grid is bad: every point is validated.
  EXPECT_TRUE(starts_with(error_of(s, head + "[[factors]]\nkey = \"network.degree\"\nvalues = [4, 5]\n"),
                          "--set:1: network.degree: expected an even integer"));
  // A non-integer factor on an integer key.
  EXPECT_TRUE(starts_with(error_of(s, head + "[[factors]]\nkey = \"network.degree\"\nvalues = [4.0]\n"),
                          "--set:1: network.degree: expected an even integer, got a float"));
  // An invalid scenario file names itself.
  s.write("broken.toml", std::string(kMiniScenario) + "\n[network]\ndegree = 3\n");
  EXPECT_TRUE(starts_with(error_of(s, "[experiment]\nname = \"t\"\n[[policies]]\nname = \"a\"\nscenario = \"broken.toml\"\n"),
                          (s.dir() / "broken.toml").string() + ":18: network.degree: expected an even integer"));
  EXPECT_THROW(load(s, "[experiment]\nname = \"t\"\nscenario = \"nope.toml\"\n[[policies]]\nname = \"a\"\n"), IoError);
}

// ---------------------------------------------------------------------------
// Plans

TEST(ExperimentPlan, ReplicateSeeds) {
  std::set<std::uint64_t> seen;
  for (int r = 0; r < 1000; ++r) {
    const std::uint64_t seed = replicate_seed(20260101, r);
    EXPECT_LE(seed, (std::uint64_t{1} << 63) - 1);
    EXPECT_EQ(seed, replicate_seed(20260101, r));
    seen.insert(seed);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_NE(replicate_seed(1, 0), replicate_seed(2, 0));
  EXPECT_NE(replicate_seed(1, 1), replicate_seed(2, 0));
}

TEST(ExperimentPlan, PoliciesShareSeedsAcrossPoliciesNotReplicates) {
  Scratch s;
  const ExperimentSpec e = load(s, R"([experiment]
name = "t"
scenario = "mini.toml"
seed = 42
replicates = 3
set = { "population.customers" = 5000 }

[[policies]]
name = "a"

[[policies]]
name = "b"
set = { "brands.A.price" = 9.5 }
)");
  const auto runs = plan_runs(e);
  ASSERT_EQ(runs.size(), 6u);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunPlan& r = runs[i];
    EXPECT_EQ(r.index, static_cast<int>(i));
    EXPECT_EQ(r.run_id, "00000" + std::to_string(i));
    EXPECT_EQ(r.point, static_cast<int>(i / 3));
    EXPECT_EQ(r.policy, i < 3 ? "a" : "b");
    EXPECT_EQ(r.replicate, static_cast<int>(i % 3));
    EXPECT_EQ(r.seed, replicate_seed(42, r.replicate));
    EXPECT_EQ(r.scenario, s.dir() / "mini.toml");
    EXPECT_TRUE(r.factor_values.empty());
    EXPECT_TRUE(r.sobol_matrix.empty());
    std::vector<std::string> want{"population.customers=5000"};
    if (i >= 3) want.emplace_back("brands.A.price=9.5");
    want.push_back("scenario.seed=" + std::to_string(r.seed));
    EXPECT_EQ(r.overrides, want);
  }
  EXPECT_EQ(runs[0].seed, runs[3].seed);  // common random numbers
  EXPECT_NE(runs[0].seed, runs[1].seed);
  EXPECT_NE(runs[1].seed, runs[2].seed);
  EXPECT_EQ(plan_runs(e), runs);
}

TEST(ExperimentPlan, GridIsTheCartesianProductFirstFactorOutermost) {
  Scratch s;
  const ExperimentSpec e = load(s, R"([experiment]
name = "t"
scenario = "mini.toml"
replicates = 2

[[factors]]
key = "network.degree"
values = [4, 6, 8]

[[factors]]
key = "choice.beta_life"
values = [0.1, 2]
)");
  EXPECT_EQ(e.design, Design::kGrid);
  EXPECT_TRUE(e.factors[0].integer);   // written as integers
  EXPECT_FALSE(e.factors[1].integer);
  const auto runs = plan_runs(e);
  ASSERT_EQ(runs.size(), 12u);
  const std::vector<std::vector<double>> cells{{4, 0.1}, {4, 2}, {6, 0.1}, {6, 2}, {8, 0.1}, {8, 2}};
  const std::vector<std::vector<std::string>> text{
      {"network.degree=4", "choice.beta_life=0.1"}, {"network.degree=4", "choice.beta_life=2.0"},
      {"network.degree=6", "choice.beta_life=0.1"}, {"network.degree=6", "choice.beta_life=2.0"},
      {"network.degree=8", "choice.beta_life=0.1"}, {"network.degree=8", "choice.beta_life=2.0"}};
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::size_t c = i / 2;
    EXPECT_EQ(runs[i].point, static_cast<int>(c));
    EXPECT_EQ(runs[i].replicate, static_cast<int>(i % 2));
    EXPECT_EQ(runs[i].factor_values, cells[c]);
    auto want = text[c];
    want.push_back("scenario.seed=" + std::to_string(replicate_seed(1, runs[i].replicate)));
    EXPECT_EQ(runs[i].overrides, want);
    EXPECT_TRUE(runs[i].policy.empty());
  }
}

TEST(ExperimentPlan, FactorValuesPrintWithFullPrecision) {
  Scratch s;
  const double x = 1.0 / 3.0;
  const ExperimentSpec e = load(s, R"([experiment]
name = "t"
scenario = "mini.toml"

[[factors]]
key = "choice.beta_life"
values = [0.3333333333333333, 1e-7, 98.76543210987654]
)");
  const auto runs = plan_runs(e);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].factor_values[0], x);
  const std::vector<double> want{x, 1e-7, 98.76543210987654};
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string& o = runs[i].overrides[0];
    EXPECT_EQ(std::stod(o.substr(o.find('=') + 1)), want[i]) << o;
    EXPECT_EQ(load_scenario(e.scenario, runs[i].overrides).choice.beta_life, want[i]) << o;
  }
}

TEST(ExperimentPlan, LatinHypercubeStratifies) {
  const int n = 25;
  const int k = 3;
  const auto pts = latin_hypercube(n, k, 99);
  ASSERT_EQ(pts.size(), static_cast<std::size_t>(n));
  for (int d = 0; d < k; ++d) {
    std::vector<int> hits(n, 0);
    for (const auto& p : pts) {
      ASSERT_EQ(p.size(), static_cast<std::size_t>(k));
      const double x = p[static_cast<std::size_t>(d)];
      ASSERT_GE(x, 0.0);
      ASSERT_LT(x, 1.0);
      ++hits[static_cast<std::size_t>(x * n)];
    }
    EXPECT_EQ(hits, std::vector<int>(n, 1)) << "dimension " << d;
  }
  EXPECT_EQ(latin_hypercube(n, k, 99), pts);
  EXPECT_NE(latin_hypercube(n, k, 100), pts);
  // Dimensions are permuted independently.
  std::vector<int> s0, s1;
  for (const auto& p : pts) {
    s0.push_back(static_cast<int>(p[0] * n));
    s1.push_back(static_cast<int>(p[1] * n));
  }
  EXPECT_NE(s0, s1);
}

TEST(ExperimentPlan, LatinHypercubeDesignMapsToRanges) {
  Scratch s;
  const std::string text = R"([experiment]
name = "t"
scenario = "mini.toml"
design = "lhs"
samples = 10
seed = 5

[[factors]]
key = "choice.beta_life"
range = [2, 8]

[[factors]]
key = "population.customers"
range = [1000, 1010]
integer = true
)";
  const ExperimentSpec e = load(s, text);
  const auto runs = plan_runs(e);
  ASSERT_EQ(runs.size(), 10u);
  std::vector<int> strata(10, 0);
  std::set<double> sizes;
  for (const auto& r : runs) {
    ASSERT_EQ(r.factor_values.size(), 2u);
    const double beta = r.factor_values[0];
    EXPECT_GE(beta, 2.0);
    EXPECT_LT(beta, 8.0);
    ++strata[static_cast<std::size_t>((beta - 2.0) / 0.6)];
    const double size = r.factor_values[1];
    EXPECT_EQ(size, std::floor(size));
    EXPECT_GE(size, 1000.0);
    EXPECT_LE(size, 1010.0);
    sizes.insert(size);
    EXPECT_EQ(r.overrides[1], "population.customers=" + std::to_string(static_cast<int>(size)));
  }
  EXPECT_EQ(strata, std::vector<int>(10, 1));
  EXPECT_GE(sizes.size(), 5u);
  EXPECT_EQ(plan_runs(load(s, text)), runs);
}

TEST(ExperimentPlan, SobolPointsAreTheKnownSequence) {
  const auto pts = sobol_points(64, 4);
  ASSERT_EQ(pts.size(), 64u);
  // The first points of the Sobol sequence (Joe-Kuo directions; Boost skips the origin).
  EXPECT_EQ(pts[0], (std::vector<double>{0.5, 0.5, 0.5, 0.5}));
  EXPECT_EQ(pts[1], (std::vector<double>{0.75, 0.25, 0.25, 0.25}));
  EXPECT_EQ(pts[2], (std::vector<double>{0.25, 0.75, 0.75, 0.75}));
  EXPECT_EQ(pts[3], (std::vector<double>{0.375, 0.375, 0.625, 0.875}));
  for (const auto& p : pts)
    for (const double x : p) {
      EXPECT_GE(x, 0.0);
      EXPECT_LT(x, 1.0);
    }
  // Balanced: points 0..63 split evenly between the halves of every dimension; these are 1..64.
  for (std::size_t d = 0; d < 4; ++d) {
    const auto low = std::count_if(pts.begin(), pts.end(), [&](const auto& p) { return p[d] < 0.5; });
    EXPECT_NEAR(static_cast<double>(low), 32.0, 1.0);
  }
  EXPECT_EQ(sobol_points(64, 4), pts);
}

TEST(ExperimentPlan, SaltelliMatrices) {
  Scratch s;
  const ExperimentSpec e = load(s, R"([experiment]
name = "t"
scenario = "mini.toml"
design = "sobol"
samples = 8
replicates = 2

[[factors]]
key = "choice.beta_life"
range = [2, 8]

[[factors]]
key = "brands.A.action"
range = [0.1, 0.9]

[[factors]]
key = "choice.beta_money"
range = [0, 1]
)");
  const auto runs = plan_runs(e);
  const std::size_t k = 3;
  ASSERT_EQ(runs.size(), 8u * (k + 2) * 2);
  const auto u = sobol_points(8, 2 * static_cast<int>(k));
  auto scaled = [&](std::size_t i, double x) { return e.factors[i].low + x * (e.factors[i].high - e.factors[i].low); };
  const std::vector<std::string> matrices{"A", "B", "AB1", "AB2", "AB3"};
  for (std::size_t j = 0; j < 8; ++j) {
    std::vector<double> a(k), b(k);
    for (std::size_t i = 0; i < k; ++i) {
      a[i] = scaled(i, u[j][i]);
      b[i] = scaled(i, u[j][k + i]);
    }
    for (std::size_t m = 0; m < matrices.size(); ++m) {
      for (int r = 0; r < 2; ++r) {
        const RunPlan& run = runs[(j * matrices.size() + m) * 2 + static_cast<std::size_t>(r)];
        EXPECT_EQ(run.point, static_cast<int>(j));
        EXPECT_EQ(run.sobol_matrix, matrices[m]);
        EXPECT_EQ(run.replicate, r);
        std::vector<double> want = m == 0 ? a : b;
        if (m >= 2) {  // AB_i: A with column i from B
          want = a;
          want[m - 2] = b[m - 2];
        }
        EXPECT_EQ(run.factor_values, want) << "sample " << j << " " << matrices[m];
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Outcomes

Series step_brand(const std::string& name, std::vector<double> values) {
  Series s;
  s.name = name;
  s.dims = {"step", "brand"};
  s.shape = {values.size() / 2, 2};
  s.values = std::move(values);
  return s;
}

RunResult hand_made_run() {
  RunResult r;
  r.brands = {"X", "Y"};
  r.steps = 4;
  // Rows are steps, columns brands X, Y.
  r.series = {
      step_brand("share", {0.5, 0.5, 0.6, 0.4, 0.7, 0.3, 0.8, 0.2}),
      step_brand("customers", {100, 100, 120, 80, 140, 0, 150, 50}),
      step_brand("margin", {10, 20, 30, 40, 50, 60, 70, 80}),
      step_brand("nps", {10, -10, 20, -20, 30, -30, 40, -40}),
      step_brand("defections", {0, 10, 12, 8, 14, 3, 30, 5}),
      step_brand("trust", {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}),
      step_brand("loyalty", {0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2}),
  };
  return r;
}

TEST(ExperimentOutcomes, HandMadeRun) {
  const auto out = compute_outcomes(hand_made_run(), kOutcomeNames, 2);
  const std::vector<std::pair<std::string, double>> want{
      {"final_share.X", 0.8},       {"final_share.Y", 0.2},
      {"mean_share.X", 0.75},       {"mean_share.Y", 0.25},
      {"final_customers.X", 150},   {"final_customers.Y", 50},
      {"mean_margin.X", 60},        {"mean_margin.Y", 70},
      {"total_margin.X", 160},      {"total_margin.Y", 200},
      {"mean_nps.X", 35},           {"mean_nps.Y", -35},
      {"churn.X", (0.1 + 0.2) / 2}, {"churn.Y", (0.0 + 0.1) / 2},  // Y had no customers at step 2
      {"mean_trust.X", 0.6},        {"mean_trust.Y", 0.7},
      {"mean_loyalty.X", 0.4},      {"mean_loyalty.Y", 0.3},
  };
  ASSERT_EQ(out.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(out[i].first, want[i].first);
    EXPECT_NEAR(out[i].second, want[i].second, 1e-12) << want[i].first;
  }
}

TEST(ExperimentOutcomes, OrderFollowsTheRequestAndLongWindowsUseAllSteps) {
  const auto out = compute_outcomes(hand_made_run(), {"mean_nps", "mean_share"}, 100);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].first, "mean_nps.X");
  EXPECT_DOUBLE_EQ(out[0].second, 25.0);
  EXPECT_EQ(out[1].first, "mean_nps.Y");
  EXPECT_DOUBLE_EQ(out[1].second, -25.0);
  EXPECT_EQ(out[2].first, "mean_share.X");
  EXPECT_DOUBLE_EQ(out[2].second, 0.65);
  EXPECT_EQ(out[3].first, "mean_share.Y");
  EXPECT_DOUBLE_EQ(out[3].second, 0.35);
  EXPECT_THROW(compute_outcomes(hand_made_run(), {"profit"}, 2), std::invalid_argument);
}

}  // namespace
}  // namespace cxsim
