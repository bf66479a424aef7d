// TLS for remote concerns on CAF's OpenSSL module. CAF's own OpenSSL
// middleman drops the reason of a failed handshake (its logging is compiled
// out in Debian's build), so this middleman wraps the module's sessions in a
// policy that reads OpenSSL's error queue, in the multiplexer's thread,
// right after the session failed.
#include "remote_tls.hpp"

#include <mutex>
#include <string>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/detail/socket_guard.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor_impl.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/doorman_impl.hpp>
#include <caf/io/network/stream_impl.hpp>
#include <caf/io/scribe.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/session.hpp>
#include <caf/send.hpp>
#include <openssl/err.h>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "remote_certs.hpp"

namespace p2p0mq::detail {

namespace {

namespace net = caf::io::network;

using net::native_socket;
using net::rw_state;

/// "host:port" of the other end of `fd`.
std::string other_end(native_socket fd) {
  auto host = net::remote_addr_of_fd(fd);
  auto port = net::remote_port_of_fd(fd);
  return (host ? *host : std::string{"?"}) + ":" +
         (port ? std::to_string(*port) : std::string{"?"});
}

/// Reads and writes through a session of CAF's OpenSSL module; logs why
/// the connection failed when it fails before the other end sent any data
/// (that is, during the TLS handshake or at the first record).
class logging_policy {
public:
  logging_policy(caf::openssl::session_ptr session, std::string other,
                 bool accepted)
      : session_(std::move(session)),
        other_(std::move(other)),
        accepted_(accepted) {
  }

  rw_state read_some(std::size_t& result, native_socket fd, void* buf,
                     std::size_t len) {
    ERR_clear_error();
    auto state = session_->read_some(result, fd, buf, len);
    if (result > 0)
      heard_ = true;
    check(state);
    return state;
  }

  rw_state write_some(std::size_t& result, native_socket fd, const void* buf,
                      std::size_t len) {
    ERR_clear_error();
    auto state = session_->write_some(result, fd, buf, len);
    check(state);
    return state;
  }

  bool must_read_more(native_socket fd, std::size_t threshold) {
    return session_->must_read_more(fd, threshold);
  }

private:
  void check(rw_state state) {
    if (state != rw_state::failure || heard_ || reported_)
      return;
    reported_ = true;
    auto reason = drain_tls_errors();
    if (reason.empty())
      reason = "the connection closed before the other end sent anything";
    if (accepted_)
      log(log_level::warning, log_category::security,
          "remote concerns: TLS connection from ", other_,
          " refused: ", reason);
    else
      log(log_level::warning, log_category::security,
          "remote concerns: TLS connection to ", other_, " failed: ", reason);
  }

  caf::openssl::session_ptr session_;
  std::string other_;
  bool accepted_;
  bool heard_ = false;
  bool reported_ = false;
};

/// A BASP connection over a TLS session.
class tls_scribe : public caf::io::scribe {
public:
  tls_scribe(net::default_multiplexer& mpx, native_socket fd,
             logging_policy policy)
      : caf::io::scribe(net::conn_hdl_from_socket(fd)),
        stream_(mpx, fd, std::move(policy)) {
  }

  void configure_read(caf::io::receive_policy::config config) override {
    stream_.configure_read(config);
    if (!launched_) {
      launched_ = true;
      stream_.start(this);
      // The handshake needs the socket to be written to even before BASP
      // writes anything.
      stream_.force_empty_write(this);
    }
  }

  void ack_writes(bool enable) override {
    stream_.ack_writes(enable);
  }

  std::vector<char>& wr_buf() override {
    return stream_.wr_buf();
  }

  std::vector<char>& rd_buf() override {
    return stream_.rd_buf();
  }

  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }

  void flush() override {
    stream_.flush(this);
  }

  std::string addr() const override {
    auto x = net::remote_addr_of_fd(stream_.fd());
    return x ? *x : std::string{};
  }

  uint16_t port() const override {
    auto x = net::remote_port_of_fd(stream_.fd());
    return x ? *x : 0;
  }

  void add_to_loop() override {
    stream_.activate(this);
  }

  void remove_from_loop() override {
    stream_.passivate();
  }

private:
  bool launched_ = false;
  net::stream_impl<logging_policy> stream_;
};

/// Accepts TCP connections and starts a TLS session on each.
class tls_doorman : public net::doorman_impl {
public:
  using net::doorman_impl::doorman_impl;

  bool new_connection() override {
    if (detached())
      return false;
    auto& mpx = acceptor_.backend();
    auto fd = acceptor_.accepted_socket();
    caf::detail::socket_guard guard{fd};
    net::nonblocking(fd, true);
    auto other = other_end(fd);
    auto& sys = parent()->system();
    if (auto err = refresh_trusted(sys))
      log(log_level::error, log_category::security,
          "remote concerns: the trusted certificates were not gathered "
          "again: ",
          render(err));
    ERR_clear_error();
    auto session = caf::openssl::make_session(sys, fd, true);
    if (!session) {
      log(log_level::warning, log_category::security,
          "remote concerns: TLS connection from ", other,
          " refused: ", drain_tls_errors());
      return false;
    }
    auto scribe = caf::make_counted<tls_scribe>(
        mpx, fd, logging_policy{std::move(session), other, true});
    guard.release(); // the scribe owns the socket now
    auto hdl = scribe->hdl();
    parent()->add_scribe(std::move(scribe));
    return doorman::new_connection(&mpx, hdl);
  }
};

class tls_middleman_impl : public caf::io::middleman_actor_impl {
public:
  using caf::io::middleman_actor_impl::middleman_actor_impl;

  const char* name() const override {
    return "p2p0mq.tls_middleman";
  }

protected:
  caf::expected<caf::io::scribe_ptr> connect(const std::string& host,
                                             uint16_t port) override {
    if (auto err = refresh_trusted(system()))
      return err;
    auto fd = net::new_tcp_connection(host, port);
    if (!fd)
      return std::move(fd.error());
    net::nonblocking(*fd, true);
    ERR_clear_error();
    auto other = host + ":" + std::to_string(port);
    auto session = caf::openssl::make_session(system(), *fd, false);
    if (!session) {
      auto reason = drain_tls_errors();
      log(log_level::warning, log_category::security,
          "remote concerns: TLS connection to ", other, " failed: ", reason);
      net::close_socket(*fd);
      return make_error(caf::sec::cannot_connect_to_node,
                        "TLS session to " + other + ": " + reason);
    }
    return caf::make_counted<tls_scribe>(
        mpx(), *fd, logging_policy{std::move(session), other, false});
  }

  caf::expected<caf::io::doorman_ptr> open(uint16_t port, const char* addr,
                                           bool reuse) override {
    auto fd = net::new_tcp_acceptor_impl(port, addr, reuse);
    if (!fd)
      return std::move(fd.error());
    return caf::make_counted<tls_doorman>(mpx(), *fd);
  }

private:
  net::default_multiplexer& mpx() {
    return static_cast<net::default_multiplexer&>(
        system().middleman().backend());
  }
};

/// Serialises the gathering of trusted certificates within the process
/// (the multiplexer's thread and the middleman actors both gather).
std::mutex gather_mutex;

/// Guards the spawning of the TLS middleman.
std::mutex spawn_mutex;

} // namespace

void load_openssl_module(caf::actor_system_config& cfg) {
  cfg.load<caf::openssl::manager>();
}

caf::io::middleman_actor tls_middleman(caf::actor_system& sys) {
  auto name = caf::atom("p2p0mqTLS");
  std::lock_guard<std::mutex> guard{spawn_mutex};
  if (auto ptr = sys.registry().get(name))
    return caf::actor_cast<caf::io::middleman_actor>(std::move(ptr));
  auto broker =
      sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  auto result = sys.spawn<tls_middleman_impl, caf::detached + caf::hidden>(
      caf::actor{broker});
  // The actor system waits for detached actors after stopping its modules,
  // and for their last reference to go: this one goes with the BASP broker,
  // which the middleman stops, and leaves the registry then.
  auto weak = caf::actor_cast<caf::actor_addr>(result);
  auto* home = &sys;
  caf::actor_cast<caf::abstract_actor*>(broker)->attach_functor(
      [weak, home, name] {
        home->registry().erase(name);
        if (auto strong = caf::actor_cast<caf::actor>(weak))
          caf::anon_send_exit(strong, caf::exit_reason::kill);
      });
  sys.registry().put(name, caf::actor_cast<caf::strong_actor_ptr>(result));
  return result;
}

caf::error refresh_trusted(caf::actor_system& sys) {
  auto& cfg = sys.config();
  auto trusted = caf::get_or(cfg, "p2p0mq-remote.trusted", std::string{});
  if (trusted.empty())
    return caf::none; // a bundle given by the user, or no TLS
  std::lock_guard<std::mutex> guard{gather_mutex};
  trusted_gathered out;
  auto err =
      gather_trusted(trusted, cfg.openssl_certificate, cfg.openssl_cafile, out);
  if (!err && out.written)
    log(log_level::info, log_category::security,
        "remote concerns: ", out.certificates, " trusted certificates from ",
        trusted, out.skipped > 0 ? " (" : "",
        out.skipped > 0 ? std::to_string(out.skipped) : "",
        out.skipped > 0 ? " files skipped: no certificate)" : "");
  return err;
}

} // namespace p2p0mq::detail
