#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "wsbridge/policy.hpp"

using namespace wsbridge;
using Family = srmudp::PeerAddress::Family;

namespace {

srmudp::PeerAddress addr(std::string_view ip, std::uint16_t port = 5000) {
    auto address = srmudp::PeerAddress::from_ip(ip, port);
    REQUIRE(address);
    return *address;
}

Cidr cidr(std::string_view text) {
    auto block = Cidr::parse(text);
    INFO(text);
    REQUIRE(block);
    return *block;
}

TargetPolicy target_policy(const std::vector<std::string>& allow,
                           const std::vector<std::string>& deny) {
    auto made = TargetPolicy::make(allow, deny);
    INFO((std::holds_alternative<std::string>(made) ? std::get<std::string>(made) : ""));
    REQUIRE(std::holds_alternative<TargetPolicy>(made));
    return std::get<TargetPolicy>(made);
}

std::string target_error(const std::vector<std::string>& allow,
                         const std::vector<std::string>& deny) {
    auto made = TargetPolicy::make(allow, deny);
    REQUIRE(std::holds_alternative<std::string>(made));
    return std::get<std::string>(made);
}

OriginPolicy origin_policy(const std::vector<std::string>& allowed) {
    auto made = OriginPolicy::make(allowed);
    INFO((std::holds_alternative<std::string>(made) ? std::get<std::string>(made) : ""));
    REQUIRE(std::holds_alternative<OriginPolicy>(made));
    return std::get<OriginPolicy>(made);
}

}  // namespace

// ---- Cidr -----------------------------------------------------------------------------------

TEST_CASE("Cidr parses IPv4 and IPv6 blocks and single addresses", "[policy][cidr]") {
    const Cidr ten = cidr("10.0.0.0/8");
    CHECK(ten.family == Family::v4);
    CHECK(ten.prefix == 8);
    CHECK(ten.net == std::array<std::uint8_t, 16>{10});
    CHECK(ten.to_string() == "10.0.0.0/8");

    CHECK(cidr("192.168.1.7") == cidr("192.168.1.7/32"));
    CHECK(cidr("192.168.1.7").to_string() == "192.168.1.7/32");
    CHECK(cidr("::1/128").to_string() == "::1/128");
    CHECK(cidr("fe80::/10").to_string() == "fe80::/10");
    CHECK(cidr("fe80::/10").family == Family::v6);
    CHECK(cidr("::").to_string() == "::/128");
    CHECK(cidr("::/0").to_string() == "::/0");
    CHECK(cidr("0.0.0.0/0").to_string() == "0.0.0.0/0");
    CHECK(cidr("1.2.3.4/08").prefix == 8);  // leading zeros in the prefix are harmless
}

TEST_CASE("Cidr clears host bits after the prefix", "[policy][cidr]") {
    CHECK(cidr("10.1.2.3/8").to_string() == "10.0.0.0/8");
    CHECK(cidr("10.255.255.255/9").to_string() == "10.128.0.0/9");
    CHECK(cidr("10.1.2.3/0").to_string() == "0.0.0.0/0");
    CHECK(cidr("10.1.2.3/31").to_string() == "10.1.2.2/31");
    CHECK(cidr("fe80::1/10").to_string() == "fe80::/10");
    CHECK(cidr("febf:ffff::/10").to_string() == "fe80::/10");
    CHECK(cidr("ffff::1/0").to_string() == "::/0");
    CHECK(cidr("2001:db8::ffff/127").to_string() == "2001:db8::fffe/127");
}

TEST_CASE("Cidr turns IPv4-mapped IPv6 blocks of /96 or longer into IPv4 blocks",
          "[policy][cidr]") {
    CHECK(cidr("::ffff:10.0.0.0/104") == cidr("10.0.0.0/8"));
    CHECK(cidr("::ffff:1.2.3.4") == cidr("1.2.3.4/32"));
    CHECK(cidr("::ffff:0:0/96") == cidr("0.0.0.0/0"));
    // Shorter than /96 it is an IPv6 block like any other.
    const Cidr short_block = cidr("::ffff:0:0/95");
    CHECK(short_block.family == Family::v6);
    CHECK(short_block.to_string() == "::fffe:0:0/95");
}

TEST_CASE("Cidr rejects malformed blocks", "[policy][cidr]") {
    const char* bad[] = {"10.0.0.0/33",
                         "10.0.0/8",
                         "1.2.3.4/",
                         "/8",
                         "::/129",
                         " 1.2.3.4",
                         "1.2.3.4 ",
                         "",
                         "/",
                         "1.2.3.4/-1",
                         "1.2.3.4/+8",
                         "1.2.3.4/8/8",
                         "1.2.3.4/0008",
                         "1.2.3.4/ 8",
                         "1.2.3.4/8 ",
                         "256.0.0.1",
                         "01.2.3.4",
                         "1.2.3.4.5",
                         "fe80::1%eth0",
                         "example.com",
                         "::/1280",
                         "1::2::3",
                         "[::1]",
                         "[::1]/128",
                         "1.2.3.4/a",
                         "0x0a.0.0.0/8",
                         "1.2.3.4/32\n",
                         "::ffff:1.2.3.4/129"};
    for (const char* text : bad) {
        INFO(text);
        CHECK_FALSE(Cidr::parse(text));
    }
}

TEST_CASE("Cidr prefix bounds are exact", "[policy][cidr]") {
    CHECK(Cidr::parse("1.2.3.4/32"));
    CHECK_FALSE(Cidr::parse("1.2.3.4/33"));
    CHECK(Cidr::parse("1.2.3.4/0"));
    CHECK(Cidr::parse("::1/128"));
    CHECK_FALSE(Cidr::parse("::1/129"));
    CHECK(Cidr::parse("::1/0"));
}

TEST_CASE("Cidr contains addresses at the block boundaries", "[policy][cidr]") {
    const Cidr ten = cidr("10.0.0.0/8");
    CHECK(ten.contains(addr("10.0.0.0")));
    CHECK(ten.contains(addr("10.255.255.255")));
    CHECK_FALSE(ten.contains(addr("9.255.255.255")));
    CHECK_FALSE(ten.contains(addr("11.0.0.0")));
    CHECK_FALSE(ten.contains(addr("::a00:1")));  // same bytes, other family

    const Cidr link_local = cidr("fe80::/10");
    CHECK(link_local.contains(addr("fe80::1")));
    CHECK(link_local.contains(addr("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
    CHECK_FALSE(link_local.contains(addr("fec0::")));
    CHECK_FALSE(link_local.contains(addr("fe7f:ffff::")));
}

TEST_CASE("Cidr /0 /32 and /128 blocks", "[policy][cidr]") {
    const Cidr all_v4 = cidr("0.0.0.0/0");
    CHECK(all_v4.contains(addr("0.0.0.0")));
    CHECK(all_v4.contains(addr("255.255.255.255")));
    CHECK_FALSE(all_v4.contains(addr("::1")));

    const Cidr all_v6 = cidr("::/0");
    CHECK(all_v6.contains(addr("::")));
    CHECK(all_v6.contains(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
    CHECK_FALSE(all_v6.contains(addr("1.2.3.4")));
    CHECK_FALSE(all_v6.contains(addr("::ffff:1.2.3.4")));  // judged as IPv4

    const Cidr host = cidr("192.168.1.7/32");
    CHECK(host.contains(addr("192.168.1.7")));
    CHECK_FALSE(host.contains(addr("192.168.1.6")));
    CHECK_FALSE(host.contains(addr("192.168.1.8")));

    const Cidr loopback6 = cidr("::1/128");
    CHECK(loopback6.contains(addr("::1")));
    CHECK_FALSE(loopback6.contains(addr("::2")));
    CHECK_FALSE(loopback6.contains(addr("::")));
}

TEST_CASE("Cidr matches IPv4-mapped addresses as IPv4 and ignores the port", "[policy][cidr]") {
    CHECK(cidr("10.0.0.0/8").contains(addr("::ffff:10.1.2.3")));
    CHECK_FALSE(cidr("10.0.0.0/8").contains(addr("::ffff:11.1.2.3")));
    CHECK(cidr("::ffff:10.0.0.0/104").contains(addr("10.1.2.3")));
    CHECK_FALSE(cidr("::ffff:0:0/95").contains(addr("::ffff:10.1.2.3")));
    CHECK(cidr("1.2.3.4").contains(addr("1.2.3.4", 0)));
    CHECK(cidr("1.2.3.4").contains(addr("1.2.3.4", 65535)));
}

TEST_CASE("Cidr ignores the unused bytes of an IPv4 address", "[policy][cidr]") {
    srmudp::PeerAddress address = srmudp::PeerAddress::v4(1, 2, 3, 4, 80);
    address.ip[4] = 0xAA;
    address.ip[15] = 0x55;
    CHECK(cidr("1.2.3.4/32").contains(address));
    CHECK(cidr("1.0.0.0/8").contains(address));
}

TEST_CASE("IPv6 text follows RFC 5952", "[policy][cidr]") {
    CHECK(cidr("2001:db8:0:0:1:0:0:1").to_string() == "2001:db8::1:0:0:1/128");
    CHECK(cidr("2001:db8:0:1:1:1:1:1").to_string() == "2001:db8:0:1:1:1:1:1/128");
    CHECK(cidr("1:0:0:2:0:0:0:3").to_string() == "1:0:0:2::3/128");
    CHECK(cidr("1:0:0:2:0:0:3:4").to_string() == "1::2:0:0:3:4/128");
    CHECK(cidr("FE80::ABCD").to_string() == "fe80::abcd/128");
    CHECK(cidr("2001:0db8::0001").to_string() == "2001:db8::1/128");
    CHECK(cidr("1:2:3:4:5:6:7::").to_string() == "1:2:3:4:5:6:7:0/128");
    CHECK(cidr("::2:3:4:5:6:7:8").to_string() == "0:2:3:4:5:6:7:8/128");
    CHECK(cidr("1::").to_string() == "1::/128");
    CHECK(ip_to_string(addr("::ffff:224.0.0.1")) == "::ffff:224.0.0.1");
    CHECK(ip_to_string(addr("10.1.2.3")) == "10.1.2.3");
    CHECK(ip_to_string(addr("ff02::1")) == "ff02::1");
}

// ---- TargetPolicy ---------------------------------------------------------------------------

TEST_CASE("TargetPolicy with empty lists allows ordinary unicast targets", "[policy][target]") {
    const TargetPolicy policy;
    CHECK_FALSE(policy.check(addr("10.1.2.3")));
    CHECK_FALSE(policy.check(addr("127.0.0.1", 1)));
    CHECK_FALSE(policy.check(addr("::1", 65535)));
    CHECK_FALSE(policy.check(addr("1.0.0.0")));
    CHECK_FALSE(policy.check(addr("223.255.255.255")));
    CHECK_FALSE(policy.check(addr("feff:ffff::1")));
    const TargetPolicy made = target_policy({}, {});
    CHECK(made.allowed().empty());
    CHECK(made.denied().empty());
    CHECK_FALSE(made.check(addr("8.8.8.8")));
}

TEST_CASE("TargetPolicy always refuses special addresses at their boundaries", "[policy][target]") {
    // Allowing everything explicitly does not lift these refusals.
    const TargetPolicy open = target_policy({"0.0.0.0/0", "::/0"}, {});
    const TargetPolicy policy;
    const std::pair<const char*, const char*> refused[] = {
        {"0.0.0.0", "an unspecified address (0.0.0.0/8)"},
        {"0.255.255.255", "an unspecified address (0.0.0.0/8)"},
        {"::", "the unspecified address"},
        {"224.0.0.0", "a multicast address"},
        {"224.0.0.1", "a multicast address"},
        {"239.255.255.255", "a multicast address"},
        {"ff00::", "a multicast address"},
        {"ff02::1", "a multicast address"},
        {"240.0.0.0", "a reserved address (240.0.0.0/4)"},
        {"255.255.255.254", "a reserved address (240.0.0.0/4)"},
        {"255.255.255.255", "the limited broadcast address"},
        {"::ffff:224.0.0.1", "a multicast address"},
        {"::ffff:0.0.0.0", "an unspecified address (0.0.0.0/8)"},
        {"::ffff:255.255.255.255", "the limited broadcast address"},
        {"::ffff:240.0.0.1", "a reserved address (240.0.0.0/4)"},
    };
    for (const auto& [ip, what] : refused) {
        INFO(ip);
        const std::string expected =
            "target " + std::string(ip) + " is " + what + "; the server refuses it";
        CHECK(policy.check(addr(ip)) == expected);
        CHECK(open.check(addr(ip)) == expected);
    }
    CHECK(policy.check(addr("224.0.0.1")) ==
          "target 224.0.0.1 is a multicast address; the server refuses it");
}

TEST_CASE("TargetPolicy refuses port 0 and names the port only then", "[policy][target]") {
    const TargetPolicy policy = target_policy({"10.0.0.0/8"}, {"10.9.0.0/16"});
    CHECK(policy.check(addr("10.1.2.3", 0)) == "port 0 is not a valid target port");
    CHECK_FALSE(policy.check(addr("10.1.2.3", 1)));
    CHECK_FALSE(policy.check(addr("10.1.2.3", 65535)));
    for (const auto& target :
         {addr("10.9.1.1", 4242), addr("11.0.0.1", 4242), addr("224.0.0.1", 4242)}) {
        const auto reason = policy.check(target);
        REQUIRE(reason);
        CHECK(reason->find("4242") == std::string::npos);
        CHECK(reason->find("port") == std::string::npos);
    }
}

TEST_CASE("TargetPolicy deny list wins over the allow list", "[policy][target]") {
    const TargetPolicy policy = target_policy({"10.0.0.0/8", "fd00::/8"}, {"10.1.0.0/16"});
    CHECK(policy.check(addr("10.1.2.3")) ==
          "target 10.1.2.3 is in the denied targets (10.1.0.0/16)");
    CHECK(policy.check(addr("::ffff:10.1.2.3")) ==
          "target ::ffff:10.1.2.3 is in the denied targets (10.1.0.0/16)");
    CHECK_FALSE(policy.check(addr("10.2.0.0")));
    CHECK_FALSE(policy.check(addr("10.0.255.255")));
    CHECK_FALSE(policy.check(addr("fd12::1")));
    CHECK(policy.check(addr("11.0.0.1")) ==
          "target 11.0.0.1 is not in the allowed targets (--allow-target)");
    CHECK(policy.check(addr("::1")) == "target ::1 is not in the allowed targets (--allow-target)");
    CHECK(policy.check(addr("fe00::1")) ==
          "target fe00::1 is not in the allowed targets (--allow-target)");
}

TEST_CASE("TargetPolicy with only a deny list allows everything else", "[policy][target]") {
    const TargetPolicy policy = target_policy({}, {"10.0.0.0/8", "::1"});
    CHECK(policy.check(addr("10.1.2.3")) ==
          "target 10.1.2.3 is in the denied targets (10.0.0.0/8)");
    CHECK(policy.check(addr("::1")) == "target ::1 is in the denied targets (::1/128)");
    CHECK_FALSE(policy.check(addr("11.0.0.1")));
    CHECK_FALSE(policy.check(addr("::2")));
}

TEST_CASE("TargetPolicy judges IPv4-mapped targets as IPv4", "[policy][target]") {
    const TargetPolicy v4_only = target_policy({"127.0.0.0/8"}, {});
    CHECK_FALSE(v4_only.check(addr("::ffff:127.0.0.1")));
    CHECK(v4_only.check(addr("::ffff:128.0.0.1")));
    const TargetPolicy v6_only = target_policy({"::/0"}, {});
    CHECK(v6_only.check(addr("::ffff:127.0.0.1")) ==
          "target ::ffff:127.0.0.1 is not in the allowed targets (--allow-target)");
    CHECK_FALSE(v6_only.check(addr("::1")));
}

TEST_CASE("TargetPolicy::make names the bad entry and its list", "[policy][target]") {
    CHECK(target_error({"10.0.0.0/8", "10.0.0.0/33"}, {}) ==
          "allowed target '10.0.0.0/33' is not an IP address or CIDR block "
          "(e.g. 10.0.0.0/8, fd00::/8)");
    CHECK(target_error({}, {"example.com"}) ==
          "denied target 'example.com' is not an IP address or CIDR block "
          "(e.g. 10.0.0.0/8, fd00::/8)");
    CHECK(target_error({""}, {}).find("''") != std::string::npos);
    const std::string with_control = target_error({"1.2.3.4\n/8"}, {});
    CHECK(with_control.find('\n') == std::string::npos);
    CHECK(with_control.find("'1.2.3.4?/8'") != std::string::npos);
    const std::string long_entry = target_error({std::string(5000, 'x')}, {});
    CHECK(long_entry.size() < 400);
}

TEST_CASE("TargetPolicy keeps the parsed blocks and describes itself", "[policy][target]") {
    CHECK(TargetPolicy().describe() ==
          "allow: any; deny: none; always refused: unspecified, multicast, broadcast, "
          "240.0.0.0/4, port 0");
    const TargetPolicy policy = target_policy({"10.1.2.3/8", "fd00::/8"}, {"10.9.0.0/16"});
    CHECK(policy.describe() ==
          "allow: 10.0.0.0/8, fd00::/8; deny: 10.9.0.0/16; always refused: unspecified, "
          "multicast, broadcast, 240.0.0.0/4, port 0");
    REQUIRE(policy.allowed().size() == 2);
    CHECK(policy.allowed()[0] == cidr("10.0.0.0/8"));
    REQUIRE(policy.denied().size() == 1);
    CHECK(policy.denied()[0] == cidr("10.9.0.0/16"));
}

// ---- Bearer token ---------------------------------------------------------------------------

TEST_CASE("constant_time_equal compares contents and lengths", "[policy][token]") {
    CHECK(constant_time_equal("s3cret", "s3cret"));
    CHECK(constant_time_equal("", ""));
    CHECK_FALSE(constant_time_equal("s3cret", "s3creT"));
    CHECK_FALSE(constant_time_equal("s3cret", "x3cret"));
    CHECK_FALSE(constant_time_equal("s3cret", "s3cre"));
    CHECK_FALSE(constant_time_equal("s3cre", "s3cret"));
    CHECK_FALSE(constant_time_equal("", "x"));
    CHECK_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
    CHECK(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
    CHECK(constant_time_equal(std::string_view(), ""));
}

TEST_CASE("bearer_token_matches reads the Authorization header as RFC 6750 says",
          "[policy][token]") {
    const std::string_view token = "s3cret";
    const std::pair<const char*, bool> headers[] = {
        {"Bearer s3cret", true},
        {"bearer s3cret", true},
        {"BEARER s3cret", true},
        {"bEaReR s3cret", true},
        {"bearer  s3cret", true},
        {" Bearer s3cret\t ", true},
        {"Bearer", false},
        {"Bearer ", false},
        {"Bearer  ", false},
        {"Basic s3cret", false},
        {"Bearers3cret", false},
        {"Bearer\ts3cret", false},
        {"Bearer s3cre", false},
        {"Bearer s3cret2", false},
        {"Bearer S3CRET", false},
        {"Bearer s3cret x", false},
        {"", false},
        {"s3cret", false},
        {"Bear s3cret", false},
    };
    for (const auto& [header, expected] : headers) {
        INFO(header);
        CHECK(bearer_token_matches(std::string_view(header), std::nullopt, token) == expected);
    }
}

TEST_CASE("bearer_token_matches takes the query value as an alternative", "[policy][token]") {
    const std::string_view token = "s3cret";
    CHECK(bearer_token_matches(std::nullopt, std::string_view("s3cret"), token));
    CHECK_FALSE(bearer_token_matches(std::nullopt, std::string_view("s3cre"), token));
    CHECK_FALSE(bearer_token_matches(std::nullopt, std::string_view(""), token));
    CHECK_FALSE(bearer_token_matches(std::nullopt, std::string_view("Bearer s3cret"), token));
    CHECK_FALSE(bearer_token_matches(std::nullopt, std::nullopt, token));
    // Either place suffices; a wrong value in one does not veto the other.
    CHECK(bearer_token_matches(std::string_view("Basic abc"), std::string_view("s3cret"), token));
    CHECK(bearer_token_matches(std::string_view("Bearer s3cret"), std::string_view("no"), token));
    CHECK_FALSE(bearer_token_matches(std::string_view("Bearer no"), std::string_view("no"), token));
}

TEST_CASE("bearer_token_matches refuses everything when no token is expected", "[policy][token]") {
    CHECK_FALSE(bearer_token_matches(std::string_view("Bearer "), std::string_view(""), ""));
    CHECK_FALSE(bearer_token_matches(std::nullopt, std::string_view(""), ""));
    CHECK_FALSE(bearer_token_matches(std::nullopt, std::nullopt, ""));
}

// ---- Origins --------------------------------------------------------------------------------

TEST_CASE("normalize_origin lowercases and drops default ports", "[policy][origin]") {
    CHECK(normalize_origin("https://a.example") == "https://a.example");
    CHECK(normalize_origin("HTTPS://A.Example:443") == "https://a.example");
    CHECK(normalize_origin("http://a.example:80") == "http://a.example");
    CHECK(normalize_origin("https://a.example:80") == "https://a.example:80");
    CHECK(normalize_origin("http://a.example:443") == "http://a.example:443");
    CHECK(normalize_origin("http://localhost:8000") == "http://localhost:8000");
    CHECK(normalize_origin("http://127.0.0.1:1") == "http://127.0.0.1:1");
    CHECK(normalize_origin("https://a.example:65535") == "https://a.example:65535");
    CHECK(normalize_origin("http://[0:0::1]:8000") == "http://[::1]:8000");
    CHECK(normalize_origin("http://[FE80::1]:80") == "http://[fe80::1]");
    CHECK(normalize_origin("http://my_host-1.example") == "http://my_host-1.example");
}

TEST_CASE("normalize_origin rejects what is not scheme://host[:port]", "[policy][origin]") {
    const char* bad[] = {"a.example",
                         "https://",
                         "ftp://a.example",
                         "ws://a.example",
                         "https://a.example/",
                         "https://a.example/path",
                         "https://a.example?x=1",
                         "https://a.example#f",
                         "https://user@a.example",
                         "https://a.example:",
                         "https://a.example:0",
                         "https://a.example:65536",
                         "https://a.example:-1",
                         "https://a.example:+80",
                         "https://a.example:443/",
                         "https://a.example:8080:1",
                         "https://a.example:123456",
                         "https://[::1",
                         "https://[1.2.3.4]",
                         "https://[::1]x",
                         "https://[fe80::1%25eth0]",
                         "https://a example",
                         "https:/a.example",
                         "https//a.example",
                         "",
                         "null",
                         "*",
                         " https://a.example",
                         "https://a.example "};
    for (const char* text : bad) {
        INFO(text);
        CHECK_FALSE(normalize_origin(text));
    }
}

TEST_CASE("OriginPolicy allows requests without an Origin header", "[policy][origin]") {
    CHECK_FALSE(OriginPolicy().check(std::nullopt));
    CHECK_FALSE(origin_policy({"https://a.example"}).check(std::nullopt));
}

TEST_CASE("OriginPolicy by default refuses every Origin header", "[policy][origin]") {
    const OriginPolicy policy;
    CHECK(policy.check(std::string_view("https://a.example")) ==
          "origin https://a.example is not allowed (--allow-origin)");
    CHECK(policy.check(std::string_view("http://127.0.0.1:8000")));
    CHECK(policy.check(std::string_view("")));
    CHECK(policy.check(std::string_view("null")));
    CHECK(origin_policy({}).check(std::string_view("https://a.example")));
}

TEST_CASE("OriginPolicy matches listed origins after normalisation", "[policy][origin]") {
    const OriginPolicy policy =
        origin_policy({"HTTPS://A.Example:443", "http://localhost:8000", "http://[::1]:9000"});
    CHECK_FALSE(policy.check(std::string_view("https://a.example")));
    CHECK_FALSE(policy.check(std::string_view("https://A.EXAMPLE")));
    CHECK_FALSE(policy.check(std::string_view("https://a.example:443")));
    CHECK_FALSE(policy.check(std::string_view("http://localhost:8000")));
    CHECK_FALSE(policy.check(std::string_view("http://[0::1]:9000")));
    CHECK(policy.check(std::string_view("http://a.example")));
    CHECK(policy.check(std::string_view("https://a.example:8443")));
    CHECK(policy.check(std::string_view("https://b.a.example")));
    CHECK(policy.check(std::string_view("https://a.example.evil.example")));
    CHECK(policy.check(std::string_view("http://localhost:8001")));
    CHECK(policy.check(std::string_view("https://localhost:8000")));
    CHECK(policy.check(std::string_view("http://localhost")));
    CHECK(policy.check(std::string_view("http://[::1]:9001")));
    CHECK(policy.check(std::string_view("https://evil.example")) ==
          "origin https://evil.example is not allowed (--allow-origin)");
}

TEST_CASE("OriginPolicy refuses the opaque origin null unless any origin is allowed",
          "[policy][origin]") {
    const auto reason = origin_policy({"https://a.example"}).check(std::string_view("null"));
    REQUIRE(reason);
    CHECK(reason->find("origin null") == 0);
    CHECK(reason->find("--allow-origin '*'") != std::string::npos);
    CHECK_FALSE(origin_policy({"*"}).check(std::string_view("null")));
}

TEST_CASE("OriginPolicy with the wildcard entry allows every origin", "[policy][origin]") {
    const OriginPolicy policy = origin_policy({"https://a.example", "*"});
    CHECK(policy.allows_any());
    CHECK_FALSE(policy.check(std::string_view("https://evil.example")));
    CHECK_FALSE(policy.check(std::string_view("not an origin")));
    CHECK_FALSE(policy.check(std::nullopt));
    CHECK(policy.describe() == "origins: any (*)");
}

TEST_CASE("OriginPolicy refusals are safe to log", "[policy][origin]") {
    const OriginPolicy policy = origin_policy({"https://a.example"});
    const auto injected = policy.check(std::string_view("https://a.example\r\nX-Evil: 1"));
    REQUIRE(injected);
    CHECK(injected->find('\r') == std::string::npos);
    CHECK(injected->find('\n') == std::string::npos);
    CHECK(*injected == "origin https://a.example??X-Evil: 1 is not allowed (--allow-origin)");
    const std::string huge = "https://" + std::string(100000, 'a') + ".example";
    const auto long_reason = policy.check(std::string_view(huge));
    REQUIRE(long_reason);
    CHECK(long_reason->size() < 300);
}

TEST_CASE("OriginPolicy::make names the bad entry", "[policy][origin]") {
    for (const char* entry : {"https://a.example/", "a.example", "ftp://a.example", "", "null",
                              "https://a.example:0", "**"}) {
        INFO(entry);
        auto made = OriginPolicy::make({"https://ok.example", entry});
        REQUIRE(std::holds_alternative<std::string>(made));
        CHECK(std::get<std::string>(made) ==
              "allowed origin '" + std::string(entry) +
                  "' is not * or an origin scheme://host[:port] with scheme http or https and "
                  "no path (e.g. https://app.example.com)");
    }
}

TEST_CASE("OriginPolicy keeps normalised unique origins and describes itself", "[policy][origin]") {
    const OriginPolicy policy =
        origin_policy({"https://a.example", "HTTPS://a.example:443", "http://b.example:8080"});
    CHECK_FALSE(policy.allows_any());
    CHECK(policy.allowed() ==
          std::vector<std::string>{"https://a.example", "http://b.example:8080"});
    CHECK(policy.describe() == "origins: https://a.example, http://b.example:8080");
    CHECK(OriginPolicy().describe() ==
          "origins: none (requests with an Origin header are refused)");
}
