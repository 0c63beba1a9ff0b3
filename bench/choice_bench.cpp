// Utility and choice: for every customer, its values and salience at step t
// (cohort mean + own deviation), alignment with each brand's stance, the base
// utility of every brand (life - time - money) plus a loyalty bonus, and the
// logit draw (choose_logit, the kernel's own). Items are purchase decisions.

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "cxsim/core/fastmath.hpp"
#include "cxsim/core/rng.hpp"
#include "cxsim/model/customers.hpp"
#include "cxsim/model/timeline.hpp"

namespace {

void BM_UtilityAndChoice(benchmark::State& state, bool serial) {
  const auto n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  auto& sim = cxsim::bench::settled(n);
  const auto& spec = sim.spec();
  const auto& pop = sim.population();
  const cxsim::Timeline timeline(spec);
  const cxsim::SmallWorld network(spec.seed, static_cast<std::size_t>(n), spec.degree, spec.rewire);
  const cxsim::CustomerKernel kernel(spec, timeline, network);
  const int nb = static_cast<int>(spec.brands.size());
  const int k = spec.k();
  std::vector<cxsim::BrandView> brands(static_cast<std::size_t>(nb));
  for (int b = 0; b < nb; ++b) {
    const auto& p = spec.brands[static_cast<std::size_t>(b)].policy;
    brands[static_cast<std::size_t>(b)] = {static_cast<float>(p.effort + 0.1), static_cast<float>(p.price / 10.0),
                                           static_cast<float>(p.action), 0.6f, 4.0f};
  }
  std::vector<std::uint8_t> chosen(static_cast<std::size_t>(n));
  const int t = 10;
  for (auto _ : state) {
    cxsim::bench::over(pop.n, serial, threads, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        float v[cxsim::kMaxDimensions];
        kernel.values_at(pop, i, t, v);
        const float s = kernel.salience_at(pop, i, t);
        const std::uint8_t* wq = pop.weights(i);
        const float w[3] = {wq[0] / cxsim::kWeightScale, wq[1] / cxsim::kWeightScale, wq[2] / cxsim::kWeightScale};
        const auto trust = pop.trust_of(i);
        const int current = pop.current(i).brand;
        float u[cxsim::kMaxBrands];
        for (int b = 0; b < nb; ++b) {
          const auto& stance = spec.brands[static_cast<std::size_t>(b)].policy.stance;
          float align = 0.0f;
          for (int d = 0; d < k; ++d) align += static_cast<float>(stance[static_cast<std::size_t>(d)]) * v[d];
          u[b] = kernel.base_utility(align, trust[static_cast<std::size_t>(b)] / cxsim::kUnit16, s, w,
                                     brands[static_cast<std::size_t>(b)]);
        }
        u[current] += 4.0f * kernel.loyalty_at(pop, i, t);
        cxsim::CounterRng rng(spec.seed, cxsim::Stream::kPurchase, static_cast<std::uint32_t>(t), i);
        chosen[i] = static_cast<std::uint8_t>(cxsim::choose_logit(u, nb, rng.uniform_f()));
      }
    });
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

}  // namespace

CXSIM_BENCH_MODES(BM_UtilityAndChoice, 1'000'000);

BENCHMARK_MAIN();
