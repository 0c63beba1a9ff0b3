// The step allocates nothing per customer: the number of heap allocations in a
// step does not grow with the population.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "../support/market.hpp"

// GCC cannot see that these replacements pair malloc with free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Counting replacements of the global allocation functions (this test binary only).
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace cxsim {
namespace {

long allocations_per_step(std::int64_t customers) {
  auto spec = std::make_shared<const ScenarioSpec>(test::small_market(customers, 30));
  Simulation sim(spec, {1, true});
  for (int t = 0; t < 3; ++t) sim.step();
  const long before = g_allocations.load();
  for (int t = 0; t < 5; ++t) sim.step();
  return (g_allocations.load() - before) / 5;
}

TEST(Allocation, StepAllocationsDoNotGrowWithCustomers) {
  const long small = allocations_per_step(2000);
  const long large = allocations_per_step(200000);
  EXPECT_EQ(small, large) << "allocations per step: " << small << " at 2000 customers, " << large << " at 200000";
  EXPECT_LT(large, 200);
}

}  // namespace
}  // namespace cxsim
