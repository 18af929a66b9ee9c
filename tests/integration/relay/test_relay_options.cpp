// Tests of the relay's address rules and option parsing, without starting any process.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "relay_options.hpp"

using namespace srmudp::relay;

namespace {

ParseResult parse(std::vector<std::string> args) {
    args.insert(args.begin(), "srmudp-impair-relay");
    std::vector<char*> argv;
    for (auto& arg : args)
        argv.push_back(arg.data());
    return parse_options(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("parse_endpoint accepts numeric IPv4 and bracketed IPv6 with a port") {
    const auto v4 = parse_endpoint("127.0.0.1:4000");
    REQUIRE(v4);
    CHECK(v4->family() == AF_INET);
    CHECK(format_endpoint(*v4) == "127.0.0.1:4000");
    const auto v6 = parse_endpoint("[::1]:65535");
    REQUIRE(v6);
    CHECK(v6->family() == AF_INET6);
    CHECK(format_endpoint(*v6) == "[::1]:65535");
    CHECK(parse_endpoint("127.0.0.1:0"));
}

TEST_CASE("parse_endpoint rejects malformed text") {
    for (const char* text :
         {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1: 80",
          "127.0.0.1:80x", "localhost:80", "::1:80", "[::1:80", "[::1]", "[127.0.0.1]:80",
          "127.0.0.256:1", "[]:1", "127.0.0.1:99999999999999999999999"}) {
        INFO(text);
        CHECK_FALSE(parse_endpoint(text));
    }
}

TEST_CASE("is_loopback admits only 127.0.0.0/8 and ::1") {
    for (const char* text : {"127.0.0.1:1", "127.255.255.254:1", "127.0.0.0:1", "[::1]:1"}) {
        INFO(text);
        CHECK(is_loopback(*parse_endpoint(text)));
    }
    for (const char* text :
         {"126.255.255.255:1", "128.0.0.1:1", "0.0.0.0:1", "10.0.0.1:1", "192.0.2.1:1", "[::]:1",
          "[::2]:1", "[::ffff:127.0.0.1]:1", "[fe80::1]:1", "[2001:db8::1]:1"}) {
        INFO(text);
        CHECK_FALSE(is_loopback(*parse_endpoint(text)));
    }
    CHECK_FALSE(is_loopback(Endpoint{}));
}

TEST_CASE("same_endpoint compares family - address and port") {
    const auto a = *parse_endpoint("127.0.0.1:5000");
    CHECK(same_endpoint(a, *parse_endpoint("127.0.0.1:5000")));
    CHECK_FALSE(same_endpoint(a, *parse_endpoint("127.0.0.1:5001")));
    CHECK_FALSE(same_endpoint(a, *parse_endpoint("127.0.0.2:5000")));
    CHECK_FALSE(same_endpoint(a, *parse_endpoint("[::1]:5000")));
    CHECK(same_endpoint(*parse_endpoint("[::1]:7"), *parse_endpoint("[::1]:7")));
}

TEST_CASE("set_impairment checks names and ranges") {
    Impairment impairment;
    CHECK_FALSE(set_impairment(impairment, "loss", "0.25"));
    CHECK(impairment.loss == 0.25);
    CHECK_FALSE(set_impairment(impairment, "duplicate", "1"));
    CHECK(impairment.duplicate == 1.0);
    CHECK_FALSE(set_impairment(impairment, "reorder", "0"));
    CHECK_FALSE(set_impairment(impairment, "delay", "3600000"));
    CHECK(impairment.delay_ms == 3'600'000);
    CHECK_FALSE(set_impairment(impairment, "jitter", "7"));
    CHECK(impairment.jitter_ms == 7);
    CHECK_FALSE(set_impairment(impairment, "reorder-delay", "0"));
    CHECK(impairment.reorder_delay_ms == 0);

    for (const char* bad : {"1.01", "-0.1", "nan", "inf", "", "0.5x", "1e400"}) {
        INFO(bad);
        CHECK(set_impairment(impairment, "loss", bad));
    }
    CHECK(impairment.loss == 0.25);
    for (const char* bad : {"3600001", "-1", "1.5", "", "10ms"}) {
        INFO(bad);
        CHECK(set_impairment(impairment, "delay", bad));
    }
    CHECK(impairment.delay_ms == 3'600'000);
    CHECK(set_impairment(impairment, "bandwidth", "5"));
}

TEST_CASE("parse_options reads every option") {
    const auto result =
        parse({"--listen",       "127.0.0.1:0", "--target",        "127.0.0.2:9000",
               "--forward-bind", "127.0.0.3:0", "--seed",          "18446744073709551615",
               "--loss",         "0.1",         "--duplicate",     "0.2",
               "--reorder",      "0.3",         "--reorder-delay", "40",
               "--delay",        "5",           "--jitter",        "6",
               "--max-queue",    "77"});
    REQUIRE(result.status == ParseStatus::run);
    const Options& o = result.options;
    CHECK(format_endpoint(o.listen) == "127.0.0.1:0");
    CHECK(format_endpoint(o.target) == "127.0.0.2:9000");
    CHECK(format_endpoint(o.forward_bind) == "127.0.0.3:0");
    CHECK(o.seed == UINT64_MAX);
    CHECK(o.max_queue == 77);
    CHECK(o.impairment.loss == 0.1);
    CHECK(o.impairment.duplicate == 0.2);
    CHECK(o.impairment.reorder == 0.3);
    CHECK(o.impairment.reorder_delay_ms == 40);
    CHECK(o.impairment.delay_ms == 5);
    CHECK(o.impairment.jitter_ms == 6);
}

TEST_CASE("parse_options defaults the forward socket to the target's family") {
    auto result = parse({"--listen", "127.0.0.1:0", "--target", "127.0.0.1:9"});
    REQUIRE(result.status == ParseStatus::run);
    CHECK(format_endpoint(result.options.forward_bind) == "127.0.0.1:0");
    CHECK(result.options.max_queue == 10'000);
    CHECK(result.options.impairment.reorder_delay_ms == 20);

    result = parse({"--listen", "127.0.0.1:0", "--target", "[::1]:9"});
    REQUIRE(result.status == ParseStatus::run);
    CHECK(format_endpoint(result.options.forward_bind) == "[::1]:0");
}

TEST_CASE("parse_options refuses non-loopback addresses - naming the option") {
    const std::vector<std::vector<std::string>> cases = {
        {"--listen", "0.0.0.0:0", "--target", "127.0.0.1:9"},
        {"--listen", "127.0.0.1:0", "--target", "192.0.2.1:9"},
        {"--listen", "127.0.0.1:0", "--target", "[2001:db8::1]:9"},
        {"--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--forward-bind", "10.0.0.1:0"}};
    for (const auto& args : cases) {
        const auto result = parse(args);
        CHECK(result.status == ParseStatus::invalid);
        CHECK(result.message.find("loopback") != std::string::npos);
    }
}

TEST_CASE("parse_options rejects incomplete or inconsistent command lines") {
    const std::vector<std::vector<std::string>> cases = {
        {},
        {"--listen", "127.0.0.1:0"},
        {"--target", "127.0.0.1:9"},
        {"--listen", "127.0.0.1:0", "--target", "127.0.0.1:0"},
        {"--listen", "127.0.0.1:0", "--target", "[::1]:9", "--forward-bind", "127.0.0.1:0"},
        {"--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--loss"},
        {"--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--bogus", "1"},
        {"--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--max-queue", "0"},
        {"--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--max-queue", "1000001"},
        {"--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--seed", "18446744073709551616"},
        {"--listen", "localhost:0", "--target", "127.0.0.1:9"}};
    for (const auto& args : cases) {
        const auto result = parse(args);
        CHECK(result.status == ParseStatus::invalid);
        CHECK_FALSE(result.message.empty());
    }
    CHECK(parse({"--help"}).status == ParseStatus::help);
}
