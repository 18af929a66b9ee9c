// wsbridge::Bridge without TLS (ws://, http://): the websocketpp server of bridge_server.hpp on
// websocketpp's plain Asio config.
#include <websocketpp/config/asio_no_tls.hpp>

#include "ws/bridge_server.hpp"

namespace wsbridge::ws {

std::shared_ptr<Bridge::Impl> make_plain_server(asio::io_context& io, srmudp::Endpoint& endpoint,
                                                BridgeOptions options) {
    return std::make_shared<Server<websocketpp::config::asio>>(io, endpoint, std::move(options));
}

}  // namespace wsbridge::ws
