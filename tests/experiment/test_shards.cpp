// Shards and merges: shard assignment partitions the runs and balances their
// estimated cost; shards of a sweep merge into the single sweep's file; merge
// refuses parts of another experiment, overlapping parts and missing runs.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "cxsim/core/error.hpp"
#include "cxsim/experiment/sweep.hpp"
#include "cxsim/io/results_io.hpp"

namespace cxsim {
namespace {

namespace fs = std::filesystem;

/// An experiment with runs of two sizes: policy "big" has three times the customers.
/// In a directory of its own per test (ctest runs tests in parallel).
fs::path write_experiment(const std::string& name, int seed = 5) {
  const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  const fs::path dir = fs::path(CXSIM_TEST_TMPDIR) / ("shards_" + test + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "experiment.toml") << "[experiment]\nname = \"" << name << "\"\n"
      << "scenario = \"" << CXSIM_SOURCE_DIR << "/scenarios/baseline.toml\"\n"
      << "seed = " << seed << "\nreplicates = 3\n"
      << "set = { \"population.customers\" = 2000, \"scenario.burn_in\" = 4, \"scenario.steps\" = 16 }\n"
      << "[outcomes]\nwindow = 8\n"
      << "[[policies]]\nname = \"small\"\n\n"
      << "[[policies]]\nname = \"big\"\nset = { \"population.customers\" = 6000 }\n";
  return dir;
}

std::string shard_text(Shard s) { return std::to_string(s.index) + "/" + std::to_string(s.count); }

TEST(Shards, ParseAcceptsIOverNAndRejectsTheRest) {
  EXPECT_EQ(parse_shard("0/1"), (Shard{0, 1}));
  EXPECT_EQ(parse_shard("3/4"), (Shard{3, 4}));
  EXPECT_EQ(parse_shard("999999/1000000"), (Shard{999999, 1000000}));
  for (const char* bad : {"4/4", "1/0", "0/0", "-1/2", "1", "/2", "1/", "a/b", "1/2/3", " 1/2", "1/2 ", "0/1000001"}) {
    try {
      (void)parse_shard(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(Shards, EqualRunsDealRoundRobin) {
  const std::vector<RunSize> sizes(10, RunSize{1000, 52});
  EXPECT_EQ(shard_runs(sizes, {0, 3}), (std::vector<int>{0, 3, 6, 9}));
  EXPECT_EQ(shard_runs(sizes, {1, 3}), (std::vector<int>{1, 4, 7}));
  EXPECT_EQ(shard_runs(sizes, {2, 3}), (std::vector<int>{2, 5, 8}));
  EXPECT_TRUE(shard_runs(sizes, {11, 12}).empty()) << "more shards than runs: some are empty";
}

TEST(Shards, UnequalRunsArePartitionedAndBalanced) {
  // Costs spread over three orders of magnitude, in no particular order.
  std::vector<RunSize> sizes;
  for (int i = 0; i < 97; ++i) sizes.push_back({1000 * (1 + (i * 37) % 101) * (i % 7 == 0 ? 10 : 1), 50 + i % 3});
  for (int count : {1, 2, 5, 16}) {
    std::vector<int> owner(sizes.size(), -1);
    std::vector<double> load(static_cast<std::size_t>(count), 0.0);
    for (int s = 0; s < count; ++s) {
      const auto mine = shard_runs(sizes, {s, count});
      EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));
      for (int run : mine) {
        EXPECT_EQ(owner[static_cast<std::size_t>(run)], -1) << "run " << run << " in two shards";
        owner[static_cast<std::size_t>(run)] = s;
        load[static_cast<std::size_t>(s)] += static_cast<double>(sizes[static_cast<std::size_t>(run)].cost());
      }
    }
    EXPECT_EQ(std::count(owner.begin(), owner.end(), -1), 0) << count << " shards leave runs out";
    // Longest-first greedy: no shard exceeds another by more than the largest run.
    double largest = 0;
    for (const auto& s : sizes) largest = std::max(largest, static_cast<double>(s.cost()));
    const auto [lo, hi] = std::minmax_element(load.begin(), load.end());
    EXPECT_LE(*hi - *lo, largest) << count << " shards";
    // Deterministic.
    EXPECT_EQ(shard_runs(sizes, {0, count}), shard_runs(sizes, {0, count}));
  }
}

TEST(Shards, RunSizesFollowEveryRunsScenario) {
  const fs::path dir = write_experiment("sizes");
  const auto sizes = run_sizes(plan_runs(load_experiment(dir / "experiment.toml")));
  ASSERT_EQ(sizes.size(), 6u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(sizes[static_cast<std::size_t>(i)], (RunSize{2000, 20}));
  for (int i = 3; i < 6; ++i) EXPECT_EQ(sizes[static_cast<std::size_t>(i)], (RunSize{6000, 20}));
  // Three shards: each gets one big and one small run.
  for (int s = 0; s < 3; ++s) {
    const auto mine = shard_runs(sizes, {s, 3});
    ASSERT_EQ(mine.size(), 2u) << s;
    EXPECT_LT(mine[0], 3);
    EXPECT_GE(mine[1], 3);
  }
}

void expect_same(const fs::path& a, const fs::path& b) {
  ASSERT_EQ(list_runs(a), list_runs(b));
  for (const auto& id : list_runs(a)) {
    const RunResult x = read_run(a, id), y = read_run(b, id);
    ASSERT_EQ(x.series.size(), y.series.size());
    for (std::size_t j = 0; j < x.series.size(); ++j) {
      EXPECT_EQ(x.series[j].name, y.series[j].name);
      ASSERT_EQ(x.series[j].values.size(), y.series[j].values.size());
      EXPECT_EQ(0, std::memcmp(x.series[j].values.data(), y.series[j].values.data(),
                               x.series[j].values.size() * sizeof(double)))
          << id << " " << x.series[j].name;
    }
    EXPECT_EQ(x.provenance.scenario_toml, y.provenance.scenario_toml);
  }
  const ResultsReader ra(a), rb(b);
  for (const char* name : {"experiment", "experiment_file", "experiment_toml", "experiment_fingerprint"})
    EXPECT_EQ(ra.text_attribute(name), rb.text_attribute(name)) << name;
  EXPECT_EQ(ra.integer_attribute("experiment_runs"), rb.integer_attribute("experiment_runs"));
  const auto sa = ra.summary(), sb = rb.summary();
  ASSERT_TRUE(sa && sb);
  ASSERT_EQ(sa->size(), sb->size());
  for (std::size_t j = 0; j < sa->size(); ++j) {
    EXPECT_EQ((*sa)[j].name, (*sb)[j].name);
    EXPECT_EQ((*sa)[j].kind, (*sb)[j].kind);
    EXPECT_EQ((*sa)[j].text, (*sb)[j].text) << (*sa)[j].name;
    EXPECT_EQ((*sa)[j].numbers, (*sb)[j].numbers) << (*sa)[j].name;
    EXPECT_EQ((*sa)[j].integers, (*sb)[j].integers) << (*sa)[j].name;
  }
}

class ShardedSweep : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = write_experiment("merge");
    spec_ = load_experiment(dir_ / "experiment.toml");
    SweepOptions whole;
    whole.out = dir_ / "whole.h5";
    whole.threads = 2;
    ASSERT_TRUE(run_sweep(spec_, whole).complete);
    for (int s = 0; s < 2; ++s) {
      SweepOptions part;
      part.out = shard_file(s);
      part.threads = 1 + s;
      part.shard = Shard{s, 2};
      const SweepReport r = run_sweep(spec_, part);
      ASSERT_TRUE(r.complete);
      EXPECT_EQ(r.total, s == 0 ? 2 : 4);
    }
  }
  [[nodiscard]] fs::path shard_file(int s) const { return dir_ / ("shard_" + std::to_string(s) + ".h5"); }
  fs::path dir_;
  ExperimentSpec spec_;
};

TEST_F(ShardedSweep, ShardFilesCarryTheExperimentAndTheirRuns) {
  std::vector<std::string> all;
  for (int s = 0; s < 2; ++s) {
    const ResultsReader in(shard_file(s));
    EXPECT_EQ(in.text_attribute("shard"), shard_text({s, 2}));
    EXPECT_EQ(in.integer_attribute("experiment_runs"), 6);
    EXPECT_EQ(in.text_attribute("experiment_fingerprint"), ResultsReader(dir_ / "whole.h5").text_attribute("experiment_fingerprint"));
    // Balanced by cost: shard 0 has two big runs (3 and 5), shard 1 the third and the small ones.
    const auto runs = in.runs();
    const std::vector<std::string> expected =
        s == 0 ? std::vector<std::string>{"000003", "000005"}
               : std::vector<std::string>{"000000", "000001", "000002", "000004"};
    EXPECT_EQ(runs, expected);
    EXPECT_EQ(in.summary()->front().text, runs);
    all.insert(all.end(), runs.begin(), runs.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, list_runs(dir_ / "whole.h5"));
  EXPECT_FALSE(ResultsReader(dir_ / "whole.h5").text_attribute("shard"));
}

TEST_F(ShardedSweep, MergedShardsAreTheWholeSweep) {
  MergeOptions m;
  m.out = dir_ / "merged.h5";
  m.parts = {shard_file(1), shard_file(0)};
  const MergeReport r = merge_sweeps(m);
  EXPECT_EQ(r.runs, 6);
  EXPECT_EQ(r.total, 6);
  EXPECT_EQ(r.experiment, "merge");
  expect_same(dir_ / "whole.h5", m.out);
  EXPECT_FALSE(ResultsReader(m.out).text_attribute("shard"));
}

TEST_F(ShardedSweep, MergeRefusesBadPartsAndWritesNothing) {
  const auto refused = [&](std::vector<fs::path> parts, const std::string& expect, bool partial = false) {
    MergeOptions m;
    m.out = dir_ / "refused.h5";
    m.parts = std::move(parts);
    m.partial = partial;
    try {
      (void)merge_sweeps(m);
      ADD_FAILURE() << "merged, expected: " << expect;
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(m.out));
  };
  refused({shard_file(0), shard_file(0)}, "is in both");
  refused({shard_file(0), dir_ / "whole.h5"}, "is in both");
  refused({shard_file(0)}, "4 of the 6 runs of experiment 'merge' are in none of the parts (000000, 000001, 000002, 000004)");

  // Another experiment (another master seed): same runs, another fingerprint.
  const fs::path other_dir = write_experiment("merge_other", 6);
  SweepOptions other;
  other.out = other_dir / "shard_1.h5";
  other.shard = Shard{1, 2};
  ASSERT_TRUE(run_sweep(load_experiment(other_dir / "experiment.toml"), other).complete);
  refused({shard_file(0), other.out}, "is from experiment 'merge_other'");

  std::ofstream(dir_ / "garbage.h5") << "not HDF5\n";
  refused({shard_file(0), dir_ / "garbage.h5"}, "garbage.h5");

  // --partial: what there is, a valid sweep file that merges with the rest.
  MergeOptions partial;
  partial.out = dir_ / "partial.h5";
  partial.parts = {shard_file(0)};
  partial.partial = true;
  EXPECT_EQ(merge_sweeps(partial).runs, 2);
  MergeOptions rest;
  rest.out = dir_ / "rest.h5";
  rest.parts = {partial.out, shard_file(1)};
  EXPECT_EQ(merge_sweeps(rest).runs, 6);
  expect_same(dir_ / "whole.h5", rest.out);
}

TEST(ResultsReader, SummaryRoundTrips) {
  const fs::path file = fs::path(CXSIM_TEST_TMPDIR) / "summary_round_trip.h5";
  std::vector<SummaryColumn> columns = {
      {"run_id", SummaryColumn::Kind::kText, {"000000", "000001", "000002"}, {}, {}},
      {"policy", SummaryColumn::Kind::kText, {"a", "", "ccccccccccccccc"}, {}, {}},
      {"point", SummaryColumn::Kind::kInteger, {}, {}, {0, 1, -7}},
      {"seed", SummaryColumn::Kind::kInteger, {}, {}, {5833679380957638813, 1, (std::int64_t{1} << 62) + 1}},
      {"x.y", SummaryColumn::Kind::kNumber, {}, {0.1, -2.5e300, 3}, {}},
  };
  {
    ResultsWriter out(file);
    out.set_attribute("count", std::int64_t{-42});
    out.set_attribute("name", "text");
    out.write_summary(columns);
    out.commit();
  }
  const ResultsReader in(file);
  const auto back = in.summary();
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), columns.size());
  for (std::size_t j = 0; j < columns.size(); ++j) {
    EXPECT_EQ((*back)[j].name, columns[j].name);
    EXPECT_EQ((*back)[j].kind, columns[j].kind);
    EXPECT_EQ((*back)[j].text, columns[j].text);
    EXPECT_EQ((*back)[j].numbers, columns[j].numbers);
    EXPECT_EQ((*back)[j].integers, columns[j].integers);
  }
  EXPECT_EQ(in.integer_attribute("count"), -42);
  EXPECT_EQ(in.text_attribute("name"), "text");
  EXPECT_FALSE(in.text_attribute("absent"));
  EXPECT_THROW((void)in.integer_attribute("name"), IoError);
  EXPECT_TRUE(in.runs().empty());
}

}  // namespace
}  // namespace cxsim
