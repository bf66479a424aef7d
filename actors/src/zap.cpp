#include "p2p0mq/actors/zap.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <zmq.hpp>

#include "p2p0mq/cert_store.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/log_limiter.hpp"
#include "p2p0mq/uuid.hpp"
#include "wake_fd.hpp"

namespace p2p0mq {

namespace {

// -- the authenticator --------------------------------------------------------

/// The authenticator's own interface: the public one plus its reload timer,
/// `(timeout_atom, domain, generation)`, and its log's timer.
using zap_impl_actor =
    zap_actor::extend<caf::reacts_to<timeout_atom, std::string, std::uint64_t>,
                      caf::reacts_to<flush_log_atom>>;

/// Where the ZAP handler of a context binds (RFC 27).
constexpr const char* zap_endpoint = "inproc://zeromq.zap.01";

/// What the authenticator knows of one domain.
struct domain_keys {
  std::string public_dir;
  duration reload_interval{};
  /// The uuid whose certificate holds each key (32 raw bytes).
  trusted_keys uuid_of_key;
  /// The certificate files as last read: name, size and modification time.
  std::set<std::tuple<std::string, std::uintmax_t, std::int64_t>> files;
  time_point read_at{};
  /// Tells the timers of this registration from those of an earlier one.
  std::uint64_t generation = 0;
  /// The rejections of clients of this domain, by address.
  log_limiter log;
  /// Told of each certificate a reading finds that the one before did not.
  trust_watcher_actor watcher;
};

struct zap_state {
  static inline const char* name = "p2p0mq.zap";
  std::unordered_map<std::string, domain_keys> domains;
  std::uint64_t next_generation = 1;
  duration min_reload_gap{};
  log_limits limits;
  /// The rejections of clients of domains no local peer has, by address.
  log_limiter unknown_domains;
  /// Whether a `flush_log_atom` is on its way.
  bool flush_armed = false;
};

using zap_ptr = zap_impl_actor::stateful_pointer<zap_state>;

std::string raw_of(const std::string& z85) {
  std::string result(32, '\0');
  zmq_z85_decode(reinterpret_cast<std::uint8_t*>(result.data()), z85.c_str());
  return result;
}

/// The `*.key` files of `dir`, with their size and modification time: a
/// cheap look at whether the directory changed.
std::set<std::tuple<std::string, std::uintmax_t, std::int64_t>>
list_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::set<std::tuple<std::string, std::uintmax_t, std::int64_t>> result;
  std::error_code ec;
  fs::directory_iterator i{dir, ec};
  if (ec)
    return result;
  for (fs::directory_iterator end; i != end; i.increment(ec)) {
    if (ec)
      break;
    if (i->path().extension() != ".key")
      continue;
    auto size = i->file_size(ec);
    auto mtime = i->last_write_time(ec);
    if (!ec)
      result.emplace(i->path().filename().string(), size,
                     mtime.time_since_epoch().count());
  }
  return result;
}

/// Reads the certificates of `d` again.
void read_keys(zap_ptr self, const std::string& domain, domain_keys& d) {
  d.files = list_files(d.public_dir);
  cert_store store{d.public_dir, {}};
  trusted_keys keys;
  for (auto& cert : store.public_certificates()) {
    auto [i, added] = keys.emplace(raw_of(cert.public_key), cert.uuid);
    if (!added)
      log(log_level::warning, log_category::security, "the key of ",
          d.public_dir, "/", cert.uuid, ".key is also in ", d.public_dir, "/",
          i->second, ".key: it identifies ", i->second, " only");
  }
  log(log_level::debug, log_category::security, "authenticator of ",
      short_uuid(domain), " trusts ", keys.size(), " certificates in ",
      d.public_dir);
  if (d.watcher) {
    std::set<std::string> before;
    for (auto& kvp : d.uuid_of_key)
      before.insert(kvp.second);
    for (auto& kvp : keys)
      if (before.count(kvp.second) == 0)
        self->send(d.watcher, trusted_atom::value, kvp.second);
  }
  d.uuid_of_key = std::move(keys);
  d.read_at = self->clock().now();
}

/// Makes sure the log's summaries are written when due.
void arm_flush(zap_ptr self) {
  auto& st = self->state;
  if (st.flush_armed)
    return;
  auto due = st.unknown_domains.next_due();
  for (auto& [domain, d] : st.domains)
    due = std::min(due, d.log.next_due());
  if (due == time_point::max())
    return;
  st.flush_armed = true;
  auto now = self->clock().now();
  self->delayed_send(self, std::max(due - now, duration::zero()),
                     flush_log_atom::value);
}

/// Rejects a client, logging it through `limiter` by its address (the key
/// is the client's to choose, its address much less so).
zap_verdict reject(zap_ptr self, log_limiter& limiter,
                   const std::string& domain, const std::string& address,
                   const std::string& key, std::string_view why,
                   std::string reason) {
  limiter.report(self->clock().now(), address, log_kinds::rejected_client, why,
                 [&] {
                   return "rejected the client at " + quote_bytes(address) +
                          " with key " + quote_bytes(z85_key(key)) + " for " +
                          quote_bytes(domain) + ": " + reason;
                 });
  arm_flush(self);
  return zap_verdict{false, {}, std::move(reason)};
}

zap_verdict authenticate(zap_ptr self, const std::string& domain,
                         const std::string& address,
                         const std::string& mechanism, const std::string& key) {
  auto i = self->state.domains.find(domain);
  if (i == self->state.domains.end())
    return reject(self, self->state.unknown_domains, domain, address, key,
                  "unknown domain", "no local peer has this ZAP domain");
  auto& d = i->second;
  auto verdict = decide_zap(mechanism, key, d.uuid_of_key, d.public_dir);
  // A CURVE client with an unknown key: read the certificates again if a
  // file came, went or changed size or time since the last reading (a cheap
  // listing), or if that reading is old enough (a file rewritten within the
  // same second).
  if (!verdict.accepted && mechanism == "CURVE" &&
      (list_files(d.public_dir) != d.files ||
       self->clock().now() - d.read_at >= self->state.min_reload_gap)) {
    read_keys(self, domain, d);
    verdict = decide_zap(mechanism, key, d.uuid_of_key, d.public_dir);
  }
  if (!verdict.accepted)
    return reject(self, d.log, domain, address, key,
                  mechanism == "CURVE" ? "unknown key" : "not CURVE",
                  std::move(verdict.reason));
  log(log_level::debug, log_category::security, "accepted ",
      short_uuid(verdict.user_id), " at ", address, " for ",
      short_uuid(domain));
  return verdict;
}

void arm_reload(zap_ptr self, const std::string& domain, const domain_keys& d) {
  self->delayed_send(self, d.reload_interval, timeout_atom::value, domain,
                     d.generation);
}

zap_impl_actor::behavior_type zap_fun(zap_ptr self, duration min_reload_gap,
                                      log_limits limits) {
  self->state.min_reload_gap = min_reload_gap;
  self->state.limits = limits;
  self->state.unknown_domains = log_limiter{limits};
  return {
      [self](add_atom, const std::string& domain, std::string& public_dir,
             duration reload_interval) {
        auto& d = self->state.domains[domain];
        d = domain_keys{};
        d.log = log_limiter{self->state.limits};
        d.public_dir = std::move(public_dir);
        d.reload_interval = reload_interval;
        d.generation = self->state.next_generation++;
        read_keys(self, domain, d);
        arm_reload(self, domain, d);
      },
      [self](subscribe_atom, const std::string& domain,
             trust_watcher_actor& who) {
        auto i = self->state.domains.find(domain);
        if (i != self->state.domains.end())
          i->second.watcher = std::move(who);
      },
      [self](remove_atom, const std::string& domain) {
        self->state.domains.erase(domain);
      },
      [self](reload_atom,
             const std::string& domain) -> caf::result<std::uint64_t> {
        auto i = self->state.domains.find(domain);
        if (i == self->state.domains.end())
          return make_error(errc::unknown_peer,
                            "no local peer has the ZAP domain '" + domain +
                                "'");
        read_keys(self, domain, i->second);
        return static_cast<std::uint64_t>(i->second.uuid_of_key.size());
      },
      [self](authenticate_atom, const std::string& domain,
             const std::string& address, const std::string& mechanism,
             const std::string& key) {
        return authenticate(self, domain, address, mechanism, key);
      },
      [self](timeout_atom, const std::string& domain,
             std::uint64_t generation) {
        auto i = self->state.domains.find(domain);
        if (i == self->state.domains.end() ||
            i->second.generation != generation)
          return;
        read_keys(self, domain, i->second);
        arm_reload(self, domain, i->second);
      },
      [self](flush_log_atom) {
        auto& st = self->state;
        st.flush_armed = false;
        auto now = self->clock().now();
        st.unknown_domains.flush(now);
        for (auto& [domain, d] : st.domains)
          d.log.flush(now);
        arm_flush(self);
      },
  };
}

// -- the socket ---------------------------------------------------------------

/// Sends the frames of one reply (RFC 27).
void answer(zmq::socket_t& socket, const zap_reply_frames& parts) {
  for (std::size_t i = 0; i < parts.size(); ++i)
    socket.send(zmq::buffer(parts[i]), i + 1 < parts.size()
                                           ? zmq::send_flags::sndmore
                                           : zmq::send_flags::none);
}

/// Reads one request and answers it.
void serve_one(caf::blocking_actor* self, zmq::socket_t& socket,
               const zap_actor& zap) {
  std::vector<std::string> frames;
  zmq::message_t part;
  do {
    if (!socket.recv(part, zmq::recv_flags::dontwait))
      return;
    frames.push_back(part.to_string());
  } while (part.more());
  auto request = parse_zap_request(frames);
  if (!request.malformed.empty()) {
    log(log_level::warning, log_category::security,
        "malformed ZAP request: ", request.malformed);
    answer(socket, make_zap_reply(request, zap_verdict{}));
    return;
  }
  zap_verdict verdict;
  caf::error failure;
  self->request(zap, std::chrono::seconds{5}, authenticate_atom::value,
                request.domain, request.address, request.mechanism,
                request.client_key())
      .receive([&](zap_verdict& x) { verdict = std::move(x); },
               [&](caf::error& err) { failure = std::move(err); });
  if (failure) {
    log(log_level::error, log_category::security,
        "the authenticator did not answer: ", render(failure));
    answer(socket, make_zap_reply(request.request_id, "500",
                                  "authenticator unavailable", ""));
    return;
  }
  answer(socket, make_zap_reply(request, verdict));
}

void zap_socket_loop(caf::blocking_actor* self,
                     std::shared_ptr<zmq::socket_t> socket,
                     std::shared_ptr<detail::wake_fd> stop, zap_actor zap,
                     std::shared_ptr<std::atomic<std::uint64_t>> requests) {
  zmq::pollitem_t items[] = {
      {static_cast<void*>(*socket), 0, ZMQ_POLLIN, 0},
      {nullptr, stop->fd(), ZMQ_POLLIN, 0},
  };
  try {
    for (;;) {
      try {
        zmq::poll(items, 2, std::chrono::milliseconds{-1});
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR)
          continue;
        throw;
      }
      if (items[1].revents & ZMQ_POLLIN)
        break;
      if (items[0].revents & ZMQ_POLLIN) {
        serve_one(self, *socket, zap);
        requests->fetch_add(1, std::memory_order_relaxed);
      }
    }
  } catch (const zmq::error_t& e) {
    if (e.num() != ETERM)
      log(log_level::error, log_category::security,
          "the ZAP handler stops on a socket error: ", e.what());
  }
  socket->close();
}

// -- one service per context --------------------------------------------------

std::mutex registry_mutex;

std::map<const zmq::context_t*, std::weak_ptr<zap_service>>& registry() {
  static std::map<const zmq::context_t*, std::weak_ptr<zap_service>> result;
  return result;
}

} // namespace

struct zap_service::impl {
  caf::actor_system* sys = nullptr;
  std::shared_ptr<zmq::context_t> context;
  zap_actor zap;
  caf::actor socket_actor;
  std::shared_ptr<detail::wake_fd> stop;
  std::shared_ptr<std::atomic<std::uint64_t>> requests;
};

zap_actor spawn_zap(caf::actor_system& sys, log_limits limits) {
  return caf::actor_cast<zap_actor>(
      sys.spawn(zap_fun, zap_min_reload_gap, limits));
}

caf::expected<std::shared_ptr<zap_service>>
zap_service::attach(caf::actor_system& sys,
                    std::shared_ptr<zmq::context_t> context,
                    log_limits limits) {
  std::lock_guard<std::mutex> guard{registry_mutex};
  auto& entry = registry()[context.get()];
  if (auto existing = entry.lock())
    return existing;
  auto socket = std::make_shared<zmq::socket_t>();
  try {
    *socket = zmq::socket_t{*context, zmq::socket_type::rep};
    socket->set(zmq::sockopt::linger, 0);
    socket->bind(zap_endpoint);
  } catch (const zmq::error_t& e) {
    return make_error(errc::socket_error,
                      std::string{"cannot bind the ZAP handler at "} +
                          zap_endpoint +
                          " (another one in this ZeroMQ "
                          "context?): " +
                          e.what());
  }
  auto x = std::make_unique<impl>();
  x->sys = &sys;
  x->context = std::move(context);
  x->zap = spawn_zap(sys, limits);
  x->stop = std::make_shared<detail::wake_fd>();
  x->requests = std::make_shared<std::atomic<std::uint64_t>>(0);
  x->socket_actor = sys.spawn<caf::detached>(zap_socket_loop, std::move(socket),
                                             x->stop, x->zap, x->requests);
  auto result = std::make_shared<zap_service>(std::move(x));
  entry = result;
  return result;
}

zap_service::zap_service(std::unique_ptr<impl> x)
    : zap_(x->zap), impl_(std::move(x)) {
}

zap_service::~zap_service() {
  // Holding the registry's lock until the socket is closed: a service
  // attached to the same context next binds only then.
  std::lock_guard<std::mutex> guard{registry_mutex};
  impl_->stop->raise();
  {
    caf::scoped_actor self{*impl_->sys};
    self->wait_for(impl_->socket_actor);
  }
  caf::anon_send_exit(zap_, caf::exit_reason::user_shutdown);
  auto& entries = registry();
  auto i = entries.find(impl_->context.get());
  if (i != entries.end() && i->second.expired())
    entries.erase(i);
}

std::uint64_t zap_service::requests() const noexcept {
  return impl_->requests->load(std::memory_order_relaxed);
}

} // namespace p2p0mq
