// srmudp-sim: runs srmudp over the deterministic simulated network and reports what happened.
//
// With no arguments it runs a short tour of named scenarios; --scenario picks others, and the
// network options either adjust the chosen scenarios' links or, without --scenario, describe a
// custom two-host scenario. Exit status: 0 if every scenario passed, 1 if one failed, 2 for
// bad arguments.
#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netsim/catalogue.hpp"
#include "netsim/scenario.hpp"

namespace {

using srmudp::Duration;
using namespace srmudp::netsim;

constexpr std::string_view kUsage = R"(usage: srmudp-sim [options]

Runs srmudp over a deterministic simulated network (virtual time, seeded randomness).
Without options: a short tour of scenarios. Exit status 0 only if every scenario passed.

  --scenario NAME|all   run a named scenario (see --list) or all of them
  --seed N              scenario seed (default 1); the same seed gives the same run
  --loss P              loss probability per datagram, 0..1 or a percentage like 5%
  --delay MS            one-way delay in milliseconds
  --jitter MS           uniform extra delay in milliseconds
  --bandwidth MBIT      link rate in Mbit/s (0: unlimited)
  --duplicate P         duplication probability
  --reorder P           probability that a datagram is held back and overtaken
  --partition S:E       drop everything from S to E seconds (repeatable)
  --messages N          messages per direction
  --max-size BYTES      largest message (up to 4194304)
  --simultaneous        both hosts connect() at the same instant instead of listen/connect
  --list                list the named scenarios
  --help                this text

Network options apply to every link of the chosen scenarios; without --scenario they describe
a custom two-host scenario (default 10 ms delay, unlimited rate).
)";

struct Options {
    std::vector<std::string> scenarios;  // empty: the tour, or "custom" with network options
    std::uint64_t seed = 1;
    std::optional<double> loss, duplicate, reorder;
    std::optional<Duration> delay, jitter;
    std::optional<std::uint64_t> bandwidth_bps;
    std::vector<Partition> partitions;
    std::optional<std::size_t> messages, max_size;
    bool simultaneous = false;
    bool list = false;
    bool help = false;

    bool changes_network() const {
        return loss || duplicate || reorder || delay || jitter || bandwidth_bps ||
               !partitions.empty();
    }
};

bool parse_double(std::string_view text, double& out) {
    const std::string s(text);
    char* end = nullptr;
    errno = 0;
    out = std::strtod(s.c_str(), &end);
    return !s.empty() && errno == 0 && end == s.c_str() + s.size() && !std::isnan(out);
}

bool parse_u64(std::string_view text, std::uint64_t& out) {
    const std::string s(text);
    char* end = nullptr;
    errno = 0;
    if (s.empty() || s[0] == '-') return false;
    out = std::strtoull(s.c_str(), &end, 10);
    return errno == 0 && end == s.c_str() + s.size();
}

bool parse_probability(std::string_view text, double& out) {
    const bool percent = !text.empty() && text.back() == '%';
    if (!parse_double(percent ? text.substr(0, text.size() - 1) : text, out)) return false;
    if (percent) out /= 100;
    return out >= 0 && out <= 1;
}

bool parse_ms(std::string_view text, Duration& out) {
    double ms = 0;
    if (!parse_double(text, ms) || ms < 0 || ms > 3.6e6) return false;
    out = Duration(static_cast<Duration::rep>(ms * 1e6));
    return true;
}

bool parse_partition(std::string_view text, Partition& out) {
    const std::size_t colon = text.find(':');
    double start = 0;
    double end = 0;
    if (colon == std::string_view::npos || !parse_double(text.substr(0, colon), start) ||
        !parse_double(text.substr(colon + 1), end) || start < 0 || end < start || end > 86400) {
        return false;
    }
    out.start = Duration(static_cast<Duration::rep>(start * 1e9));
    out.end = Duration(static_cast<Duration::rep>(end * 1e9));
    return true;
}

// Applies one option that takes a value; an empty string on success, else the complaint.
std::string apply_value(Options& o, std::string_view flag, std::string_view v) {
    double d = 0;
    std::uint64_t n = 0;
    Duration t{};
    Partition w;
    if (flag == "--scenario") {
        o.scenarios.emplace_back(v);
    } else if (flag == "--seed") {
        if (!parse_u64(v, o.seed)) return "a non-negative integer";
    } else if (flag == "--loss" || flag == "--duplicate" || flag == "--reorder") {
        if (!parse_probability(v, d)) return "a probability in 0..1 (or 0%..100%)";
        (flag == "--loss" ? o.loss : flag == "--duplicate" ? o.duplicate : o.reorder) = d;
    } else if (flag == "--delay" || flag == "--jitter") {
        if (!parse_ms(v, t)) return "milliseconds, 0 to 3600000";
        (flag == "--delay" ? o.delay : o.jitter) = t;
    } else if (flag == "--bandwidth") {
        if (!parse_double(v, d) || d < 0 || d > 10'000) return "Mbit/s, 0 to 10000";
        o.bandwidth_bps = static_cast<std::uint64_t>(d * 1e6);
    } else if (flag == "--partition") {
        if (!parse_partition(v, w)) return "START:END in seconds with START <= END";
        o.partitions.push_back(w);
    } else if (flag == "--messages") {
        if (!parse_u64(v, n) || n > 10'000'000) return "a count up to 10000000";
        o.messages = n;
    } else if (flag == "--max-size") {
        if (!parse_u64(v, n) || n > kMaxWorkloadMessage) return "bytes, 0 to 4194304";
        o.max_size = n;
    } else {
        return "-";  // not an option with a value
    }
    return {};
}

// Parses argv into o; an empty string on success, else the error message.
std::string parse(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--simultaneous") {
            o.simultaneous = true;
        } else if (flag == "--list") {
            o.list = true;
        } else if (flag == "--help" || flag == "-h") {
            o.help = true;
        } else if (i + 1 < argc && flag.substr(0, 2) == "--") {
            const std::string why = apply_value(o, flag, argv[i + 1]);
            if (why == "-") return fmt::format("unknown option '{}'", flag);
            if (!why.empty()) return fmt::format("{} '{}': expected {}", flag, argv[i + 1], why);
            ++i;
        } else {
            return apply_value(o, flag, "") == "-" ? fmt::format("unknown option '{}'", flag)
                                                   : fmt::format("{} needs a value", flag);
        }
    }
    return {};
}

void apply_network(const Options& o, LinkParams& l) {
    if (o.loss) l.loss = *o.loss;
    if (o.duplicate) l.duplicate = *o.duplicate;
    if (o.reorder) l.reorder = *o.reorder;
    if (o.delay) l.delay = *o.delay;
    if (o.jitter) l.jitter = *o.jitter;
    if (o.bandwidth_bps) l.bandwidth_bps = *o.bandwidth_bps;
    l.partitions.insert(l.partitions.end(), o.partitions.begin(), o.partitions.end());
}

void apply(const Options& o, Scenario& s) {
    for (LinkSpec& link : s.links) {
        apply_network(o, link.a_to_b);
        if (link.b_to_a) apply_network(o, *link.b_to_a);
    }
    if (o.messages) s.workload.messages = *o.messages;
    if (o.max_size) s.workload.max_size = *o.max_size;
    if (o.simultaneous) s.open = OpenMode::simultaneous;
    s.seed = o.seed;
}

// The scenarios the options ask for; an empty string or the error message.
std::string choose(const Options& o, std::vector<Scenario>& out) {
    std::vector<std::string> names = o.scenarios;
    if (names.empty() && o.changes_network()) {
        Scenario custom = two_host_scenario("custom", LinkParams{});
        custom.description = "custom network from the command line";
        out.push_back(custom);
    } else if (names.empty()) {
        for (const CatalogueEntry& e : catalogue()) {
            if (e.in_tour) names.emplace_back(e.name);
        }
    }
    for (const std::string& name : names) {
        if (name == "all") {
            for (const CatalogueEntry& e : catalogue()) {
                out.push_back(*make_scenario(e.name, Profile::full, o.seed));
            }
            continue;
        }
        std::optional<Scenario> s = make_scenario(name, Profile::full, o.seed);
        if (!s) return fmt::format("unknown scenario '{}' (see --list)", name);
        out.push_back(std::move(*s));
    }
    for (Scenario& s : out) {
        apply(o, s);
        if (const std::string bad = validate(s); !bad.empty()) {
            return fmt::format("scenario {}: {}", s.name, bad);
        }
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    std::vector<Scenario> scenarios;
    std::string error = parse(argc, argv, options);
    if (error.empty() && !options.help && !options.list) error = choose(options, scenarios);
    if (!error.empty()) {
        fmt::print(stderr, "srmudp-sim: {}\n(try --help)\n", error);
        return 2;
    }
    if (options.help) {
        fmt::print("{}", kUsage);
        return 0;
    }
    if (options.list) {
        for (const CatalogueEntry& e : catalogue()) {
            fmt::print("{:<20} {}{}\n", e.name, e.summary, e.in_tour ? "  (tour)" : "");
        }
        return 0;
    }
    std::vector<std::string> summaries;
    bool all_passed = true;
    for (const Scenario& s : scenarios) {
        const Result r = run(s);
        fmt::print("{}\n", describe(s, r));
        std::fflush(stdout);
        summaries.push_back(summary_line(r));
        all_passed = all_passed && r.passed;
    }
    fmt::print("summary\n");
    for (const std::string& line : summaries) {
        fmt::print("  {}\n", line);
    }
    return all_passed ? 0 : 1;
}
