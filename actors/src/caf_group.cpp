#include "p2p0mq/actors/caf_group.hpp"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include <caf/abstract_group.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/group_module.hpp>
#include <caf/message.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"

namespace p2p0mq {

namespace {

/// The key of the serialized CAF message in a publication's payload.
constexpr const char* caf_field = "caf";

/// A module for the groups of `make_caf_group`, which never come from
/// CAF's group manager: it makes none itself.
class p2p0mq_group_module : public caf::group_module {
public:
  explicit p2p0mq_group_module(caf::actor_system& sys)
      : caf::group_module(sys, "p2p0mq") {
  }

  void stop() override {
    // The groups stop on their own.
  }

  caf::expected<caf::group> get(const std::string&) override {
    return make_error(errc::invalid_request,
                      "p2p0mq groups come from make_caf_group");
  }

  caf::error load(caf::deserializer&, caf::group&) override {
    return make_error(errc::invalid_request,
                      "p2p0mq groups do not travel in messages");
  }
};

struct forwarder_state {
  static inline const char* name = "p2p0mq.caf_group";
  std::vector<caf::strong_actor_ptr> subscribers;
};

void deliver_here(caf::stateful_actor<forwarder_state>* self,
                  const caf::message& content) {
  for (auto& x : self->state.subscribers)
    x->enqueue(nullptr, caf::make_message_id(), content, self->context());
}

caf::behavior forwarder(caf::stateful_actor<forwarder_state>* self,
                        group_actor groups, std::string name) {
  self->request(groups, caf::infinite, subscribe_atom::value,
                caf::actor_cast<group_listener_actor>(self))
      .then([](group_view&) {
        // What the members are is the application's to ask for.
      });
  auto membership = [self, groups, name](bool in) {
    auto log_error = [name](caf::error& err) {
      log(log_level::warning, log_category::app, "CAF group ", name, ": ",
          render(err));
    };
    if (in)
      self->request(groups, caf::infinite, join_atom::value, name)
          .then([](bool) {}, log_error);
    else
      self->request(groups, caf::infinite, leave_atom::value, name)
          .then([](bool) {}, log_error);
  };
  return {
      [self, membership](add_atom, caf::strong_actor_ptr who) {
        auto& xs = self->state.subscribers;
        if (std::find(xs.begin(), xs.end(), who) != xs.end())
          return;
        xs.push_back(std::move(who));
        if (xs.size() == 1)
          membership(true);
      },
      [self, membership](remove_atom, caf::actor_id who) {
        auto& xs = self->state.subscribers;
        auto n = xs.size();
        xs.erase(std::remove_if(xs.begin(), xs.end(),
                                [&](const caf::strong_actor_ptr& x) {
                                  return x->id() == who;
                                }),
                 xs.end());
        if (n > 0 && xs.empty())
          membership(false);
      },
      [self, groups, name](publish_atom, const caf::message& content) {
        deliver_here(self, content);
        std::vector<char> buf;
        caf::binary_serializer sink{self->system(), buf};
        auto copy = content;
        if (auto err = sink(copy)) {
          log(log_level::warning, log_category::app, "CAF group ", name,
              ": cannot serialize a message: ", render(err));
          return;
        }
        auto body =
            payload_builder{}
                .add_bytes(caf_field, std::string_view{buf.data(), buf.size()})
                .build();
        self->request(groups, caf::infinite, publish_atom::value, name, body)
            .then([](std::uint64_t) {},
                  [name](caf::error& err) {
                    log(log_level::warning, log_category::app, "CAF group ",
                        name, ": publication failed: ", render(err));
                  });
      },
      [self, name](const group_message& x) {
        if (x.group != name)
          return;
        auto bytes = x.body.get_bytes(caf_field);
        if (!bytes)
          return; // Not sent through a CAF group.
        std::vector<char> buf(bytes->begin(), bytes->end());
        caf::binary_deserializer source{self->system(), buf};
        caf::message content;
        if (auto err = source(content)) {
          log(log_level::warning, log_category::app, "CAF group ", name,
              ": cannot read a message from ", x.publisher, ": ", render(err));
          return;
        }
        deliver_here(self, content);
      },
      [](const group_event&) {
        // Membership is the application's to ask for.
      },
  };
}

/// A CAF group whose state lives in its forwarder actor: every call is a
/// message to it.
class p2p0mq_group : public caf::abstract_group {
public:
  p2p0mq_group(std::shared_ptr<p2p0mq_group_module> mod, std::string name,
               caf::actor fwd)
      : caf::abstract_group(*mod, std::move(name), mod->system().node()),
        module_(std::move(mod)),
        forwarder_(std::move(fwd)) {
  }

  caf::error save(caf::serializer&) const override {
    return make_error(errc::invalid_request,
                      "p2p0mq groups do not travel in messages");
  }

  bool subscribe(caf::strong_actor_ptr who) override {
    caf::anon_send(forwarder_, add_atom::value, std::move(who));
    return true;
  }

  void unsubscribe(const caf::actor_control_block* who) override {
    caf::anon_send(forwarder_, remove_atom::value, who->id());
  }

  void stop() override {
    caf::anon_send_exit(forwarder_, caf::exit_reason::user_shutdown);
  }

  void enqueue(caf::strong_actor_ptr, caf::message_id, caf::message content,
               caf::execution_unit*) override {
    caf::anon_send(forwarder_, publish_atom::value, std::move(content));
  }

private:
  std::shared_ptr<p2p0mq_group_module> module_;
  caf::actor forwarder_;
};

} // namespace

caf::expected<caf::group> make_caf_group(caf::actor_system& sys,
                                         const group_actor& groups,
                                         const std::string& name) {
  if (auto err = check_group_name(name))
    return err;
  if (!groups)
    return make_error(errc::not_started,
                      "make_caf_group: the local peer runs no group concern");
  auto fwd = sys.spawn(forwarder, groups, name);
  auto mod = std::make_shared<p2p0mq_group_module>(sys);
  return caf::group{
      caf::make_counted<p2p0mq_group>(std::move(mod), name, std::move(fwd))};
}

} // namespace p2p0mq
