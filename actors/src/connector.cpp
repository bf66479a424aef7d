#include "p2p0mq/actors/connector.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include "p2p0mq/actors/concern_base.hpp"
#include "p2p0mq/concern_payloads.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

class connector_concern final : public concern_base {
public:
  using concern_base::concern_base;

  const char* name() const override {
    return "p2p0mq.connector";
  }

protected:
  void on_start() override {
    take_due(due_kind::greeting);
  }

  void on_due(due_kind kind, const std::vector<peer>& peers) override {
    if (kind != due_kind::greeting)
      return;
    // The peer table has told the sender to connect to each already.
    for (auto& p : peers) {
      log(log_level::debug, log_category::connector, "greeting ",
          short_uuid(p.uuid), " at ", p.host, ":", p.port);
      auto msg = context().make_request(p.uuid, connector_command,
                                        our_address(), clock().now());
      // A hello always goes straight to the peer, whatever its route.
      msg.next_hop = p.uuid;
      post(std::move(msg));
    }
  }

  answer on_request(const message& msg) override {
    auto addr = parse(msg);
    if (!addr)
      return no_reply;
    // The sender connects to a peer that greets us straight from itself
    // before it learns of the peer, so that our reply finds the connection.
    auto direct = msg.source == msg.previous_hop;
    request(context().peers, caf::infinite, learn_atom::value, msg.source,
            addr->host, addr->port, direct, addr->speaks)
        .then(
            [this, msg, direct](const peer& p) {
              reply(msg, our_address());
              // A peer we reach only through relays told us its address:
              // try to reach it directly too.
              if (p.needs_reconnect() ||
                  (!direct && p.state == peer_state::routed))
                send(context().peers, greet_atom::value, p.uuid);
              else
                send(context().peers, heard_atom::value, msg);
            },
            [this, msg](const caf::error& err) { ignored(msg, err); });
    return no_reply;
  }

  void on_reply(const message& msg) override {
    auto addr = parse(msg);
    if (!addr)
      return;
    request(context().peers, caf::infinite, learn_atom::value, msg.source,
            addr->host, addr->port, false, addr->speaks)
        .then(
            [this, msg](const peer&) {
              send(context().peers, heard_atom::value, msg);
            },
            [this, msg](const caf::error& err) { ignored(msg, err); });
  }

  void on_sent(const message& msg) override {
    if (msg.is_request())
      caf::anon_send(context().peers, state_atom::value, msg.to,
                     peer_state::connecting);
  }

  bool on_send_failed(const message& msg, const caf::error& err) override {
    // A connection still in its handshake (a new one after a failed
    // handshake, or to a new address) takes the hello shortly: try again
    // while its time-to-live lasts. Anything else (a missing certificate,
    // ...) waits for the next attempt: after the reconnect wait, or as soon
    // as the certificate appears.
    auto again = err == errc::peer_unreachable;
    log(again ? log_level::debug : log_level::warning, log_category::connector,
        "hello ", to_string(msg.kind), " to ", short_uuid(msg.next_hop),
        " failed: ", render(err), again ? " (trying again)" : "");
    return again;
  }

  void on_dropped(const message& msg, const caf::error&) override {
    if (msg.is_request())
      caf::anon_send(context().peers, state_atom::value, msg.to,
                     peer_state::no_connection);
  }

private:
  /// Our receiver's address, as `hello` carries it.
  payload our_address() const {
    return make_hello_payload(context().host, context().port, context().speaks);
  }

  /// The address a `hello` carries, or nothing (logged).
  std::optional<hello_body> parse(const message& msg) {
    auto addr = parse_hello_payload(msg.payload);
    if (!addr) {
      log_dropped(log_kinds::bad_hello, msg, addr.error());
      return std::nullopt;
    }
    return std::move(*addr);
  }

  static void ignored(const message& msg, const caf::error& err) {
    // A full table warns about itself, at most every 10 s.
    log(err == errc::peer_table_full ? log_level::debug : log_level::warning,
        log_category::connector, "ignored a hello from ",
        short_uuid(msg.source), ": ", render(err));
  }
};

} // namespace

concern_factory connector() {
  return concern_class<connector_concern>();
}

} // namespace p2p0mq
