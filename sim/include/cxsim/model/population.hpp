#pragma once
/// \file
/// The customers: one fixed-size record per customer plus two small columns.
///
/// Layout is chosen for throughput at tens of millions of customers, where a
/// step visits only the customers who act (about one in twelve each week):
///
/// - `next_event` (2 bytes): the step at which the customer next acts. It is
///   the only column the step scans in full, sequentially.
/// - `word` (2 bytes): what contacts read (current brand, sentiment of the
///   last experience, trust in the current brand) as of the end of the last
///   step. It is the only column a customer reads of others: a cache line
///   holds 32 customers' words, and the column is 20 MB at ten million
///   customers. It does not change during a step: the words written in step
///   t are collected in WordLogs and published after it, so everyone reads
///   the state as of the end of step t - 1 whatever the processing order.
/// - `state` (4 bytes): the step of the last purchase or entry (`t_last`) and
///   the loyalty as of `t_last`, read and written only by the customer.
/// - `records` (12 + 2B + K bytes, padded to 4): everything else a purchase
///   reads or writes, contiguous, so that a purchaser costs one or two cache
///   lines instead of one line in each of a dozen columns.
///
/// Bytes per customer: 8 + round_up(12 + 2B + K, 4); 40 at K=4, B=8.
/// Large arrays are anonymous memory mappings: their pages are zeroed by the
/// kernel when first written (no separate zeroing pass) and use transparent
/// huge pages where the system allows.

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <utility>
#include <vector>

namespace cxsim {

/// Step value meaning "never" in the 16-bit time columns.
inline constexpr std::uint16_t kNever = 0xFFFF;

/// Satisfaction class of a customer's last experience.
enum class Sentiment : std::uint8_t { kNone = 0, kDetractor = 1, kPassive = 2, kPromoter = 3 };

/// What a customer's contacts can see of it: current brand, sentiment of the
/// last experience, and trust in the current brand's values (8-bit).
/// Packed into 16 bits: brand (bits 0-5), sentiment (6-7), trust (8-15).
struct Visible {
  std::uint8_t brand = 0;
  Sentiment sentiment = Sentiment::kNone;
  std::uint8_t trust = 0;  ///< trust x 255

  [[nodiscard]] static constexpr Visible unpack(std::uint16_t w) noexcept {
    return {static_cast<std::uint8_t>(w & 0x3F), static_cast<Sentiment>((w >> 6) & 0x3),
            static_cast<std::uint8_t>(w >> 8)};
  }
  [[nodiscard]] constexpr std::uint16_t pack() const noexcept {
    return static_cast<std::uint16_t>(brand | (static_cast<unsigned>(sentiment) << 6) |
                                      (static_cast<unsigned>(trust) << 8));
  }
};

/// The 32-bit `state` entry: step of the last purchase or entry t_last
/// (bits 0-15) and loyalty as of t_last x 65535 (16-31).
struct OwnState {
  std::uint16_t t_last = 0;
  std::uint16_t loyalty = 0;

  [[nodiscard]] static constexpr OwnState unpack(std::uint32_t x) noexcept {
    return {static_cast<std::uint16_t>(x), static_cast<std::uint16_t>(x >> 16)};
  }
  [[nodiscard]] constexpr std::uint32_t pack() const noexcept {
    return std::uint32_t{t_last} | (std::uint32_t{loyalty} << 16);
  }
};

/// The visible words written during a step, customer << 16 | word in the
/// order written, for Population::publish after the step.
class WordLog {
 public:
  void add(std::size_t customer, std::uint16_t word) { entries_.push_back(std::uint64_t{customer} << 16 | word); }
  void clear() noexcept { entries_.clear(); }
  [[nodiscard]] std::span<const std::uint64_t> entries() const noexcept { return entries_; }

 private:
  std::vector<std::uint64_t> entries_;
};

/// Fixed-point scales of the compact columns.
inline constexpr float kUnit16 = 65535.0f;      ///< loyalty and trust: value x 65535
inline constexpr float kDevScale = 63.5f;       ///< values and salience deviations in [-2, 2]: x 63.5
inline constexpr float kWeightScale = 85.0f;    ///< life/time/money weights in [0, 3]: x 85

/// An array of trivially copyable T in its own anonymous mapping, zero-filled.
template <class T>
class LargeArray {
 public:
  LargeArray() = default;
  explicit LargeArray(std::size_t n) : n_(n) {
    if (n == 0) return;
    bytes_ = n * sizeof(T);
    // Mapped with 2 MiB to spare so the data can start on a huge-page boundary
    // (untouched pages cost no memory).
    mapped_ = bytes_ + kHugePage;
    void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    base_ = p;
    const auto at = (reinterpret_cast<std::uintptr_t>(p) + kHugePage - 1) / kHugePage * kHugePage;
    data_ = reinterpret_cast<T*>(at);
#ifdef MADV_HUGEPAGE
    if (bytes_ >= kHugePage) madvise(data_, bytes_, MADV_HUGEPAGE);
#endif
  }
  LargeArray(const LargeArray&) = delete;
  LargeArray& operator=(const LargeArray&) = delete;
  LargeArray(LargeArray&& o) noexcept { take(o); }
  LargeArray& operator=(LargeArray&& o) noexcept {
    if (this != &o) {
      release();
      take(o);
    }
    return *this;
  }
  ~LargeArray() { release(); }

  [[nodiscard]] T* data() noexcept { return data_; }
  [[nodiscard]] const T* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return n_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  [[nodiscard]] std::span<const T> span() const noexcept { return {data_, n_}; }
  bool operator==(const LargeArray& o) const noexcept {
    return n_ == o.n_ && (n_ == 0 || std::memcmp(data_, o.data_, bytes_) == 0);
  }

 private:
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;
  void take(LargeArray& o) noexcept {
    base_ = std::exchange(o.base_, nullptr);
    data_ = std::exchange(o.data_, nullptr);
    n_ = std::exchange(o.n_, 0);
    bytes_ = std::exchange(o.bytes_, 0);
    mapped_ = std::exchange(o.mapped_, 0);
  }
  void release() noexcept {
    if (base_ != nullptr) munmap(base_, mapped_);
    base_ = nullptr;
    data_ = nullptr;
  }
  void* base_ = nullptr;
  T* data_ = nullptr;
  std::size_t n_ = 0;
  std::size_t bytes_ = 0;
  std::size_t mapped_ = 0;
};

/// All customers. Index i is the customer's position on the network ring.
///
/// Record of customer i (offsets in bytes): purchase rate (float, 0), exit
/// step (uint16, 4), trust in each brand (B x uint16 x 65535, 6), then bytes:
/// cohort, commitment (x 255), salience deviation (int8 x 63.5), life/time/money
/// weights (3 x uint8 x 85), values deviations (K x int8 x 63.5). Values and
/// salience deviations are from the cohort mean at birth and last for life;
/// commitment is the values-grounded share of loyalty that does not decay.
struct Population {
  std::size_t n = 0;  ///< customers
  int k = 0;          ///< value dimensions
  int brands = 0;
  std::size_t stride = 0;  ///< bytes per record

  LargeArray<std::uint16_t> next_event;  ///< step of the customer's next purchase or exit (kNever: none)
  LargeArray<std::uint16_t> word;        ///< Visible word as of the end of the last step, read by contacts
  LargeArray<std::uint32_t> state;       ///< OwnState
  LargeArray<std::uint8_t> records;      ///< n x stride

  /// Allocates every column for n customers (zero-filled).
  void resize(std::size_t customers, int dimensions, int brand_count) {
    n = customers;
    k = dimensions;
    brands = brand_count;
    stride = (bytes_of_record() + 3) / 4 * 4;
    next_event = LargeArray<std::uint16_t>(n);
    word = LargeArray<std::uint16_t>(n);
    state = LargeArray<std::uint32_t>(n);
    records = LargeArray<std::uint8_t>(n * stride);
  }

  /// Bytes of customer state per customer.
  [[nodiscard]] std::size_t bytes_per_customer() const noexcept { return 2 * sizeof(std::uint16_t) + sizeof(std::uint32_t) + stride; }

  // Record fields.
  [[nodiscard]] std::uint8_t* record(std::size_t i) noexcept { return records.data() + i * stride; }
  [[nodiscard]] const std::uint8_t* record(std::size_t i) const noexcept { return records.data() + i * stride; }
  [[nodiscard]] float& rate(std::size_t i) noexcept { return *reinterpret_cast<float*>(record(i)); }
  [[nodiscard]] float rate(std::size_t i) const noexcept { return *reinterpret_cast<const float*>(record(i)); }
  [[nodiscard]] std::uint16_t& exit_step(std::size_t i) noexcept { return *reinterpret_cast<std::uint16_t*>(record(i) + 4); }
  [[nodiscard]] std::uint16_t exit_step(std::size_t i) const noexcept {
    return *reinterpret_cast<const std::uint16_t*>(record(i) + 4);
  }
  [[nodiscard]] std::span<std::uint16_t> trust_of(std::size_t i) noexcept {
    return {reinterpret_cast<std::uint16_t*>(record(i) + 6), static_cast<std::size_t>(brands)};
  }
  [[nodiscard]] std::span<const std::uint16_t> trust_of(std::size_t i) const noexcept {
    return {reinterpret_cast<const std::uint16_t*>(record(i) + 6), static_cast<std::size_t>(brands)};
  }
  [[nodiscard]] std::uint8_t& cohort(std::size_t i) noexcept { return record(i)[bytes_at()]; }
  [[nodiscard]] std::uint8_t cohort(std::size_t i) const noexcept { return record(i)[bytes_at()]; }
  [[nodiscard]] std::uint8_t& commitment(std::size_t i) noexcept { return record(i)[bytes_at() + 1]; }
  [[nodiscard]] std::uint8_t commitment(std::size_t i) const noexcept { return record(i)[bytes_at() + 1]; }
  [[nodiscard]] std::int8_t& salience_dev(std::size_t i) noexcept {
    return *reinterpret_cast<std::int8_t*>(record(i) + bytes_at() + 2);
  }
  [[nodiscard]] std::int8_t salience_dev(std::size_t i) const noexcept {
    return static_cast<std::int8_t>(record(i)[bytes_at() + 2]);
  }
  /// Life, time and money weights (x 85).
  [[nodiscard]] std::uint8_t* weights(std::size_t i) noexcept { return record(i) + bytes_at() + 3; }
  [[nodiscard]] const std::uint8_t* weights(std::size_t i) const noexcept { return record(i) + bytes_at() + 3; }
  /// K values deviations (x 63.5).
  [[nodiscard]] std::int8_t* values_dev(std::size_t i) noexcept {
    return reinterpret_cast<std::int8_t*>(record(i) + bytes_at() + 6);
  }
  [[nodiscard]] const std::int8_t* values_dev(std::size_t i) const noexcept {
    return reinterpret_cast<const std::int8_t*>(record(i) + bytes_at() + 6);
  }

  /// What customer i shows at the end of the last step processed (its current brand etc.).
  [[nodiscard]] Visible current(std::size_t i) const noexcept { return Visible::unpack(word[i]); }
  [[nodiscard]] OwnState own_state(std::size_t i) const noexcept { return OwnState::unpack(state[i]); }
  void set_own_state(std::size_t i, const OwnState& s) noexcept { state[i] = s.pack(); }
  /// Step of customer i's last purchase or entry.
  [[nodiscard]] int t_last(std::size_t i) const noexcept { return own_state(i).t_last; }

  /// Makes the words of `log` visible: after every range of a step is
  /// processed, so that nobody reads a word written in the same step. Logs of
  /// one step hold distinct customers, so they may be published concurrently.
  void publish(const WordLog& log) noexcept {
    for (const std::uint64_t e : log.entries()) word[static_cast<std::size_t>(e >> 16)] = static_cast<std::uint16_t>(e);
  }

 private:
  [[nodiscard]] std::size_t bytes_at() const noexcept { return 6 + 2 * static_cast<std::size_t>(brands); }
  [[nodiscard]] std::size_t bytes_of_record() const noexcept { return bytes_at() + 6 + static_cast<std::size_t>(k); }
};

}  // namespace cxsim
