// timing_summary.cpp - summarise request timings for the nightly report.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace reporting {

// Returns a one-line summary such as
// "checkout: n=120 mean=12.40ms sd=3.10ms p50=11.00ms p95=18.20ms p99=25.00ms max=31.00ms".
std::string summarize(const std::string& name, std::vector<double> v) {
    char buf[256];
    if (v.empty()) {
        std::snprintf(buf, sizeof buf, "%s: no samples", name.c_str());
        return buf;
    }

    std::sort(v.begin(), v.end());
    double s = 0;
    for (double x : v) s += x;
    double m = s / v.size();
    double q = 0;
    for (double x : v) q += (x - m) * (x - m);
    double sd = std::sqrt(q / v.size());

    std::size_t i50 = static_cast<std::size_t>(std::ceil(0.50 * v.size())) - 1;
    double p50 = v[i50];
    std::size_t i95 = static_cast<std::size_t>(std::ceil(0.95 * v.size())) - 1;
    double p95 = v[i95];
    std::size_t i99 = static_cast<std::size_t>(std::ceil(0.99 * v.size())) - 1;
    double p99 = v[i99];

    std::snprintf(buf, sizeof buf,
                  "%s: n=%zu mean=%.2fms sd=%.2fms p50=%.2fms p95=%.2fms p99=%.2fms max=%.2fms",
                  name.c_str(), v.size(), m, sd, p50, p95, p99, v.back());
    return buf;
}

}  // namespace reporting
