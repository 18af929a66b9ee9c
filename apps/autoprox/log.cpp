// autoprox's logger. JSON string escaping follows RFC 8259 section 7; ill-formed UTF-8 is
// replaced by U+FFFD one "maximal subpart" at a time, as the Unicode Standard (chapter 3,
// "U+FFFD Substitution of Maximal Subparts") recommends, so every line is valid UTF-8.
#include "log.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace autoprox {

namespace {

using FieldList = std::initializer_list<std::pair<std::string_view, Field>>;

constexpr std::string_view kRedacted = "[redacted]";
constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

unsigned char byte_at(std::string_view s, std::size_t i) {
    return static_cast<unsigned char>(s[i]);
}

// Length of the well-formed UTF-8 sequence starting at s[i] (1 for ASCII), or 0 when it is
// ill-formed; `skip` is then the length of the maximal subpart that one U+FFFD replaces.
// Byte ranges are Table 3-7 of the Unicode Standard (no overlongs, surrogates or > U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& skip) {
    const unsigned char lead = byte_at(s, i);
    skip = 1;
    if (lead < 0x80) return 1;
    std::size_t trail = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        trail = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        trail = 2;
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        trail = 3;
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;
    } else {
        return 0;
    }
    std::size_t n = 1;
    for (; n <= trail && i + n < s.size(); ++n) {
        const unsigned char b = byte_at(s, i + n);
        if (b < (n == 1 ? low : 0x80) || b > (n == 1 ? high : 0xBF)) break;
    }
    skip = n;
    return n == trail + 1 ? n : 0;
}

void append_control_escape(std::string& out, unsigned char c) {
    switch (c) {
        case '\b':
            out += "\\b";
            return;
        case '\f':
            out += "\\f";
            return;
        case '\n':
            out += "\\n";
            return;
        case '\r':
            out += "\\r";
            return;
        case '\t':
            out += "\\t";
            return;
        default:
            break;
    }
    constexpr std::string_view kHex = "0123456789abcdef";
    out += "\\u00";
    out += kHex[c >> 4];
    out += kHex[c & 0x0F];
}

// Copies `text` with control characters escaped and bad UTF-8 replaced; with `quote_specials`
// also escapes '"' and '\' (the body of a JSON string).
void append_sanitized(std::string& out, std::string_view text, bool quote_specials) {
    for (std::size_t i = 0; i < text.size();) {
        std::size_t skip = 1;
        const std::size_t length = utf8_sequence(text, i, skip);
        const unsigned char c = byte_at(text, i);
        if (length == 0) {
            out += kReplacementCharacter;
        } else if (c < 0x20 || c == 0x7F) {
            append_control_escape(out, c);
        } else if (quote_specials && (c == '"' || c == '\\')) {
            out += '\\';
            out += static_cast<char>(c);
        } else {
            out.append(text.substr(i, length));
        }
        i += skip;
    }
}

bool needs_quoting(std::string_view value) {
    if (value.empty()) return true;
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7F || c == '"' || c == '=' || c == '\\') return true;
    }
    return false;
}

void append_quoted(std::string& out, std::string_view text) {
    out += '"';
    append_json_escaped(out, text);
    out += '"';
}

template <typename Integer>
void append_integer(std::string& out, Integer value) {
    std::array<char, 24> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out.append(buffer.data(), result.ptr);
}

// Shortest round-trip form; non-finite values have no JSON number, so they are null there.
void append_double(std::string& out, double value, LogFormat format) {
    if (!std::isfinite(value)) {
        if (format == LogFormat::json) {
            out += "null";
        } else {
            out += std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
        }
        return;
    }
    std::array<char, 32> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out.append(buffer.data(), result.ptr);
}

void append_value(std::string& out, const Field& field, LogFormat format) {
    if (const auto* text = std::get_if<std::string>(&field.value)) {
        if (format == LogFormat::json || needs_quoting(*text)) {
            append_quoted(out, *text);
        } else {
            out += *text;
        }
    } else if (const auto* i = std::get_if<std::int64_t>(&field.value)) {
        append_integer(out, *i);
    } else if (const auto* u = std::get_if<std::uint64_t>(&field.value)) {
        append_integer(out, *u);
    } else if (const auto* d = std::get_if<double>(&field.value)) {
        append_double(out, *d, format);
    } else {
        out += std::get<bool>(field.value) ? "true" : "false";
    }
}

// Text keys stay unquoted, so anything that could break the key=value shape is replaced.
void append_text_key(std::string& out, std::string_view key) {
    if (key.empty()) out += '_';
    for (const char c : key) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        out += plain ? c : '_';
    }
}

std::string text_line(std::string_view ts, LogLevel level, std::string_view event,
                      std::string_view message, FieldList fields) {
    std::string line;
    line.append(ts).append(" ").append(to_string(level)).append(" ");
    append_sanitized(line, event, false);
    line += ':';
    if (!message.empty()) {
        line += ' ';
        append_sanitized(line, message, false);
    }
    for (const auto& [key, value] : fields) {
        line += ' ';
        append_text_key(line, key);
        line += '=';
        if (is_redacted_key(key)) {
            line += kRedacted;
        } else {
            append_value(line, value, LogFormat::text);
        }
    }
    return line;
}

std::string json_line(std::string_view ts, LogLevel level, std::string_view event,
                      std::string_view message, FieldList fields) {
    std::string line = "{\"ts\":";
    append_quoted(line, ts);
    line.append(",\"level\":\"").append(to_string(level)).append("\",\"event\":");
    append_quoted(line, event);
    line += ",\"msg\":";
    append_quoted(line, message);
    for (const auto& [key, value] : fields) {
        line += ',';
        append_quoted(line, key);
        line += ':';
        if (is_redacted_key(key)) {
            append_quoted(line, kRedacted);
        } else {
            append_value(line, value, LogFormat::json);
        }
    }
    line += '}';
    return line;
}

bool contains_ignoring_case(std::string_view haystack, std::string_view lower_needle) {
    if (lower_needle.size() > haystack.size()) return false;
    for (std::size_t start = 0; start + lower_needle.size() <= haystack.size(); ++start) {
        std::size_t n = 0;
        while (n < lower_needle.size()) {
            char c = haystack[start + n];
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            if (c != lower_needle[n]) break;
            ++n;
        }
        if (n == lower_needle.size()) return true;
    }
    return false;
}

}  // namespace

std::string_view to_string(LogLevel level) {
    switch (level) {
        case LogLevel::error:
            return "error";
        case LogLevel::warn:
            return "warn";
        case LogLevel::info:
            return "info";
        case LogLevel::debug:
            return "debug";
    }
    return "unknown";
}

std::string_view to_string(LogFormat format) {
    return format == LogFormat::json ? "json" : "text";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
    for (const auto level : {LogLevel::error, LogLevel::warn, LogLevel::info, LogLevel::debug}) {
        if (text == to_string(level)) return level;
    }
    return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view text) {
    if (text == "text") return LogFormat::text;
    if (text == "json") return LogFormat::json;
    return std::nullopt;
}

std::string format_log_timestamp(std::chrono::system_clock::time_point time) {
    using namespace std::chrono;
    // floor, not a cast: times before 1970 must still give milliseconds in 0..999.
    const auto since_epoch = floor<milliseconds>(time.time_since_epoch());
    const auto whole_seconds = floor<seconds>(since_epoch);
    const auto millis = static_cast<int>((since_epoch - whole_seconds).count());
    const auto t = static_cast<std::time_t>(whole_seconds.count());
    std::tm utc{};
    if (gmtime_r(&t, &utc) == nullptr) return "0000-00-00T00:00:00.000Z";
    std::array<char, 64> buffer{};
    const int n = std::snprintf(buffer.data(), buffer.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                                utc.tm_min, utc.tm_sec, millis);
    if (n <= 0 || static_cast<std::size_t>(n) >= buffer.size()) return "0000-00-00T00:00:00.000Z";
    return std::string(buffer.data(), static_cast<std::size_t>(n));
}

void append_json_escaped(std::string& out, std::string_view text) {
    append_sanitized(out, text, true);
}

bool is_redacted_key(std::string_view key) {
    for (const std::string_view word : {"key", "token", "secret", "password"}) {
        if (contains_ignoring_case(key, word)) return true;
    }
    return false;
}

Logger::Logger(LogLevel level, LogFormat format, std::ostream& out, LogClock clock)
    : level_(level), format_(format), out_(out), clock_(std::move(clock)) {}

bool Logger::enabled(LogLevel level) const {
    return static_cast<int>(level) <= static_cast<int>(level_);
}

void Logger::log(LogLevel level, std::string_view event, std::string_view message,
                 FieldList fields) {
    if (!enabled(level)) return;
    const auto now = clock_ ? clock_() : std::chrono::system_clock::now();
    const std::string ts = format_log_timestamp(now);
    std::string line = format_ == LogFormat::json ? json_line(ts, level, event, message, fields)
                                                  : text_line(ts, level, event, message, fields);
    line += '\n';
    const std::lock_guard<std::mutex> lock(mutex_);
    out_.write(line.data(), static_cast<std::streamsize>(line.size()));
    out_.flush();
}

}  // namespace autoprox
