// kv: a tiny replicated key-value store, written as a concern.
//
// Three local peers, each connected to the other two, run the `kv` concern
// (a class derived from `concern_base`). It takes three requests:
//
//   {"op": "put", "key": str, "value": str}  store, copy to every connected
//       peer, and reply {"version": int, "replicas": int} once they all
//       answered (a reply that waits: the handler answers `no_reply` and
//       replies when the copies are acknowledged);
//   {"op": "sync", "key", "value", "version": int, "origin": str}  a copy
//       from another peer: kept if newer (Lamport version, then origin);
//   {"op": "get", "key": str}  reply {"value", "version", "origin"}, or a
//       rejection when the key is unknown.
//
// The program puts a value on one peer and reads it on the others, then
// overwrites it on another peer and reads it again, each time asking from a
// third peer: "put on any peer, get from any peer". Prints each step and a
// last line "kv: success ..."; exits 0 when every read saw the value last
// put, 1 otherwise.
//
// Run: build/examples/kv/kv
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/scoped_actor.hpp>
#include <unistd.h>
#include <zmq.hpp>

#include <p2p0mq/actors/concern_base.hpp>
#include <p2p0mq/actors/local_peer.hpp>
#include <p2p0mq/actors/system_config.hpp>
#include <p2p0mq/errc.hpp>

namespace {

using namespace p2p0mq;
using namespace std::chrono_literals;

class kv_store : public concern_base {
public:
  using concern_base::concern_base;

protected:
  answer on_request(const message& req) override {
    auto op = field<std::string>(req.payload, "op");
    if (!op)
      return op.error();
    if (*op == "put")
      return put(req);
    if (*op == "sync")
      return sync(req);
    if (*op == "get")
      return get(req);
    return make_error(errc::rejected, "unknown op '" + *op + "'");
  }

private:
  struct entry {
    std::string value;
    std::int64_t version = 0;
    std::string origin;
  };

  /// Whether `x` is newer than `y`.
  static bool newer(const entry& x, const entry& y) {
    return x.version != y.version ? x.version > y.version : x.origin > y.origin;
  }

  answer put(const message& req) {
    auto args = fields<std::string, std::string>(req.payload, "key", "value");
    if (!args)
      return args.error();
    auto [key, value] = std::move(*args);
    entry e{value, ++clock_, local_uuid()};
    data_[key] = e;
    auto copy = payload_builder{}
                    .add_string("op", "sync")
                    .add_string("key", key)
                    .add_string("value", e.value)
                    .add_integer("version", e.version)
                    .add_string("origin", e.origin)
                    .build();
    // Ask the peer table who is connected, copy to each, reply at the end.
    request(context().peers, caf::infinite, get_atom::value)
        .then([this, req, copy, version = e.version](std::vector<peer>& all) {
          std::vector<std::string> targets;
          for (auto& p : all)
            if (p.state == peer_state::connected)
              targets.push_back(p.uuid);
          auto left = std::make_shared<std::size_t>(targets.size());
          auto acked = std::make_shared<std::int64_t>(0);
          auto finish = [this, req, version, acked] {
            reply(req, payload_builder{}
                           .add_integer("version", version)
                           .add_integer("replicas", *acked)
                           .build());
          };
          if (targets.empty())
            return finish();
          for (auto& t : targets)
            ask(t, command(), copy, 5s)
                .then(
                    [=](message&) {
                      ++*acked;
                      if (--*left == 0)
                        finish();
                    },
                    [=](caf::error& err) {
                      std::printf("  (copy to %s failed: %s)\n", t.c_str(),
                                  render(err).c_str());
                      if (--*left == 0)
                        finish();
                    });
        });
    return no_reply;
  }

  answer sync(const message& req) {
    auto args = fields<std::string, std::string, std::int64_t, std::string>(
        req.payload, "key", "value", "version", "origin");
    if (!args)
      return args.error();
    auto [key, value, version, origin] = std::move(*args);
    clock_ = std::max(clock_, version);
    entry e{value, version, origin};
    auto i = data_.find(key);
    if (i == data_.end() || newer(e, i->second))
      data_[key] = e;
    return payload{};
  }

  answer get(const message& req) {
    auto key = field<std::string>(req.payload, "key");
    if (!key)
      return key.error();
    auto i = data_.find(*key);
    if (i == data_.end())
      return make_error(errc::rejected, "no key '" + *key + "'");
    return payload_builder{}
        .add_string("value", i->second.value)
        .add_integer("version", i->second.version)
        .add_string("origin", i->second.origin)
        .build();
  }

  std::map<std::string, entry> data_;
  /// Lamport clock: above every version seen.
  std::int64_t clock_ = 0;
};

/// A directory for the run's certificates, removed at the end.
struct temp_dir {
  temp_dir() {
    auto pattern =
        (std::filesystem::temp_directory_path() / "p2p0mq-kv-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr)
      path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    if (!path.empty())
      std::filesystem::remove_all(path, ignored);
  }
  std::string path;
};

payload put_body(const std::string& key, const std::string& value) {
  return payload_builder{}
      .add_string("op", "put")
      .add_string("key", key)
      .add_string("value", value)
      .build();
}

payload get_body(const std::string& key) {
  return payload_builder{}
      .add_string("op", "get")
      .add_string("key", key)
      .build();
}

} // namespace

int main(int argc, char** argv) {
  system_config cfg;
  if (auto err = cfg.parse(argc, argv))
    return std::fprintf(stderr, "%s\n", cfg.render(err).c_str()), 2;
  if (cfg.cli_helptext_printed)
    return 0;
  temp_dir certs;
  if (certs.path.empty())
    return std::fprintf(stderr, "cannot make a temporary directory\n"), 1;
  caf::actor_system sys{cfg};
  auto zmq_context = std::make_shared<zmq::context_t>(1);
  std::vector<std::unique_ptr<local_peer>> peers;
  for (auto name : {"kv-a-0001", "kv-b-0002", "kv-c-0003"}) {
    auto settings = cfg.settings;
    settings.uuid = name;
    settings.public_cert_dir = certs.path + "/public";
    settings.private_cert_dir = certs.path + "/private";
    peers.emplace_back(
        std::make_unique<local_peer>(sys, settings, zmq_context));
    if (auto err = peers.back()->start())
      return std::fprintf(stderr, "%s\n", render(err).c_str()), 1;
    peers.back()->add_concern("kv", concern_class<kv_store>());
  }
  auto& a = *peers[0];
  auto& b = *peers[1];
  auto& c = *peers[2];
  a.add_peer(b.uuid(), "127.0.0.1", b.port());
  a.add_peer(c.uuid(), "127.0.0.1", c.port());
  b.add_peer(c.uuid(), "127.0.0.1", c.port());

  // Wait for the full mesh.
  caf::scoped_actor self{sys};
  auto mesh = [&] {
    for (auto& x : peers)
      for (auto& y : peers)
        if (x != y) {
          auto p = x->find_peer(y->uuid());
          if (!p || p->state != peer_state::connected)
            return false;
        }
    return true;
  };
  for (int i = 0; i < 200 && !mesh(); ++i)
    self->receive(caf::after(50ms) >> [] {});
  if (!mesh())
    return std::fprintf(stderr, "the three peers did not connect\n"), 1;
  std::printf("three peers connected: %s, %s, %s\n", a.uuid().c_str(),
              b.uuid().c_str(), c.uuid().c_str());

  int good = 0;
  // `from` asks `to` to put key=value.
  auto put = [&](local_peer& from, local_peer& to, const std::string& key,
                 const std::string& value) {
    auto reply = from.request(to.uuid(), "kv", put_body(key, value), 10s);
    if (!reply) {
      std::printf("put %s=%s on %s: %s\n", key.c_str(), value.c_str(),
                  to.uuid().c_str(), render(reply.error()).c_str());
      return;
    }
    auto replicas = reply->payload.get_integer("replicas");
    std::printf("put %s=%s on %s (asked by %s): copied to %lld peers\n",
                key.c_str(), value.c_str(), to.uuid().c_str(),
                from.uuid().c_str(),
                static_cast<long long>(replicas ? *replicas : -1));
  };
  // `from` asks `to` for key, expecting `expected`.
  auto get = [&](local_peer& from, local_peer& to, const std::string& key,
                 const std::string& expected) {
    auto reply = from.request(to.uuid(), "kv", get_body(key), 10s);
    auto value = reply ? reply->payload.get_string("value")
                       : caf::expected<std::string>{reply.error()};
    std::printf("get %s on %s (asked by %s): %s\n", key.c_str(),
                to.uuid().c_str(), from.uuid().c_str(),
                value ? value->c_str() : render(value.error()).c_str());
    good += value && *value == expected;
  };
  put(a, b, "colour", "blue");
  get(a, c, "colour", "blue");
  get(b, a, "colour", "blue");
  put(b, c, "colour", "green");
  get(c, a, "colour", "green");
  get(a, b, "colour", "green");
  auto missing = a.request(c.uuid(), "kv", get_body("shape"), 10s);
  std::printf("get shape on %s: %s\n", c.uuid().c_str(),
              missing ? "(a value?)" : render(missing.error()).c_str());
  auto rejected = !missing && missing.error() == errc::rejected;

  for (auto& x : peers)
    x->stop();
  if (good != 4 || !rejected) {
    std::printf("kv: %d of 4 gets saw the value last put\n", good);
    return 1;
  }
  std::printf("kv: success: 4 of 4 gets saw the value put on another peer, "
              "an unknown key was rejected\n");
  return 0;
}
