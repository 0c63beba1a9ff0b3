#pragma once
// Shared set-up of the benchmark suites: the throughput scenario
// (bench/scenarios/throughput.toml) at a chosen size, a simulation advanced
// past its start-up transient, and a loop that runs serially (the reference)
// or on a TBB arena of a given size. Set-up runs outside timed regions.

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "cxsim/engine/simulation.hpp"
#include "cxsim/io/scenario_io.hpp"
#include "cxsim/model/customers.hpp"
#include "cxsim/model/network.hpp"
#include "cxsim/model/timeline.hpp"

namespace cxsim::bench {

/// The throughput scenario with `customers` customers and a horizon long
/// enough that a benchmark never runs out of steps.
inline std::shared_ptr<const ScenarioSpec> throughput_spec(std::int64_t customers, int steps = 20000) {
  return std::make_shared<const ScenarioSpec>(
      load_scenario(std::string(CXSIM_SOURCE_DIR) + "/bench/scenarios/throughput.toml",
                    {"population.customers=" + std::to_string(customers), "scenario.steps=" + std::to_string(steps)}));
}

/// A simulation of the throughput scenario after 5 steps, built once per size
/// and kept for the whole benchmark run (parts read its population).
inline Simulation& settled(std::int64_t customers) {
  static std::map<std::int64_t, std::unique_ptr<Simulation>> cache;
  auto& sim = cache[customers];
  if (!sim) {
    sim = std::make_unique<Simulation>(throughput_spec(customers), ExecutionPolicy{2, false});
    for (int t = 0; t < 5; ++t) sim->step();
  }
  return *sim;
}

/// The settled simulation of `customers` and the model parts its kernel is made
/// of, rebuilt from its scenario (the simulation keeps its own private), for
/// the part benchmarks to call the kernel's pieces on the settled population.
struct Parts {
  explicit Parts(std::int64_t customers)
      : sim(settled(customers)), spec(sim.spec()), pop(sim.population()), timeline(spec),
        network(spec.seed, pop.n, spec.degree, spec.rewire), kernel(spec, timeline, network) {}
  Parts(const Parts&) = delete;
  Parts& operator=(const Parts&) = delete;

  Simulation& sim;
  const ScenarioSpec& spec;
  const Population& pop;
  const Timeline timeline;
  const SmallWorld network;  ///< the same contacts the simulation uses (same seed, size, degree, rewiring)
  const CustomerKernel kernel;
};

/// Runs fn(begin, end) over [0, n): serially in chunks of `grain`, or with TBB
/// on `threads` threads, as the engine does.
template <class F>
void over(std::size_t n, bool serial, int threads, F&& fn, std::size_t grain = 8192) {
  if (serial) {
    for (std::size_t b = 0; b < n; b += grain) fn(b, std::min(n, b + grain));
    return;
  }
  static std::map<int, std::unique_ptr<tbb::task_arena>> arenas;
  auto& arena = arenas[threads];
  if (!arena) arena = std::make_unique<tbb::task_arena>(threads);
  arena->execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, grain),
                      [&](const tbb::blocked_range<std::size_t>& r) { fn(r.begin(), r.end()); });
  });
}

/// Customers [begin, end) in groups of kLanes, as the kernel takes purchasers:
/// computes each group's contacts, gathers the group into `g` for step t
/// (CustomerKernel::gather_lanes), then calls fn(first, lanes).
template <class F>
void over_lane_groups(const CustomerKernel& kernel, const SmallWorld& network, const Population& pop, int t,
                      std::size_t begin, std::size_t end, PurchaseLanes& g, F&& fn) {
  const auto degree = static_cast<std::size_t>(network.degree());
  std::uint32_t contacts[kLanes * kMaxDegree];
  std::uint32_t customers[kLanes] = {};
  const std::uint32_t* contacts_of[kLanes] = {};
  for (std::size_t first = begin; first < end; first += kLanes) {
    const int lanes = static_cast<int>(std::min<std::size_t>(kLanes, end - first));
    for (int e = 0; e < lanes; ++e) {
      customers[e] = static_cast<std::uint32_t>(first + static_cast<std::size_t>(e));
      contacts_of[e] = contacts + static_cast<std::size_t>(e) * degree;
      network.contacts(customers[e], contacts + static_cast<std::size_t>(e) * degree);
    }
    kernel.gather_lanes(pop, t, customers, contacts_of, 1, lanes, g);
    fn(first, lanes);
  }
}

/// Registers `fn` as serial/1 thread and TBB/1 and 2 threads at each size.
#define CXSIM_BENCH_MODES(fn, ...)                                                                                 \
  BENCHMARK_CAPTURE(fn, serial, true)->Args({__VA_ARGS__, 1})->Unit(benchmark::kMillisecond)->UseRealTime();        \
  BENCHMARK_CAPTURE(fn, tbb, false)                                                                                \
      ->Args({__VA_ARGS__, 1})                                                                                     \
      ->Args({__VA_ARGS__, 2})                                                                                     \
      ->Unit(benchmark::kMillisecond)                                                                              \
      ->UseRealTime()

}  // namespace cxsim::bench
