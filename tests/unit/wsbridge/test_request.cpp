#include <catch2/catch.hpp>

#include <string>

#include "wsbridge/protocol.hpp"

using namespace wsbridge;

namespace {

// Distinctive, so that finding it in a message cannot be a coincidence.
constexpr std::string_view kKey = "opensesame-4711-zebra";

ProxyRequest parse_ok(std::string_view resource,
                      std::optional<std::string_view> header = std::nullopt) {
    auto result = parse_proxy_request(resource, header);
    if (const auto* error = std::get_if<RequestError>(&result)) FAIL(error->message);
    return std::get<ProxyRequest>(std::move(result));
}

std::string parse_error(std::string_view resource,
                        std::optional<std::string_view> header = std::nullopt) {
    auto result = parse_proxy_request(resource, header);
    REQUIRE(std::holds_alternative<RequestError>(result));
    return std::get<RequestError>(result).message;
}

std::string with(std::string_view query) {
    return "/v0/ws/proxy?" + std::string(query);
}

const std::string kValid =
    with("remote_host=192.0.2.1&remote_port=9000&encryption_key=" + std::string(kKey));

}  // namespace

TEST_CASE("the seed's request parses", "[request]") {
    const ProxyRequest r = parse_ok(kValid);
    CHECK(r.remote_host == "192.0.2.1");
    CHECK(r.remote_port == 9000);
    CHECK(r.remote == srmudp::PeerAddress::v4(192, 0, 2, 1, 9000));
    CHECK(r.encryption_key == kKey);
    CHECK_FALSE(r.client_id);
}

TEST_CASE("parameters may come in any order - with client_id and unknown ones", "[request]") {
    const ProxyRequest r =
        parse_ok(with("foo=bar&client_id=app-1.B_2&flag&&encryption_key=k&"
                      "remote_port=1&remote_host=127.0.0.1&"));
    CHECK(r.client_id == std::optional<std::string>("app-1.B_2"));
    CHECK(r.remote_port == 1);
    CHECK(r.encryption_key == "k");
    CHECK(parse_ok(with("remote_host=127.0.0.1&remote_port=65535&encryption_key=k")).remote_port ==
          65535);
}

TEST_CASE("remote_host may be an IPv6 literal", "[request]") {
    srmudp::PeerAddress loopback6;
    loopback6.family = srmudp::PeerAddress::Family::v6;
    loopback6.ip[15] = 1;
    loopback6.port = 5;
    for (std::string_view host : {"::1", "%3A%3A1", "[::1]", "%5B::1%5D", "0:0:0:0:0:0:0:1"}) {
        CAPTURE(host);
        const ProxyRequest r =
            parse_ok(with("remote_host=" + std::string(host) + "&remote_port=5&encryption_key=k"));
        CHECK(r.remote == loopback6);
        CHECK(r.remote_host.find('[') == std::string::npos);
    }
    const ProxyRequest doc =
        parse_ok(with("remote_host=2001:db8::42&remote_port=7&encryption_key=k"));
    CHECK(doc.remote_host == "2001:db8::42");
    CHECK(doc.remote.family == srmudp::PeerAddress::Family::v6);
    CHECK(doc.remote.ip[0] == 0x20);
    CHECK(doc.remote.ip[15] == 0x42);
}

TEST_CASE("the path must be exactly /v0/ws/proxy", "[request]") {
    for (std::string_view resource : {"/v0/ws/proxy/?remote_host=1.2.3.4", "/v0/ws/other?x", "/",
                                      "", "/V0/WS/PROXY", "/v0/ws/proxy%3F"}) {
        CAPTURE(resource);
        CHECK_THAT(parse_error(resource), Catch::Contains("/v0/ws/proxy"));
    }
    CHECK(parse_error("/v1/ws/proxy?remote_host=1.2.3.4") ==
          "unknown path '/v1/ws/proxy'; the WebSocket endpoint is /v0/ws/proxy");
    // Without a query, the first thing missing is remote_host.
    CHECK_THAT(parse_error("/v0/ws/proxy"), Catch::StartsWith("remote_host is missing"));
}

TEST_CASE("missing parameters are named", "[request]") {
    CHECK(parse_error(with("remote_port=1&encryption_key=k")) ==
          "remote_host is missing; give the peer's IP address, e.g. remote_host=192.0.2.1");
    CHECK_THAT(parse_error(with("remote_host=1.2.3.4&encryption_key=k")),
               Catch::StartsWith("remote_port is missing"));
    CHECK(parse_error(with("remote_host=1.2.3.4&remote_port=1")) ==
          "encryption_key is missing; give it as a query parameter or in the X-Encryption-Key "
          "header");
    // Names are case-sensitive: Remote_Host is an unknown parameter.
    CHECK_THAT(parse_error(with("Remote_Host=1.2.3.4&remote_port=1&encryption_key=k")),
               Catch::StartsWith("remote_host is missing"));
}

TEST_CASE("remote_host must be an IP literal", "[request]") {
    for (std::string_view host :
         {"example.com", "localhost", "1.2.3", "256.1.1.1", "1.2.3.4:80", "1.2.3.4%00junk",
          "1.2.3.4%20", "fe80::1%25eth0", "[1.2.3.4]", "::1]", "01.2.3.4", "%ZZ"}) {
        CAPTURE(host);
        const std::string message = parse_error(
            with("remote_host=" + std::string(host) + "&remote_port=1&encryption_key=k"));
        CHECK_THAT(message, Catch::StartsWith("remote_host "));
    }
    CHECK(parse_error(with("remote_host=example.com&remote_port=1&encryption_key=k")) ==
          "remote_host must be an IPv4 or IPv6 address (host names are not resolved), got "
          "'example.com'");
    CHECK(parse_error(with("remote_host=&remote_port=1&encryption_key=k")) ==
          "remote_host is empty; give the peer's IP address, e.g. remote_host=192.0.2.1");
    CHECK_THAT(parse_error(with("remote_host=1.2.3.4%00junk&remote_port=1&encryption_key=zz9")),
               Catch::EndsWith("got '1.2.3.4\\x00junk'"));
    CHECK(parse_error(with("remote_host=1.2.3.4%2&remote_port=1&encryption_key=k")) ==
          "remote_host is not correctly percent-encoded: the '%' at character 8 is not followed by "
          "two hex digits");
}

TEST_CASE("remote_port must be a number from 1 to 65535", "[request]") {
    const auto port_error = [](std::string_view port) {
        return parse_error(
            with("remote_host=1.2.3.4&remote_port=" + std::string(port) + "&encryption_key=k"));
    };
    CHECK(port_error("0") == "remote_port must be a number from 1 to 65535, got '0'");
    CHECK(port_error("65536") == "remote_port must be a number from 1 to 65535, got '65536'");
    CHECK(port_error("abc") == "remote_port must be a number from 1 to 65535, got 'abc'");
    CHECK(port_error("") == "remote_port must be a number from 1 to 65535, got ''");
    for (std::string_view port :
         {"-1", "+80", "80%20", "%2080", "8o", "1.5", "0x50", "99999999999999999999999"}) {
        CAPTURE(port);
        CHECK_THAT(port_error(port), Catch::StartsWith("remote_port must be a number"));
    }
    CHECK(parse_ok(with("remote_host=1.2.3.4&remote_port=%38%30&encryption_key=k")).remote_port ==
          80);
}

TEST_CASE("the key is percent-decoded - and '+' stays '+'", "[request]") {
    const auto key_of = [](std::string_view raw) {
        return parse_ok(
                   with("remote_host=1.2.3.4&remote_port=1&encryption_key=" + std::string(raw)))
            .encryption_key;
    };
    CHECK(key_of("a%2Bb%20c%25") == "a+b c%");
    CHECK(key_of("a+b") == "a+b");
    CHECK(key_of("%C3%A9t%c3%a9") == "\xC3\xA9t\xC3\xA9");
    CHECK(key_of("k=v") == "k=v");  // only the first '=' separates name and value
    CHECK(key_of(std::string(kMaxKeyBytes, 'k')) == std::string(kMaxKeyBytes, 'k'));
}

TEST_CASE("bad keys are refused without showing them", "[request]") {
    const auto key_error = [](std::string_view raw) {
        return parse_error(
            with("remote_host=1.2.3.4&remote_port=1&encryption_key=" + std::string(raw)));
    };
    CHECK(key_error("") == "encryption_key is empty");
    CHECK(parse_error(with("remote_host=1.2.3.4&remote_port=1&encryption_key")) ==
          "encryption_key is empty");
    CHECK(key_error("secret%ZZ") ==
          "encryption_key is not correctly percent-encoded: every '%' "
          "must be followed by two hex digits");
    CHECK(key_error("secret%0Aline") == "encryption_key must not contain control characters");
    CHECK(key_error(std::string(kMaxKeyBytes + 1, 'k')) ==
          "encryption_key is longer than 1024 bytes");
}

TEST_CASE("the key may come in the X-Encryption-Key header", "[request]") {
    const std::string no_key = with("remote_host=1.2.3.4&remote_port=1");
    CHECK(parse_ok(no_key, kKey).encryption_key == kKey);
    CHECK(parse_ok(no_key, " \tk e y\t ").encryption_key == "k e y");
    // The header is not percent-decoded: it is not part of a URI.
    CHECK(parse_ok(no_key, "a%41").encryption_key == "a%41");
    // Both given: they must agree.
    CHECK(parse_ok(no_key + "&encryption_key=k%2By", "k+y").encryption_key == "k+y");
    CHECK(parse_error(no_key + "&encryption_key=one", "two") ==
          "encryption_key in the query and the X-Encryption-Key header differ; give the key only "
          "once");
    CHECK(parse_error(no_key + "&encryption_key=", "two") ==
          "encryption_key in the query and the X-Encryption-Key header differ; give the key only "
          "once");
    CHECK(parse_error(no_key, "") == "the X-Encryption-Key header is empty");
    CHECK(parse_error(no_key, " \t ") == "the X-Encryption-Key header is empty");
}

TEST_CASE("client_id is 1 to 128 characters of [A-Za-z0-9._-]", "[request]") {
    const std::string base = with("remote_host=1.2.3.4&remote_port=1&encryption_key=k&client_id=");
    CHECK(parse_ok(base + std::string(128, 'c')).client_id == std::string(128, 'c'));
    CHECK(parse_ok(base + "Az09._-").client_id == std::string("Az09._-"));
    CHECK(parse_ok(base + "a%2Db").client_id == std::string("a-b"));
    for (std::string_view id : {"", "a%20b", "a/b", "\xC3\xA9", "a+b", "a%00"}) {
        CAPTURE(id);
        CHECK_THAT(parse_error(base + std::string(id)), Catch::StartsWith("client_id must be"));
    }
    CHECK_THAT(parse_error(base + std::string(129, 'c')), Catch::StartsWith("client_id must be"));
    CHECK(parse_error(base + "a b") ==
          "client_id must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-', got 'a b'");
}

TEST_CASE("a parameter given twice is an error", "[request]") {
    CHECK(parse_error(kValid + "&remote_port=9000") ==
          "parameter 'remote_port' is given more than once");
    CHECK(parse_error(kValid + "&remote_host=192.0.2.1") ==
          "parameter 'remote_host' is given more than once");
    CHECK(parse_error(kValid + "&encryption_key=other") ==
          "parameter 'encryption_key' is given more than once");
    CHECK(parse_error(kValid + "&client_id=a&client_id=a") ==
          "parameter 'client_id' is given more than once");
    // Also when the name is percent-encoded.
    CHECK(parse_error(kValid + "&remote%5Fport=1") ==
          "parameter 'remote_port' is given more than once");
    // Unknown parameters may repeat.
    CHECK(parse_ok(kValid + "&x=1&x=2").remote_port == 9000);
}

TEST_CASE("requests are bounded", "[request]") {
    std::string many = kValid;
    for (std::size_t i = 0; i + 3 < kMaxQueryParameters; ++i)
        many += "&x=1";
    CHECK(parse_ok(many).remote_port == 9000);  // exactly 64 parameters
    CHECK(parse_error(many + "&y=2") == "more than 64 query parameters");

    const std::string too_long = kValid + "&pad=" + std::string(kMaxResourceBytes, 'p');
    CHECK_THAT(parse_error(too_long), Catch::StartsWith("request URI of ") &&
                                          Catch::EndsWith("exceeds the limit of 8192 bytes"));
}

TEST_CASE("no error message ever contains the key", "[request]") {
    const std::string key(kKey);
    const std::string encoded_key = "opensesame%2D4711%2Dzebra";
    const std::pair<std::string, std::optional<std::string>> requests[] = {
        // The key in places it does not belong, next to the real key parameter.
        {with("remote_host=" + key + "&remote_port=1&encryption_key=" + key), std::nullopt},
        {with("remote_host=1.2.3.4&remote_port=" + key + "&encryption_key=" + key), std::nullopt},
        {with("remote_host=1.2.3.4&remote_port=1&client_id=" + key + "!&encryption_key=" + key),
         std::nullopt},
        {"/" + key + "?encryption_key=" + key, std::nullopt},
        // Given percent-encoded, echoed decoded elsewhere.
        {with("remote_host=x" + key + "&remote_port=1&encryption_key=" + encoded_key),
         std::nullopt},
        // Only in the header.
        {with("remote_host=" + key + "&remote_port=1"), key},
        {with("remote_host=1.2.3.4&remote_port=1&client_id=" + key + "%20"), key},
        {"/v0/" + key + "?remote_host=1.2.3.4", key},
        // A ';' where '&' belongs glues the key onto the port.
        {with("remote_host=1.2.3.4&remote_port=80;encryption_key=" + key), std::nullopt},
        // Every way the key itself can be wrong.
        {with("remote_host=1.2.3.4&remote_port=1&encryption_key=" + key + "%ZZ"), std::nullopt},
        {with("remote_host=1.2.3.4&remote_port=1&encryption_key=" + key + "%0A"), std::nullopt},
        {with("remote_host=1.2.3.4&remote_port=1&encryption_key=" + key + std::string(1100, 'z')),
         std::nullopt},
        {with("remote_host=1.2.3.4&remote_port=1&encryption_key=" + key), key + "-other"},
        {with("remote_host=1.2.3.4&remote_port=1&encryption_key=" + key + "&encryption_key=" + key),
         std::nullopt},
    };
    for (const auto& [resource, header] : requests) {
        CAPTURE(resource);
        const std::string message =
            header ? parse_error(resource, std::string_view(*header)) : parse_error(resource);
        CAPTURE(message);
        CHECK(message.find(key) == std::string::npos);
        CHECK(message.find("opensesame") == std::string::npos);
        CHECK(message.find("zebra") == std::string::npos);
    }
}

TEST_CASE("a value that contains the key - however short - is not echoed", "[request]") {
    const std::string message =
        parse_error(with("remote_host=junk.example&remote_port=1&encryption_key=k"));
    CHECK(message ==
          "remote_host must be an IPv4 or IPv6 address (host names are not resolved), got a value "
          "not shown as it may contain the key");
    CHECK_THAT(parse_error(with("remote_host=1.2.3.4&remote_port=mykey&encryption_key=zz9")),
               Catch::EndsWith("got a value not shown as it may contain the key"));
}

TEST_CASE("last_seq is a decimal number up to 2^53 - 1", "[request]") {
    CHECK_FALSE(parse_ok(kValid).last_seq);
    CHECK(parse_ok(kValid + "&last_seq=0").last_seq == std::optional<std::uint64_t>(0));
    CHECK(parse_ok(kValid + "&last_seq=174").last_seq == std::optional<std::uint64_t>(174));
    CHECK(parse_ok(kValid + "&last_seq=9007199254740991").last_seq ==
          std::optional<std::uint64_t>(9007199254740991ULL));
    for (const char* bad :
         {"", "-1", "1.5", "abc", "12x", "9007199254740992", "99999999999999999999999"}) {
        INFO(bad);
        CHECK(parse_error(kValid + "&last_seq=" + bad).find("last_seq must be a number") !=
              std::string::npos);
    }
    CHECK(parse_error(kValid + "&last_seq=1&last_seq=2").find("more than once") !=
          std::string::npos);
}

TEST_CASE("the token query parameter is decoded and never echoed", "[request]") {
    CHECK_FALSE(parse_ok(kValid).token);
    CHECK(parse_ok(kValid + "&token=a%20b").token == std::optional<std::string>("a b"));
    const std::string secret = "tok-secret-9931";
    // A later error that would echo a value must not show the token.
    const std::string message = parse_error(kValid + "&token=" + secret + "&last_seq=" + secret);
    CHECK(message.find(secret) == std::string::npos);
    CHECK(parse_error(kValid + "&token=%zz").find("token is not correctly percent-encoded") !=
          std::string::npos);
}
