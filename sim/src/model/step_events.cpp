#include "cxsim/model/step_events.hpp"

#include <algorithm>

namespace cxsim {

namespace {
constexpr std::size_t kMinBlock = 4096, kMaxBlock = 65536;  // powers of two, multiples of the scan's 64
constexpr std::size_t kMinPart = 32768;
constexpr std::size_t kTargetBlocks = 64, kMaxParts = 512;
}  // namespace

void StepEvents::resize(std::size_t customers) {
  std::size_t size = kMinBlock;
  while (size < kMaxBlock && size * kTargetBlocks < customers) size *= 2;
  blocks_.assign((customers + size - 1) / size, Block{});
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    Block& block = blocks_[b];
    block.begin = b * size;
    block.end = std::min(customers, (b + 1) * size);
    // Room for every customer of the block: address space only (pages are
    // touched as events fill them), and no step ever reallocates.
    block.who.reserve(block.end - block.begin);
    block.rewired.reserve(block.end - block.begin);
    block.first_request.reserve(block.end - block.begin);
  }
  part_shift_ = 0;
  while ((std::size_t{1} << part_shift_) < kMinPart || (std::size_t{1} << part_shift_) * kMaxParts < customers)
    ++part_shift_;
  parts_ = (customers + (std::size_t{1} << part_shift_) - 1) >> part_shift_;
}

void StepEvents::sort_requests(Block& b) const {
  const std::size_t n = b.request.size();
  auto& begin = b.part_begin;
  begin.assign(parts_ + 1, 0);
  for (const std::uint32_t c : b.request) ++begin[(c >> part_shift_) + 1];
  for (std::size_t q = 0; q < parts_; ++q) begin[q + 1] += begin[q];
  if (b.sorted.capacity() < n) {  // with room to spare, so that later steps rarely reallocate
    for (auto* v : {&b.sorted, &b.at}) v->reserve(n + n / 2);
    b.word.reserve(n + n / 2);
  }
  b.sorted.resize(n);
  b.at.resize(n);
  b.word.resize(n);
  // begin[q] is part q's cursor while the requests are placed, and ends at
  // part q's end (part q + 1's beginning); then the offsets move up one part.
  for (std::size_t r = 0; r < n; ++r) {
    const std::uint32_t c = b.request[r];
    const std::uint32_t k = begin[c >> part_shift_]++;
    b.sorted[k] = c;
    b.at[r] = k;
  }
  for (std::size_t q = parts_; q > 0; --q) begin[q] = begin[q - 1];
  begin[0] = 0;
}

void StepEvents::resolve(std::size_t q, const std::uint16_t* words) noexcept {
  for (Block& b : blocks_) {
    const std::uint32_t* c = b.sorted.data();
    std::uint16_t* w = b.word.data();
    for (std::uint32_t k = b.part_begin[q], stop = b.part_begin[q + 1]; k < stop; ++k) w[k] = words[c[k]];
  }
}

}  // namespace cxsim
