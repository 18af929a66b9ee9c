// The named scenarios shared by the scenario tests and the srmudp-sim program.
//
// Each scenario comes in two sizes: Profile::quick keeps the workload small enough for the
// whole test suite to run in under a minute in a Debug+ASan build; Profile::full is what the
// program runs by default (more messages, larger ones). Network conditions and virtual
// durations are the same in both.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "netsim/scenario.hpp"

namespace srmudp::netsim {

enum class Profile : std::uint8_t { quick, full };

struct CatalogueEntry {
    std::string_view name;
    std::string_view summary;
    bool in_tour;  // part of the program's default tour
};

// Every named scenario, in a fixed order.
const std::vector<CatalogueEntry>& catalogue();

// The scenario called name, seeded with seed; nullopt for an unknown name.
std::optional<Scenario> make_scenario(std::string_view name, Profile profile, std::uint64_t seed);

}  // namespace srmudp::netsim
