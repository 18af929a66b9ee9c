// wsbridge::Bridge with TLS (wss://, https://): the websocketpp server of bridge_server.hpp on
// websocketpp's TLS config, with one OpenSSL context loaded from PEM files at start().
// TLS 1.2 or newer only (RFC 8996 retires older versions); no compression.
#include <websocketpp/config/asio.hpp>

#include "ws/bridge_server.hpp"

namespace wsbridge::ws {

namespace {

using TlsConfig = websocketpp::config::asio_tls;
using SslContext = asio::ssl::context;

class TlsServer final : public Server<TlsConfig> {
  public:
    using Server<TlsConfig>::Server;

    bool tls() const override { return true; }

  protected:
    std::optional<std::string> prepare() override {
        auto context = std::make_shared<SslContext>(SslContext::tls_server);
        std::error_code ec;
        context->set_options(SslContext::default_workarounds | SslContext::no_sslv2 |
                                 SslContext::no_sslv3 | SslContext::no_tlsv1 |
                                 SslContext::no_tlsv1_1 | SslContext::no_compression,
                             ec);
        if (ec) return "cannot set up TLS: " + ec.message();
        const std::string cert = options().tls_cert_file.value_or("");
        const std::string key = options().tls_key_file.value_or("");
        context->use_certificate_chain_file(cert, ec);
        if (ec) return "cannot load the TLS certificate " + cert + ": " + ec.message();
        context->use_private_key_file(key, SslContext::pem, ec);
        if (ec) return "cannot load the TLS private key " + key + ": " + ec.message();
        if (SSL_CTX_check_private_key(context->native_handle()) != 1)
            return "the TLS private key " + key + " does not match the certificate " + cert;
        server().set_tls_init_handler([context](websocketpp::connection_hdl) { return context; });
        return std::nullopt;
    }
};

}  // namespace

std::shared_ptr<Bridge::Impl> make_tls_server(asio::io_context& io, srmudp::Endpoint& endpoint,
                                              BridgeOptions options) {
    return std::make_shared<TlsServer>(io, endpoint, std::move(options));
}

}  // namespace wsbridge::ws
