#include "cxsim/core/philox_batch.hpp"

#include <algorithm>

#include "cxsim/core/fastmath.hpp"

namespace cxsim {

CXSIM_CLONES void philox_lanes(std::uint32_t k0, std::uint32_t k1, int lanes, std::uint32_t* __restrict x0,
                               std::uint32_t* __restrict x1, std::uint32_t* __restrict x2,
                               std::uint32_t* __restrict x3) {
  for (int r = 0; r < 10; ++r) {
    for (int l = 0; l < lanes; ++l) {
      const std::uint64_t p0 = std::uint64_t{0xD2511F53u} * x0[l];
      const std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * x2[l];
      const auto y0 = static_cast<std::uint32_t>(p1 >> 32) ^ x1[l] ^ k0;
      const auto y2 = static_cast<std::uint32_t>(p0 >> 32) ^ x3[l] ^ k1;
      x1[l] = static_cast<std::uint32_t>(p1);
      x3[l] = static_cast<std::uint32_t>(p0);
      x0[l] = y0;
      x2[l] = y2;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
}

namespace {
/// philox_blocks for agents agent(0) .. agent(count - 1).
template <class Agent>
void blocks_of(std::uint64_t seed, Stream stream, std::uint32_t step, Agent agent_of, int count, int blocks,
               std::uint32_t* out) {
  constexpr int kLanes = 256;
  alignas(64) std::uint32_t x0[kLanes], x1[kLanes], x2[kLanes], x3[kLanes];
  const int total = count * blocks;
  for (int start = 0; start < total; start += kLanes) {
    const int lanes = std::min(kLanes, total - start);
    for (int l = 0; l < lanes; ++l) {
      const std::uint64_t agent = agent_of((start + l) / blocks);
      x0[l] = static_cast<std::uint32_t>(agent);
      x1[l] = CounterRng::counter_word1(stream, agent);
      x2[l] = step;
      x3[l] = static_cast<std::uint32_t>((start + l) % blocks);
    }
    philox_lanes(static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32), lanes, x0, x1, x2, x3);
    for (int l = 0; l < lanes; ++l) {
      std::uint32_t* o = out + 4 * static_cast<std::size_t>(start + l);
      o[0] = x0[l];
      o[1] = x1[l];
      o[2] = x2[l];
      o[3] = x3[l];
    }
  }
}
}  // namespace

void philox_blocks(std::uint64_t seed, Stream stream, std::uint32_t step, std::size_t first, int count, int blocks,
                   std::uint32_t* out) {
  blocks_of(
      seed, stream, step, [first](int a) { return static_cast<std::uint64_t>(first) + static_cast<std::uint64_t>(a); },
      count, blocks, out);
}

void philox_blocks_of(std::uint64_t seed, Stream stream, std::uint32_t step, const std::uint32_t* who, int count,
                      int blocks, std::uint32_t* out) {
  blocks_of(
      seed, stream, step, [who](int a) { return std::uint64_t{who[a]}; }, count, blocks, out);
}

}  // namespace cxsim
