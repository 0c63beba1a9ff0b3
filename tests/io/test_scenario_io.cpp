#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cxsim/core/error.hpp"
#include "cxsim/io/scenario_io.hpp"

namespace cxsim {
namespace {

// Line numbers matter: the error tests below point at them.
constexpr const char* kMinimal = R"([scenario]
name = "mini"
steps = 20

[values]
dimensions = ["eco", "fair"]

[cohorts.young]
fraction = 0.4
values_mean = { eco = 0.5 }

[cohorts.old]
fraction = 0.6

[brands.Verde]
price = 11
stance = { eco = 0.7 }

[brands.Anchor]
price = 10
)";
// Text appended to kMinimal starts on line 21.

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// kMinimal with the first occurrence of `from` replaced by `to` (same line count).
std::string edit(const std::string& from, const std::string& to) {
  std::string text = kMinimal;
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

/// The message parse_scenario throws, or "no error".
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    parse_scenario(text, "x.toml", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

::testing::AssertionResult starts_with(const std::string& text, const std::string& prefix) {
  if (text.rfind(prefix, 0) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\"\ndoes not start with\n\""
                                       << prefix << "\"";
}

// ---------------------------------------------------------------------------

TEST(ScenarioParse, BaselineParsesInFileOrderWithDefaults) {
  const std::string path = CXSIM_SOURCE_DIR "/scenarios/baseline.toml";
  const ScenarioSpec s = load_scenario(path);
  EXPECT_EQ(s.name, "baseline");
  EXPECT_EQ(s.source_file, path);
  EXPECT_EQ(s.steps, 156);
  EXPECT_EQ(s.seed, 20260101u);
  EXPECT_EQ(s.customers, 200000);
  const std::vector<std::string> dims{"sustainability", "social_justice", "community", "tradition"};
  EXPECT_EQ(s.dimensions, dims);
  ASSERT_EQ(s.brands.size(), 4u);
  EXPECT_EQ(s.brands[0].name, "Verde");
  EXPECT_EQ(s.brands[1].name, "Anchor");
  EXPECT_EQ(s.brands[2].name, "Swift");
  EXPECT_EQ(s.brands[3].name, "Bargain");
  ASSERT_EQ(s.cohorts.size(), 4u);
  EXPECT_EQ(s.cohorts[0].name, "gen_z");
  EXPECT_EQ(s.cohorts[3].name, "boomer");
  EXPECT_EQ(s.entrant_cohort, 0);
  EXPECT_EQ(s.brands[0].policy.stance, (std::vector<double>{0.7, 0.0, 0.0, 0.0}));
  EXPECT_EQ(s.brands[1].policy.stance, (std::vector<double>(4, 0.0)));
  EXPECT_EQ(s.cohorts[3].values_mean, (std::vector<double>{0.05, 0.0, 0.3, 0.4}));
  // Keys the file leaves out keep the model defaults.
  EXPECT_EQ(s.brands[0].policy.service_cost, BrandPolicy{}.service_cost);
  EXPECT_EQ(s.brands[0].employees_per_1k, BrandSpec{}.employees_per_1k);
  EXPECT_EQ(s.cohorts[0].purchase_rate, CohortSpec{}.purchase_rate);
  EXPECT_EQ(s.choice, ChoiceParams{});
  EXPECT_EQ(s.experience, ExperienceParams{});
  EXPECT_EQ(s.employees, EmployeeParams{});
  EXPECT_EQ(s.market, MarketParams{});
  EXPECT_EQ(s.tracking_sample, ScenarioSpec{}.tracking_sample);
  EXPECT_TRUE(s.events.empty());
}

TEST(ScenarioParse, CompiledInDefaultScenarioParses) {
  const ScenarioSpec s =
      parse_scenario(std::string(default_scenario_text()), std::string(default_scenario_name()));
  EXPECT_FALSE(s.brands.empty());
}

TEST(ScenarioParse, MinimalFileGetsDefaults) {
  const ScenarioSpec s = parse_scenario(kMinimal, "mini.toml");
  EXPECT_EQ(s.source_file, "mini.toml");
  EXPECT_EQ(s.description, "");
  EXPECT_EQ(s.steps, 20);
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.customers, 100000);
  EXPECT_EQ(s.degree, 8);
  EXPECT_EQ(s.cohorts[1].values_mean, (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(s.cohorts[0].values_mean, (std::vector<double>{0.5, 0.0}));
  EXPECT_EQ(s.brands[0].policy.price, 11.0);  // an integer where a float is expected
  EXPECT_EQ(s.brands[1].policy.stance, (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(s.entrant_cohort, 0);
}

TEST(ScenarioParse, OrderFollowsTheFileNotTheAlphabet) {
  const std::string text = std::string(kMinimal) +
                           "[brands.Zed]\nprice = 1\n[brands.Alpha]\nprice = 2\n"
                           "[population]\nentrant_cohort = \"old\"\n";
  const ScenarioSpec s = parse_scenario(text, "x.toml");
  ASSERT_EQ(s.brands.size(), 4u);
  EXPECT_EQ(s.brands[2].name, "Zed");
  EXPECT_EQ(s.brands[3].name, "Alpha");
  EXPECT_EQ(s.entrant_cohort, 1);
}

TEST(ScenarioParse, EventsAreSortedStablyAndTyped) {
  const std::string text = std::string(kMinimal) + R"(
[[events]]
step = 10
brand = "Anchor"
set = { price = 9, stance = { fair = -0.5 } }

[[events]]
step = 5
set = { demand = 0.4 }

[[events]]
step = 10
cohort = "young"
set = { salience_mean = 0.8, values_mean = { eco = 0.9 } }
)";
  const ScenarioSpec s = parse_scenario(text, "x.toml");
  ASSERT_EQ(s.events.size(), 3u);
  EXPECT_EQ(s.events[0].step, 5);
  EXPECT_EQ(s.events[0].target, EventTarget::kMarket);
  EXPECT_EQ(s.events[0].index, -1);
  ASSERT_EQ(s.events[0].changes.size(), 1u);
  EXPECT_EQ(s.events[0].changes[0].field, EventField::kDemand);
  EXPECT_EQ(s.events[0].changes[0].value, 0.4);

  EXPECT_EQ(s.events[1].step, 10);
  EXPECT_EQ(s.events[1].target, EventTarget::kBrand);
  EXPECT_EQ(s.events[1].index, 1);
  ASSERT_EQ(s.events[1].changes.size(), 2u);
  EXPECT_EQ(s.events[1].changes[0].field, EventField::kPrice);
  EXPECT_EQ(s.events[1].changes[0].value, 9.0);
  EXPECT_EQ(s.events[1].changes[1].field, EventField::kStance);
  EXPECT_EQ(s.events[1].changes[1].vector, (std::vector<double>{0.0, -0.5}));

  EXPECT_EQ(s.events[2].target, EventTarget::kCohort);
  EXPECT_EQ(s.events[2].index, 0);
  ASSERT_EQ(s.events[2].changes.size(), 2u);
  EXPECT_EQ(s.events[2].changes[0].field, EventField::kSalienceMean);
  EXPECT_EQ(s.events[2].changes[1].field, EventField::kValuesMean);
  EXPECT_EQ(s.events[2].changes[1].vector, (std::vector<double>{0.9, 0.0}));
}

// ---------------------------------------------------------------------------
// One test per kind of bad input; each pins file, line and key.

TEST(ScenarioErrors, SyntaxErrorIsOneLine) {
  const std::string msg = error_of(edit("steps = 20", "steps = "));
  EXPECT_EQ(msg, "x.toml:3: syntax error: missing value after key-value separator '='");
}

TEST(ScenarioErrors, SyntaxErrorDuplicateKey) {
  const std::string msg = error_of(edit("steps = 20", "name = \"b\""));
  EXPECT_TRUE(starts_with(msg, "x.toml:3: syntax error: "));
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  EXPECT_EQ(msg.find('\x1b'), std::string::npos);
}

TEST(ScenarioErrors, UnknownTopLevelSection) {
  EXPECT_TRUE(starts_with(error_of(std::string(kMinimal) + "[chioce]\nbeta_life = 1\n"),
                          "x.toml:21: chioce: unknown key (expected one of: scenario, population, "
                          "values, network, metrics, choice,"));
}

TEST(ScenarioErrors, UnknownKeyInSection) {
  EXPECT_TRUE(starts_with(error_of(std::string(kMinimal) + "[choice]\nbeta_lief = 1\n"),
                          "x.toml:22: choice.beta_lief: unknown key (expected one of: beta_life, "
                          "beta_time,"));
}

TEST(ScenarioErrors, UnknownKeyInBrand) {
  EXPECT_TRUE(starts_with(error_of(edit("price = 10", "price = 10\npricee = 1")),
                          "x.toml:21: brands.Anchor.pricee: unknown key (expected one of: price, "
                          "unit_cost, effort, stance,"));
}

TEST(ScenarioErrors, UnknownKeyInEventSet) {
  const std::string text = std::string(kMinimal) +
                           "[[events]]\nstep = 1\nbrand = \"Verde\"\nset = { pricee = 3 }\n";
  EXPECT_TRUE(starts_with(error_of(text), "x.toml:24: events[0].set.pricee: unknown key for a "
                                          "brand event (expected one of: price, unit_cost,"));
}

TEST(ScenarioErrors, WrongType) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[population]\ncustomers = \"many\"\n"),
            "x.toml:22: population.customers: expected an integer, got a string");
}

TEST(ScenarioErrors, FloatWhereIntegerExpected) {
  EXPECT_EQ(error_of(edit("steps = 20", "steps = 20.0")),
            "x.toml:3: scenario.steps: expected an integer, got a float");
}

TEST(ScenarioErrors, MissingRequiredKeyPointsAtItsTable) {
  EXPECT_EQ(error_of(edit("price = 10", "effort = 0.1")),
            "x.toml:19: brands.Anchor.price: required key is missing");
}

TEST(ScenarioErrors, MissingRequiredSection) {
  EXPECT_EQ(error_of(edit("[values]\ndimensions = [\"eco\", \"fair\"]", "\n")),
            "x.toml:1: values.dimensions: required key is missing");
}

TEST(ScenarioErrors, OutOfRangeFloat) {
  EXPECT_EQ(error_of(edit("price = 11", "price = -3")),
            "x.toml:16: brands.Verde.price: expected a number > 0, got -3");
  EXPECT_EQ(error_of(edit("price = 11", "price = inf")),
            "x.toml:16: brands.Verde.price: expected a finite number > 0, got inf");
}

TEST(ScenarioErrors, OutOfRangeInteger) {
  EXPECT_EQ(error_of(edit("steps = 20", "steps = 0")),
            "x.toml:3: scenario.steps: expected an integer in [1, 65000], got 0");
}

TEST(ScenarioErrors, OutOfRangeInVector) {
  EXPECT_EQ(error_of(edit("{ eco = 0.7 }", "{ eco = 1.5 }")),
            "x.toml:17: brands.Verde.stance.eco: expected a number in [-1, 1], got 1.5");
}

TEST(ScenarioErrors, FractionsMustSumToOne) {
  EXPECT_EQ(error_of(edit("fraction = 0.6", "fraction = 0.5")),
            "x.toml:13: cohorts.old.fraction: expected cohort fractions summing to 1, got 0.9");
}

TEST(ScenarioErrors, UnknownDimensionInStance) {
  EXPECT_EQ(error_of(edit("{ eco = 0.7 }", "{ ecology = 0.7 }")),
            "x.toml:17: brands.Verde.stance.ecology: unknown dimension \"ecology\" (expected one "
            "of: eco, fair)");
}

TEST(ScenarioErrors, UnknownBrandInEvent) {
  const std::string text =
      std::string(kMinimal) + "[[events]]\nstep = 1\nbrand = \"Verd\"\nset = { price = 3 }\n";
  EXPECT_EQ(error_of(text), "x.toml:23: events[0].brand: unknown brand \"Verd\" (expected one of: "
                            "Verde, Anchor)");
}

TEST(ScenarioErrors, EventStepBeyondHorizon) {
  const std::string text = std::string(kMinimal) + "[[events]]\nstep = 20\nset = { demand = 0 }\n";
  EXPECT_EQ(error_of(text), "x.toml:22: events[0].step: expected an integer in [0, 19], got 20");
}

TEST(ScenarioErrors, EventWithoutSet) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[[events]]\nstep = 2\n"),
            "x.toml:21: events[0].set: required key is missing");
}

TEST(ScenarioErrors, EventWithBrandAndCohort) {
  const std::string text = std::string(kMinimal) +
                           "[[events]]\nstep = 1\nbrand = \"Verde\"\ncohort = \"old\"\n"
                           "set = { price = 3 }\n";
  EXPECT_EQ(error_of(text), "x.toml:21: events[0]: expected either brand or cohort, not both");
}

TEST(ScenarioErrors, CohortKeyNotAllowedInMarketEvent) {
  const std::string text =
      std::string(kMinimal) + "[[events]]\nstep = 1\nset = { salience_mean = 0.5 }\n";
  EXPECT_EQ(error_of(text), "x.toml:23: events[0].set.salience_mean: unknown key for a market "
                            "event (expected one of: demand)");
}

TEST(ScenarioErrors, DuplicateDimension) {
  EXPECT_EQ(error_of(edit("[\"eco\", \"fair\"]", "[\"eco\", \"eco\"]")),
            "x.toml:6: values.dimensions[1]: duplicate name \"eco\"");
}

TEST(ScenarioErrors, DimensionNotAnIdentifier) {
  EXPECT_TRUE(starts_with(error_of(edit("\"fair\"]", "\"fair trade\"]")),
                          "x.toml:6: values.dimensions[1]: expected an identifier"));
}

TEST(ScenarioErrors, OddDegree) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[network]\ndegree = 7\n"),
            "x.toml:22: network.degree: expected an even integer in [0, 64], got 7");
}

TEST(ScenarioErrors, DegreeNotBelowCustomers) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[population]\ncustomers = 8\n"),
            "x.toml:22: population.customers: expected network.degree < population.customers, "
            "got 8 >= 8");
}

TEST(ScenarioErrors, SalienceSdTooLargeForItsMean) {
  EXPECT_TRUE(starts_with(
      error_of(edit("fraction = 0.6", "fraction = 0.6\nsalience_mean = 0.9\nsalience_sd = 0.35")),
      "x.toml:15: cohorts.old.salience_sd: expected salience_sd^2 < salience_mean (1 - "
      "salience_mean), i.e. salience_sd < 0.3"));
}

TEST(ScenarioErrors, PromoterPlusDetractorAboveOne) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[experience]\ndetractor_unresolved = 0.99\n"),
            "x.toml:22: experience.detractor_unresolved: expected promoter_unresolved + "
            "detractor_unresolved <= 1, got 1.02");
}

TEST(ScenarioErrors, UnknownEntrantCohort) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[population]\nentrant_cohort = \"gen_z\"\n"),
            "x.toml:22: population.entrant_cohort: unknown cohort \"gen_z\" (expected one of: "
            "young, old)");
}

TEST(ScenarioErrors, BadCohortName) {
  EXPECT_TRUE(starts_with(error_of(edit("[cohorts.old]", "[cohorts.\"old folks\"]")),
                          "x.toml:12: cohorts.old folks: expected a cohort name made of letters"));
}

TEST(ScenarioErrors, IntegerBeyond64BitsIsNotClampedToTheLimit) {
  // toml11 reads it as 2^63 - 1; TOML makes the document invalid.
  EXPECT_EQ(error_of(std::string(kMinimal) + "[population]\ncustomers = 99_999_999_999_999_999_999\n"),
            "x.toml:22: population.customers: expected an integer that fits in 64 bits, got 99_999_999_999_999_999_999");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[network]\ndegree = 0x8000000000000000\n"),
            "x.toml:22: network.degree: expected an integer that fits in 64 bits, got 0x8000000000000000");
  // The limits themselves, written exactly, are fine (and then checked against the key's range).
  EXPECT_EQ(error_of(std::string(kMinimal) + "[population]\ncustomers = 9223372036854775807\n"),
            "x.toml:22: population.customers: expected an integer in [1, 2000000000], got 9223372036854775807");
}

TEST(ScenarioErrors, EmptyFileReportsTheFirstSection) {
  EXPECT_EQ(error_of(""), "x.toml:1: scenario.name: required key is missing");
}

TEST(ScenarioErrors, NoBrands) {
  const std::string text = std::string(kMinimal).substr(0, std::string(kMinimal).find("[brands"));
  EXPECT_TRUE(starts_with(error_of(text), "x.toml:1: brands: required section is missing"));
}

TEST(ScenarioErrors, FirstProblemInFileOrderIsReported) {
  // Two problems: the one on the earlier line wins, whatever the section order.
  const std::string text = edit("price = 10", "price = -1") + "[choice]\nbeta_life = -1\n";
  EXPECT_TRUE(starts_with(error_of(text), "x.toml:20: brands.Anchor.price:"));
  const std::string text2 =
      edit("steps = 20", "steps = 20\nbogus = 1") + "[choice]\nbeta_life = -1\n";
  EXPECT_TRUE(starts_with(error_of(text2), "x.toml:4: scenario.bogus:"));
}

TEST(ScenarioErrors, UnreadableFileIsIoError) {
  try {
    load_scenario("/nonexistent/dir/none.toml");
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_TRUE(starts_with(e.what(), "cannot read scenario file '/nonexistent/dir/none.toml': "));
    EXPECT_EQ(e.exit_code(), 3);
  }
}

TEST(ScenarioErrors, ConfigErrorCarriesItsParts) {
  try {
    parse_scenario(edit("price = 11", "price = -3"), "x.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "x.toml");
    EXPECT_EQ(e.line(), 16);
    EXPECT_EQ(e.key(), "brands.Verde.price");
    EXPECT_EQ(e.exit_code(), 2);
  }
}

// ---------------------------------------------------------------------------

TEST(ScenarioOverrides, SetValuesAnywhereInTheDocument) {
  const ScenarioSpec s = parse_scenario(
      kMinimal, "x.toml",
      {"population.customers=5000", "brands.Verde.price=9.5", "choice.beta_life=0",
       "brands.Anchor.stance.fair = -0.25", "cohorts.young.fraction=0.3",
       "cohorts.old.fraction=0.7", "scenario.description=just words", "scenario.name=\"q\"",
       "employees.enabled=false", "values.dimensions=[\"eco\", \"fair\", \"local\"]",
       "brands.Verde.stance={ local = 0.5 }"});
  EXPECT_EQ(s.customers, 5000);
  EXPECT_EQ(s.brands[0].policy.price, 9.5);
  EXPECT_EQ(s.choice.beta_life, 0.0);
  EXPECT_EQ(s.choice.beta_time, ChoiceParams{}.beta_time);
  EXPECT_EQ(s.brands[1].policy.stance, (std::vector<double>{0.0, -0.25, 0.0}));
  EXPECT_EQ(s.brands[0].policy.stance, (std::vector<double>{0.0, 0.0, 0.5}));
  EXPECT_EQ(s.cohorts[0].fraction, 0.3);
  EXPECT_EQ(s.description, "just words");
  EXPECT_EQ(s.name, "q");
  EXPECT_FALSE(s.employees.enabled);
  EXPECT_EQ(s.k(), 3);
}

TEST(ScenarioOverrides, LaterOverrideWins) {
  const ScenarioSpec s = parse_scenario(kMinimal, "x.toml",
                                        {"population.customers=5000", "population.customers=6000"});
  EXPECT_EQ(s.customers, 6000);
}

TEST(ScenarioOverrides, ErrorsPointAtTheOverride) {
  EXPECT_EQ(error_of(kMinimal, {"scenario.steps=30", "population.customers=-5"}),
            "--set:2: population.customers: expected an integer in [1, 2000000000], got -5");
  EXPECT_EQ(error_of(kMinimal, {"brands.Verde.price=abc"}),
            "--set:1: brands.Verde.price: expected a number, got a string");
  EXPECT_EQ(error_of(kMinimal, {"population.customers=1e5"}),
            "--set:1: population.customers: expected an integer, got a float");
  EXPECT_TRUE(starts_with(error_of(kMinimal, {"choice.beta_lief=1"}),
                          "--set:1: choice.beta_lief: unknown key (expected one of: beta_life,"));
  EXPECT_EQ(error_of(kMinimal, {"brands.Verde.stance={ eco = 2 }"}),
            "--set:1: brands.Verde.stance.eco: expected a number in [-1, 1], got 2");
  // A cross-check broken by an override also points at it.
  EXPECT_EQ(error_of(kMinimal, {"cohorts.young.fraction=0.5"}),
            "--set:1: cohorts.young.fraction: expected cohort fractions summing to 1, got 1.1");
  EXPECT_TRUE(starts_with(error_of(kMinimal, {"experience.promoter_base=0.95"}),
                          "--set:1: experience.promoter_base: expected promoter_base + "
                          "detractor_base <= 1"));
}

TEST(ScenarioOverrides, UnknownBrandOrCohort) {
  EXPECT_EQ(error_of(kMinimal, {"brands.Nope.price=3"}),
            "--set:1: brands.Nope: unknown brand (expected one of: Verde, Anchor)");
  EXPECT_EQ(error_of(kMinimal, {"population.customers=500", "cohorts.gen_z.fraction=0.3"}),
            "--set:2: cohorts.gen_z: unknown cohort (expected one of: young, old)");
}

TEST(ScenarioOverrides, MalformedOverrides) {
  EXPECT_EQ(error_of(kMinimal, {"population.customers"}),
            "--set:1: expected key.path=value, got \"population.customers\"");
  EXPECT_EQ(error_of(kMinimal, {"=5"}), "--set:1: expected key.path=value, got \"=5\"");
  EXPECT_EQ(error_of(kMinimal, {"choice..beta_life=1"}),
            "--set:1: choice..beta_life: empty key in path");
  EXPECT_EQ(error_of(kMinimal, {"events.step=1"}),
            "--set:1: events.step: events cannot be changed with --set");
  EXPECT_TRUE(starts_with(error_of(kMinimal, {"chioce.beta_life=1"}),
                          "--set:1: chioce: unknown key (expected one of: scenario,"));
  EXPECT_EQ(error_of(kMinimal, {"brands.Verde=1"}),
            "--set:1: brands.Verde: expected brands.<name>.<key>=value");
  EXPECT_EQ(error_of(kMinimal, {"brands.Verde.price.x=1"}),
            "--set:1: brands.Verde.price: cannot set a key inside an integer");
}

// ---------------------------------------------------------------------------

TEST(ScenarioRoundTrip, BaselineSurvivesToToml) {
  const ScenarioSpec s = load_scenario(CXSIM_SOURCE_DIR "/scenarios/baseline.toml");
  const std::string text = to_toml(s);
  const ScenarioSpec back = parse_scenario(text, s.source_file);
  EXPECT_EQ(back, s);
  EXPECT_EQ(to_toml(back), text);
  // Every key is explicit, and floats stay floats.
  EXPECT_NE(text.find("[choice]\nbeta_life = 4.0\n"), std::string::npos);
  EXPECT_NE(text.find("ramp_steps = 12\n"), std::string::npos);
  EXPECT_NE(text.find("price = 10.0\n"), std::string::npos);
  EXPECT_NE(text.find("entrant_cohort = \"gen_z\"\n"), std::string::npos);
}

TEST(ScenarioRoundTrip, EventsAndAwkwardValuesSurvive) {
  const std::string events = edit("name = \"mini\"",
                                  "name = \"mini\"\ndescription = \"a \\\"quoted\\\"\\tline\\n\"") +
                             R"(
[choice]
beta_life = 0.1
reference_price = 12.345678901234567
[[events]]
step = 19
cohort = "old"
set = { values_mean = { fair = 0.25 }, salience_mean = 0.3 }
[[events]]
step = 3
brand = "Verde"
set = { price = 1e-7, stance = { eco = -1 }, marketing_reach = 0.1 }
[[events]]
step = 3
set = { demand = 0.5 }
)";
  const ScenarioSpec s = parse_scenario(events, "e.toml");
  ASSERT_EQ(s.events.size(), 3u);
  const ScenarioSpec back = parse_scenario(to_toml(s), "e.toml");
  EXPECT_EQ(back, s);
  EXPECT_EQ(back.description, "a \"quoted\"\tline\n");
  EXPECT_EQ(back.choice.reference_price, 12.345678901234567);
}

// ---------------------------------------------------------------------------

TEST(ScenarioDocs, ReferenceInDocsIsCurrent) {
  const std::string doc = read_file(CXSIM_SOURCE_DIR "/docs/scenarios.md");
  const std::string begin = "<!-- BEGIN GENERATED REFERENCE -->\n";
  const std::string end = "<!-- END GENERATED REFERENCE -->";
  const auto b = doc.find(begin);
  const auto e = doc.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  ASSERT_LT(b, e);
  const std::string embedded = doc.substr(b + begin.size(), e - b - begin.size());
  EXPECT_EQ(embedded, scenario_reference_markdown())
      << "docs/scenarios.md is stale: replace the text between the markers with the output of "
         "`cxsim schema-doc`";
}

TEST(ScenarioDocs, ReferenceCoversEveryKey) {
  const std::string md = scenario_reference_markdown();
  for (const char* key : {"`name`", "`customers`", "`dimensions`", "`degree`", "`tracking_sample`",
                          "`beta_life`", "`support_rate`", "`after_switch`", "`wom_rate`",
                          "`cases_per_employee`", "`demand`", "`purchase_shape`",
                          "`initial_trust`", "`set`"})
    EXPECT_NE(md.find(key), std::string::npos) << key;
}

TEST(ScenarioDocs, ExampleInDocsParses) {
  const std::string doc = read_file(CXSIM_SOURCE_DIR "/docs/scenarios.md");
  const std::string marker = "<!-- EXAMPLE -->\n```toml\n";
  const auto b = doc.find(marker);
  ASSERT_NE(b, std::string::npos);
  const auto start = b + marker.size();
  const auto e = doc.find("```", start);
  ASSERT_NE(e, std::string::npos);
  const ScenarioSpec s = parse_scenario(doc.substr(start, e - start), "example.toml");
  EXPECT_FALSE(s.events.empty());
}

}  // namespace
}  // namespace cxsim
