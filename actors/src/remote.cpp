#include "p2p0mq/actors/remote.hpp"

#include <arpa/inet.h>
#include <filesystem>
#include <memory>
#include <set>
#include <system_error>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "p2p0mq/actors/supervisor.hpp"
#include "p2p0mq/cert_store.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"
#include "remote_certs.hpp"
#include "remote_tls.hpp"

namespace p2p0mq {

namespace {

caf::error no_middleman() {
  return make_error(errc::invalid_config,
                    "the actor system has no middleman: call load_remote on "
                    "its config");
}

/// Whether `sys` may use `transport` with `host`; the error says why not.
caf::error check_transport(caf::actor_system& sys, remote_transport transport,
                           const std::string& host) {
  if (!sys.has_middleman())
    return no_middleman();
  if (transport == remote_transport::plain) {
    if (!is_loopback_host(host))
      return make_error(errc::invalid_config,
                        "plain BASP is neither encrypted nor authenticated: "
                        "only on a loopback address, not on " +
                            host);
    return caf::none;
  }
  if (!sys.has_openssl_manager() || sys.config().openssl_certificate.empty())
    return make_error(errc::invalid_config,
                      "remote concerns use TLS, and this actor system has no "
                      "certificate: give one to load_remote (or ask for "
                      "remote_transport::plain on a loopback address)");
  return caf::none;
}

const char* transport_name(remote_transport transport) {
  return transport == remote_transport::tls ? "TLS" : "plain BASP";
}

} // namespace

remote_options remote_options::in_store(const std::string& dir,
                                        const std::string& name) {
  remote_options result;
  result.certificate = dir + "/public/" + name + ".crt";
  result.key = dir + "/private/" + name + ".crt_secret";
  result.trusted = dir + "/public";
  return result;
}

caf::error load_remote(caf::actor_system_config& cfg,
                       const remote_options& opts) {
  if (opts.certificate.empty()) {
    if (!opts.key.empty() || !opts.trusted.empty())
      return make_error(errc::invalid_config,
                        "remote_options: a key or a trust without a "
                        "certificate");
    cfg.load<caf::io::middleman>();
    return caf::none;
  }
  if (opts.trusted.empty())
    return make_error(errc::invalid_config,
                      "remote_options: a certificate without a trust (a "
                      "directory or file of trusted certificates)");
  if (auto err = detail::check_tls_identity(opts.certificate, opts.key,
                                            opts.passphrase))
    return err;
  std::error_code ec;
  std::string cafile;
  std::string trusted_dir;
  if (std::filesystem::is_directory(opts.trusted, ec)) {
    trusted_dir = opts.trusted;
    cafile = opts.trusted_bundle.empty() ? opts.key + ".trusted"
                                         : opts.trusted_bundle;
    detail::trusted_gathered out;
    if (auto err =
            detail::gather_trusted(trusted_dir, opts.certificate, cafile, out))
      return err;
  } else if (std::filesystem::is_regular_file(opts.trusted, ec)) {
    cafile = opts.trusted;
  } else {
    return make_error(errc::missing_certificate,
                      "no trusted directory or file " + opts.trusted);
  }
  cfg.openssl_certificate = opts.certificate;
  cfg.openssl_key = opts.key;
  cfg.openssl_passphrase = opts.passphrase;
  cfg.openssl_cafile = cafile;
  cfg.openssl_capath.clear();
  auto& group = cfg.content["p2p0mq-remote"].as_dictionary();
  group["trusted"] = trusted_dir;
  cfg.load<caf::io::middleman>();
  detail::load_openssl_module(cfg);
  return caf::none;
}

caf::error make_remote_certificate(const std::string& dir,
                                   const std::string& name, bool force,
                                   int days) {
  cert_store store{dir + "/public", dir + "/private"};
  // The names follow the uuid rules of the CURVE certificates.
  auto pub = store.public_path(name);
  if (!pub)
    return std::move(pub.error());
  auto opts = remote_options::in_store(dir, name);
  std::error_code ec;
  for (auto& path : {opts.certificate, opts.key})
    if (!force && std::filesystem::exists(path, ec))
      return make_error(errc::certificate_io,
                        path + " exists; replacing it needs force");
  if (auto err = store.ensure_dirs())
    return err;
  return detail::make_tls_certificate(opts.certificate, opts.key, name, days);
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost")
    return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

caf::expected<std::uint16_t> publish_supervisor(local_peer& peer,
                                                std::uint16_t port,
                                                const std::string& host,
                                                remote_transport transport) {
  if (!peer.running())
    return make_error(errc::not_started, "publish_supervisor before start");
  auto& sys = peer.system();
  if (auto err = check_transport(sys, transport, host))
    return err;
  caf::expected<std::uint16_t> result{caf::none};
  if (transport == remote_transport::plain) {
    result = sys.middleman().publish(peer.supervisor(), port, host.c_str());
  } else {
    if (auto err = detail::refresh_trusted(sys))
      return err;
    caf::scoped_actor self{sys};
    self->request(detail::tls_middleman(sys), caf::infinite,
                  caf::publish_atom::value, port,
                  caf::actor_cast<caf::strong_actor_ptr>(peer.supervisor()),
                  sys.message_types(peer.supervisor()), host, false)
        .receive([&](std::uint16_t x) { result = x; },
                 [&](caf::error& x) { result = std::move(x); });
  }
  if (result)
    log(log_level::info, log_category::concerns, "supervisor of ",
        short_uuid(peer.uuid()), " published on ", host, ":", *result, " (",
        transport_name(transport), ")");
  return result;
}

caf::error unpublish_supervisor(local_peer& peer, std::uint16_t port) {
  auto& sys = peer.system();
  if (!sys.has_middleman())
    return no_middleman();
  auto result = sys.middleman().unpublish(peer.supervisor(), port);
  if (!result)
    return std::move(result.error());
  return caf::none;
}

namespace {

/// The supervisor published on `host:port`, over TLS.
caf::expected<supervisor_actor> connect_tls(caf::actor_system& sys,
                                            const std::string& host,
                                            std::uint16_t port) {
  caf::scoped_actor self{sys};
  caf::expected<supervisor_actor> result{caf::none};
  self->request(detail::tls_middleman(sys), caf::infinite,
                caf::connect_atom::value, host, port)
      .receive(
          [&](caf::node_id&, caf::strong_actor_ptr& ptr,
              std::set<std::string>& ifs) {
            auto expected = sys.message_types<supervisor_actor>();
            if (!ptr)
              result = make_error(caf::sec::no_actor_published_at_port, port);
            else if (!sys.assignable(ifs, expected))
              result =
                  make_error(caf::sec::unexpected_actor_messaging_interface,
                             std::move(expected), std::move(ifs));
            else
              result = caf::actor_cast<supervisor_actor>(std::move(ptr));
          },
          [&](caf::error& x) { result = std::move(x); });
  return result;
}

} // namespace

caf::expected<concern_actor>
attach_concern(caf::actor_system& sys, const std::string& host,
               std::uint16_t port, const std::string& command,
               concern_factory factory, caf::timespan timeout,
               remote_transport transport) {
  if (auto err = check_transport(sys, transport, host))
    return err;
  auto supervisor =
      transport == remote_transport::plain
          ? sys.middleman().remote_actor<supervisor_actor>(host, port)
          : connect_tls(sys, host, port);
  if (!supervisor)
    return std::move(supervisor.error());
  caf::scoped_actor self{sys};
  caf::error err;
  remote_context info;
  self->request(*supervisor, timeout, context_atom::value)
      .receive([&](remote_context& x) { info = std::move(x); },
               [&](caf::error& x) { err = std::move(x); });
  if (err)
    return err;
  auto settings = std::make_shared<config>();
  settings->uuid = info.local_uuid;
  settings->host = info.host;
  settings->port = info.port;
  settings->message_ttl = info.message_ttl;
  concern_context ctx;
  ctx.local_uuid = info.local_uuid;
  ctx.host = info.host;
  ctx.port = info.port;
  ctx.peers = info.peers;
  ctx.sender = info.sender;
  ctx.speaks = info.speaks;
  ctx.settings = std::move(settings);
  ctx.command = command;
  ctx.requester = info.requester;
  ctx.outlet = *supervisor;
  auto concern = factory(self.ptr(), std::move(ctx));
  self->request(*supervisor, timeout, add_atom::value, command, concern)
      .receive([] {}, [&](caf::error& x) { err = std::move(x); });
  if (err) {
    self->send_exit(concern, caf::exit_reason::user_shutdown);
    return err;
  }
  log(log_level::info, log_category::concerns, "concern '", command,
      "' registered with the supervisor of ", short_uuid(info.local_uuid),
      " at ", host, ":", port, " (", transport_name(transport), ")");
  return concern;
}

} // namespace p2p0mq
