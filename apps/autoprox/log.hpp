// autoprox's structured logger: one line per event, as human-readable text or as JSON lines.
//
// Every line carries a UTC timestamp, a level, a short snake_case event name, a message and
// ordered key/value fields. Fields whose key looks like a secret are always written as
// "[redacted]": a safety net, since callers never pass secrets on purpose.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace autoprox {

// Ordered by severity: a logger at `info` writes error, warn and info.
enum class LogLevel { error, warn, info, debug };
enum class LogFormat { text, json };

// "error", "warn", "info", "debug" / "text", "json".
std::string_view to_string(LogLevel level);
std::string_view to_string(LogFormat format);
// The inverse of to_string (exact, lower case); nullopt for any other text.
std::optional<LogLevel> parse_log_level(std::string_view text);
std::optional<LogFormat> parse_log_format(std::string_view text);

// One field value. Converts implicitly from strings, any integer (signed ones are stored as
// int64, unsigned ones as uint64), floating point and bool, so `{"port", 8000}` just works.
struct Field {
    using Value = std::variant<std::string, std::int64_t, std::uint64_t, double, bool>;
    Value value;

    Field(std::string v) : value(std::move(v)) {}
    Field(std::string_view v) : value(std::string(v)) {}
    Field(const char* v) : value(std::string(v)) {}
    Field(bool v) : value(v) {}
    template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                               std::is_signed_v<T>,
                                           int> = 0>
    Field(T v) : value(static_cast<std::int64_t>(v)) {}
    template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                               std::is_unsigned_v<T>,
                                           int> = 0>
    Field(T v) : value(static_cast<std::uint64_t>(v)) {}
    template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
    Field(T v) : value(static_cast<double>(v)) {}
};

// Wall-clock source for timestamps; tests pass a fixed one.
using LogClock = std::function<std::chrono::system_clock::time_point()>;

// Writes whole lines to one stream. Thread-safe: concurrent log() calls never interleave
// within a line. Not copyable or movable (it owns a mutex); keep one and pass it by reference.
//
// text: 2026-11-26T14:09:07.123Z info session_opened: message key=value key2="quoted value"
//   (values that are empty or hold spaces, '=', '"', '\', control or non-ASCII bytes are
//   quoted with JSON escapes; key characters outside [A-Za-z0-9_.-] become '_').
// json: {"ts":"2026-11-26T14:09:07.123Z","level":"info","event":"...","msg":"...","key":...}
//   (strings JSON-escaped, control characters as \u00XX, invalid UTF-8 as U+FFFD; numbers
//   as JSON numbers, non-finite doubles as null). Callers should not use ts, level, event
//   or msg as field keys.
class Logger {
  public:
    // `out` must outlive the logger (std::cerr in main). An empty `clock` uses the system clock.
    Logger(LogLevel level, LogFormat format, std::ostream& out, LogClock clock = {});
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    // True when a message at `level` would be written; check it before building costly fields.
    bool enabled(LogLevel level) const;
    LogLevel level() const { return level_; }

    // Writes one line and flushes, or nothing when `level` is not enabled. `event` is a short
    // snake_case name ("session_opened"); `message` may be empty; `fields` keep their order.
    void log(LogLevel level, std::string_view event, std::string_view message,
             std::initializer_list<std::pair<std::string_view, Field>> fields = {});

  private:
    LogLevel level_;
    LogFormat format_;
    std::ostream& out_;
    LogClock clock_;
    std::mutex mutex_;
};

// The timestamp format of both line formats: UTC, ISO-8601 with milliseconds and a 'Z'.
std::string format_log_timestamp(std::chrono::system_clock::time_point time);

// Appends `text` as the body of a JSON string (no surrounding quotes): '"' and '\' escaped,
// control characters as \b \f \n \r \t or \u00XX, invalid UTF-8 replaced by U+FFFD.
void append_json_escaped(std::string& out, std::string_view text);

// True when a field with this key is always written as "[redacted]": the key contains "key",
// "token", "secret" or "password", in any letter case.
bool is_redacted_key(std::string_view key);

}  // namespace autoprox
