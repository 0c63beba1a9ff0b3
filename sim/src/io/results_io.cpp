#include "cxsim/io/results_io.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "cxsim/core/clock.hpp"
#include "cxsim/core/error.hpp"
#include "cxsim/core/version.hpp"

namespace cxsim {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "cxsim-results";
constexpr int kSchemaVersion = 1;
// Chunks of about 1 MiB: large enough for deflate, small enough to read one step range cheaply.
constexpr std::size_t kChunkElements = std::size_t{1} << 17;
constexpr std::size_t kMaxChunkSteps = 1024;

// Internal failures carry only the reason; the public functions prefix the file name.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void silence_hdf5() {
  static const bool silenced = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)silenced;
}

// The innermost HDF5 error description, which usually says what really went wrong.
std::string hdf5_detail() {
  std::string detail;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        auto& out = *static_cast<std::string*>(data);
        if (out.empty() && e->desc != nullptr) out = e->desc;
        return 0;
      },
      &detail);
  H5Eclear2(H5E_DEFAULT);
  return detail;
}

[[noreturn]] void fail(const std::string& what) {
  const std::string detail = hdf5_detail();
  throw Failure(detail.empty() ? what : what + " (" + detail + ")");
}

void check(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, const std::string& what) : id_(id) {
    if (id_ < 0) fail(what);
  }
  ~Handle() { close(); }
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      close();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  operator hid_t() const noexcept { return id_; }  // NOLINT: handles are passed straight to H5 calls
  explicit operator bool() const noexcept { return id_ >= 0; }
  herr_t close() noexcept { return id_ >= 0 ? Close(std::exchange(id_, H5I_INVALID_HID)) : 0; }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Space = Handle<H5Sclose>;
using Type = Handle<H5Tclose>;
using Plist = Handle<H5Pclose>;
using Attr = Handle<H5Aclose>;

std::string quoted(const std::string& s) { return "'" + s + "'"; }

Type string_type() {
  Type t(H5Tcopy(H5T_C_S1), "string type");
  check(H5Tset_size(t, H5T_VARIABLE), "string type");
  check(H5Tset_cset(t, H5T_CSET_UTF8), "string type");
  return t;
}

Plist creation_plist(hid_t cls, const std::string& what) {
  Plist p(H5Pcreate(cls), what);
  check(H5Pset_obj_track_times(p, 0), what);
  return p;
}

Space simple_space(const std::vector<hsize_t>& dims, const std::string& what) {
  return dims.empty() ? Space(H5Screate(H5S_SCALAR), what)
                      : Space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), what);
}

std::vector<const char*> c_strings(const std::vector<std::string>& v) {
  std::vector<const char*> out;
  out.reserve(v.size());
  for (const auto& s : v) out.push_back(s.c_str());
  return out;
}

void write_attr(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, const void* value,
                const std::vector<hsize_t>& dims = {}) {
  const std::string what = "attribute " + quoted(name);
  Space space = simple_space(dims, what);
  Attr attr(H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT), what);
  check(H5Awrite(attr, mem_type, value), what);
}

void write_attr(hid_t obj, const char* name, const std::string& value) {
  const Type t = string_type();
  const char* p = value.c_str();
  write_attr(obj, name, t, t, &p);
}

void write_attr(hid_t obj, const char* name, const std::vector<std::string>& values) {
  const Type t = string_type();
  const auto ptrs = c_strings(values);
  write_attr(obj, name, t, t, ptrs.data(), {values.size()});
}

void write_attr(hid_t obj, const char* name, int value) {
  write_attr(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT, &value);
}
void write_attr(hid_t obj, const char* name, std::int64_t value) {
  write_attr(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}
void write_attr(hid_t obj, const char* name, std::uint64_t value) {
  write_attr(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}
void write_attr(hid_t obj, const char* name, double value) {
  write_attr(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void check_name(const std::string& name, const std::string& what) {
  if (name.empty() || name == "." || name.find('/') != std::string::npos)
    throw Failure(what + " " + quoted(name) + " is not a valid HDF5 name (empty, '.' or contains '/')");
}

/// Transfer properties for variable-length strings: HDF5's default 1 MiB
/// conversion buffer is allocated and zeroed on every such read or write,
/// which dominated the cost of writing many small runs.
hid_t string_transfer() {
  static const hid_t xfer = [] {
    const hid_t p = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_buffer(p, 4096, nullptr, nullptr);
    return p;
  }();
  return xfer;
}

void write_strings(hid_t group, const char* name, const std::vector<std::string>& values) {
  const std::string what = "dataset " + quoted(name);
  const Type t = string_type();
  Space space = simple_space({values.size()}, what);
  Plist dcpl = creation_plist(H5P_DATASET_CREATE, what);
  Dataset ds(H5Dcreate2(group, name, t, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), what);
  const auto ptrs = c_strings(values);
  if (!values.empty()) check(H5Dwrite(ds, t, H5S_ALL, H5S_ALL, string_transfer(), ptrs.data()), what);
}

void write_series(hid_t group, const Series& s) {
  const std::string what = "series " + quoted(s.name);
  check_name(s.name, "series");
  if (s.dims.size() != s.shape.size())
    throw Failure(what + " has " + std::to_string(s.dims.size()) + " dims but shape of rank " +
                  std::to_string(s.shape.size()));
  std::size_t count = 1;
  for (auto n : s.shape) count *= n;
  if (count != s.values.size())
    throw Failure(what + " has " + std::to_string(s.values.size()) + " values but its shape holds " +
                  std::to_string(count));

  const std::vector<hsize_t> dims(s.shape.begin(), s.shape.end());
  Space space = simple_space(dims, what);
  Plist dcpl = creation_plist(H5P_DATASET_CREATE, what);
  if (!dims.empty() && count > 0) {  // HDF5 rejects zero-sized chunk dimensions
    std::vector<hsize_t> chunk = dims;
    const std::size_t row = count / s.shape[0];
    chunk[0] = std::clamp<std::size_t>(kChunkElements / row, 1, std::min(kMaxChunkSteps, s.shape[0]));
    check(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), what);
    check(H5Pset_shuffle(dcpl), what);
    check(H5Pset_deflate(dcpl, 4), what);
  }
  Dataset ds(H5Dcreate2(group, s.name.c_str(), s.integer ? H5T_STD_I64LE : H5T_IEEE_F64LE, space,
                        H5P_DEFAULT, dcpl, H5P_DEFAULT),
             "cannot create " + what);
  if (count > 0 && s.integer) {
    std::vector<std::int64_t> ints(count);
    for (std::size_t i = 0; i < count; ++i) {
      const double v = s.values[i];
      if (!(std::abs(v) < 9.2e18) || v != std::trunc(v))
        throw Failure(what + " is integer but holds " + std::to_string(v));
      ints[i] = static_cast<std::int64_t>(v);
    }
    check(H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ints.data()), what);
  } else if (count > 0) {
    check(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.values.data()), what);
  }
  write_attr(ds, "unit", s.unit);
  write_attr(ds, "description", s.description);
  write_attr(ds, "dims", s.dims);
}

// Columns of the panel: 1-D, chunked and compressed like series when non-empty.
template <class T>
void write_column(hid_t group, const char* name, hid_t file_type, hid_t mem_type,
                  const std::vector<PanelPurchase>& rows, T PanelPurchase::*field, const char* unit,
                  const char* description) {
  const std::string what = "panel column " + quoted(name);
  std::vector<T> values;
  values.reserve(rows.size());
  for (const auto& r : rows) values.push_back(r.*field);
  const hsize_t n = values.size();
  Space space = simple_space({n}, what);
  Plist dcpl = creation_plist(H5P_DATASET_CREATE, what);
  if (n > 0) {
    const hsize_t chunk = std::min<hsize_t>(n, kChunkElements);
    check(H5Pset_chunk(dcpl, 1, &chunk), what);
    check(H5Pset_shuffle(dcpl), what);
    check(H5Pset_deflate(dcpl, 4), what);
  }
  Dataset ds(H5Dcreate2(group, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), "cannot create " + what);
  if (n > 0) check(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), what);
  write_attr(ds, "unit", std::string(unit));
  write_attr(ds, "description", std::string(description));
  write_attr(ds, "dims", std::vector<std::string>{"purchase"});
}

Series summary_series(const char* name, const char* unit, const char* description, std::vector<std::string> dims,
                      std::vector<std::size_t> shape, const std::vector<double>& values) {
  return Series{name, unit, description, std::move(dims), std::move(shape), false, values};
}

void write_panel(hid_t run_group, const RunResult& run) {
  const std::string what = "group 'panel'";
  Plist gcpl = creation_plist(H5P_GROUP_CREATE, what);
  check(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), what);
  Group g(H5Gcreate2(run_group, "panel", H5P_DEFAULT, gcpl, H5P_DEFAULT), "cannot create " + what);
  write_attr(g, "panel_size", run.panel_size);
  const auto& rows = run.panel;
  write_column(g, "step", H5T_STD_I32LE, H5T_NATIVE_INT32, rows, &PanelPurchase::step, "step",
               "Scenario step of the purchase");
  write_column(g, "customer", H5T_STD_U32LE, H5T_NATIVE_UINT32, rows, &PanelPurchase::customer, "customer index",
               "Panel member who bought");
  write_column(g, "cohort", H5T_STD_U8LE, H5T_NATIVE_UINT8, rows, &PanelPurchase::cohort, "cohort index",
               "Cohort of the member at the time of purchase (row of cohorts)");
  write_column(g, "brand", H5T_STD_U8LE, H5T_NATIVE_UINT8, rows, &PanelPurchase::brand, "brand index",
               "Brand bought (row of brands)");
  write_column(g, "satisfaction", H5T_STD_U8LE, H5T_NATIVE_UINT8, rows, &PanelPurchase::satisfaction, "code",
               "Experience of the purchase: 1 detractor, 2 passive, 3 promoter");
  write_column(g, "price", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, rows, &PanelPurchase::price, "currency units",
               "Price paid");
  if (!run.panel_summary) return;

  const PanelSummary& s = *run.panel_summary;
  const std::size_t nb = run.brands.size();
  Plist sgcpl = creation_plist(H5P_GROUP_CREATE, "group 'panel/summary'");
  check(H5Pset_link_creation_order(sgcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "group 'panel/summary'");
  Group sg(H5Gcreate2(g, "summary", H5P_DEFAULT, sgcpl, H5P_DEFAULT), "cannot create group 'panel/summary'");
  write_attr(sg, "from", s.from);
  write_attr(sg, "to", s.to);
  write_attr(sg, "panel_size", s.panel_size);
  write_attr(sg, "category_buyers", s.category_buyers);
  write_series(sg, summary_series("penetration", "fraction of panel members",
                                  "Share of panel members who bought the brand at least once in the period",
                                  {"brand"}, {nb}, s.penetration));
  write_series(sg, summary_series("frequency", "purchases per buyer",
                                  "Mean purchases of the brand in the period per buyer of the brand", {"brand"}, {nb},
                                  s.frequency));
  write_series(sg, summary_series("scr", "fraction of buyers' category purchases",
                                  "Share of category requirements: the brand's purchases over all category purchases "
                                  "of its buyers",
                                  {"brand"}, {nb}, s.scr));
  write_series(sg, summary_series("sole_buyers", "fraction of the brand's buyers",
                                  "Share of the brand's buyers who bought no other brand in the period", {"brand"},
                                  {nb}, s.sole_buyers));
  write_series(sg, summary_series("duplication", "fraction of the row brand's buyers",
                                  "Share of the row brand's buyers who also bought the column brand (diagonal 1)",
                                  {"brand", "brand"}, {nb, nb}, s.duplication));
}

void write_run_group(hid_t runs, const RunResult& run) {
  const std::string what = "run " + quoted(run.run_id);
  Plist gcpl = creation_plist(H5P_GROUP_CREATE, what);
  Group g(H5Gcreate2(runs, run.run_id.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), "cannot create " + what);
  const Provenance& p = run.provenance;
  write_attr(g, "scenario", p.scenario_toml);
  write_attr(g, "scenario_file", p.scenario_file);
  write_attr(g, "command_line", p.command_line);
  write_attr(g, "seed", p.seed);
  write_attr(g, "threads", p.threads);
  write_attr(g, "cxsim_version", p.version);
  write_attr(g, "git_commit", p.git_commit);
  write_attr(g, "build_type", p.build_type);
  write_attr(g, "created_utc", p.created_utc);
  write_attr(g, "wall_seconds", p.wall_seconds);
  write_attr(g, "steps", run.steps);
  write_attr(g, "customers", run.customers);
  write_strings(g, "brands", run.brands);
  write_strings(g, "cohorts", run.cohorts);
  write_strings(g, "dimensions", run.dimensions);
  write_strings(g, "segments", run.segments);
  if (run.panel_size < 0 || (run.panel_size == 0 && (!run.panel.empty() || run.panel_summary)))
    throw Failure(what + " has panel purchases or a panel summary but panel_size " + std::to_string(run.panel_size));

  // Creation order is tracked so read_run returns the series in the order they were written.
  Plist sgcpl = creation_plist(H5P_GROUP_CREATE, what);
  check(H5Pset_link_creation_order(sgcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), what);
  Group series(H5Gcreate2(g, "series", H5P_DEFAULT, sgcpl, H5P_DEFAULT), what);
  for (const auto& s : run.series) write_series(series, s);
  if (run.panel_size > 0) write_panel(g, run);
}

// ---- reading ----

std::vector<std::string> read_strings(hid_t obj, bool is_attr, const std::string& what) {
  Type ft(is_attr ? H5Aget_type(obj) : H5Dget_type(obj), what);
  if (H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft) <= 0)
    throw Failure(what + " is not variable-length strings");
  Space space(is_attr ? H5Aget_space(obj) : H5Dget_space(obj), what);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) fail(what);
  std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
  const Type mt = string_type();
  if (n > 0)
    check(is_attr ? H5Aread(obj, mt, ptrs.data()) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, string_transfer(), ptrs.data()),
          what);
  std::vector<std::string> out;
  out.reserve(ptrs.size());
  for (char* p : ptrs) {
    out.emplace_back(p != nullptr ? p : "");
    if (p != nullptr) H5free_memory(p);
  }
  return out;
}

Attr open_attr(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) throw Failure("attribute " + quoted(name) + " is missing");
  return Attr(H5Aopen(obj, name, H5P_DEFAULT), "attribute " + quoted(name));
}

std::string read_string_attr(hid_t obj, const char* name) {
  const Attr a = open_attr(obj, name);
  auto v = read_strings(a, true, "attribute " + quoted(name));
  if (v.size() != 1) throw Failure("attribute " + quoted(name) + " is not a single string");
  return v[0];
}

std::vector<std::string> read_strings_attr(hid_t obj, const char* name) {
  return read_strings(open_attr(obj, name), true, "attribute " + quoted(name));
}

template <class T>
T read_num_attr(hid_t obj, const char* name, hid_t mem_type) {
  const Attr a = open_attr(obj, name);
  T v{};
  check(H5Aread(a, mem_type, &v), "attribute " + quoted(name));
  return v;
}

std::vector<std::string> read_strings_dataset(hid_t group, const char* name) {
  if (H5Lexists(group, name, H5P_DEFAULT) <= 0) throw Failure("dataset " + quoted(name) + " is missing");
  const Dataset ds(H5Dopen2(group, name, H5P_DEFAULT), "dataset " + quoted(name));
  return read_strings(ds, false, "dataset " + quoted(name));
}

std::vector<std::string> link_names(hid_t group, const std::string& what) {
  H5_index_t index = H5_INDEX_NAME;
  {
    Plist gcpl(H5Gget_create_plist(group), what);
    unsigned flags = 0;
    if (H5Pget_link_creation_order(gcpl, &flags) >= 0 && (flags & H5P_CRT_ORDER_INDEXED) != 0)
      index = H5_INDEX_CRT_ORDER;
  }
  H5G_info_t info{};
  check(H5Gget_info(group, &info), what);
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) fail(what);
    std::string name(static_cast<std::size_t>(len), '\0');
    if (H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT) < 0)
      fail(what);
    names.push_back(std::move(name));
  }
  return names;
}

Series read_series(hid_t group, const std::string& name) {
  const std::string what = "series " + quoted(name);
  const Dataset ds(H5Dopen2(group, name.c_str(), H5P_DEFAULT), what);
  Series s;
  s.name = name;
  s.unit = read_string_attr(ds, "unit");
  s.description = read_string_attr(ds, "description");
  s.dims = read_strings_attr(ds, "dims");
  const Space space(H5Dget_space(ds), what);
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) fail(what);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0) fail(what);
  std::size_t count = 1;
  for (auto d : dims) {
    s.shape.push_back(static_cast<std::size_t>(d));
    count *= static_cast<std::size_t>(d);
  }
  const Type ft(H5Dget_type(ds), what);
  s.integer = H5Tget_class(ft) == H5T_INTEGER;
  s.values.resize(count);
  if (count > 0 && s.integer) {
    std::vector<std::int64_t> ints(count);
    check(H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ints.data()), what);
    std::transform(ints.begin(), ints.end(), s.values.begin(), [](std::int64_t v) { return static_cast<double>(v); });
  } else if (count > 0) {
    check(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.values.data()), what);
  }
  return s;
}

template <class T>
std::vector<T> read_column(hid_t group, const char* name, hid_t mem_type) {
  const std::string what = "panel column " + quoted(name);
  if (H5Lexists(group, name, H5P_DEFAULT) <= 0) throw Failure(what + " is missing");
  const Dataset ds(H5Dopen2(group, name, H5P_DEFAULT), what);
  const Space space(H5Dget_space(ds), what);
  if (H5Sget_simple_extent_ndims(space) != 1) throw Failure(what + " is not 1-D");
  hsize_t n = 0;
  if (H5Sget_simple_extent_dims(space, &n, nullptr) < 0) fail(what);
  std::vector<T> values(static_cast<std::size_t>(n));
  if (n > 0) check(H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), what);
  return values;
}

// One summary dataset, checked against the shape the brand count implies.
std::vector<double> read_summary_values(hid_t group, const char* name, const std::vector<std::size_t>& shape) {
  if (H5Lexists(group, name, H5P_DEFAULT) <= 0) throw Failure("panel summary " + quoted(name) + " is missing");
  Series s = read_series(group, name);
  if (s.shape != shape) throw Failure("panel summary " + quoted(name) + " does not have one entry per brand");
  return std::move(s.values);
}

void read_panel(hid_t run_group, RunResult& run) {
  const Group g(H5Gopen2(run_group, "panel", H5P_DEFAULT), "group 'panel'");
  run.panel_size = read_num_attr<std::int64_t>(g, "panel_size", H5T_NATIVE_INT64);
  const auto step = read_column<std::int32_t>(g, "step", H5T_NATIVE_INT32);
  const auto customer = read_column<std::uint32_t>(g, "customer", H5T_NATIVE_UINT32);
  const auto cohort = read_column<std::uint8_t>(g, "cohort", H5T_NATIVE_UINT8);
  const auto brand = read_column<std::uint8_t>(g, "brand", H5T_NATIVE_UINT8);
  const auto satisfaction = read_column<std::uint8_t>(g, "satisfaction", H5T_NATIVE_UINT8);
  const auto price = read_column<double>(g, "price", H5T_NATIVE_DOUBLE);
  const std::size_t n = step.size();
  if (customer.size() != n || cohort.size() != n || brand.size() != n || satisfaction.size() != n ||
      price.size() != n)
    throw Failure("the columns of group 'panel' differ in length");
  run.panel.resize(n);
  for (std::size_t i = 0; i < n; ++i) run.panel[i] = {step[i], customer[i], cohort[i], brand[i], satisfaction[i], price[i]};

  if (H5Lexists(g, "summary", H5P_DEFAULT) <= 0) return;
  const Group sg(H5Gopen2(g, "summary", H5P_DEFAULT), "group 'panel/summary'");
  PanelSummary s;
  s.from = read_num_attr<int>(sg, "from", H5T_NATIVE_INT);
  s.to = read_num_attr<int>(sg, "to", H5T_NATIVE_INT);
  s.panel_size = read_num_attr<std::int64_t>(sg, "panel_size", H5T_NATIVE_INT64);
  s.category_buyers = read_num_attr<std::int64_t>(sg, "category_buyers", H5T_NATIVE_INT64);
  const std::size_t nb = run.brands.size();
  s.penetration = read_summary_values(sg, "penetration", {nb});
  s.frequency = read_summary_values(sg, "frequency", {nb});
  s.scr = read_summary_values(sg, "scr", {nb});
  s.sole_buyers = read_summary_values(sg, "sole_buyers", {nb});
  s.duplication = read_summary_values(sg, "duplication", {nb, nb});
  run.panel_summary = std::move(s);
}

RunResult read_run_group(hid_t f, const std::string& path, const std::string& run_id) {
  const Group g(H5Gopen2(f, path.c_str(), H5P_DEFAULT), "cannot open the group");
  RunResult run;
  run.run_id = run_id;
  Provenance& p = run.provenance;
  p.scenario_toml = read_string_attr(g, "scenario");
  p.scenario_file = read_string_attr(g, "scenario_file");
  p.command_line = read_string_attr(g, "command_line");
  p.seed = read_num_attr<std::uint64_t>(g, "seed", H5T_NATIVE_UINT64);
  p.threads = read_num_attr<int>(g, "threads", H5T_NATIVE_INT);
  p.version = read_string_attr(g, "cxsim_version");
  p.git_commit = read_string_attr(g, "git_commit");
  p.build_type = read_string_attr(g, "build_type");
  p.created_utc = read_string_attr(g, "created_utc");
  p.wall_seconds = read_num_attr<double>(g, "wall_seconds", H5T_NATIVE_DOUBLE);
  run.steps = read_num_attr<int>(g, "steps", H5T_NATIVE_INT);
  run.customers = read_num_attr<std::int64_t>(g, "customers", H5T_NATIVE_INT64);
  run.brands = read_strings_dataset(g, "brands");
  run.cohorts = read_strings_dataset(g, "cohorts");
  run.dimensions = read_strings_dataset(g, "dimensions");
  // Files written before segments and panels existed have neither.
  if (H5Lexists(g, "segments", H5P_DEFAULT) > 0) run.segments = read_strings_dataset(g, "segments");
  if (H5Lexists(g, "series", H5P_DEFAULT) > 0) {
    const Group series(H5Gopen2(g, "series", H5P_DEFAULT), "group 'series'");
    for (const auto& name : link_names(series, "group 'series'")) run.series.push_back(read_series(series, name));
  }
  if (H5Lexists(g, "panel", H5P_DEFAULT) > 0) read_panel(g, run);
  return run;
}

// The in-memory row of the /summary compound table: text columns as
// null-padded UTF-8 strings of their width, integers as int64, numbers as double.
Type summary_row_type(const std::vector<SummaryColumn>& columns, const std::vector<std::size_t>& offset,
                      const std::vector<std::size_t>& width, std::size_t size, const std::string& what) {
  Type row(H5Tcreate(H5T_COMPOUND, std::max<std::size_t>(size, 1)), what);
  for (std::size_t j = 0; j < columns.size(); ++j) {
    if (columns[j].kind == SummaryColumn::Kind::kText) {
      const Type text(H5Tcopy(H5T_C_S1), what);
      check(H5Tset_size(text, width[j]), what);
      check(H5Tset_strpad(text, H5T_STR_NULLPAD), what);
      check(H5Tset_cset(text, H5T_CSET_UTF8), what);
      check(H5Tinsert(row, columns[j].name.c_str(), offset[j], text), what);  // H5Tinsert copies the member type
    } else {
      const hid_t number = columns[j].kind == SummaryColumn::Kind::kInteger ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
      check(H5Tinsert(row, columns[j].name.c_str(), offset[j], number), what);
    }
  }
  return row;
}

// The /summary compound table back into columns: fixed-length strings as text,
// integers as kInteger, floating point as kNumber.
std::vector<SummaryColumn> read_summary_table(hid_t f) {
  const std::string what = "summary table";
  const Dataset ds(H5Dopen2(f, "summary", H5P_DEFAULT), what);
  const Type ft(H5Dget_type(ds), what);
  if (H5Tget_class(ft) != H5T_COMPOUND) throw Failure(what + " is not a compound dataset");
  const Space space(H5Dget_space(ds), what);
  if (H5Sget_simple_extent_ndims(space) != 1) throw Failure(what + " is not 1-D");
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) fail(what);
  const auto rows = static_cast<std::size_t>(n);
  const int members = H5Tget_nmembers(ft);
  if (members < 0) fail(what);

  std::vector<SummaryColumn> columns;
  std::vector<std::size_t> offset, width;
  std::size_t size = 0;
  for (int i = 0; i < members; ++i) {
    char* raw = H5Tget_member_name(ft, static_cast<unsigned>(i));
    if (raw == nullptr) fail(what);
    SummaryColumn c;
    c.name = raw;
    H5free_memory(raw);
    const Type member(H5Tget_member_type(ft, static_cast<unsigned>(i)), what);
    std::size_t w = 8;
    switch (H5Tget_class(member)) {
      case H5T_STRING:
        if (H5Tis_variable_str(member) > 0) throw Failure(what + " column '" + c.name + "' is not fixed-length text");
        c.kind = SummaryColumn::Kind::kText;
        w = H5Tget_size(member);
        break;
      case H5T_INTEGER: c.kind = SummaryColumn::Kind::kInteger; break;
      case H5T_FLOAT: c.kind = SummaryColumn::Kind::kNumber; break;
      default: throw Failure(what + " column '" + c.name + "' is neither text nor a number");
    }
    offset.push_back(size);
    width.push_back(w);
    size += w;
    columns.push_back(std::move(c));
  }
  const Type row = summary_row_type(columns, offset, width, size, what);
  std::vector<unsigned char> buffer(rows * size, 0);
  if (rows > 0 && size > 0) check(H5Dread(ds, row, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), what);
  for (std::size_t j = 0; j < columns.size(); ++j) {
    auto& c = columns[j];
    if (c.kind == SummaryColumn::Kind::kText)
      c.text.reserve(rows);
    else if (c.kind == SummaryColumn::Kind::kInteger)
      c.integers.reserve(rows);
    else
      c.numbers.reserve(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      const unsigned char* at = buffer.data() + r * size + offset[j];
      if (c.kind == SummaryColumn::Kind::kText) {
        const auto* text = reinterpret_cast<const char*>(at);
        c.text.emplace_back(text, strnlen(text, width[j]));
      } else if (c.kind == SummaryColumn::Kind::kInteger) {
        std::int64_t v = 0;
        std::memcpy(&v, at, sizeof v);
        c.integers.push_back(v);
      } else {
        double v = 0;
        std::memcpy(&v, at, sizeof v);
        c.numbers.push_back(v);
      }
    }
  }
  return columns;
}

File open_results(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) throw Failure("file does not exist");
  if (fs::is_directory(file, ec)) throw Failure("it is a directory");
  File f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "not a readable HDF5 file");
  if (H5Aexists(f, "format") <= 0 || read_string_attr(f, "format") != kFormat)
    throw Failure("not a cxsim results file (no format = \"cxsim-results\" attribute)");
  const int schema = read_num_attr<int>(f, "schema_version", H5T_NATIVE_INT);
  if (schema > kSchemaVersion)
    throw Failure("schema_version " + std::to_string(schema) + " is newer than this cxsim reads (" +
                  std::to_string(kSchemaVersion) + ")");
  return f;
}

template <class F>
auto with_context(const std::string& prefix, F&& body) {
  silence_hdf5();
  try {
    return body();
  } catch (const Failure& e) {
    throw IoError(prefix + e.what());
  }
}

std::string read_prefix(const fs::path& file) { return "cannot read results from " + quoted(file.string()) + ": "; }

}  // namespace

struct ResultsWriter::Impl {
  fs::path destination;
  fs::path temp;
  File file;
  bool committed = false;
  bool has_run = false;
  std::string cxsim_version;
  std::string created_utc;

  // Also runs when the constructor throws, so a half-made temp file never survives.
  ~Impl() {
    file.close();
    if (!committed && !temp.empty()) {
      std::error_code ec;
      fs::remove(temp, ec);
    }
  }
  [[nodiscard]] std::string prefix() const { return "cannot write results to " + quoted(destination.string()) + ": "; }
  void require_open() const {
    if (committed || !file) throw Failure("the results file was already committed");
  }
};

ResultsWriter::ResultsWriter(fs::path destination) : impl_(std::make_unique<Impl>()) {
  impl_->destination = std::move(destination);
  with_context(impl_->prefix(), [&] {
    Impl& im = *impl_;
    std::error_code ec;
    fs::path dir = im.destination.parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::exists(dir, ec)) throw Failure("directory " + quoted(dir.string()) + " does not exist");
    if (!fs::is_directory(dir, ec)) throw Failure(quoted(dir.string()) + " is not a directory");
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
      throw Failure("directory " + quoted(dir.string()) + " is not writable");
    if (!im.destination.has_filename() || fs::is_directory(im.destination, ec))
      throw Failure("the destination is a directory");

    const fs::path temp = im.destination.string() + ".tmp-" + std::to_string(::getpid());
    Plist fcpl = creation_plist(H5P_FILE_CREATE, "file creation properties");
    Plist fapl(H5Pcreate(H5P_FILE_ACCESS), "file access properties");
    check(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), "file access properties");
    im.temp = temp;
    errno = 0;
    const hid_t id = H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
    if (id < 0 && errno != 0) {  // the system's reason is clearer than HDF5's
      const std::string reason = std::strerror(errno);
      H5Eclear2(H5E_DEFAULT);
      throw Failure("cannot create " + quoted(temp.string()) + ": " + reason);
    }
    im.file = File(id, "cannot create " + quoted(temp.string()));
    write_attr(im.file, "format", std::string(kFormat));
    write_attr(im.file, "schema_version", kSchemaVersion);
  });
}

ResultsWriter::~ResultsWriter() = default;

void ResultsWriter::write_run(const RunResult& run) {
  with_context(impl_->prefix(), [&] {
    Impl& im = *impl_;
    im.require_open();
    check_name(run.run_id, "run id");
    Plist gcpl = creation_plist(H5P_GROUP_CREATE, "group 'runs'");
    Group runs(H5Lexists(im.file, "runs", H5P_DEFAULT) > 0 ? H5Gopen2(im.file, "runs", H5P_DEFAULT)
                                                           : H5Gcreate2(im.file, "runs", H5P_DEFAULT, gcpl, H5P_DEFAULT),
               "group 'runs'");
    if (H5Lexists(runs, run.run_id.c_str(), H5P_DEFAULT) > 0)
      throw Failure("run " + quoted(run.run_id) + " already exists in the file");
    try {
      write_run_group(runs, run);
    } catch (...) {
      // Leave no half-written run behind: the caller may catch and carry on.
      H5Ldelete(runs, run.run_id.c_str(), H5P_DEFAULT);
      H5Eclear2(H5E_DEFAULT);
      throw;
    }
    if (!im.has_run) {
      im.has_run = true;
      im.cxsim_version = run.provenance.version;
      im.created_utc = run.provenance.created_utc;
    }
  });
}

void ResultsWriter::commit() {
  with_context(impl_->prefix(), [&] {
    Impl& im = *impl_;
    im.require_open();
    write_attr(im.file, "cxsim_version", im.has_run ? im.cxsim_version : std::string(version()));
    write_attr(im.file, "created_utc", im.has_run && !im.created_utc.empty() ? im.created_utc : utc_now());
    check(H5Fflush(im.file, H5F_SCOPE_GLOBAL), "cannot flush " + quoted(im.temp.string()));
    if (im.file.close() < 0) fail("cannot close " + quoted(im.temp.string()));
    std::error_code ec;
    fs::rename(im.temp, im.destination, ec);
    if (ec) throw Failure("cannot rename " + quoted(im.temp.string()) + " into place: " + ec.message());
    im.committed = true;
  });
}

void ResultsWriter::write_summary(const std::vector<SummaryColumn>& columns) {
  with_context(impl_->prefix(), [&] {
    Impl& im = *impl_;
    im.require_open();
    const std::string what = "summary table";
    const std::size_t rows = columns.empty() ? 0 : columns[0].rows();
    // Row layout: fixed-length strings as long as each column's longest value.
    std::vector<std::size_t> offset, width;
    std::size_t size = 0;
    for (const auto& c : columns) {
      check_name(c.name, "summary column");
      const bool text = c.kind == SummaryColumn::Kind::kText;
      if (c.rows() != rows)
        throw Failure("summary column " + quoted(c.name) + " does not have " + std::to_string(rows) + " rows");
      std::size_t w = 8;
      if (text) {
        w = 1;
        for (const auto& s : c.text) w = std::max(w, s.size());
      }
      offset.push_back(size);
      width.push_back(w);
      size += w;
    }
    const Type row = summary_row_type(columns, offset, width, size, what);
    std::vector<unsigned char> buffer(rows * size, 0);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < columns.size(); ++j) {
        unsigned char* at = buffer.data() + r * size + offset[j];
        const auto& c = columns[j];
        if (c.kind == SummaryColumn::Kind::kText) {
          std::memcpy(at, c.text[r].data(), c.text[r].size());
        } else if (c.kind == SummaryColumn::Kind::kInteger) {
          std::memcpy(at, &c.integers[r], sizeof(std::int64_t));
        } else {
          std::memcpy(at, &c.numbers[r], sizeof(double));
        }
      }
    const hsize_t n = rows;
    Space space = simple_space({n}, what);
    Plist dcpl = creation_plist(H5P_DATASET_CREATE, what);
    if (n > 0) {
      const hsize_t chunk = std::min<hsize_t>(n, 4096);
      check(H5Pset_chunk(dcpl, 1, &chunk), what);
      check(H5Pset_deflate(dcpl, 4), what);
    }
    Dataset ds(H5Dcreate2(im.file, "summary", row, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), "cannot create " + what);
    if (n > 0) check(H5Dwrite(ds, row, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), what);
    std::vector<std::string> names;
    for (const auto& c : columns) names.push_back(c.name);
    write_attr(ds, "columns", names);
    write_attr(ds, "description", std::string("One row per run: identity, design values and outcome metrics"));
  });
}

void ResultsWriter::set_attribute(const std::string& name, const std::string& value) {
  with_context(impl_->prefix(), [&] {
    impl_->require_open();
    write_attr(impl_->file, name.c_str(), value);
  });
}

void ResultsWriter::set_attribute(const std::string& name, std::int64_t value) {
  with_context(impl_->prefix(), [&] {
    impl_->require_open();
    write_attr(impl_->file, name.c_str(), value);
  });
}

const fs::path& ResultsWriter::destination() const noexcept { return impl_->destination; }

struct ResultsReader::Impl {
  fs::path path;
  File file;
  [[nodiscard]] std::string prefix() const { return read_prefix(path); }
};

ResultsReader::ResultsReader(fs::path file) : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(file);
  with_context(impl_->prefix(), [&] { impl_->file = open_results(impl_->path); });
}

ResultsReader::~ResultsReader() = default;

const fs::path& ResultsReader::path() const noexcept { return impl_->path; }

std::vector<std::string> ResultsReader::runs() const {
  return with_context(impl_->prefix(), [&] {
    const File& f = impl_->file;
    if (H5Lexists(f, "runs", H5P_DEFAULT) <= 0) return std::vector<std::string>{};
    const Group runs(H5Gopen2(f, "runs", H5P_DEFAULT), "group 'runs'");
    auto names = link_names(runs, "group 'runs'");
    std::sort(names.begin(), names.end());
    return names;
  });
}

RunResult ResultsReader::run(const std::string& run_id) const {
  return with_context(impl_->prefix(), [&] {
    const File& f = impl_->file;
    check_name(run_id, "run id");
    const std::string path = "runs/" + run_id;
    if (H5Lexists(f, "runs", H5P_DEFAULT) <= 0 || H5Lexists(f, path.c_str(), H5P_DEFAULT) <= 0)
      throw Failure("no run " + quoted(run_id) + " in the file");
    try {
      return read_run_group(f, path, run_id);
    } catch (const Failure& e) {
      throw Failure("run " + quoted(run_id) + ": " + e.what());
    }
  });
}

std::optional<std::string> ResultsReader::text_attribute(const std::string& name) const {
  return with_context(impl_->prefix(), [&]() -> std::optional<std::string> {
    if (H5Aexists(impl_->file, name.c_str()) <= 0) return std::nullopt;
    return read_string_attr(impl_->file, name.c_str());
  });
}

std::optional<std::int64_t> ResultsReader::integer_attribute(const std::string& name) const {
  return with_context(impl_->prefix(), [&]() -> std::optional<std::int64_t> {
    if (H5Aexists(impl_->file, name.c_str()) <= 0) return std::nullopt;
    const Attr a = open_attr(impl_->file, name.c_str());
    const Type t(H5Aget_type(a), "attribute " + quoted(name));
    const Space space(H5Aget_space(a), "attribute " + quoted(name));
    if (H5Tget_class(t) != H5T_INTEGER || H5Sget_simple_extent_npoints(space) != 1)
      throw Failure("attribute " + quoted(name) + " is not a single integer");
    std::int64_t v = 0;
    check(H5Aread(a, H5T_NATIVE_INT64, &v), "attribute " + quoted(name));
    return v;
  });
}

std::optional<std::vector<SummaryColumn>> ResultsReader::summary() const {
  return with_context(impl_->prefix(), [&]() -> std::optional<std::vector<SummaryColumn>> {
    if (H5Lexists(impl_->file, "summary", H5P_DEFAULT) <= 0) return std::nullopt;
    return read_summary_table(impl_->file);
  });
}

std::vector<std::string> list_runs(const fs::path& file) { return ResultsReader(file).runs(); }

RunResult read_run(const fs::path& file, const std::string& run_id) { return ResultsReader(file).run(run_id); }

}  // namespace cxsim
