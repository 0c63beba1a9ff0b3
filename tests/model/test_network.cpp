// The small-world network. contacts_many() gives a whole batch slot-major,
// contacts() one customer, and rewired_many() and redirected_many() the masks
// and far contacts the step uses; a customer's contacts must not
// depend on the batch it is in, and they must follow the lattice and the
// rewiring probability.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cxsim/model/network.hpp"

namespace cxsim {
namespace {

struct Shape {
  std::size_t n;
  int degree;
  double rewire;
};

class NetworkShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(NetworkShapes, BatchEqualsOneByOne) {
  const Shape s = GetParam();
  const SmallWorld net(42, s.n, s.degree, s.rewire);
  // Both ends of the ring (wrap-around) and a spread of customers in between.
  std::vector<std::uint32_t> who = {0, 1, static_cast<std::uint32_t>(s.n - 2), static_cast<std::uint32_t>(s.n - 1)};
  for (std::uint64_t x = 7; who.size() < 300; x = x * 6364136223846793005ull + 1442695040888963407ull)
    who.push_back(static_cast<std::uint32_t>((x >> 33) % s.n));
  const auto d = static_cast<std::size_t>(s.degree);
  std::vector<std::uint32_t> batch(who.size() * d), one(d);
  std::vector<std::uint64_t> masks(who.size());
  net.contacts_many(who.data(), static_cast<int>(who.size()), batch.data(), who.size(), masks.data());
  for (std::size_t e = 0; e < who.size(); ++e) {
    const std::uint64_t mask = net.contacts(who[e], one.data());
    EXPECT_EQ(masks[e], mask) << "customer " << who[e];
    for (std::size_t j = 0; j < d; ++j) {
      EXPECT_EQ(batch[j * who.size() + e], one[j]) << "customer " << who[e] << " slot " << j;
      EXPECT_LT(one[j], s.n);
      EXPECT_NE(one[j], who[e]) << "a customer is not its own contact";
    }
  }
}

TEST_P(NetworkShapes, MasksAndRedirectsEqualTheContacts) {
  // rewired_many over a range and redirected_many over the rewired slots
  // (what collect uses) give contacts()' masks and far contacts.
  const Shape s = GetParam();
  const SmallWorld net(42, s.n, s.degree, s.rewire);
  const std::size_t first = s.n > 300 ? s.n / 3 : 0;
  const int count = static_cast<int>(std::min<std::size_t>(200, s.n - first));
  std::vector<std::uint64_t> masks(static_cast<std::size_t>(count));
  net.rewired_many(first, count, masks.data());
  std::vector<std::uint32_t> who, contact(static_cast<std::size_t>(s.degree)), want;
  std::vector<std::uint8_t> slot;
  for (int e = 0; e < count; ++e) {
    const std::size_t i = first + static_cast<std::size_t>(e);
    ASSERT_EQ(masks[static_cast<std::size_t>(e)], net.contacts(i, contact.data())) << "customer " << i;
    for (int j = 0; j < s.degree; ++j)
      if ((masks[static_cast<std::size_t>(e)] >> j) & 1) {
        who.push_back(static_cast<std::uint32_t>(i));
        slot.push_back(static_cast<std::uint8_t>(j));
        want.push_back(contact[static_cast<std::size_t>(j)]);
      }
  }
  std::vector<std::uint32_t> got(want.size());
  net.redirected_many(who.data(), slot.data(), static_cast<int>(who.size()), got.data());
  EXPECT_EQ(got, want);
  if (s.rewire > 0.0) {
    EXPECT_FALSE(want.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, NetworkShapes,
                         ::testing::Values(Shape{1000, 8, 0.1}, Shape{1000, 8, 0.0}, Shape{1000, 8, 1.0},
                                           Shape{50, 2, 0.3}, Shape{100000, 10, 0.25}, Shape{17, 16, 0.5}));

TEST(Network, LatticeWithoutRewiring) {
  const SmallWorld net(1, 100, 4, 0.0);
  std::vector<std::uint32_t> c(4);
  EXPECT_EQ(net.contacts(0, c.data()), 0u);
  EXPECT_EQ(c, (std::vector<std::uint32_t>{98, 99, 1, 2}));
  net.contacts(99, c.data());
  EXPECT_EQ(c, (std::vector<std::uint32_t>{97, 98, 0, 1}));
}

TEST(Network, RewiredShareMatchesTheProbability) {
  const SmallWorld net(3, 1000000, 8, 0.1);
  std::vector<std::uint32_t> c(8);
  std::size_t rewired = 0, slots = 0;
  for (std::size_t i = 0; i < 1000000; i += 7) {
    rewired += static_cast<std::size_t>(__builtin_popcountll(net.contacts(i, c.data())));
    slots += 8;
  }
  // 1.14M slots: the share's standard error is 2.8e-4; allow 5 of them.
  EXPECT_NEAR(static_cast<double>(rewired) / static_cast<double>(slots), 0.1, 0.0014);
}

}  // namespace
}  // namespace cxsim
