// The sans-IO EndpointCore without sockets: handshake CPU cost, passphrase (scrypt) cost and the
// memory an idle connection holds.
#pragma once

#include <optional>
#include <string>

#include "options.hpp"
#include "results.hpp"

namespace srmudp::bench {

// Full handshakes one after another, each between a fresh pair of EndpointCores (one listening,
// one connecting, 64-hex key) joined in memory, until both sides are established. The count is
// what one CPU core does: X25519 key generation and agreement, Noise, HKDF, packet protection.
HandshakeResult core_handshakes(const Options& options);

// Milliseconds one EndpointCore::listen() takes with a passphrase never seen before in this
// process (scrypt N=2^15, r=8, p=1); nullopt and `error` set if it failed.
std::optional<double> scrypt_cost_ms(std::string& error);

// Opens options.idle_connections established connections between one connecting and one
// listening EndpointCore, lets them go idle, and reports heap bytes per connection.
MemoryResult idle_connection_memory(const Options& options);

}  // namespace srmudp::bench
