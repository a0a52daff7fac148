// timing_summary.cpp - summarise request timings for the nightly report.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace reporting {

namespace {

double mean(const std::vector<double>& samples) {
    double sum = 0;
    for (double sample : samples) sum += sample;
    return sum / samples.size();
}

double standard_deviation(const std::vector<double>& samples, double average) {
    double squared_error = 0;
    for (double sample : samples) squared_error += (sample - average) * (sample - average);
    return std::sqrt(squared_error / samples.size());
}

// Nearest-rank percentile; `sorted` must be non-empty and ascending.
double percentile(const std::vector<double>& sorted, double fraction) {
    const auto rank = static_cast<std::size_t>(std::ceil(fraction * sorted.size()));
    return sorted[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace

// Returns a one-line summary such as
// "checkout: n=120 mean=12.40ms sd=3.10ms p50=11.00ms p95=18.20ms p99=25.00ms max=31.00ms".
std::string summarize(const std::string& name, std::vector<double> timings_ms) {
    char line[256];
    if (timings_ms.empty()) {
        std::snprintf(line, sizeof line, "%s: no samples", name.c_str());
        return line;
    }

    std::sort(timings_ms.begin(), timings_ms.end());
    const double average = mean(timings_ms);
    const double deviation = standard_deviation(timings_ms, average);

    std::snprintf(line, sizeof line,
                  "%s: n=%zu mean=%.2fms sd=%.2fms p50=%.2fms p95=%.2fms p99=%.2fms max=%.2fms",
                  name.c_str(), timings_ms.size(), average, deviation,
                  percentile(timings_ms, 0.50), percentile(timings_ms, 0.95),
                  percentile(timings_ms, 0.99), timings_ms.back());
    return line;
}

}  // namespace reporting
