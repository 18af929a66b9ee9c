// autoprox's plain HTTP API beside the WebSocket endpoint:
//   GET /health                      {"status":"ok",...}: always open, no token needed
//   GET /v0/ws/info                  the WebSocket endpoint, its parameters, statuses and limits
//   GET /v0/ws/connections           the active sessions (never keys)
//   GET /v0/network/public-address   the shared UDP socket's public address, by STUN
//   GET /metrics                     Prometheus text format
// With --token set, everything but /health needs the token too (Authorization: Bearer).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "options.hpp"
#include "srmudp/address.hpp"
#include "wsbridge/bridge.hpp"

namespace srmudp {
class Endpoint;
}

namespace autoprox {

class HttpApi {
  public:
    // stun_server: the resolved --stun-server, if any. bridge and endpoint must outlive the API.
    HttpApi(const Options& options, wsbridge::Bridge& bridge, srmudp::Endpoint& endpoint,
            std::optional<srmudp::PeerAddress> stun_server);

    // The BridgeOptions::http handler.
    void handle(const wsbridge::HttpRequest& request, const wsbridge::HttpResponder& respond);

  private:
    wsbridge::HttpResponse health() const;
    wsbridge::HttpResponse info() const;
    void public_address(const wsbridge::HttpResponder& respond);

    const Options& options_;
    wsbridge::Bridge& bridge_;
    srmudp::Endpoint& endpoint_;
    std::optional<srmudp::PeerAddress> stun_server_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    // Requests waiting for the STUN answer: the endpoint runs one query at a time, so they share.
    std::vector<wsbridge::HttpResponder> stun_waiting_;
    // STUN callbacks check it: the endpoint may outlive this object.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// A JSON response with the given status.
wsbridge::HttpResponse json_response(int status, std::string body);

}  // namespace autoprox
