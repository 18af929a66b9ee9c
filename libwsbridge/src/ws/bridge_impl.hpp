// The interface between wsbridge::Bridge (bridge.cpp) and its websocketpp servers
// (bridge_server.hpp, one per config). Free of websocketpp, so bridge.cpp compiles fast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "wsbridge/bridge.hpp"

namespace wsbridge {

class Bridge::Impl {
  public:
    virtual ~Impl() = default;
    virtual std::optional<std::string> start() = 0;
    virtual void stop(const std::string& reason) = 0;
    virtual std::uint16_t local_port() const = 0;
    virtual bool tls() const = 0;
    virtual std::size_t open_connections() const = 0;
    virtual Hub& hub() = 0;
};

namespace ws {

// Makes the plain or TLS server of options (bridge_plain.cpp, bridge_tls.cpp).
std::shared_ptr<Bridge::Impl> make_plain_server(asio::io_context& io, srmudp::Endpoint& endpoint,
                                                BridgeOptions options);
std::shared_ptr<Bridge::Impl> make_tls_server(asio::io_context& io, srmudp::Endpoint& endpoint,
                                              BridgeOptions options);

}  // namespace ws
}  // namespace wsbridge
