#include "cxsim/io/results_io.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "cxsim/core/error.hpp"
#include "cxsim/model/panel.hpp"

namespace cxsim {
namespace {

namespace fs = std::filesystem;

struct SeriesDef {
  const char* name;
  const char* unit;
  std::vector<std::string> dims;
  bool integer;
};

// Mirrors the standard series of docs/hdf5-schema.md so h5py_check.py accepts the file.
const std::vector<SeriesDef>& standard_series() {
  static const std::vector<SeriesDef> defs = {
      {"share", "fraction of purchases", {"step", "brand"}, false},
      {"customers", "customers", {"step", "brand"}, true},
      {"purchases", "purchases per step", {"step", "brand"}, true},
      {"acquisitions", "customers per step", {"step", "brand"}, true},
      {"defections", "customers per step", {"step", "brand"}, true},
      {"promoters", "purchasers", {"step", "brand"}, true},
      {"detractors", "purchasers", {"step", "brand"}, true},
      {"revenue", "currency units per step", {"step", "brand"}, false},
      {"margin", "currency units per step", {"step", "brand"}, false},
      {"loyalty", "index [0, 1]", {"step", "brand"}, false},
      {"nps", "points [-100, 100]", {"step", "brand"}, false},
      {"trust", "index [0, 1]", {"step", "brand"}, false},
      {"engagement", "index [0, 1]", {"step", "brand"}, false},
      {"turnover", "fraction of employees per step", {"step", "brand"}, false},
      {"ambassadors", "employees", {"step", "brand"}, true},
      {"service_quality", "probability", {"step", "brand"}, false},
      {"cohort_share", "fraction of the cohort's purchases", {"step", "cohort", "brand"}, false},
      {"segment_share", "fraction of the segment's purchases", {"step", "segment", "brand"}, false},
      {"salience", "index [0, 1]", {"step", "cohort"}, false},
      {"values_weight", "fraction", {"step"}, false},
      {"demand", "multiplier", {"step"}, false},
  };
  return defs;
}

// A panel of 40 members (every third customer) buying in most steps.
void add_panel(RunResult& run) {
  run.panel_size = 40;
  for (int t = 0; t < run.steps; ++t)
    for (std::uint32_t j = 0; j < 40; ++j) {
      if ((static_cast<std::uint32_t>(t) * 7 + j) % 3 == 0) continue;
      const double x = static_cast<double>(t * 40) + j;
      run.panel.push_back({t, 3 * j + 1, static_cast<std::uint8_t>(j % 2),
                           static_cast<std::uint8_t>((static_cast<std::uint32_t>(t) + j) % 3),
                           static_cast<std::uint8_t>(1 + (static_cast<std::uint32_t>(t) * j) % 3),
                           9.5 + std::sin(x) / 7.0});
    }
  run.panel_summary = summarize_panel(run.panel, run.panel_size, static_cast<int>(run.brands.size()),
                                      run.steps > 2 ? 1 : 0, run.steps);
}

RunResult make_run(const std::string& id, int steps = 5) {
  RunResult run;
  run.run_id = id;
  run.brands = {"Verde", "Anchor", "Café Ünïcode"};
  run.cohorts = {"gen_z", "boomer"};
  run.dimensions = {"sustainability", "tradition"};
  run.segments = {"opposes", "neutral", "shares", "salient"};
  run.steps = steps;
  run.customers = 1234567;
  for (const auto& def : standard_series()) {
    Series s;
    s.name = def.name;
    s.unit = def.unit;
    s.description = std::string("Synthetic ") + def.name + " for the results round-trip test.";
    s.dims = def.dims;
    s.integer = def.integer;
    std::size_t count = 1;
    for (const auto& d : def.dims) {
      const std::size_t n = d == "step"      ? static_cast<std::size_t>(steps)
                            : d == "brand"   ? run.brands.size()
                            : d == "segment" ? run.segments.size()
                                             : run.cohorts.size();
      s.shape.push_back(n);
      count *= n;
    }
    for (std::size_t i = 0; i < count; ++i) {
      const double x = static_cast<double>(i);
      // Values without short decimal forms check that doubles survive bit for bit.
      s.values.push_back(def.integer ? static_cast<double>((i * 7919) % 1000003) : std::sin(x + 0.1) / 3.0 + x * 1e-17);
    }
    run.series.push_back(std::move(s));
  }
  add_panel(run);
  Provenance& p = run.provenance;
  p.scenario_toml = "[scenario]\nname = \"test\" # ünïcödé\nsteps = " + std::to_string(steps) +
                    "\nseed = 42\n\n[population]\ncustomers = 1234567\n";
  p.scenario_file = "scenarios/test.toml";
  p.command_line = "cxsim run scenarios/test.toml --set scenario.seed=42";
  p.seed = 0xFFFFFFFFFFFFFFF1ULL;
  p.threads = 4;
  p.version = "0.1.0";
  p.git_commit = "0123456789abcdef";
  p.build_type = "Debug";
  p.created_utc = "2026-01-01T00:00:00Z";
  p.wall_seconds = 1.25;
  return run;
}

void expect_same(const RunResult& a, const RunResult& b) {
  EXPECT_EQ(a.run_id, b.run_id);
  EXPECT_EQ(a.brands, b.brands);
  EXPECT_EQ(a.cohorts, b.cohorts);
  EXPECT_EQ(a.dimensions, b.dimensions);
  EXPECT_EQ(a.segments, b.segments);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.customers, b.customers);
  ASSERT_EQ(a.series.size(), b.series.size());
  for (std::size_t i = 0; i < a.series.size(); ++i) {
    const Series& x = a.series[i];
    const Series& y = b.series[i];
    SCOPED_TRACE(x.name);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.unit, y.unit);
    EXPECT_EQ(x.description, y.description);
    EXPECT_EQ(x.dims, y.dims);
    EXPECT_EQ(x.shape, y.shape);
    EXPECT_EQ(x.integer, y.integer);
    EXPECT_EQ(x.values, y.values);
  }
  EXPECT_EQ(a.panel_size, b.panel_size);
  EXPECT_TRUE(a.panel == b.panel) << a.panel.size() << " vs " << b.panel.size() << " panel purchases";
  ASSERT_EQ(a.panel_summary.has_value(), b.panel_summary.has_value());
  if (a.panel_summary) {
    const PanelSummary& x = *a.panel_summary;
    const PanelSummary& y = *b.panel_summary;
    EXPECT_EQ(x.from, y.from);
    EXPECT_EQ(x.to, y.to);
    EXPECT_EQ(x.panel_size, y.panel_size);
    EXPECT_EQ(x.category_buyers, y.category_buyers);
    EXPECT_EQ(x.penetration, y.penetration);
    EXPECT_EQ(x.frequency, y.frequency);
    EXPECT_EQ(x.scr, y.scr);
    EXPECT_EQ(x.sole_buyers, y.sole_buyers);
    EXPECT_EQ(x.duplication, y.duplication);
  }
  const Provenance& p = a.provenance;
  const Provenance& q = b.provenance;
  EXPECT_EQ(p.scenario_toml, q.scenario_toml);
  EXPECT_EQ(p.scenario_file, q.scenario_file);
  EXPECT_EQ(p.command_line, q.command_line);
  EXPECT_EQ(p.seed, q.seed);
  EXPECT_EQ(p.threads, q.threads);
  EXPECT_EQ(p.version, q.version);
  EXPECT_EQ(p.git_commit, q.git_commit);
  EXPECT_EQ(p.build_type, q.build_type);
  EXPECT_EQ(p.created_utc, q.created_utc);
  EXPECT_EQ(p.wall_seconds, q.wall_seconds);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class ResultsIo : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(CXSIM_TEST_TMPDIR) / ("results_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }
  [[nodiscard]] fs::path temp_of(const fs::path& dest) const {
    return dest.string() + ".tmp-" + std::to_string(::getpid());
  }
  fs::path write_file(const std::string& name, const std::vector<RunResult>& runs) {
    const fs::path dest = dir_ / name;
    ResultsWriter writer(dest);
    for (const auto& r : runs) writer.write_run(r);
    writer.commit();
    return dest;
  }
  // The message of the IoError that f throws.
  template <class F>
  static std::string io_error(F&& f) {
    try {
      f();
    } catch (const IoError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected IoError";
    return {};
  }
  fs::path dir_;
};

TEST_F(ResultsIo, RoundTripsEverything) {
  const RunResult a = make_run("run_b");
  RunResult b = make_run("run_a", 7);
  b.provenance.seed = 0;
  const fs::path file = write_file("rt.h5", {a, b});
  EXPECT_EQ(list_runs(file), (std::vector<std::string>{"run_a", "run_b"}));
  expect_same(read_run(file, "run_b"), a);
  expect_same(read_run(file, "run_a"), b);
}

TEST_F(ResultsIo, ZeroSizedSeriesAndEmptyNames) {
  RunResult run = make_run("empty", 0);
  run.cohorts.clear();
  run.dimensions.clear();
  run.segments.clear();
  for (auto& s : run.series) {
    for (std::size_t i = 0; i < s.dims.size(); ++i)
      if (s.dims[i] == "cohort" || s.dims[i] == "segment") s.shape[i] = 0;
    s.values.clear();
  }
  const fs::path file = write_file("empty.h5", {run});
  expect_same(read_run(file, "empty"), run);
}

TEST_F(ResultsIo, PanelRoundTripsWithItsSummary) {
  const RunResult run = make_run("panel", 9);
  ASSERT_GT(run.panel.size(), 100u);
  ASSERT_TRUE(run.panel_summary.has_value());
  ASSERT_GT(run.panel_summary->category_buyers, 0);
  const fs::path file = write_file("panel.h5", {run});
  const RunResult back = read_run(file, "panel");
  expect_same(back, run);
  EXPECT_TRUE(back.panel_summary == run.panel_summary);
}

TEST_F(ResultsIo, RunWithoutPanelHasNoPanelGroup) {
  RunResult run = make_run("nopanel");
  run.panel_size = 0;
  run.panel.clear();
  run.panel_summary.reset();
  const fs::path file = write_file("nopanel.h5", {run});
  const RunResult back = read_run(file, "nopanel");
  expect_same(back, run);
  EXPECT_EQ(back.panel_size, 0);
  EXPECT_TRUE(back.panel.empty());
  EXPECT_FALSE(back.panel_summary.has_value());
  if (std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 with h5py is not available";
  const std::string cmd = "/usr/bin/python3 -c 'import h5py, sys; g = h5py.File(sys.argv[1], \"r\")[\"runs/nopanel\"]; "
                          "sys.exit(\"panel\" in g or \"segments\" not in g)' '" + file.string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST_F(ResultsIo, PanelWithoutPurchasesOrSummaryRoundTrips) {
  RunResult empty = make_run("empty_panel");
  empty.panel_size = 25;
  empty.panel.clear();
  empty.panel_summary = summarize_panel({}, 25, 3, 0, empty.steps);
  RunResult no_summary = make_run("no_summary");
  no_summary.panel_summary.reset();
  const fs::path file = write_file("empty_panel.h5", {empty, no_summary});
  expect_same(read_run(file, "empty_panel"), empty);
  expect_same(read_run(file, "no_summary"), no_summary);
}

TEST_F(ResultsIo, InconsistentPanelFailsWithoutLeavingAPartialRun) {
  const fs::path dest = dir_ / "badpanel.h5";
  ResultsWriter writer(dest);
  RunResult unsized = make_run("unsized");
  unsized.panel_size = 0;
  EXPECT_NE(io_error([&] { writer.write_run(unsized); }).find("panel_size 0"), std::string::npos);
  RunResult short_summary = make_run("short_summary");
  short_summary.panel_summary->scr.pop_back();
  EXPECT_NE(io_error([&] { writer.write_run(short_summary); }).find("'scr'"), std::string::npos);
  writer.commit();
  EXPECT_TRUE(list_runs(dest).empty());
}

TEST_F(ResultsIo, FileWithoutRunsListsNone) {
  const fs::path file = write_file("none.h5", {});
  EXPECT_TRUE(list_runs(file).empty());
}

TEST_F(ResultsIo, CommitRenamesTempIntoPlaceReplacingOldFile) {
  const fs::path dest = dir_ / "out.h5";
  std::ofstream(dest) << "stale";
  {
    ResultsWriter writer(dest);
    EXPECT_EQ(writer.destination(), dest);
    EXPECT_TRUE(fs::exists(temp_of(dest)));
    writer.write_run(make_run("r1"));
    writer.commit();
    EXPECT_FALSE(fs::exists(temp_of(dest)));
    EXPECT_THROW(writer.commit(), IoError);
    EXPECT_THROW(writer.write_run(make_run("r2")), IoError);
  }
  EXPECT_TRUE(fs::exists(dest));
  EXPECT_FALSE(fs::exists(temp_of(dest)));
  EXPECT_EQ(list_runs(dest), std::vector<std::string>{"r1"});
}

TEST_F(ResultsIo, DestructorWithoutCommitLeavesNothing) {
  const fs::path dest = dir_ / "abandoned.h5";
  {
    ResultsWriter writer(dest);
    writer.write_run(make_run("r1"));
  }
  EXPECT_FALSE(fs::exists(temp_of(dest)));
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(ResultsIo, MissingDirectoryFailsUpFront) {
  const fs::path dest = dir_ / "no_such_dir" / "x.h5";
  const std::string msg = io_error([&] { ResultsWriter writer(dest); });
  EXPECT_NE(msg.find(dest.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(ResultsIo, UnwritableLocationFailsUpFront) {
  // Even root cannot create files in /proc, so this exercises the H5Fcreate failure path too.
  const fs::path dest = "/proc/cxsim-results-test.h5";
  const std::string msg = io_error([&] { ResultsWriter writer(dest); });
  EXPECT_NE(msg.find(dest.string()), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST_F(ResultsIo, ReadOnlyDirectoryFailsUpFront) {
  if (::geteuid() == 0) GTEST_SKIP() << "root bypasses permission bits: ReadOnlyDirectoryFailsUpFrontForAnotherUser";
  const fs::path ro = dir_ / "ro";
  fs::create_directory(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  const std::string msg = io_error([&] { ResultsWriter writer(ro / "x.h5"); });
  EXPECT_NE(msg.find("not writable"), std::string::npos) << msg;
  fs::permissions(ro, fs::perms::owner_all);
  EXPECT_TRUE(fs::is_empty(ro));
}

TEST_F(ResultsIo, ReadOnlyDirectoryFailsUpFrontForAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch user; ReadOnlyDirectoryFailsUpFront covers this user";
  // A directory of root's, read-only to everyone else, in /tmp (which any
  // user can reach); a child process switches to nobody (65534) and must get
  // the up-front error, and nothing may appear in the directory.
  char tmpl[] = "/tmp/cxsim_ro_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path ro = tmpl;
  fs::permissions(ro, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                          fs::perms::others_read | fs::perms::others_exec);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    int code = 1;
    try {
      ResultsWriter writer(ro / "x.h5");
    } catch (const IoError& e) {
      code = std::string(e.what()).find("not writable") != std::string::npos ? 0 : 2;
    } catch (...) {
      code = 2;
    }
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  const bool empty = fs::is_empty(ro);
  fs::remove_all(ro);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) GTEST_SKIP() << "cannot switch to user 65534 here (user namespace?)";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no error, 2: another error";
  EXPECT_TRUE(empty);
}

TEST_F(ResultsIo, DuplicateRunIdFailsAndKeepsTheFirst) {
  const fs::path dest = dir_ / "dup.h5";
  const RunResult run = make_run("same");
  ResultsWriter writer(dest);
  writer.write_run(run);
  RunResult other = make_run("same", 3);
  const std::string msg = io_error([&] { writer.write_run(other); });
  EXPECT_NE(msg.find("'same' already exists"), std::string::npos) << msg;
  writer.commit();
  expect_same(read_run(dest, "same"), run);
}

TEST_F(ResultsIo, InvalidSeriesFailsWithoutLeavingAPartialRun) {
  const fs::path dest = dir_ / "bad.h5";
  ResultsWriter writer(dest);
  RunResult bad = make_run("bad");
  bad.series.back().values.pop_back();
  EXPECT_NE(io_error([&] { writer.write_run(bad); }).find("'demand'"), std::string::npos);
  RunResult fractional = make_run("fractional");
  fractional.series[1].values[0] = 0.5;
  EXPECT_NE(io_error([&] { writer.write_run(fractional); }).find("integer"), std::string::npos);
  RunResult badname = make_run("a/b");
  EXPECT_THROW(writer.write_run(badname), IoError);
  writer.write_run(make_run("good"));
  writer.commit();
  EXPECT_EQ(list_runs(dest), std::vector<std::string>{"good"});
}

TEST_F(ResultsIo, ReadErrorsNameTheFileAndRun) {
  const fs::path missing = dir_ / "missing.h5";
  std::string msg = io_error([&] { (void)list_runs(missing); });
  EXPECT_NE(msg.find(missing.string()), std::string::npos) << msg;
  msg = io_error([&] { (void)read_run(missing, "r"); });
  EXPECT_NE(msg.find(missing.string()), std::string::npos) << msg;

  const fs::path junk = dir_ / "junk.h5";
  std::ofstream(junk) << "not hdf5";
  msg = io_error([&] { (void)list_runs(junk); });
  EXPECT_NE(msg.find(junk.string()), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;

  const fs::path file = write_file("one.h5", {make_run("r1")});
  msg = io_error([&] { (void)read_run(file, "nope"); });
  EXPECT_NE(msg.find("'nope'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
}

TEST_F(ResultsIo, FilesDifferOnlyInCreationTime) {
  RunResult a = make_run("r");
  RunResult b = a;
  b.provenance.created_utc = "2027-06-30T12:34:56Z";
  const fs::path fa = write_file("a.h5", {a});
  const fs::path fb = write_file("b.h5", {b});
  RunResult ra = read_run(fa, "r");
  RunResult rb = read_run(fb, "r");
  EXPECT_NE(ra.provenance.created_utc, rb.provenance.created_utc);
  rb.provenance.created_utc = ra.provenance.created_utc;
  expect_same(ra, rb);
  // Without object timestamps, identical content gives identical bytes.
  const fs::path fc = write_file("c.h5", {a});
  EXPECT_TRUE(slurp(fa) == slurp(fc));
}

TEST_F(ResultsIo, PlainH5pyReadsTheLayout) {
  if (!fs::exists("/usr/bin/python3") ||
      std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 with h5py is not available";
  RunResult no_panel = make_run("r2");
  no_panel.panel_size = 0;
  no_panel.panel.clear();
  no_panel.panel_summary.reset();
  const fs::path file = write_file("py.h5", {make_run("r1"), make_run("r0", 0), no_panel});
  const std::string cmd = "/usr/bin/python3 '" CXSIM_SOURCE_DIR "/tests/io/h5py_check.py' '" + file.string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

}  // namespace
}  // namespace cxsim
