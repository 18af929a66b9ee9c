// wsbridge::Bridge: picks the plain or the TLS server (bridge_plain.cpp, bridge_tls.cpp) and
// forwards to it. No websocketpp here.
#include "wsbridge/bridge.hpp"

#include <algorithm>

#include "ws/bridge_impl.hpp"

namespace wsbridge {

namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (equal_ignoring_case(key, name)) return std::string_view(value);
    return std::nullopt;
}

Bridge::Bridge(asio::io_context& io, srmudp::Endpoint& endpoint, BridgeOptions options) {
    const bool tls = options.tls_cert_file || options.tls_key_file;
    impl_ = tls ? ws::make_tls_server(io, endpoint, std::move(options))
                : ws::make_plain_server(io, endpoint, std::move(options));
}

Bridge::~Bridge() {
    impl_->stop("the proxy is shutting down");
}

std::optional<std::string> Bridge::start() {
    return impl_->start();
}

std::uint16_t Bridge::local_port() const {
    return impl_->local_port();
}

bool Bridge::tls() const {
    return impl_->tls();
}

void Bridge::stop(const std::string& reason) {
    impl_->stop(reason);
}

std::size_t Bridge::open_connections() const {
    return impl_->open_connections();
}

Hub& Bridge::hub() {
    return impl_->hub();
}

const Hub& Bridge::hub() const {
    return impl_->hub();
}

std::vector<SessionStats> Bridge::sessions() const {
    return impl_->hub().sessions();
}

}  // namespace wsbridge
