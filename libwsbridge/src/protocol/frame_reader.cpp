// A client frame is read with RapidJSON's SAX Reader in iterative mode rather than into a DOM:
// memory stays proportional to the fields kept, not to the frame, and a deeply nested frame
// cannot exhaust the stack. JSON itself is RFC 8259; the Reader rejects comments, NaN, trailing
// commas and text after the value, and with kParseValidateEncodingFlag invalid UTF-8 in strings.
#include "protocol/frame_reader.hpp"

#include <cstring>
#include <limits>

#include <rapidjson/encodedstream.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "protocol/utf8.hpp"

namespace wsbridge::protocol {
namespace {

enum class Target { none, type, format, data, id };

enum class Failure { none, not_object, too_deep, duplicate, lone_surrogate };

class FieldCollector : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, FieldCollector> {
  public:
    FieldCollector(const rapidjson::MemoryStream& input, std::size_t keep_bytes,
                   ClientFrameFields& out)
        : input_(input), keep_bytes_(keep_bytes), out_(out) {}

    bool Null() { return scalar(JsonKind::null); }
    bool Bool(bool) { return scalar(JsonKind::boolean); }
    bool Int(int i) { return integer(i); }
    bool Uint(unsigned u) { return integer(u); }
    bool Int64(std::int64_t i) { return integer(i); }
    bool Uint64(std::uint64_t u) {
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return scalar(JsonKind::big_integer);
        }
        return integer(static_cast<std::int64_t>(u));
    }
    bool Double(double) { return scalar(JsonKind::fraction); }
    bool String(const char* s, rapidjson::SizeType n, bool);
    bool Key(const char* s, rapidjson::SizeType n, bool);
    bool StartObject() { return open(JsonKind::object); }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool StartArray() { return open(JsonKind::array); }
    bool EndArray(rapidjson::SizeType) { return close(); }

    Failure failure() const { return failure_; }
    JsonKind root_kind() const { return root_kind_; }
    std::string_view duplicate_name() const { return duplicate_name_; }
    std::size_t failure_offset() const { return failure_offset_; }

  private:
    JsonField* field(Target target) {
        switch (target) {
            case Target::type:
                return &out_.type;
            case Target::format:
                return &out_.format;
            case Target::data:
                return &out_.data;
            case Target::id:
                return &out_.id;
            case Target::none:
                break;
        }
        return nullptr;
    }

    // A value outside the frame's object means the root is not an object; inside nested values
    // it belongs to an unknown or mistyped field and is skipped.
    bool scalar(JsonKind kind) {
        if (depth_ == 0) return fail_root(kind);
        if (depth_ == 1) record(kind);
        return true;
    }
    bool integer(std::int64_t value) {
        if (depth_ == 1) {
            if (JsonField* f = field(target_)) f->integer = value;
        }
        return scalar(JsonKind::integer);
    }
    void record(JsonKind kind) {
        if (JsonField* f = field(target_)) f->kind = kind;
        target_ = Target::none;
    }
    bool open(JsonKind kind) {
        if (depth_ == 0 && kind != JsonKind::object) return fail_root(kind);
        if (depth_ == 1) record(kind);
        if (++depth_ > kMaxJsonDepth) {
            failure_ = Failure::too_deep;
            return false;
        }
        return true;
    }
    bool close() {
        --depth_;
        return true;
    }
    // RapidJSON 1.1 decodes a \uDC00..\uDFFF escape without a high surrogate before it into
    // an encoded surrogate, which is not UTF-8; refuse such strings like the other bad escapes.
    bool valid_string(const char* s, rapidjson::SizeType n) {
        if (is_valid_utf8(std::string_view(s, n))) return true;
        failure_ = Failure::lone_surrogate;
        failure_offset_ = input_.Tell();
        return false;
    }
    bool fail_root(JsonKind kind) {
        failure_ = Failure::not_object;
        root_kind_ = kind;
        return false;
    }

    const rapidjson::MemoryStream& input_;
    std::size_t keep_bytes_;
    ClientFrameFields& out_;
    std::size_t depth_ = 0;
    Target target_ = Target::none;
    bool seen_[5] = {};
    Failure failure_ = Failure::none;
    JsonKind root_kind_ = JsonKind::absent;
    std::string duplicate_name_;
    std::size_t failure_offset_ = 0;
};

bool FieldCollector::String(const char* s, rapidjson::SizeType n, bool) {
    if (depth_ == 0) return fail_root(JsonKind::string);
    if (!valid_string(s, n)) return false;
    if (depth_ != 1) return true;
    if (target_ == Target::data) {
        out_.data_bytes.assign(s, s + n);
    } else if (JsonField* f = field(target_)) {
        f->text.assign(s, n < keep_bytes_ ? n : keep_bytes_);
    }
    if (JsonField* f = field(target_)) f->length = n;
    record(JsonKind::string);
    return true;
}

bool FieldCollector::Key(const char* s, rapidjson::SizeType n, bool) {
    if (!valid_string(s, n)) return false;
    if (depth_ != 1) return true;
    const std::string_view name(s, n);
    target_ = name == "type"     ? Target::type
              : name == "format" ? Target::format
              : name == "data"   ? Target::data
              : name == "id"     ? Target::id
                                 : Target::none;
    if (target_ == Target::none) return true;
    // A repeated field is read differently by different JSON parsers; refuse to guess.
    bool& seen = seen_[static_cast<int>(target_)];
    if (seen) {
        failure_ = Failure::duplicate;
        duplicate_name_ = std::string(name);
        return false;
    }
    seen = true;
    return true;
}

std::string_view syntax_problem(rapidjson::ParseErrorCode code) {
    switch (code) {
        case rapidjson::kParseErrorDocumentEmpty:
            return "the frame is empty";
        case rapidjson::kParseErrorDocumentRootNotSingular:
            return "unexpected text after the JSON value";
        case rapidjson::kParseErrorObjectMissName:
            return "expected a field name in double quotes";
        case rapidjson::kParseErrorObjectMissColon:
            return "expected ':' after a field name";
        case rapidjson::kParseErrorObjectMissCommaOrCurlyBracket:
            return "expected ',' or '}' after a field";
        case rapidjson::kParseErrorArrayMissCommaOrSquareBracket:
            return "expected ',' or ']' after an array element";
        case rapidjson::kParseErrorStringUnicodeEscapeInvalidHex:
            return "a \\u escape needs four hex digits";
        case rapidjson::kParseErrorStringUnicodeSurrogateInvalid:
            return "a \\u escape is an unpaired UTF-16 surrogate";
        case rapidjson::kParseErrorStringEscapeInvalid:
            return "invalid escape sequence in a string";
        case rapidjson::kParseErrorStringMissQuotationMark:
            return "missing a closing quote";
        case rapidjson::kParseErrorStringInvalidEncoding:
            return "a string is not valid UTF-8";
        case rapidjson::kParseErrorNumberTooBig:
            return "a number is too big";
        case rapidjson::kParseErrorNumberMissFraction:
            return "missing digits after a decimal point";
        case rapidjson::kParseErrorNumberMissExponent:
            return "missing digits in an exponent";
        default:
            return "not a valid JSON value";
    }
}

std::string invalid_json(std::size_t offset, std::string_view problem) {
    return "invalid JSON at offset " + std::to_string(offset) + ": " + std::string(problem);
}

std::string failure_message(const FieldCollector& collector) {
    switch (collector.failure()) {
        case Failure::lone_surrogate:
            return invalid_json(
                collector.failure_offset(),
                syntax_problem(rapidjson::kParseErrorStringUnicodeSurrogateInvalid));
        case Failure::not_object:
            return "a frame must be a JSON object such as {\"type\":\"data\",\"format\":\"text\","
                   "\"data\":\"hello\"}, got " +
                   std::string(describe(collector.root_kind()));
        case Failure::too_deep:
            return "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
        case Failure::duplicate:
            return "field '" + std::string(collector.duplicate_name()) + "' appears more than once";
        case Failure::none:
            break;
    }
    return "invalid JSON";
}

}  // namespace

std::string_view describe(JsonKind kind) noexcept {
    switch (kind) {
        case JsonKind::absent:
            return "nothing";
        case JsonKind::null:
            return "null";
        case JsonKind::boolean:
            return "a boolean";
        case JsonKind::integer:
        case JsonKind::big_integer:
            return "an integer";
        case JsonKind::fraction:
            return "a number with a fraction or exponent";
        case JsonKind::string:
            return "a string";
        case JsonKind::object:
            return "an object";
        case JsonKind::array:
            return "an array";
    }
    return "a value";
}

std::optional<std::string> read_client_frame(std::string_view frame, std::size_t keep_bytes,
                                             ClientFrameFields& out) {
    // The Reader's stream reports '\0' at the end of input, so a NUL byte inside the frame would
    // end it early and hide what follows; JSON text never contains one unescaped.
    const void* nul = frame.empty() ? nullptr : std::memchr(frame.data(), '\0', frame.size());
    if (nul != nullptr) {
        const auto offset = static_cast<std::size_t>(static_cast<const char*>(nul) - frame.data());
        return invalid_json(offset, "a NUL byte is not allowed in JSON text");
    }
    rapidjson::MemoryStream memory(frame.data(), frame.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> input(memory);
    FieldCollector collector(memory, keep_bytes, out);
    rapidjson::Reader reader;
    constexpr unsigned kFlags =
        rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
    const rapidjson::ParseResult result = reader.Parse<kFlags>(input, collector);
    if (!result) {
        if (collector.failure() != Failure::none) return failure_message(collector);
        return invalid_json(result.Offset(), syntax_problem(result.Code()));
    }
    return std::nullopt;
}

}  // namespace wsbridge::protocol
