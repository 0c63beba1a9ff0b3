// Word of mouth and social proof: for every customer, its contacts on the
// small world (SmallWorld::contacts, rewired slots hashed), their visible
// words as of the previous step (VisibleState::word_for_readers) and the
// per-contact trust updates (cxsim::word_of_mouth, the kernel's own). Items are purchasers (one contact sweep each).

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "cxsim/model/customers.hpp"

namespace {

void BM_WordOfMouth(benchmark::State& state, bool serial) {
  const auto n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  auto& sim = cxsim::bench::settled(n);
  const auto& spec = sim.spec();
  const auto& pop = sim.population();
  const cxsim::SmallWorld network(spec.seed, static_cast<std::size_t>(n), spec.degree, spec.rewire);
  const int nb = static_cast<int>(spec.brands.size());
  const auto wom = static_cast<float>(spec.trust.wom_rate);
  std::vector<float> out(static_cast<std::size_t>(n));
  const int t = 10;
  for (auto _ : state) {
    cxsim::bench::over(pop.n, serial, threads, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        std::uint32_t contacts[cxsim::kMaxDegree];
        network.contacts(i, contacts);
        float trust[cxsim::kMaxBrands], users[cxsim::kMaxBrands] = {}, net[cxsim::kMaxBrands] = {};
        const auto row = pop.trust_of(i);
        for (int b = 0; b < nb; ++b) trust[b] = row[static_cast<std::size_t>(b)] / cxsim::kUnit16;
        cxsim::word_of_mouth(pop, contacts, network.degree(), t, wom, trust, users, net);
        float sum = 0.0f;
        for (int b = 0; b < nb; ++b) sum += trust[b] + users[b] + net[b];
        out[i] = sum;
      }
    });
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

}  // namespace

CXSIM_BENCH_MODES(BM_WordOfMouth, 1'000'000);
CXSIM_BENCH_MODES(BM_WordOfMouth, 10'000'000);

BENCHMARK_MAIN();
