// `cxsim merge`: sweep files of one experiment (shards) into the file a single sweep writes.

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cxsim/core/error.hpp"
#include "cxsim/experiment/sweep.hpp"
#include "cxsim/io/results_io.hpp"
#include "sweep_engine.hpp"

namespace cxsim {

namespace fs = std::filesystem;

namespace {

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

/// The run index of a run id ("000017" -> 17), or -1 if it is not one.
std::int64_t run_index(const std::string& id) {
  if (id.empty() || id.size() > 9 || id.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(id);
}

/// "000003, 000009, 000010 and 4 more"
std::string list_some(const std::vector<std::string>& ids) {
  std::string out;
  const std::size_t shown = std::min<std::size_t>(ids.size(), 5);
  for (std::size_t i = 0; i < shown; ++i) out += (i == 0 ? "" : ", ") + ids[i];
  if (ids.size() > shown) out += " and " + std::to_string(ids.size() - shown) + " more";
  return out;
}

/// One input file, checked.
struct Part {
  fs::path path;
  sweep_detail::SweepIdentity identity;
  std::vector<std::string> runs;
  std::vector<SummaryColumn> summary;
};

std::string required_text(const ResultsReader& in, const char* name) {
  auto value = in.text_attribute(name);
  if (!value || value->empty())
    throw IoError(quoted(in.path()) + " is not the result of cxsim sweep (no '" + name +
                  "' attribute); expected a file written by cxsim sweep or cxsim merge");
  return *value;
}

Part read_part(const fs::path& path) {
  const ResultsReader in(path);
  Part part;
  part.path = path;
  auto& id = part.identity;
  id.experiment = required_text(in, "experiment");
  id.file = in.text_attribute("experiment_file").value_or("");
  id.toml = required_text(in, "experiment_toml");
  id.fingerprint = required_text(in, "experiment_fingerprint");
  const auto runs = in.integer_attribute("experiment_runs");
  if (!runs || *runs < 0)
    throw IoError(quoted(path) + " does not say how many runs its experiment has (no 'experiment_runs' attribute); "
                  "expected a file written by this version of cxsim sweep or cxsim merge");
  id.runs = *runs;
  part.runs = in.runs();
  auto summary = in.summary();
  if (!summary) throw IoError(quoted(path) + " has no /summary table; expected a file written by cxsim sweep");
  part.summary = std::move(*summary);
  const auto rows = part.summary.empty() ? 0 : part.summary[0].rows();
  if (part.summary.empty() || part.summary[0].name != "run_id" || rows != part.runs.size())
    throw IoError(quoted(path) + ": /summary does not have one row per run (first column run_id)");
  for (std::size_t r = 0; r < rows; ++r)
    if (!std::binary_search(part.runs.begin(), part.runs.end(), part.summary[0].text[r]))
      throw IoError(quoted(path) + ": /summary row of run " + part.summary[0].text[r] + " has no run under /runs");
  return part;
}

bool same_columns(const std::vector<SummaryColumn>& a, const std::vector<SummaryColumn>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t j = 0; j < a.size(); ++j)
    if (a[j].name != b[j].name || a[j].kind != b[j].kind) return false;
  return true;
}

}  // namespace

MergeReport merge_sweeps(const MergeOptions& options) {
  if (options.parts.empty()) throw ConfigError("cxsim merge", 0, "", "expected at least one part file to merge");

  // Check everything before writing anything.
  std::vector<Part> parts;
  parts.reserve(options.parts.size());
  for (const auto& path : options.parts) parts.push_back(read_part(path));
  const Part& first = parts.front();
  const auto& expected = first.identity;

  std::map<std::int64_t, std::pair<std::size_t, std::size_t>> where;  // run index -> (part, summary row)
  const Part* with_columns = nullptr;  // a part with runs: its summary columns are the experiment's
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const Part& part = parts[p];
    const auto& id = part.identity;
    if (id.fingerprint != expected.fingerprint || id.runs != expected.runs) {
      throw IoError(quoted(part.path) + " is from " +
                    (id.experiment == expected.experiment ? "a different sweep of experiment '" + id.experiment + "'"
                                                          : "experiment '" + id.experiment + "'") +
                    " (fingerprint " + id.fingerprint + ", not " + expected.fingerprint + " as " +
                    quoted(first.path) + " of '" + expected.experiment +
                    "'); expected parts of one sweep: same experiment file, scenario files, --set and cxsim version");
    }
    const auto& ids = part.summary[0].text;
    for (std::size_t r = 0; r < ids.size(); ++r) {
      const std::int64_t index = run_index(ids[r]);
      if (index < 0 || index >= expected.runs)
        throw IoError(quoted(part.path) + " holds run '" + ids[r] + "', which is not a run of experiment '" +
                      expected.experiment + "' (expected run ids 000000 to " +
                      std::to_string(expected.runs - 1) + ")");
      const auto [at, fresh] = where.try_emplace(index, p, r);
      if (!fresh)
        throw IoError("run " + ids[r] + " is in both " + quoted(parts[at->second.first].path) + " and " +
                      quoted(part.path) + "; expected parts with disjoint runs (different shards of one sweep)");
    }
    if (!ids.empty()) {
      if (with_columns != nullptr && !same_columns(with_columns->summary, part.summary))
        throw IoError(quoted(part.path) + ": /summary columns differ from those of " + quoted(with_columns->path));
      if (with_columns == nullptr) with_columns = &part;
    }
  }
  if (!options.partial && static_cast<std::int64_t>(where.size()) != expected.runs) {
    std::vector<std::string> missing;
    for (std::int64_t i = 0; i < expected.runs && missing.size() < 6; ++i)
      if (where.find(i) == where.end()) {
        std::string id = std::to_string(i);
        missing.push_back(std::string(id.size() < 6 ? 6 - id.size() : 0, '0') + id);
      }
    std::vector<std::string> shown(missing.begin(), missing.begin() + std::min<std::size_t>(missing.size(), 5));
    const auto absent = expected.runs - static_cast<std::int64_t>(where.size());
    throw IoError(std::to_string(absent) + " of the " + std::to_string(expected.runs) + " runs of experiment '" +
                  expected.experiment + "' are in none of the parts (" + list_some(shown) +
                  (absent > static_cast<std::int64_t>(shown.size()) ? " ..." : "") +
                  "); expected every shard of the sweep, or --partial to merge what there is");
  }

  // Write: runs in run-id order, then the summary rows in the same order.
  ResultsWriter out(options.out);
  sweep_detail::SweepIdentity identity = expected;
  identity.shard.clear();
  sweep_detail::write_identity(out, identity);
  std::vector<SummaryColumn> summary;
  if (with_columns != nullptr)
    for (const auto& c : with_columns->summary) summary.push_back({c.name, c.kind, {}, {}, {}});
  else
    for (const auto& c : first.summary) summary.push_back({c.name, c.kind, {}, {}, {}});
  // Shards interleave run ids, so parts stay open, a bounded number at a time.
  constexpr std::size_t kMaxOpen = 64;
  std::vector<std::unique_ptr<ResultsReader>> readers(parts.size());
  std::size_t open = 0;
  for (const auto& [index, at] : where) {
    const auto [p, r] = at;
    if (!readers[p]) {
      if (open == kMaxOpen) {
        for (auto& reader : readers) reader.reset();
        open = 0;
      }
      readers[p] = std::make_unique<ResultsReader>(parts[p].path);
      ++open;
    }
    out.write_run(readers[p]->run(parts[p].summary[0].text[r]));
    for (std::size_t j = 0; j < summary.size(); ++j) summary[j].append_row(parts[p].summary[j], r);
  }
  out.write_summary(summary);
  out.commit();
  return {expected.experiment, static_cast<int>(where.size()), static_cast<int>(expected.runs)};
}

}  // namespace cxsim
