// The WebSocket upgrade request: path and query of /v0/ws/proxy (seed document) as
// websocketpp's get_resource() gives them, plus the optional X-Encryption-Key header.
// Query values are percent-decoded as RFC 3986 section 2.1 says; '+' is not a space there (that
// is HTML form encoding), so a key containing '+' arrives unchanged.
//
// The key must never reach an error message. Errors name parameters, not the key's value, and
// other parameters' values are echoed only when they cannot contain the key (see Redactor).
#include <algorithm>
#include <charconv>
#include <vector>

#include "protocol/utf8.hpp"
#include "wsbridge/protocol.hpp"

namespace wsbridge {
namespace {

constexpr std::size_t kEchoBytes = 64;

struct Parameter {
    std::string_view raw;  // the value as it appears in the query
    std::size_t count = 0;
};

struct Query {
    Parameter remote_host;
    Parameter remote_port;
    Parameter encryption_key;
    Parameter client_id;
    Parameter last_seq;
    Parameter token;
    std::size_t total = 0;  // all parameters, known or not
    // Every encryption_key and token value given, even repeated ones, so that none is ever
    // echoed.
    std::vector<std::string_view> key_values;
};

bool hex_value(char c, unsigned& value) {
    if (c >= '0' && c <= '9') {
        value = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
        value = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
        value = static_cast<unsigned>(c - 'A' + 10);
    } else {
        return false;
    }
    return true;
}

// Replaces each %XX by its byte. Returns false, with bad_position at the '%', if a '%' is not
// followed by two hex digits.
bool percent_decode(std::string_view raw, std::string& out, std::size_t& bad_position) {
    out.clear();
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '%') {
            out.push_back(raw[i]);
            continue;
        }
        unsigned high = 0;
        unsigned low = 0;
        if (raw.size() - i < 3 || !hex_value(raw[i + 1], high) || !hex_value(raw[i + 2], low)) {
            bad_position = i;
            return false;
        }
        out.push_back(static_cast<char>(high << 4 | low));
        i += 2;
    }
    return true;
}

Parameter* known_parameter(Query& query, std::string_view raw_name) {
    std::string name;
    std::size_t ignored = 0;
    if (!percent_decode(raw_name, name, ignored)) return nullptr;
    if (name == "remote_host") return &query.remote_host;
    if (name == "remote_port") return &query.remote_port;
    if (name == "encryption_key") return &query.encryption_key;
    if (name == "client_id") return &query.client_id;
    if (name == "last_seq") return &query.last_seq;
    if (name == "token") return &query.token;
    return nullptr;
}

Query split_query(std::string_view query_text) {
    Query query;
    while (!query_text.empty()) {
        const std::size_t amp = query_text.find('&');
        const std::string_view item = query_text.substr(0, amp);
        query_text =
            amp == std::string_view::npos ? std::string_view() : query_text.substr(amp + 1);
        if (item.empty()) continue;  // "a=1&&b=2" and a trailing '&' are harmless
        ++query.total;
        const std::size_t eq = item.find('=');
        Parameter* known = known_parameter(query, item.substr(0, eq));
        if (known == nullptr) continue;
        ++known->count;
        known->raw = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
        if (known == &query.encryption_key || known == &query.token)
            query.key_values.push_back(known->raw);
    }
    return query;
}

bool contains_ignoring_case(std::string_view text, std::string_view word) {
    const auto it =
        std::search(text.begin(), text.end(), word.begin(), word.end(),
                    [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b; });
    return it != text.end();
}

// Decides which values may be echoed in an error message: none that contains the key (from the
// query, raw or decoded, or from the header), and none that mentions "key" at all, which catches
// a key that a mistyped separator (';' for '&') glued onto another parameter.
class Redactor {
  public:
    void add_secret(std::string_view secret) {
        if (!secret.empty()) secrets_.emplace_back(secret);
    }
    std::string echo(std::string_view value) const {
        if (contains_ignoring_case(value, "key")) return kWithheld;
        for (const std::string& secret : secrets_) {
            if (value.find(secret) != std::string_view::npos) return kWithheld;
        }
        return "'" + protocol::printable_excerpt(value, kEchoBytes) + "'";
    }

  private:
    static constexpr const char* kWithheld = "a value not shown as it may contain the key";
    std::vector<std::string> secrets_;
};

std::string_view trim_ows(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

// The decoded value of a present, singly given parameter, or an error message.
std::optional<std::string> decode_parameter(std::string_view name, const Parameter& p,
                                            std::string& value) {
    std::size_t bad = 0;
    if (percent_decode(p.raw, value, bad)) return std::nullopt;
    return std::string(name) + " is not correctly percent-encoded: the '%' at character " +
           std::to_string(bad + 1) + " is not followed by two hex digits";
}

std::optional<std::string> read_host(const Parameter& p, const Redactor& redactor,
                                     ProxyRequest& request) {
    constexpr std::string_view kExample = "give the peer's IP address, e.g. remote_host=192.0.2.1";
    if (p.count == 0) return "remote_host is missing; " + std::string(kExample);
    std::string host;
    if (auto error = decode_parameter("remote_host", p, host)) return error;
    if (host.empty()) return "remote_host is empty; " + std::string(kExample);
    std::string_view literal = host;
    const bool bracketed = literal.size() > 2 && literal.front() == '[' && literal.back() == ']';
    if (bracketed) literal = literal.substr(1, literal.size() - 2);
    // inet_pton reads up to a NUL, so "1.2.3.4%00junk" would pass; allow only literal characters.
    const bool literal_chars = std::all_of(literal.begin(), literal.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
               c == '.' || c == ':';
    });
    auto address = literal_chars ? srmudp::PeerAddress::from_ip(literal, 0) : std::nullopt;
    // Brackets are how URIs write IPv6 literals (RFC 3986 section 3.2.2), never IPv4 ones.
    if (!address || (bracketed && address->family != srmudp::PeerAddress::Family::v6)) {
        return "remote_host must be an IPv4 or IPv6 address (host names are not resolved), got " +
               redactor.echo(host);
    }
    request.remote_host = std::string(literal);
    request.remote = *address;
    return std::nullopt;
}

std::optional<std::string> read_port(const Parameter& p, const Redactor& redactor,
                                     ProxyRequest& request) {
    if (p.count == 0)
        return std::string(
            "remote_port is missing; give the peer's UDP port, e.g. remote_port=9000");
    std::string text;
    if (auto error = decode_parameter("remote_port", p, text)) return error;
    unsigned long port = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, port);
    if (text.empty() || ec != std::errc() || ptr != end || port == 0 || port > 65535) {
        return "remote_port must be a number from 1 to 65535, got " + redactor.echo(text);
    }
    request.remote_port = static_cast<std::uint16_t>(port);
    request.remote.port = request.remote_port;
    return std::nullopt;
}

std::optional<std::string> check_key(std::string_view key) {
    if (key.empty()) return std::string("encryption_key is empty");
    if (key.size() > kMaxKeyBytes) {
        return "encryption_key is longer than " + std::to_string(kMaxKeyBytes) + " bytes";
    }
    const bool has_control = std::any_of(key.begin(), key.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b < 0x20 || b == 0x7F;
    });
    if (has_control) return std::string("encryption_key must not contain control characters");
    return std::nullopt;
}

std::optional<std::string> read_key(const Parameter& p, std::optional<std::string_view> header,
                                    ProxyRequest& request) {
    if (header) {
        const std::string_view value = trim_ows(*header);
        if (value.empty()) return std::string("the X-Encryption-Key header is empty");
        request.encryption_key = std::string(value);
    }
    if (p.count != 0) {
        std::string decoded;
        std::size_t bad = 0;
        // The position of a bad escape would say something about the key; leave it out.
        if (!percent_decode(p.raw, decoded, bad)) {
            return std::string(
                "encryption_key is not correctly percent-encoded: every '%' must "
                "be followed by two hex digits");
        }
        if (header && decoded != request.encryption_key) {
            return std::string(
                "encryption_key in the query and the X-Encryption-Key header "
                "differ; give the key only once");
        }
        request.encryption_key = std::move(decoded);
    }
    if (!header && p.count == 0) {
        return std::string(
            "encryption_key is missing; give it as a query parameter or in the "
            "X-Encryption-Key header");
    }
    return check_key(request.encryption_key);
}

std::optional<std::string> read_client_id(const Parameter& p, const Redactor& redactor,
                                          ProxyRequest& request) {
    if (p.count == 0) return std::nullopt;
    std::string id;
    if (auto error = decode_parameter("client_id", p, id)) return error;
    const bool valid = !id.empty() && id.size() <= kMaxClientIdLength &&
                       std::all_of(id.begin(), id.end(), [](char c) {
                           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                       });
    if (!valid) {
        return "client_id must be 1 to " + std::to_string(kMaxClientIdLength) +
               " characters of A-Z, a-z, 0-9, '.', '_' and '-', got " + redactor.echo(id);
    }
    request.client_id = std::move(id);
    return std::nullopt;
}

std::optional<std::string> read_last_seq(const Parameter& p, const Redactor& redactor,
                                         ProxyRequest& request) {
    if (p.count == 0) return std::nullopt;
    std::string text;
    if (auto error = decode_parameter("last_seq", p, text)) return error;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
        value > kMaxLastSeq) {
        return "last_seq must be a number from 0 to " + std::to_string(kMaxLastSeq) + ", got " +
               redactor.echo(text);
    }
    request.last_seq = value;
    return std::nullopt;
}

std::optional<std::string> read_token(const Parameter& p, ProxyRequest& request) {
    if (p.count == 0) return std::nullopt;
    std::string token;
    if (auto error = decode_parameter("token", p, token)) return error;
    request.token = std::move(token);
    return std::nullopt;
}

// Everything that could be the key, so that no echoed value reveals it.
Redactor make_redactor(const Query& query, std::optional<std::string_view> header) {
    Redactor redactor;
    if (header) redactor.add_secret(trim_ows(*header));
    for (const std::string_view raw : query.key_values) {
        redactor.add_secret(raw);
        std::string decoded;
        std::size_t ignored = 0;
        if (percent_decode(raw, decoded, ignored)) redactor.add_secret(decoded);
    }
    return redactor;
}

std::optional<std::string> check_shape(std::string_view path, const Query& query,
                                       const Redactor& redactor) {
    if (path != kProxyPath) {
        return "unknown path " + redactor.echo(path) + "; the WebSocket endpoint is " +
               std::string(kProxyPath);
    }
    if (query.total > kMaxQueryParameters) {
        return "more than " + std::to_string(kMaxQueryParameters) + " query parameters";
    }
    const std::pair<std::string_view, const Parameter*> known[] = {
        {"remote_host", &query.remote_host},
        {"remote_port", &query.remote_port},
        {"encryption_key", &query.encryption_key},
        {"client_id", &query.client_id},
        {"last_seq", &query.last_seq},
        {"token", &query.token}};
    for (const auto& [name, parameter] : known) {
        if (parameter->count > 1) {
            return "parameter '" + std::string(name) + "' is given more than once";
        }
    }
    return std::nullopt;
}

}  // namespace

std::variant<ProxyRequest, RequestError> parse_proxy_request(
    std::string_view resource, std::optional<std::string_view> key_header) {
    if (resource.size() > kMaxResourceBytes) {
        return RequestError{"request URI of " + std::to_string(resource.size()) +
                            " bytes exceeds the limit of " + std::to_string(kMaxResourceBytes) +
                            " bytes"};
    }
    const std::size_t question = resource.find('?');
    const std::string_view path = resource.substr(0, question);
    const Query query = split_query(
        question == std::string_view::npos ? std::string_view() : resource.substr(question + 1));
    const Redactor redactor = make_redactor(query, key_header);

    ProxyRequest request;
    std::optional<std::string> error = check_shape(path, query, redactor);
    if (!error) error = read_host(query.remote_host, redactor, request);
    if (!error) error = read_port(query.remote_port, redactor, request);
    if (!error) error = read_key(query.encryption_key, key_header, request);
    if (!error) error = read_client_id(query.client_id, redactor, request);
    if (!error) error = read_last_seq(query.last_seq, redactor, request);
    if (!error) error = read_token(query.token, request);
    if (error) return RequestError{std::move(*error)};
    return request;
}

}  // namespace wsbridge
