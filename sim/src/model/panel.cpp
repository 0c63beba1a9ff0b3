#include "cxsim/model/panel.hpp"

#include <algorithm>

namespace cxsim {

PanelSummary summarize_panel(const std::vector<PanelPurchase>& purchases, std::int64_t panel_size, int brands,
                             int from, int to) {
  const auto nb = static_cast<std::size_t>(brands);
  PanelSummary s;
  s.from = from;
  s.to = to;
  s.panel_size = panel_size;
  s.penetration.assign(nb, 0.0);
  s.frequency.assign(nb, 0.0);
  s.scr.assign(nb, 0.0);
  s.sole_buyers.assign(nb, 0.0);
  s.duplication.assign(nb * nb, 0.0);

  // Purchases per (member, brand) in the period; members are few, so sort.
  std::vector<const PanelPurchase*> in_period;
  for (const auto& p : purchases)
    if (p.step >= from && p.step < to && p.brand < nb) in_period.push_back(&p);
  std::sort(in_period.begin(), in_period.end(),
            [](const PanelPurchase* a, const PanelPurchase* b) { return a->customer < b->customer; });

  std::vector<double> buyers(nb), brand_purchases(nb), buyers_category(nb), sole(nb), both(nb * nb);
  std::vector<std::int64_t> count(nb);
  for (std::size_t j = 0; j < in_period.size();) {
    const auto member = in_period[j]->customer;
    std::fill(count.begin(), count.end(), 0);
    std::int64_t total = 0;
    for (; j < in_period.size() && in_period[j]->customer == member; ++j, ++total) ++count[in_period[j]->brand];
    ++s.category_buyers;
    int repertoire = 0;
    for (std::size_t b = 0; b < nb; ++b) repertoire += count[b] > 0;
    for (std::size_t x = 0; x < nb; ++x) {
      if (count[x] == 0) continue;
      buyers[x] += 1;
      brand_purchases[x] += static_cast<double>(count[x]);
      buyers_category[x] += static_cast<double>(total);
      if (repertoire == 1) sole[x] += 1;
      for (std::size_t y = 0; y < nb; ++y)
        if (count[y] > 0) both[x * nb + y] += 1;
    }
  }
  for (std::size_t x = 0; x < nb; ++x) {
    if (panel_size > 0) s.penetration[x] = buyers[x] / static_cast<double>(panel_size);
    if (buyers[x] == 0) continue;
    s.frequency[x] = brand_purchases[x] / buyers[x];
    s.scr[x] = brand_purchases[x] / buyers_category[x];
    s.sole_buyers[x] = sole[x] / buyers[x];
    for (std::size_t y = 0; y < nb; ++y) s.duplication[x * nb + y] = both[x * nb + y] / buyers[x];
  }
  return s;
}

}  // namespace cxsim
