#pragma once
/// \file
/// Philox4x32-10 of many counters side by side: the same words CounterRng
/// draws one agent at a time, computed in vector lanes for the kernels that
/// draw for thousands of agents at once (births, the initial state, the
/// purchase draws, the workforce).

#include <cstddef>
#include <cstdint>

#include "cxsim/core/rng.hpp"

namespace cxsim {

/// Philox4x32-10 (Random123's rounds and constants) of `lanes` counters
/// (x0, x1, x2, x3)[l] under the key (k0, k1), in place. Bit-identical to
/// r123::Philox4x32; compiled once per vector instruction set where
/// CXSIM_CLONES is available (GCC on x86-64, no sanitizers).
void philox_lanes(std::uint32_t k0, std::uint32_t k1, int lanes, std::uint32_t* __restrict x0,
                  std::uint32_t* __restrict x1, std::uint32_t* __restrict x2, std::uint32_t* __restrict x3);

/// Blocks 0..blocks-1 of the Philox sequences of (stream, step) for agents
/// first..first+count-1, agent-major: out[(a x blocks + block) x 4 + word].
/// The same words CounterRng(seed, stream, step, agent) draws, side by side.
void philox_blocks(std::uint64_t seed, Stream stream, std::uint32_t step, std::size_t first, int count, int blocks,
                   std::uint32_t* out);
/// The same for the agents who[0..count), not necessarily consecutive:
/// out[(a x blocks + block) x 4 + word] for agent who[a].
void philox_blocks_of(std::uint64_t seed, Stream stream, std::uint32_t step, const std::uint32_t* who, int count,
                      int blocks, std::uint32_t* out);

}  // namespace cxsim
