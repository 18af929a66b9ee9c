// The bridge's JSON frames (the seed document's WebSocket protocol plus the additions listed in
// wsbridge/protocol.hpp): client data frames decoded into ClientData, and the bridge's status,
// data, error and ack frames written with RapidJSON's Writer, which escapes strings per RFC 8259.
#include <algorithm>
#include <cmath>
#include <limits>

#include <rapidjson/writer.h>

#include "protocol/base64.hpp"
#include "protocol/frame_reader.hpp"
#include "protocol/utf8.hpp"
#include "wsbridge/protocol.hpp"

namespace wsbridge {
namespace {

// RapidJSON measures strings in 32-bit SizeType; a larger frame could not be read correctly.
constexpr std::size_t kParserFrameLimit = std::numeric_limits<rapidjson::SizeType>::max();
// Enough of a rejected value to recognise it in an error message.
constexpr std::size_t kExcerptBytes = 32;

FrameError recoverable(std::string message, std::optional<MessageTag> id = std::nullopt) {
    return FrameError{Severity::recoverable, std::move(message), std::move(id)};
}

FrameError too_big(std::string_view what, std::size_t size, std::size_t limit,
                   std::optional<MessageTag> id = std::nullopt) {
    return FrameError{Severity::close_too_big,
                      std::string(what) + " of " + std::to_string(size) +
                          " bytes exceeds the limit of " + std::to_string(limit) + " bytes",
                      std::move(id)};
}

// The reader keeps more than kExcerptBytes of a string, so a longer value shows its "...".
std::string quoted(const protocol::JsonField& field) {
    return "\"" + protocol::printable_excerpt(field.text, kExcerptBytes) + "\"";
}

// "got \"hex\"" for a string, "got an array" for anything else.
std::string got(const protocol::JsonField& field) {
    if (field.kind == protocol::JsonKind::string) return "got " + quoted(field);
    return "got " + std::string(protocol::describe(field.kind));
}

// The "id" if the frame has a usable one; otherwise id stays empty and an error may be returned.
std::optional<std::string> read_id(const protocol::JsonField& field, const Limits& limits,
                                   std::optional<MessageTag>& id) {
    switch (field.kind) {
        case protocol::JsonKind::absent:
            return std::nullopt;
        case protocol::JsonKind::string:
            if (field.length > limits.max_id_length) {
                return "field 'id' is " + std::to_string(field.length) +
                       " bytes long; the limit is " + std::to_string(limits.max_id_length);
            }
            id = MessageTag{field.text};
            return std::nullopt;
        case protocol::JsonKind::integer:
            id = MessageTag{field.integer};
            return std::nullopt;
        case protocol::JsonKind::big_integer:
            return std::string(
                "field 'id' is an integer outside the signed 64-bit range; use a "
                "smaller number or a string");
        default:
            return "field 'id' must be a string or an integer, " + got(field);
    }
}

std::optional<std::string> check_type(const protocol::JsonField& field) {
    if (field.kind == protocol::JsonKind::absent) {
        return std::string("field 'type' is missing; a client frame has \"type\":\"data\"");
    }
    if (field.kind != protocol::JsonKind::string) {
        return "field 'type' must be the string \"data\", " + got(field);
    }
    if (field.length != 4 || field.text != "data") {
        return "unknown frame type " + quoted(field) +
               " in field 'type'; a client frame has \"type\":\"data\"";
    }
    return std::nullopt;
}

std::optional<srmudp::MessageKind> read_format(const protocol::JsonField& field,
                                               std::string& error) {
    constexpr std::string_view kExpected = "field 'format' must be \"text\" or \"binary\"";
    if (field.kind == protocol::JsonKind::absent) {
        error = std::string(kExpected) + " and is missing";
        return std::nullopt;
    }
    if (field.kind == protocol::JsonKind::string && field.length == field.text.size()) {
        if (field.text == "text") return srmudp::MessageKind::text;
        if (field.text == "binary") return srmudp::MessageKind::binary;
    }
    error = std::string(kExpected) + ", " + got(field);
    return std::nullopt;
}

// Turns the "data" string into the message: as it is for text, base64-decoded for binary.
std::variant<ClientData, FrameError> read_data(srmudp::MessageKind kind,
                                               protocol::ClientFrameFields& fields,
                                               const Limits& limits, std::optional<MessageTag> id) {
    const protocol::JsonField& field = fields.data;
    if (field.kind != protocol::JsonKind::string) {
        const std::string what = kind == srmudp::MessageKind::text ? "a string" : "a base64 string";
        if (field.kind == protocol::JsonKind::absent) {
            return recoverable("field 'data' is missing; it must be " + what, std::move(id));
        }
        return recoverable("field 'data' must be " + what + ", " + got(field), std::move(id));
    }
    if (kind == srmudp::MessageKind::text) {
        if (fields.data_bytes.size() > limits.max_message_bytes) {
            return too_big("message", fields.data_bytes.size(), limits.max_message_bytes, id);
        }
        return ClientData{kind, std::move(fields.data_bytes), std::move(id)};
    }
    const std::string_view text(reinterpret_cast<const char*>(fields.data_bytes.data()),
                                fields.data_bytes.size());
    // The decoded size is known from the length alone: refuse before decoding anything.
    if (text.size() % 4 == 0 && protocol::base64_decoded_size(text) > limits.max_message_bytes) {
        return too_big("message", protocol::base64_decoded_size(text), limits.max_message_bytes,
                       id);
    }
    srmudp::Bytes decoded;
    if (auto fault = protocol::base64_decode_into(text, decoded)) {
        return recoverable("field 'data' is not valid base64 (" + protocol::describe(*fault) + ")",
                           std::move(id));
    }
    return ClientData{kind, std::move(decoded), std::move(id)};
}

}  // namespace

std::uint16_t close_code(Severity severity) noexcept {
    switch (severity) {
        case Severity::recoverable:
            return 0;
        case Severity::close_policy:
            return 1008;
        case Severity::close_too_big:
            return 1009;
    }
    return 1011;
}

std::variant<ClientData, FrameError> decode_client_text_frame(std::string_view frame,
                                                              const Limits& limits) {
    const std::size_t frame_limit = std::min(limits.max_frame_bytes, kParserFrameLimit);
    if (frame.size() > frame_limit) return too_big("frame", frame.size(), frame_limit);

    protocol::ClientFrameFields fields;
    const std::size_t keep = std::max(limits.max_id_length, kExcerptBytes + 1);
    if (auto error = protocol::read_client_frame(frame, keep, fields)) {
        return recoverable(std::move(*error));
    }
    std::optional<MessageTag> id;
    const std::optional<std::string> id_error = read_id(fields.id, limits, id);
    if (auto error = check_type(fields.type)) return recoverable(std::move(*error), id);
    if (id_error) return recoverable(*id_error);

    std::string format_error;
    const std::optional<srmudp::MessageKind> kind = read_format(fields.format, format_error);
    if (!kind) return recoverable(std::move(format_error), id);
    return read_data(*kind, fields, limits, std::move(id));
}

std::variant<ClientData, FrameError> decode_client_binary_frame(srmudp::ByteView frame,
                                                                const Limits& limits) {
    if (frame.size() > limits.max_message_bytes) {
        return too_big("message", frame.size(), limits.max_message_bytes);
    }
    return ClientData{srmudp::MessageKind::binary, srmudp::to_bytes(frame), std::nullopt};
}

// ---- Bridge -> client ----------------------------------------------------------------------

namespace {

// RapidJSON's Writer output stream, appending to a std::string without an intermediate buffer.
struct StringSink {
    using Ch = char;
    std::string& out;
    void Put(char c) { out.push_back(c); }
    void Flush() {}
};
using JsonWriter = rapidjson::Writer<StringSink>;

void write_string(JsonWriter& writer, std::string_view text) {
    if (protocol::is_valid_utf8(text)) {
        writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
        return;
    }
    const std::string valid = protocol::to_valid_utf8(text);
    writer.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
}

void write_field(JsonWriter& writer, std::string_view name, std::string_view value) {
    writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    write_string(writer, value);
}

void write_tag(JsonWriter& writer, const MessageTag& id) {
    writer.Key("id");
    if (const auto* text = std::get_if<std::string>(&id.value)) {
        write_string(writer, *text);
    } else {
        writer.Int64(std::get<std::int64_t>(id.value));
    }
}

void write_stats(JsonWriter& writer, const LinkStats& stats) {
    writer.Key("stats");
    writer.StartObject();
    writer.Key("rtt_ms");
    // The Writer refuses NaN and infinities (they are not JSON); an unknown RTT is null.
    if (std::isfinite(stats.rtt_ms) && stats.rtt_ms >= 0) {
        writer.Double(stats.rtt_ms);
    } else {
        writer.Null();
    }
    writer.Key("bytes_sent");
    writer.Uint64(stats.bytes_sent);
    writer.Key("bytes_received");
    writer.Uint64(stats.bytes_received);
    writer.Key("messages_sent");
    writer.Uint64(stats.messages_sent);
    writer.Key("messages_received");
    writer.Uint64(stats.messages_received);
    writer.Key("retransmissions");
    writer.Uint64(stats.retransmissions);
    writer.Key("packets_lost");
    writer.Uint64(stats.packets_lost);
    writer.EndObject();
}

}  // namespace

std::string_view status_name(Status status) noexcept {
    switch (status) {
        case Status::connected:
            return "CONNECTED";
        case Status::udp_waiting:
            return "UDP_WAITING";
        case Status::udp_established:
            return "UDP_ESTABLISHED";
        case Status::reconnecting:
            return "RECONNECTING";
        case Status::error:
            return "ERROR";
    }
    return "ERROR";
}

std::string encode_status(Status status, std::string_view connection_id, std::string_view message,
                          const std::optional<LinkStats>& stats,
                          std::optional<std::uint64_t> received) {
    std::string out;
    StringSink sink{out};
    JsonWriter writer(sink);
    writer.SetMaxDecimalPlaces(3);
    writer.StartObject();
    write_field(writer, "type", "status");
    write_field(writer, "status", status_name(status));
    write_field(writer, "connection_id", connection_id);
    write_field(writer, "message", message);
    if (stats) write_stats(writer, *stats);
    if (received) {
        writer.Key("received");
        writer.Uint64(*received);
    }
    writer.EndObject();
    return out;
}

std::string encode_data(srmudp::MessageKind kind, srmudp::ByteView data, std::uint64_t seq) {
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    const bool as_text = kind == srmudp::MessageKind::text && protocol::is_valid_utf8(text);
    std::string out;
    out.reserve((as_text ? data.size() : data.size() / 3 * 4 + 4) + 48);
    StringSink sink{out};
    JsonWriter writer(sink);
    writer.StartObject();
    write_field(writer, "type", "data");
    write_field(writer, "format", as_text ? "text" : "binary");
    writer.Key("data");
    if (as_text) {
        writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    } else {
        // Base64 needs no escaping; a raw value also has no 32-bit length limit.
        std::string quoted_base64 = "\"";
        protocol::base64_append(data, quoted_base64);
        quoted_base64.push_back('"');
        writer.RawValue(quoted_base64.data(), quoted_base64.size(), rapidjson::kStringType);
    }
    if (seq != 0) {
        writer.Key("seq");
        writer.Uint64(seq);
    }
    writer.EndObject();
    return out;
}

std::string encode_error(std::string_view connection_id, std::string_view message,
                         const std::optional<MessageTag>& id) {
    std::string out;
    StringSink sink{out};
    JsonWriter writer(sink);
    writer.StartObject();
    write_field(writer, "type", "error");
    write_field(writer, "connection_id", connection_id);
    write_field(writer, "message", message);
    if (id) write_tag(writer, *id);
    writer.EndObject();
    return out;
}

std::string encode_ack(const MessageTag& id) {
    std::string out;
    StringSink sink{out};
    JsonWriter writer(sink);
    writer.StartObject();
    write_field(writer, "type", "ack");
    write_tag(writer, id);
    writer.EndObject();
    return out;
}

}  // namespace wsbridge
