#include "cxsim/io/run_archive.hpp"

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>
#include <type_traits>

#include "cxsim/core/error.hpp"

namespace cxsim {

namespace {

constexpr char kMagic[] = "cxsim-run-archive 1\n";
constexpr char kEnd[] = "end\n";

class Writer {
 public:
  template <class T>
    requires std::is_arithmetic_v<T>
  void put(T v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void put(const std::string& s) {
    put<std::uint64_t>(s.size());
    out_ += s;
  }
  template <class T>
  void put(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    if constexpr (std::is_arithmetic_v<T>)
      out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    else
      for (const auto& x : v) put(x);
  }
  void put(const PanelPurchase& p) {
    put(p.step), put(p.customer), put(p.cohort), put(p.brand), put(p.satisfaction), put(p.price);
  }
  void put(const Series& s) {
    put(s.name), put(s.unit), put(s.description), put(s.dims), put(s.shape), put<std::uint8_t>(s.integer), put(s.values);
  }
  std::string& text() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(const std::string& in, const std::filesystem::path& file) : in_(in), file_(file) {}
  template <class T>
    requires std::is_arithmetic_v<T>
  void get(T& v) { std::memcpy(&v, take(sizeof v), sizeof v); }
  void get(std::string& s) {
    std::uint64_t n = 0;
    get(n);
    s.assign(take(n), n);
  }
  template <class T>
  void get(std::vector<T>& v) {
    std::uint64_t n = 0;
    get(n);
    if constexpr (std::is_arithmetic_v<T>) {
      if (n > in_.size()) truncated();
      v.resize(n);
      std::memcpy(v.data(), take(n * sizeof(T)), n * sizeof(T));
    } else {
      if (n > in_.size()) truncated();
      v.resize(n);
      for (auto& x : v) get(x);
    }
  }
  void get(PanelPurchase& p) {
    get(p.step), get(p.customer), get(p.cohort), get(p.brand), get(p.satisfaction), get(p.price);
  }
  void get(Series& s) {
    std::uint8_t integer = 0;
    get(s.name), get(s.unit), get(s.description), get(s.dims), get(s.shape), get(integer), get(s.values);
    s.integer = integer != 0;
  }
  void expect(const char* literal) {
    const std::size_t n = std::strlen(literal);
    if (std::memcmp(take(n), literal, n) != 0)
      throw IoError("'" + file_.string() + "' is not a cxsim run archive (or is damaged)");
  }
  [[nodiscard]] bool at_end() const { return pos_ == in_.size(); }

 private:
  const char* take(std::size_t n) {
    if (n > in_.size() - pos_) truncated();
    const char* p = in_.data() + pos_;
    pos_ += n;
    return p;
  }
  [[noreturn]] void truncated() const { throw IoError("run archive '" + file_.string() + "' is truncated"); }
  const std::string& in_;
  const std::filesystem::path& file_;
  std::size_t pos_ = 0;
};

}  // namespace

void write_run_archive(const std::filesystem::path& file, const RunResult& run, const std::string& tag) {
  Writer w;
  w.text() = kMagic;
  w.put(tag);
  const auto& p = run.provenance;
  w.put(run.run_id), w.put(run.brands), w.put(run.cohorts), w.put(run.dimensions), w.put(run.segments);
  w.put(run.steps), w.put(run.customers), w.put(run.series), w.put(run.panel_size), w.put(run.panel);
  w.put<std::uint8_t>(run.panel_summary.has_value());
  if (run.panel_summary) {
    const auto& s = *run.panel_summary;
    w.put(s.from), w.put(s.to), w.put(s.panel_size), w.put(s.category_buyers), w.put(s.penetration);
    w.put(s.frequency), w.put(s.scr), w.put(s.sole_buyers), w.put(s.duplication);
  }
  w.put(p.scenario_toml), w.put(p.scenario_file), w.put(p.command_line), w.put(p.seed), w.put(p.threads);
  w.put(p.version), w.put(p.git_commit), w.put(p.build_type), w.put(p.created_utc), w.put(p.wall_seconds);
  w.text() += kEnd;

  // Unique per process and thread, then renamed: readers never see a partial file.
  const std::filesystem::path temp =
      file.string() + ".tmp-" + std::to_string(::getpid()) + "-" +
      std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(w.text().data(), static_cast<std::streamsize>(w.text().size()));
    out.close();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(temp, ec);
      throw IoError("cannot write '" + temp.string() + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, file, ec);
  if (ec) throw IoError("cannot rename '" + temp.string() + "' into place: " + ec.message());
}

RunResult read_run_archive(const std::filesystem::path& file, std::string& tag) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw IoError("cannot read '" + file.string() + "'");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Reader r(bytes, file);
  r.expect(kMagic);
  r.get(tag);
  RunResult run;
  auto& p = run.provenance;
  r.get(run.run_id), r.get(run.brands), r.get(run.cohorts), r.get(run.dimensions), r.get(run.segments);
  r.get(run.steps), r.get(run.customers), r.get(run.series), r.get(run.panel_size), r.get(run.panel);
  std::uint8_t has_summary = 0;
  r.get(has_summary);
  if (has_summary != 0) {
    PanelSummary s;
    r.get(s.from), r.get(s.to), r.get(s.panel_size), r.get(s.category_buyers), r.get(s.penetration);
    r.get(s.frequency), r.get(s.scr), r.get(s.sole_buyers), r.get(s.duplication);
    run.panel_summary = s;
  }
  r.get(p.scenario_toml), r.get(p.scenario_file), r.get(p.command_line), r.get(p.seed), r.get(p.threads);
  r.get(p.version), r.get(p.git_commit), r.get(p.build_type), r.get(p.created_utc), r.get(p.wall_seconds);
  r.expect(kEnd);
  if (!r.at_end()) throw IoError("run archive '" + file.string() + "' has trailing data");
  return run;
}

}  // namespace cxsim
