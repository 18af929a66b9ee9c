#include "log.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace autoprox;
using namespace std::chrono;

namespace {

// 2026-11-26T14:09:07.123Z
system_clock::time_point fixed_time() {
    return system_clock::time_point(seconds(1795702147) + milliseconds(123));
}

Logger make_logger(std::ostream& out, LogFormat format, LogLevel level = LogLevel::debug) {
    return Logger(level, format, out, fixed_time);
}

// Counts flushes, to see that every line reaches the stream at once.
class CountingBuffer : public std::stringbuf {
  public:
    int syncs = 0;

  protected:
    int sync() override {
        ++syncs;
        return std::stringbuf::sync();
    }
};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

}  // namespace

TEST_CASE("text line has timestamp level event message and ordered fields") {
    std::ostringstream out;
    auto logger = make_logger(out, LogFormat::text);
    logger.log(LogLevel::info, "session_opened", "message",
               {{"peer", "10.0.0.1:4000"}, {"note", "quoted value"}, {"count", 3}});
    CHECK(out.str() ==
          "2026-11-26T14:09:07.123Z info session_opened: message peer=10.0.0.1:4000 "
          "note=\"quoted value\" count=3\n");
}

TEST_CASE("text line without message or fields ends after the event") {
    std::ostringstream out;
    auto logger = make_logger(out, LogFormat::text);
    logger.log(LogLevel::warn, "idle", "");
    CHECK(out.str() == "2026-11-26T14:09:07.123Z warn idle:\n");
}

TEST_CASE("json line has ts level event msg and ordered fields") {
    std::ostringstream out;
    auto logger = make_logger(out, LogFormat::json);
    logger.log(LogLevel::error, "session_failed", "wrong key",
               {{"peer", "10.0.0.1:4000"}, {"attempts", 2}, {"fatal", true}});
    CHECK(out.str() ==
          "{\"ts\":\"2026-11-26T14:09:07.123Z\",\"level\":\"error\",\"event\":\"session_failed\","
          "\"msg\":\"wrong key\",\"peer\":\"10.0.0.1:4000\",\"attempts\":2,\"fatal\":true}\n");
}

TEST_CASE("json escaping of quotes backslashes and control characters") {
    std::string out;
    append_json_escaped(out, "a\"b\\c\nd\te\rf\bg\fh\x01i\x1fj\x7fk");
    CHECK(out == "a\\\"b\\\\c\\nd\\te\\rf\\bg\\fh\\u0001i\\u001fj\\u007fk");
}

TEST_CASE("json escaping keeps an embedded NUL as an escape") {
    std::string out;
    append_json_escaped(out, std::string("a\0b", 3));
    CHECK(out == "a\\u0000b");
}

TEST_CASE("json escaping keeps valid UTF-8 and replaces invalid bytes") {
    const std::string fffd = "\xEF\xBF\xBD";
    auto escaped = [](std::string_view text) {
        std::string out;
        append_json_escaped(out, text);
        return out;
    };
    // é, €, U+1F600 and the largest code point stay as they are.
    CHECK(escaped("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF") ==
          "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF");
    CHECK(escaped("a\xFF"
                  "b") == "a" + fffd + "b");
    CHECK(escaped("\xC0\xAF") == fffd + fffd);                        // overlong '/'
    CHECK(escaped("\xE0\x80\x80") == fffd + fffd + fffd);             // overlong NUL
    CHECK(escaped("\xED\xA0\x80") == fffd + fffd + fffd);             // surrogate U+D800
    CHECK(escaped("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // above U+10FFFF
    CHECK(escaped("\xE2\x82"
                  "x") == fffd + "x");       // truncated: one U+FFFD for the subpart
    CHECK(escaped("\xF0\x9F\x98") == fffd);  // truncated at the end of the input
    CHECK(escaped("\x80") == fffd);          // lone continuation byte
    CHECK(escaped("\xC2") == fffd);          // lead byte at the end
}

TEST_CASE("json line escapes event message keys and values") {
    std::ostringstream out;
    auto logger = make_logger(out, LogFormat::json);
    logger.log(LogLevel::info, "ev\"t", "line1\nline2 \xFF",
               {{"k\"ey_less", "v"}, {"path", "C:\\x"}});
    // The quote splits "key", so that field is not redacted.
    CHECK(out.str() ==
          "{\"ts\":\"2026-11-26T14:09:07.123Z\",\"level\":\"info\",\"event\":\"ev\\\"t\","
          "\"msg\":\"line1\\nline2 \xEF\xBF\xBD\",\"k\\\"ey_less\":\"v\",\"path\":\"C:\\\\x\"}\n");
}

TEST_CASE("text values are quoted only when they need it") {
    std::ostringstream out;
    auto logger = make_logger(out, LogFormat::text);
    logger.log(LogLevel::info, "e", "m",
               {{"plain", "abc-1.2:3/x"},
                {"empty", ""},
                {"space", "a b"},
                {"equals", "a=b"},
                {"quote", "say \"hi\""},
                {"backslash", "a\\b"},
                {"newline", "a\nb"},
                {"utf8", "caf\xC3\xA9"},
                {"bad", "\xFF"}});
    CHECK(out.str() ==
          "2026-11-26T14:09:07.123Z info e: m plain=abc-1.2:3/x empty=\"\" space=\"a b\" "
          "equals=\"a=b\" quote=\"say \\\"hi\\\"\" backslash=\"a\\\\b\" newline=\"a\\nb\" "
          "utf8=\"caf\xC3\xA9\" bad=\"\xEF\xBF\xBD\"\n");
}

TEST_CASE("text message and event cannot break the line") {
    std::ostringstream out;
    auto logger = make_logger(out, LogFormat::text);
    logger.log(LogLevel::info, "ev\nil", "first\r\nfake line \x1b[31m", {});
    CHECK(out.str() == "2026-11-26T14:09:07.123Z info ev\\nil: first\\r\\nfake line \\u001b[31m\n");
    CHECK(lines_of(out.str()).size() == 1);
}

TEST_CASE("text keys keep only safe characters") {
    std::ostringstream out;
    auto logger = make_logger(out, LogFormat::text);
    logger.log(LogLevel::info, "e", "m", {{"a b=c", 1}, {"", 2}, {"ok_key.name-1", 3}});
    // ok_key... contains "key": redacted, whatever its value.
    CHECK(out.str() == "2026-11-26T14:09:07.123Z info e: m a_b_c=1 _=2 ok_key.name-1=[redacted]\n");
}

TEST_CASE("numbers and booleans in both formats") {
    std::ostringstream text_out;
    std::ostringstream json_out;
    auto text = make_logger(text_out, LogFormat::text);
    auto json = make_logger(json_out, LogFormat::json);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    for (Logger* logger : {&text, &json}) {
        logger->log(LogLevel::info, "n", "",
                    {{"i", std::int64_t{-9223372036854775807} - 1},
                     {"u", std::numeric_limits<std::uint64_t>::max()},
                     {"half", 0.5},
                     {"whole", 3600.0},
                     {"nan", nan},
                     {"ninf", -inf},
                     {"f", false}});
    }
    CHECK(text_out.str() ==
          "2026-11-26T14:09:07.123Z info n: i=-9223372036854775808 u=18446744073709551615 "
          "half=0.5 whole=3600 nan=nan ninf=-inf f=false\n");
    CHECK(json_out.str() ==
          "{\"ts\":\"2026-11-26T14:09:07.123Z\",\"level\":\"info\",\"event\":\"n\",\"msg\":\"\","
          "\"i\":-9223372036854775808,\"u\":18446744073709551615,\"half\":0.5,\"whole\":3600,"
          "\"nan\":null,\"ninf\":null,\"f\":false}\n");
}

TEST_CASE("field conversions pick the intended alternative") {
    CHECK(std::holds_alternative<std::string>(Field("text").value));
    CHECK(std::holds_alternative<std::string>(Field(std::string_view("text")).value));
    CHECK(std::holds_alternative<std::int64_t>(Field(-1).value));
    CHECK(std::holds_alternative<std::int64_t>(Field(short{1}).value));
    CHECK(std::holds_alternative<std::uint64_t>(Field(std::size_t{1}).value));
    CHECK(std::holds_alternative<std::uint64_t>(Field(std::uint16_t{8000}).value));
    CHECK(std::holds_alternative<double>(Field(1.5f).value));
    CHECK(std::holds_alternative<bool>(Field(true).value));
}

TEST_CASE("levels below the configured one are dropped") {
    std::ostringstream out;
    auto logger = make_logger(out, LogFormat::text, LogLevel::warn);
    CHECK(logger.enabled(LogLevel::error));
    CHECK(logger.enabled(LogLevel::warn));
    CHECK_FALSE(logger.enabled(LogLevel::info));
    CHECK_FALSE(logger.enabled(LogLevel::debug));
    logger.log(LogLevel::debug, "d", "");
    logger.log(LogLevel::info, "i", "");
    logger.log(LogLevel::warn, "w", "");
    logger.log(LogLevel::error, "e", "");
    CHECK(out.str() == "2026-11-26T14:09:07.123Z warn w:\n2026-11-26T14:09:07.123Z error e:\n");
}

TEST_CASE("error level logger writes only errors and debug writes everything") {
    std::ostringstream out;
    auto errors_only = make_logger(out, LogFormat::text, LogLevel::error);
    CHECK_FALSE(errors_only.enabled(LogLevel::warn));
    auto everything = make_logger(out, LogFormat::text, LogLevel::debug);
    CHECK(everything.enabled(LogLevel::debug));
    CHECK(everything.level() == LogLevel::debug);
}

TEST_CASE("secret-looking keys are redacted in both formats") {
    std::ostringstream text_out;
    std::ostringstream json_out;
    auto text = make_logger(text_out, LogFormat::text);
    auto json = make_logger(json_out, LogFormat::json);
    for (Logger* logger : {&text, &json}) {
        logger->log(LogLevel::info, "r", "",
                    {{"token", "tok-123"},
                     {"Api_Key", "k-456"},
                     {"X-SECRET", "s-789"},
                     {"passwordHash", 42},
                     {"peer", "visible"}});
    }
    CHECK(text_out.str() ==
          "2026-11-26T14:09:07.123Z info r: token=[redacted] Api_Key=[redacted] "
          "X-SECRET=[redacted] passwordHash=[redacted] peer=visible\n");
    CHECK(json_out.str() ==
          "{\"ts\":\"2026-11-26T14:09:07.123Z\",\"level\":\"info\",\"event\":\"r\",\"msg\":\"\","
          "\"token\":\"[redacted]\",\"Api_Key\":\"[redacted]\",\"X-SECRET\":\"[redacted]\","
          "\"passwordHash\":\"[redacted]\",\"peer\":\"visible\"}\n");
}

TEST_CASE("is_redacted_key matches the four words in any case") {
    CHECK(is_redacted_key("key"));
    CHECK(is_redacted_key("KEY"));
    CHECK(is_redacted_key("session_key_id"));
    CHECK(is_redacted_key("accessToken"));
    CHECK(is_redacted_key("client_secret"));
    CHECK(is_redacted_key("PassWord"));
    CHECK_FALSE(is_redacted_key(""));
    CHECK_FALSE(is_redacted_key("ke"));
    CHECK_FALSE(is_redacted_key("peer"));
    CHECK_FALSE(is_redacted_key("tok"));
    CHECK_FALSE(is_redacted_key("pass"));
}

TEST_CASE("every call writes one line and flushes") {
    CountingBuffer buffer;
    std::ostream out(&buffer);
    auto logger = make_logger(out, LogFormat::json);
    logger.log(LogLevel::info, "a", "");
    CHECK(buffer.syncs == 1);
    logger.log(LogLevel::info, "b", "", {{"x", 1}});
    CHECK(buffer.syncs == 2);
    logger.log(LogLevel::debug, "c", "");
    CHECK(buffer.syncs == 3);
    CHECK(lines_of(buffer.str()).size() == 3);
}

TEST_CASE("a filtered call writes and flushes nothing") {
    CountingBuffer buffer;
    std::ostream out(&buffer);
    auto logger = make_logger(out, LogFormat::text, LogLevel::error);
    logger.log(LogLevel::debug, "a", "m");
    CHECK(buffer.syncs == 0);
    CHECK(buffer.str().empty());
}

TEST_CASE("the clock is asked for every line") {
    std::ostringstream out;
    int calls = 0;
    Logger logger(LogLevel::info, LogFormat::text, out, [&calls] {
        ++calls;
        return system_clock::time_point(seconds(calls));
    });
    logger.log(LogLevel::info, "a", "");
    logger.log(LogLevel::info, "b", "");
    CHECK(out.str() == "1970-01-01T00:00:01.000Z info a:\n1970-01-01T00:00:02.000Z info b:\n");
}

TEST_CASE("the default clock gives a current timestamp") {
    std::ostringstream out;
    Logger logger(LogLevel::info, LogFormat::text, out);
    logger.log(LogLevel::info, "a", "");
    const std::string line = out.str();
    REQUIRE(line.size() > 24);
    CHECK(line[23] == 'Z');
    CHECK(line.substr(0, 2) == "20");
}

TEST_CASE("timestamps are UTC with milliseconds") {
    CHECK(format_log_timestamp(system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");
    CHECK(format_log_timestamp(fixed_time()) == "2026-11-26T14:09:07.123Z");
    CHECK(format_log_timestamp(system_clock::time_point(milliseconds(-1))) ==
          "1969-12-31T23:59:59.999Z");
    CHECK(format_log_timestamp(system_clock::time_point(microseconds(1999))) ==
          "1970-01-01T00:00:00.001Z");
    // 2000-02-29, a leap day.
    CHECK(format_log_timestamp(system_clock::time_point(seconds(951782400))) ==
          "2000-02-29T00:00:00.000Z");
}

TEST_CASE("level and format names round trip and reject other text") {
    for (const auto level : {LogLevel::error, LogLevel::warn, LogLevel::info, LogLevel::debug}) {
        CHECK(parse_log_level(to_string(level)) == level);
    }
    CHECK(to_string(LogLevel::warn) == "warn");
    CHECK(parse_log_format("text") == LogFormat::text);
    CHECK(parse_log_format("json") == LogFormat::json);
    CHECK(to_string(LogFormat::json) == "json");
    CHECK_FALSE(parse_log_level("WARN"));
    CHECK_FALSE(parse_log_level("warning"));
    CHECK_FALSE(parse_log_level(""));
    CHECK_FALSE(parse_log_format("JSON"));
    CHECK_FALSE(parse_log_format("logfmt"));
}

TEST_CASE("lines from concurrent callers never interleave") {
    std::ostringstream out;
    auto logger = make_logger(out, LogFormat::text);
    constexpr int kPerThread = 200;
    auto writer = [&logger](const char* who) {
        for (int i = 0; i < kPerThread; ++i) {
            logger.log(LogLevel::info, "tick", "a message long enough to be split",
                       {{"who", who}, {"i", i}});
        }
    };
    std::thread a(writer, "a");
    std::thread b(writer, "b");
    a.join();
    b.join();
    const auto lines = lines_of(out.str());
    REQUIRE(lines.size() == 2 * kPerThread);
    std::set<std::string> distinct(lines.begin(), lines.end());
    CHECK(distinct.size() == lines.size());
    for (const auto& line : lines) {
        const std::string prefix =
            "2026-11-26T14:09:07.123Z info tick: a message long enough to be split who=";
        REQUIRE(line.substr(0, prefix.size()) == prefix);
    }
}
