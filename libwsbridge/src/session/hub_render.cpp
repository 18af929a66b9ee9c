// What an HTTP front end shows of a Hub: the sessions as JSON (GET /v0/ws/connections) and the
// metrics in the Prometheus text exposition format, version 0.0.4 (GET /metrics): "# HELP" and
// "# TYPE" lines, then "name{label="value"} number" samples, label values escaped (\\, \", \n).
#include <cmath>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "session/reports.hpp"
#include "wsbridge/hub.hpp"

namespace wsbridge {

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(JsonWriter& w, std::string_view key, std::string_view value) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void write_uint(JsonWriter& w, std::string_view key, std::uint64_t value) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.Uint64(value);
}

void write_link(JsonWriter& w, const srmudp::ConnectionStats& link) {
    const LinkStats s = session::to_link_stats(link);
    w.Key("stats");
    w.StartObject();
    w.Key("rtt_ms");
    if (std::isfinite(s.rtt_ms) && s.rtt_ms >= 0) {
        w.Double(s.rtt_ms);
    } else {
        w.Null();
    }
    write_uint(w, "bytes_sent", s.bytes_sent);
    write_uint(w, "bytes_received", s.bytes_received);
    write_uint(w, "messages_sent", s.messages_sent);
    write_uint(w, "messages_received", s.messages_received);
    write_uint(w, "retransmitted_bytes", s.retransmissions);
    write_uint(w, "packets_lost", s.packets_lost);
    write_uint(w, "reconnects", link.reconnects);
    w.EndObject();
}

void write_session(JsonWriter& w, const SessionStats& s) {
    w.StartObject();
    write_string(w, "connection_id", s.connection_id);
    write_string(w, "remote", s.remote);
    w.Key("client_id");
    if (s.client_id) {
        w.String(s.client_id->data(), static_cast<rapidjson::SizeType>(s.client_id->size()));
    } else {
        w.Null();
    }
    write_string(w, "status", status_name(s.status));
    w.Key("websocket_open");
    w.Bool(s.websocket_open);
    w.Key("awaiting_reattach");
    w.Bool(s.awaiting_reattach);
    w.Key("receive_paused");
    w.Bool(s.receive_paused);
    write_uint(w, "messages_to_peer", s.messages_to_peer);
    write_uint(w, "messages_from_peer", s.messages_from_peer);
    write_uint(w, "pending_bytes", s.pending_bytes);
    write_uint(w, "reattaches", s.reattaches);
    write_link(w, s.link);
    w.EndObject();
}

std::string escape_label(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += "# HELP autoprox_";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE autoprox_";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void sample(std::string& out, std::string_view name, std::uint64_t value,
            std::string_view labels = {}) {
    out += "autoprox_";
    out += name;
    out += labels;
    out += ' ';
    out += std::to_string(value);
    out += '\n';
}

void counter(std::string& out, std::string_view name, std::string_view help, std::uint64_t value) {
    family(out, name, "counter", help);
    sample(out, name, value);
}

}  // namespace

std::string sessions_json(const std::vector<SessionStats>& sessions) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("sessions");
    w.StartArray();
    for (const auto& s : sessions)
        write_session(w, s);
    w.EndArray();
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

std::string metrics_text(const HubMetrics& m) {
    std::string out;
    family(out, "sessions", "gauge", "Bridge sessions by state.");
    sample(out, "sessions", m.sessions_active, "{state=\"attached\"}");
    sample(out, "sessions", m.sessions_waiting, "{state=\"awaiting_reattach\"}");
    counter(out, "sessions_opened_total", "Bridge sessions started.", m.sessions_opened);
    family(out, "sessions_refused_total", "counter",
           "WebSocket upgrade requests refused, by reason.");
    for (const auto& [reason, n] : m.refused)
        sample(out, "sessions_refused_total", n, "{reason=\"" + escape_label(reason) + "\"}");
    const BridgeCounters& c = m.counters;
    counter(out, "messages_to_peer_total", "Messages from WebSocket clients accepted by srmudp.",
            c.messages_to_peer);
    counter(out, "messages_from_peer_total", "Messages from srmudp peers forwarded to clients.",
            c.messages_from_peer);
    counter(out, "bytes_to_peer_total", "Message payload bytes from clients to peers.",
            c.bytes_to_peer);
    counter(out, "bytes_from_peer_total", "Message payload bytes from peers to clients.",
            c.bytes_from_peer);
    counter(out, "handshakes_total", "srmudp handshakes completed (first and after reconnects).",
            c.established);
    counter(out, "reconnects_total", "srmudp connections that lost their path and reconnected.",
            c.reconnects);
    counter(out, "errors_total", "Sessions that ended with ERROR.", c.errors);
    counter(out, "reattaches_total", "WebSockets re-attached to their session by client_id.",
            c.reattaches);
    counter(out, "idle_closed_total", "Sessions closed by the idle timeout.", c.idle_closed);
    return out;
}

}  // namespace wsbridge
