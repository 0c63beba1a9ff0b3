// Word of mouth and social proof, as the kernel runs it: customers in groups
// of kLanes (one SIMD lane each), their contacts on the small world
// (SmallWorld::contacts, rewired slots hashed), CustomerKernel::gather_lanes
// (their records and their contacts' visible words as of the previous step)
// and cxsim::lanes_word_of_mouth (users, net promotion and per-contact trust
// updates for every brand). Items are purchasers (one contact sweep each).

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "cxsim/model/customers.hpp"

namespace {

void BM_WordOfMouth(benchmark::State& state, bool serial) {
  const auto n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const cxsim::bench::Parts parts(n);
  const int nb = static_cast<int>(parts.spec.brands.size());
  const auto& coefficients = parts.kernel.lane_coefficients();
  std::vector<float> out(static_cast<std::size_t>(n));
  const int t = 10;
  for (auto _ : state) {
    cxsim::bench::over(parts.pop.n, serial, threads, [&](std::size_t begin, std::size_t end) {
      cxsim::PurchaseLanes g;
      cxsim::bench::over_lane_groups(parts.kernel, parts.network, parts.pop, t, begin, end, g, [&](std::size_t first, int lanes) {
        cxsim::lanes_word_of_mouth(g, coefficients);
        for (int e = 0; e < lanes; ++e) {
          float sum = 0.0f;
          for (int b = 0; b < nb; ++b) sum += g.trust[b][e] + g.users[b][e] + g.net[b][e];
          out[first + static_cast<std::size_t>(e)] = sum;
        }
      });
    });
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

}  // namespace

CXSIM_BENCH_MODES(BM_WordOfMouth, 1'000'000);
CXSIM_BENCH_MODES(BM_WordOfMouth, 10'000'000);

BENCHMARK_MAIN();
