#pragma once
/// \file
/// The events of one step and the words of their rewired contacts, fetched
/// in the order of the word column instead of the order of the events.
///
/// A purchaser reads the visible words of its network contacts. Its ring
/// neighbours' words lie next to its own, but a rewired contact is anywhere
/// in the population, and at ten million customers reading those words one
/// purchaser at a time was the largest cost of a step (cache misses that
/// prefetching hid only in part). Words do not change during a step (they
/// are published after it), so they can be fetched before the purchases in
/// any order. Simulation::step therefore runs in three passes:
///
///  1. CustomerKernel::collect, per block of customers: the customers with an
///     event at t, the rewired slots of each, and its rewired contacts (the
///     block's requests), which sort_requests then counts and orders by the
///     part of the word column they fall in.
///  2. resolve, per part: every block's requests into that part, so that
///     each part of the column is read while it is in cache.
///  3. CustomerKernel::process_block, per block: the events, reading each
///     rewired contact's word from the block's resolved words (in event and
///     slot order) and the ring neighbours' from the column.
///
/// This is propagation blocking (Beamer, Asanovic and Patterson, "Reducing
/// PageRank communication via propagation blocking", IPDPS 2017) applied to
/// reads. Blocks are written only by their own pass-1 and pass-3 tasks and,
/// in pass 2, at disjoint positions per part, so every pass runs its blocks
/// or parts in parallel, and the results do not depend on how they are
/// split among threads.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cxsim {

class StepEvents {
 public:
  /// Events of customers [begin, end) at one step.
  struct Block {
    std::size_t begin = 0, end = 0;
    /// The rewired-slot masks of customers begin .. end - 1 (bit j of a
    /// customer's mask in bit j % 8 of its byte j / 8; (degree + 7) / 8
    /// bytes each), computed by the first collect: the network does not change.
    std::vector<std::uint8_t> masks;
    std::vector<std::uint32_t> who;      ///< customers with an event, ascending
    std::vector<std::uint64_t> rewired;  ///< per event: bit j set if contact slot j is rewired
    std::vector<std::uint32_t> first_request;  ///< per event: the index of its first request
    /// Rewired contacts of the events, in event order and by slot within an
    /// event (collect), then sorted by part (sort_requests).
    std::vector<std::uint32_t> request;
    std::vector<std::uint32_t> sorted;      ///< the requests ordered by part (stable)
    std::vector<std::uint32_t> part_begin;  ///< parts() + 1 offsets into `sorted`
    std::vector<std::uint32_t> at;  ///< at[r]: the position of request r in `sorted` and `word`
    std::vector<std::uint16_t> word;  ///< word[k]: the visible word of customer sorted[k] (resolve)
  };

  /// Splits customers [0, customers) into blocks of 4096 to 65536 (a power of
  /// two, about 64 blocks or more) and the word column into parts of 32768
  /// customers or more (a power of two, at most about 512 parts).
  void resize(std::size_t customers);

  [[nodiscard]] std::size_t blocks() const noexcept { return blocks_.size(); }
  [[nodiscard]] std::size_t parts() const noexcept { return parts_; }
  [[nodiscard]] Block& block(std::size_t b) noexcept { return blocks_[b]; }
  [[nodiscard]] const Block& block(std::size_t b) const noexcept { return blocks_[b]; }

  /// Orders block b's requests by part (a counting sort, stable) and sets
  /// `part_begin` and `at`.
  void sort_requests(Block& b) const;

  /// Pass 2 for part q: the words of every block's requests into part q,
  /// from the word column `words`.
  void resolve(std::size_t q, const std::uint16_t* words) noexcept;

 private:
  std::vector<Block> blocks_;
  std::size_t parts_ = 0;
  int part_shift_ = 0;  ///< a contact c lies in part c >> part_shift_
};

}  // namespace cxsim
