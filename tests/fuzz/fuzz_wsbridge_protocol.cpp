// Fuzzes the bridge's protocol codec on arbitrary input, read as a client text frame, as an
// upgrade request resource, and as base64. Checked on every input: a decoded data frame
// re-encodes to a frame that decodes to the same message; a text message is valid UTF-8; an
// accepted request has a port and a bounded key; a request error never contains the header key;
// canonical base64 re-encodes to itself; encoders always write valid UTF-8; a CIDR block that
// parses prints to text that parses to the same block; an origin normalises idempotently; the
// admission policies answer every input without echoing unprintable bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wsbridge/policy.hpp"
#include "wsbridge/protocol.hpp"

using namespace wsbridge;

namespace {

// Distinctive, and never produced by the codec's fixed texts.
constexpr std::string_view kHeaderKey = "Fz9-header-secret-Fz9";

void check_frame(std::string_view input, const Limits& limits) {
    auto result = decode_client_text_frame(input, limits);
    if (auto* error = std::get_if<FrameError>(&result)) {
        if (error->message.empty() || error->severity == Severity::close_policy) std::abort();
        if (!is_valid_utf8(srmudp::as_bytes(encode_error("c", error->message, error->id)))) {
            std::abort();
        }
        return;
    }
    const ClientData& data = std::get<ClientData>(result);
    if (data.data.size() > limits.max_message_bytes) std::abort();
    if (data.kind == srmudp::MessageKind::text && !is_valid_utf8(data.data)) std::abort();
    const std::string again = encode_data(data.kind, data.data);
    auto round = decode_client_text_frame(again, Limits{});
    const auto* decoded = std::get_if<ClientData>(&round);
    if (decoded == nullptr || decoded->kind != data.kind || decoded->data != data.data ||
        decoded->id) {
        std::abort();
    }
    if (data.id && !is_valid_utf8(srmudp::as_bytes(encode_ack(*data.id)))) std::abort();
}

void check_request(std::string_view input, std::optional<std::string_view> header) {
    auto result = parse_proxy_request(input, header);
    if (auto* error = std::get_if<RequestError>(&result)) {
        if (error->message.empty()) std::abort();
        if (header && error->message.find(*header) != std::string::npos) std::abort();
        return;
    }
    const ProxyRequest& request = std::get<ProxyRequest>(result);
    if (request.remote_port == 0 || request.remote.port != request.remote_port) std::abort();
    if (request.encryption_key.empty() || request.encryption_key.size() > kMaxKeyBytes) {
        std::abort();
    }
    if (header && request.encryption_key != *header) std::abort();
}

void check_base64(std::string_view input) {
    if (const auto decoded = base64_decode(input)) {
        if (base64_encode(*decoded) != input) std::abort();  // strict: one encoding per value
    }
    const auto round = base64_decode(base64_encode(srmudp::as_bytes(input)));
    if (!round || *round != srmudp::to_bytes(srmudp::as_bytes(input))) std::abort();
}

bool printable(std::string_view text) {
    for (char c : text)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E)
            return false;
    return true;
}

void check_policies(std::string_view input) {
    if (const auto cidr = Cidr::parse(input)) {
        const auto again = Cidr::parse(cidr->to_string());
        if (!again || *again != *cidr) std::abort();
    }
    if (const auto origin = normalize_origin(input)) {
        if (normalize_origin(*origin) != origin) std::abort();
    }
    static const OriginPolicy origins =
        std::get<OriginPolicy>(OriginPolicy::make({"https://a.example", "http://[::1]:8080"}));
    if (const auto why = origins.check(input); why && !printable(*why)) std::abort();
    if (bearer_token_matches(input, std::nullopt, "Fz9-token")) {
        if (input.find("Fz9-token") == std::string_view::npos) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_frame(input, Limits{});
    check_frame(input, Limits::for_message_size(8));
    check_request(input, std::nullopt);
    check_request(input, kHeaderKey);
    check_base64(input);
    check_policies(input);
    const std::string status = encode_status(Status::error, input, input);
    if (!is_valid_utf8(srmudp::as_bytes(status))) std::abort();
    return 0;
}
