#include "p2p0mq/testing/chaos.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <unistd.h>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>

#include "p2p0mq/actors/concern_base.hpp"
#include "p2p0mq/concern_payloads.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/field.hpp"
#include "p2p0mq/testing/sim_network.hpp"

namespace p2p0mq::testing {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

/// The command of the chaos concern.
constexpr const char* chaos_command = "chaos";

/// Seconds since `t0`, for step lines ("12.345").
std::string secs(duration x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f",
                std::chrono::duration<double>(x).count());
  return buf;
}

// -- what the concerns and callers saw ----------------------------------------

/// One request of the run, from its creation to its last outcome.
struct tracked {
  std::uint64_t token = 0;
  std::string from;
  std::string to;
  /// The incarnation of `from` that sent it (0 until its first restart).
  std::size_t incarnation = 0;
  /// Through the requester (a caller waits for the answer), or owned by
  /// the chaos concern (fire-and-forget).
  bool asked = false;
  /// The destination's concern rejects it.
  bool reject = false;
  /// Its message id: known at once for the concern's own requests, at
  /// delivery for the requester's.
  std::uint64_t id = 0;
  /// Outcomes told to the concern (its own requests).
  int outcomes = 0;
  bool dropped = false;
  /// Deliveries to the destination's concern.
  int deliveries = 0;
  /// Replies that reached `from` (its concern, or the requester's caller).
  int replies = 0;
  /// Answers to the caller (requests through the requester).
  int answers = 0;
  /// Its peer was killed before the outcome or answer: left out.
  bool abandoned = false;
  /// The reply the destination's concern posted, and its outcomes.
  bool reply_posted = false;
  int reply_outcomes = 0;
  bool reply_abandoned = false;
  std::size_t replier_incarnation = 0;
};

/// What the chaos concerns and callers report to, as they run: every
/// actor of a simulated network runs on the test's thread, one message at a
/// time, so no lock is needed.
class recorder {
public:
  std::function<time_point()> now;
  time_point t0;
  std::map<std::uint64_t, tracked> msgs;
  /// The running chaos concern of each peer.
  std::map<std::string, concern_actor> concerns;
  std::map<std::string, std::size_t> incarnation;
  /// Requests delivered: (destination, source, source incarnation, id).
  std::set<std::tuple<std::string, std::string, std::size_t, std::uint64_t>>
      delivered;
  /// Replies posted and not yet settled, by (replier, its incarnation,
  /// destination, id), oldest first.
  std::map<std::tuple<std::string, std::size_t, std::string, std::uint64_t>,
           std::deque<std::uint64_t>>
      replies_pending;
  std::optional<std::pair<chaos_invariant, std::string>> violation;

  void fail(chaos_invariant x, const std::string& what) {
    if (!violation)
      violation.emplace(x, "at " + secs(now() - t0) + " s: " + what);
  }

  static std::string describe(const tracked& r) {
    std::ostringstream out;
    out << (r.asked ? "request " : "concern request ") << r.token << " ("
        << r.from << "#" << r.incarnation << " -> " << r.to << ", id " << r.id
        << ")";
    return out.str();
  }

  tracked* find(const payload& body) {
    auto n = field<std::int64_t>(body, "n");
    if (!n)
      return nullptr;
    auto i = msgs.find(static_cast<std::uint64_t>(*n));
    return i == msgs.end() ? nullptr : &i->second;
  }

  void attach(const std::string& uuid, concern_actor self) {
    concerns[uuid] = std::move(self);
  }

  answer deliver(const std::string& local, const message& req) {
    auto r = find(req.payload);
    if (r == nullptr) {
      fail(chaos_invariant::delivered_once,
           local + " got a chaos request without a known token from " +
               req.source);
      return no_reply;
    }
    if (r->to != local || req.source != r->from) {
      fail(chaos_invariant::delivered_once,
           describe(*r) + " reached " + local + " from " + req.source);
      return no_reply;
    }
    if (r->asked && r->id == 0)
      r->id = req.id;
    if (req.id != r->id) {
      fail(chaos_invariant::delivered_once,
           describe(*r) + " arrived with id " + std::to_string(req.id));
      return no_reply;
    }
    if (!delivered.emplace(local, req.source, r->incarnation, req.id).second ||
        ++r->deliveries > 1) {
      fail(chaos_invariant::delivered_once,
           describe(*r) + " delivered to the concern of " + local + " twice");
      return no_reply;
    }
    if (r->dropped)
      fail(chaos_invariant::one_outcome,
           describe(*r) + " delivered after it was dropped");
    r->reply_posted = true;
    r->replier_incarnation = incarnation[local];
    replies_pending[{local, r->replier_incarnation, req.source, req.id}]
        .push_back(r->token);
    if (r->reject)
      return make_error(errc::rejected, "chaos");
    return payload_builder{}
        .add_integer("n", static_cast<std::int64_t>(r->token))
        .build();
  }

  /// A reply reached the chaos concern of `local` (one of its own requests,
  /// or one whose caller stopped waiting).
  void reply_arrived(const std::string& local, const message& rep) {
    auto r = find(rep.payload);
    if (r == nullptr && rejection_of(rep.payload)) {
      // A rejection carries no token: a request to be rejected that this
      // peer sent with that id, in this incarnation or an earlier one, and
      // whose caller stopped waiting. Ids start again at 1 after a restart:
      // when more than one fits, the rejection is not counted.
      std::vector<tracked*> fits;
      for (auto& [token, x] : msgs)
        if (x.asked && x.reject && x.from == local && x.to == rep.source &&
            x.id == rep.id)
          fits.push_back(&x);
      if (fits.size() > 1)
        return;
      if (fits.size() == 1)
        r = fits.front();
    }
    if (r == nullptr) {
      fail(chaos_invariant::one_answer,
           local + " got a chaos reply without a known token from " +
               rep.source);
      return;
    }
    count_reply(local, rep, *r);
  }

  void count_reply(const std::string& local, const message& rep, tracked& r) {
    if (r.from != local || rep.source != r.to || rep.id != r.id) {
      fail(chaos_invariant::one_answer,
           describe(r) + ": its reply reached " + local + " from " +
               rep.source + " with id " + std::to_string(rep.id));
      return;
    }
    if (++r.replies > 1)
      fail(chaos_invariant::one_answer, describe(r) + " replied to twice");
    if (r.dropped)
      fail(chaos_invariant::one_outcome,
           describe(r) + " replied to after it was dropped");
  }

  /// The outcome of a message the chaos concern of `local` sent.
  void outcome(const std::string& local, const message& msg, bool sent,
               const caf::error& err) {
    if (msg.is_request()) {
      auto r = find(msg.payload);
      if (r == nullptr || r->asked || r->from != local) {
        fail(chaos_invariant::one_outcome,
             local + " was told the outcome of a request it did not send");
        return;
      }
      if (++r->outcomes > 1) {
        fail(chaos_invariant::one_outcome,
             describe(*r) + " has a second outcome (" +
                 (sent ? std::string{"sent"} : "dropped: " + render(err)) +
                 ")");
        return;
      }
      if (!sent) {
        r->dropped = true;
        if (r->deliveries > 0 || r->replies > 0)
          fail(chaos_invariant::one_outcome, describe(*r) + " dropped (" +
                                                 render(err) +
                                                 ") after it was delivered");
      }
      return;
    }
    auto i = replies_pending.find({local, incarnation[local], msg.to, msg.id});
    if (i == replies_pending.end()) {
      fail(chaos_invariant::one_outcome,
           local + " was told the outcome of a reply to " + msg.to + " id " +
               std::to_string(msg.id) + " it did not send, or a second one");
      return;
    }
    auto token = i->second.front();
    i->second.pop_front();
    if (i->second.empty())
      replies_pending.erase(i);
    ++msgs[token].reply_outcomes;
  }

  /// The requester answered the caller of `token`.
  void answered(std::uint64_t token, message* rep, const caf::error& err) {
    auto& r = msgs.at(token);
    if (++r.answers > 1) {
      fail(chaos_invariant::one_answer, describe(r) + " answered twice");
      return;
    }
    if (rep == nullptr) {
      // A request to be rejected may as well time out or be dropped; one
      // not to be rejected never is.
      if (!r.reject && err == errc::rejected)
        fail(chaos_invariant::one_answer,
             describe(r) + " was rejected: " + render(err));
      return;
    }
    auto other = find(rep->payload);
    if (other != &r) {
      fail(chaos_invariant::one_answer,
           describe(r) + " was answered by the reply to " +
               (other ? describe(*other) : std::string{"an unknown request"}));
      return;
    }
    if (r.reject) {
      fail(chaos_invariant::one_answer,
           describe(r) + " was to be rejected, but was answered");
      return;
    }
    count_reply(r.from, *rep, r);
  }

  /// The requester the caller of `token` waits on went down.
  void requester_down(std::uint64_t token) {
    auto& r = msgs.at(token);
    if (r.answers == 0 && !r.abandoned)
      fail(chaos_invariant::one_answer,
           describe(r) + ": the requester went down without an answer");
  }

  /// `uuid` is being killed: what it had not settled is left out.
  void killed(const std::string& uuid) {
    auto inc = incarnation[uuid];
    for (auto& [token, r] : msgs) {
      if (r.from == uuid && r.incarnation == inc &&
          (r.asked ? r.answers == 0 : r.outcomes == 0))
        r.abandoned = true;
      if (r.to == uuid && r.reply_posted && r.reply_outcomes == 0 &&
          r.replier_incarnation == inc)
        r.reply_abandoned = true;
    }
    for (auto i = replies_pending.begin(); i != replies_pending.end();)
      if (std::get<0>(i->first) == uuid && std::get<1>(i->first) == inc)
        i = replies_pending.erase(i);
      else
        ++i;
    concerns.erase(uuid);
  }

  void restarted(const std::string& uuid) {
    ++incarnation[uuid];
  }
};

/// The chaos concern: answers each request with its token (or rejects it,
/// when asked to) and reports what it sees to the recorder.
class chaos_concern final : public concern_base {
public:
  chaos_concern(caf::actor_config& cfg, concern_context ctx, recorder* rec)
      : concern_base(cfg, std::move(ctx)), rec_(rec) {
  }

  const char* name() const override {
    return "p2p0mq.chaos";
  }

protected:
  void on_start() override {
    rec_->attach(local_uuid(), caf::actor_cast<concern_actor>(this));
  }

  answer on_request(const message& req) override {
    return rec_->deliver(local_uuid(), req);
  }

  void on_reply(const message& rep) override {
    rec_->reply_arrived(local_uuid(), rep);
  }

  void on_sent(const message& msg) override {
    rec_->outcome(local_uuid(), msg, true, caf::none);
  }

  bool on_send_failed(const message&, const caf::error&) override {
    return true;
  }

  void on_dropped(const message& msg, const caf::error& err) override {
    rec_->outcome(local_uuid(), msg, false, err);
  }

private:
  recorder* rec_;
};

/// A caller of the requester: asks once, reports the answer and exits.
caf::behavior chaos_asker(caf::event_based_actor* self, recorder* rec,
                          std::uint64_t token, requester_actor requester,
                          std::string to, payload body, caf::timespan timeout) {
  self->monitor(requester);
  self->set_down_handler([self, rec, token](caf::down_msg&) {
    rec->requester_down(token);
    self->quit();
  });
  self->request(requester, caf::infinite, request_atom::value, std::move(to),
                std::string{chaos_command}, std::move(body), timeout,
                priority::fast)
      .then(
          [self, rec, token](message& rep) {
            rec->answered(token, &rep, caf::none);
            self->quit();
          },
          [self, rec, token](caf::error& err) {
            rec->answered(token, nullptr, err);
            self->quit();
          });
  return {
      [] {
        // Only the answer.
      },
  };
}

// -- the run ------------------------------------------------------------------

/// The directory of the peer stores: given, or a temporary one removed at
/// the end.
class store_dir {
public:
  explicit store_dir(const std::string& given) {
    if (!given.empty()) {
      std::filesystem::create_directories(given);
      path_ = given;
      return;
    }
    auto pattern =
        (std::filesystem::temp_directory_path() / "p2p0mq-chaos-XXXXXX")
            .string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error{"mkdtemp failed for " + pattern};
    path_ = pattern;
    owned_ = true;
  }

  ~store_dir() {
    if (!owned_)
      return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  store_dir(const store_dir&) = delete;
  store_dir& operator=(const store_dir&) = delete;

  std::string file(const std::string& uuid) const {
    return path_ + "/" + uuid + ".db";
  }

private:
  std::string path_;
  bool owned_ = false;
};

/// The key of one end-to-end message in the trace: source, destination,
/// kind, id and payload.
using hop_key =
    std::tuple<std::string, std::string, std::string, std::string, std::string>;

class chaos_run {
public:
  explicit chaos_run(const chaos_options& o)
      : opts_(o),
        random_(o.seed ^ 0x9e3779b97f4a7c15ull),
        dir_(o.store_dir),
        net_(net_options(o)) {
    rec_.now = [this] { return net_.now(); };
    rec_.t0 = net_.now();
    t1_ = rec_.t0;
    report_.seed = o.seed;
    report_.reconnect_limit = reconnect_limit(o.settings);
  }

  chaos_report run() {
    setup();
    if (!report_.ok)
      return finish();
    t1_ = net_.now();
    for (step_ = 1; step_ <= opts_.steps; ++step_) {
      take_step();
      if (!check())
        return finish();
    }
    step_ = opts_.steps + 1;
    end();
    return finish();
  }

private:
  static sim_options net_options(const chaos_options& o) {
    sim_options result;
    result.seed = o.seed;
    result.defaults = o.settings;
    result.link.latency = milliseconds{1};
    result.trace = true;
    result.echo = false;
    return result;
  }

  // -- randomness -------------------------------------------------------------

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>{0, n - 1}(random_);
  }

  double chance() {
    return std::uniform_real_distribution<double>{0, 1}(random_);
  }

  duration between(duration lo, duration hi) {
    auto ms = std::uniform_int_distribution<std::int64_t>{
        std::chrono::duration_cast<milliseconds>(lo).count(),
        std::chrono::duration_cast<milliseconds>(hi).count()}(random_);
    return milliseconds{ms};
  }

  template <class T>
  const T& any_of(const std::vector<T>& xs) {
    return xs[pick(xs.size())];
  }

  // -- peers ------------------------------------------------------------------

  std::vector<std::string> live() {
    std::vector<std::string> result;
    for (auto& uuid : all_)
      if (net_[uuid].alive)
        result.push_back(uuid);
    return result;
  }

  std::vector<std::string> dead() {
    std::vector<std::string> result;
    for (auto& uuid : all_)
      if (!net_[uuid].alive)
        result.push_back(uuid);
    return result;
  }

  std::function<void(config&)> tune() {
    return [this](config& c) { c.database = dir_.file(c.uuid); };
  }

  void add_concern(const std::string& uuid) {
    net_.add_concern(uuid, chaos_command, concern_class<chaos_concern>(&rec_));
  }

  static std::pair<std::string, std::string> key(const std::string& a,
                                                 const std::string& b) {
    return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
  }

  void add_link(const std::string& a, const std::string& b) {
    links_.insert(key(a, b));
    sim_link x;
    x.latency = between(milliseconds{1}, milliseconds{20});
    net_.set_link(a, b, x);
  }

  void note(const std::string& what) {
    auto line = "step " + std::to_string(step_) + " at " +
                secs(net_.now() - rec_.t0) + " s: " + what;
    if (opts_.steps_out != nullptr)
      *opts_.steps_out << line << '\n';
    report_.steps.push_back(std::move(line));
  }

  void setup() {
    auto g = add_random_network(net_, opts_.peers, opts_.degree, opts_.seed,
                                milliseconds{1}, tune());
    for (std::size_t i = 0; i < opts_.peers; ++i)
      all_.push_back(sim_uuid(i));
    for (auto& uuid : all_)
      add_concern(uuid);
    for (auto [a, b] : g.links)
      add_link(sim_uuid(a), sim_uuid(b));
    note("laid out " + std::to_string(opts_.peers) + " peers, " +
         std::to_string(links_.size()) + " links");
    auto up = net_.run_until([this] { return broken_links().empty(); },
                             seconds{30}, seconds{1});
    if (!up) {
      violate(chaos_invariant::reconnect,
              "the network did not connect: " + broken_links().front());
      return;
    }
    // Every store syncs what its peer learned.
    net_.advance(opts_.settings.store_sync_interval + seconds{1});
    scan_transfers();
  }

  // -- faults -----------------------------------------------------------------

  void end_loss_bursts() {
    for (auto& [a, b] : lossy_) {
      auto x = net_.link(a, b);
      x.loss = 0;
      net_.set_link(a, b, x, true);
    }
    lossy_.clear();
  }

  void kill() {
    auto xs = live();
    if (xs.size() <= 2)
      return note("nothing (too few live peers to kill one)");
    auto uuid = any_of(xs);
    // A joiner killed within a store sync of being told an address may
    // come back without it (see `forgettable_`).
    for (auto& [link, told] : told_)
      if (told.first == uuid &&
          net_.now() - told.second <= opts_.settings.store_sync_interval)
        forgettable_.insert(link);
    rec_.killed(uuid);
    net_.kill(uuid);
    ++report_.kills;
    note("kill " + uuid);
  }

  void restart() {
    auto xs = dead();
    if (xs.empty())
      return note("nothing (no peer to restart)");
    auto uuid = any_of(xs);
    rec_.restarted(uuid);
    net_.restart(uuid);
    add_concern(uuid);
    ++report_.restarts;
    note("restart " + uuid);
  }

  void partition() {
    auto groups = 2 + pick(2);
    std::vector<std::vector<std::string>> xs(groups);
    for (auto& uuid : all_)
      xs[pick(groups)].push_back(uuid);
    std::string text;
    for (auto& g : xs) {
      text += " {";
      for (auto& uuid : g)
        text += (&uuid == &g.front() ? "" : " ") + uuid;
      text += "}";
    }
    net_.partition(xs);
    ++report_.partitions;
    note("partition" + text);
  }

  void heal() {
    net_.heal();
    ++report_.heals;
    note("heal");
  }

  void cut() {
    std::vector<std::pair<std::string, std::string>> xs(links_.begin(),
                                                        links_.end());
    auto [a, b] = any_of(xs);
    if (pick(2) == 1)
      std::swap(a, b);
    net_.cut(a, b, true);
    ++report_.cuts;
    note("cut " + a + " -> " + b);
  }

  void loss_burst() {
    std::vector<std::pair<std::string, std::string>> xs(links_.begin(),
                                                        links_.end());
    auto n = 1 + pick(xs.size());
    auto loss = 0.2 + 0.6 * chance();
    std::string text;
    for (std::size_t i = 0; i < n; ++i) {
      auto j = pick(xs.size());
      auto [a, b] = xs[j];
      xs.erase(xs.begin() + static_cast<std::ptrdiff_t>(j));
      for (auto [x, y] : {std::make_pair(a, b), std::make_pair(b, a)}) {
        auto l = net_.link(x, y);
        l.loss = loss;
        net_.set_link(x, y, l, true);
      }
      lossy_.emplace_back(a, b);
      lossy_.emplace_back(b, a);
      text += " " + a + "-" + b;
    }
    ++report_.loss_bursts;
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f", loss);
    note(std::string{"loss "} + buf + " on" + text);
  }

  void join() {
    auto xs = live();
    auto uuid = sim_uuid(all_.size());
    net_.add(uuid, tune());
    all_.push_back(uuid);
    add_concern(uuid);
    auto n = std::min<std::size_t>(xs.size(), 1 + pick(2));
    std::string text;
    for (std::size_t i = 0; i < n; ++i) {
      auto j = pick(xs.size());
      auto other = xs[j];
      xs.erase(xs.begin() + static_cast<std::ptrdiff_t>(j));
      net_.tell(uuid, other);
      add_link(uuid, other);
      told_[key(uuid, other)] = {uuid, net_.now()};
      text += " " + other;
    }
    ++report_.joins;
    note("join " + uuid + ", told" + text);
  }

  void fault() {
    enum kind {
      k_kill,
      k_restart,
      k_partition,
      k_heal,
      k_cut,
      k_loss,
      k_join,
      k_none
    };
    std::vector<std::pair<kind, int>> weights{
        {k_kill, 3},
        {k_restart, dead().empty() ? 0 : 3},
        {k_partition, 1},
        {k_heal, 2},
        {k_cut, 2},
        {k_loss, 2},
        {k_join, report_.joins < opts_.late_peers ? 1 : 0},
        {k_none, 1}};
    int total = 0;
    for (auto& w : weights)
      total += w.second;
    auto x = static_cast<int>(pick(static_cast<std::size_t>(total)));
    auto chosen = k_none;
    for (auto& [k, w] : weights) {
      if (x < w) {
        chosen = k;
        break;
      }
      x -= w;
    }
    switch (chosen) {
    case k_kill:
      return kill();
    case k_restart:
      return restart();
    case k_partition:
      return partition();
    case k_heal:
      return heal();
    case k_cut:
      return cut();
    case k_loss:
      return loss_burst();
    case k_join:
      return join();
    case k_none:
      return note("nothing");
    }
  }

  // -- requests ---------------------------------------------------------------

  void request() {
    auto xs = live();
    std::vector<std::string> senders;
    for (auto& uuid : xs)
      if (rec_.concerns.count(uuid) > 0)
        senders.push_back(uuid);
    if (senders.empty() || all_.size() < 2)
      return;
    auto from = any_of(senders);
    auto to = from;
    while (to == from)
      to = any_of(all_);
    auto token = next_token_++;
    auto& r = rec_.msgs[token];
    r.token = token;
    r.from = from;
    r.to = to;
    r.incarnation = rec_.incarnation[from];
    r.asked = pick(2) == 0;
    r.reject = r.asked && pick(8) == 0;
    auto body = payload_builder{}
                    .add_integer("n", static_cast<std::int64_t>(token))
                    .build();
    auto& p = net_[from];
    if (r.asked) {
      ++report_.asks;
      auto timeout = between(seconds{1}, seconds{6});
      net_.sys().spawn(chaos_asker, &rec_, token, p.actors.requester(), to,
                       std::move(body), caf::timespan{timeout});
    } else {
      ++report_.requests;
      auto msg = p.actors.context().make_request(to, chaos_command,
                                                 std::move(body), net_.now());
      r.id = msg.id;
      auto prio = static_cast<priority>(pick(3));
      owner_actor owner = rec_.concerns.at(from);
      caf::anon_send(p.actors.sender(), outgoing_atom::value, std::move(msg),
                     prio, owner);
    }
    net_.run();
  }

  void take_step() {
    end_loss_bursts();
    fault();
    auto length = between(opts_.min_step, opts_.max_step);
    auto n = pick(2 * opts_.requests_per_step + 1);
    std::vector<duration> at;
    for (std::size_t i = 0; i < n; ++i)
      at.push_back(between(duration{}, length));
    std::sort(at.begin(), at.end());
    duration passed{};
    for (auto x : at) {
      net_.advance(x - passed);
      passed = x;
      request();
    }
    net_.advance(length - passed);
  }

  // -- invariants -------------------------------------------------------------

  void violate(chaos_invariant x, const std::string& what) {
    if (!report_.ok)
      return;
    report_.ok = false;
    report_.invariant = x;
    report_.step = step_;
    report_.at = net_.now() - rec_.t0;
    report_.detail = what;
  }

  /// Counts the transfers of the chaos messages put on the wire since the
  /// last call, and forgets them (writing them to the trace output first).
  void scan_transfers() {
    auto limit = all_.size();
    report_.hop_limit = limit;
    for (auto& t : net_.transfers()) {
      if (t.command() != chaos_command || t.fate == sim_fate::refused)
        continue;
      auto& xs = t.xs;
      hop_key key{xs[1].empty() ? t.from : xs[1], xs[2].empty() ? xs[0] : xs[2],
                  xs[3], xs[5], xs[6]};
      auto& path = hops_[key];
      path.push_back(t.from + ">" + t.to() + "@" + secs(t.at - rec_.t0) +
                     (t.fate == sim_fate::lost ? "(lost)" : ""));
      std::string text;
      if (path.size() > report_.max_hops || path.size() > limit)
        for (auto& hop : path)
          text += " " + hop;
      if (path.size() > report_.max_hops) {
        report_.max_hops = path.size();
        report_.longest_path = text.substr(1);
      }
      if (path.size() > limit) {
        violate(chaos_invariant::hop_limit,
                std::string{t.is_request() ? "a request" : "a reply"} +
                    " from " + std::get<0>(key) + " to " + std::get<1>(key) +
                    " went over the wire " + std::to_string(path.size()) +
                    " times (limit " + std::to_string(limit) + "):" + text);
      }
    }
    if (opts_.trace_out != nullptr)
      net_.write_trace(*opts_.trace_out);
    net_.clear_transfers();
  }

  void check_bounds() {
    auto& cfg = opts_.settings;
    for (auto& uuid : live()) {
      auto table = net_.table(uuid);
      report_.max_table = std::max(report_.max_table, table.size());
      if (cfg.max_peers != 0 && table.size() > cfg.max_peers)
        return violate(chaos_invariant::bounds,
                       uuid + " holds " + std::to_string(table.size()) +
                           " peers, more than max_peers " +
                           std::to_string(cfg.max_peers));
      for (auto& p : table) {
        if (p.uuid == uuid || p.via == uuid ||
            (!p.via.empty() && p.via == p.uuid))
          return violate(chaos_invariant::bounds,
                         uuid + " holds " + p.uuid + " via '" + p.via + "'");
        if (p.state == peer_state::routed && p.via.empty())
          return violate(chaos_invariant::bounds,
                         uuid + " holds " + p.uuid + " ROUTED via no one");
      }
      auto s = net_.sender_counters(uuid);
      auto held = s.queued + s.held;
      report_.max_held = std::max<std::size_t>(report_.max_held, held);
      if (cfg.send_queue_limit != 0 && held > cfg.send_queue_limit)
        return violate(chaos_invariant::bounds,
                       "the sender of " + uuid + " holds " +
                           std::to_string(held) + " messages, more than " +
                           std::to_string(cfg.send_queue_limit));
    }
  }

  /// Runs the checks of every step; false once an invariant is broken.
  bool check() {
    scan_transfers();
    if (rec_.violation)
      violate(rec_.violation->first, rec_.violation->second);
    if (report_.ok)
      check_bounds();
    return report_.ok;
  }

  /// The layout's link ends between live peers that are not CONNECTED, as
  /// "a -> b (STATE)".
  std::vector<std::string> broken_links() {
    std::vector<std::string> result;
    for (auto& [a, b] : links_) {
      if (!net_[a].alive || !net_[b].alive || forgotten_.count({a, b}) > 0)
        continue;
      for (auto [x, y] : {std::make_pair(a, b), std::make_pair(b, a)}) {
        auto p = net_.record(x, y);
        if (p && p->state == peer_state::connected)
          continue;
        std::string state = p ? std::string{to_string(p->state)} : "unknown";
        if (p && !p->via.empty())
          state += " via " + p->via;
        result.push_back(x + " -> " + y + " (" + state + ")");
      }
    }
    return result;
  }

  /// Whether every message of the run has its outcome or answer.
  std::optional<std::pair<chaos_invariant, std::string>> unsettled() const {
    for (auto& [token, r] : rec_.msgs) {
      if (!r.abandoned && !r.asked && r.outcomes != 1)
        return std::make_pair(chaos_invariant::one_outcome,
                              recorder::describe(r) + " has no outcome");
      if (!r.abandoned && r.asked && r.answers != 1)
        return std::make_pair(chaos_invariant::one_answer,
                              recorder::describe(r) + " has no answer");
      if (r.reply_posted && !r.reply_abandoned && r.reply_outcomes != 1)
        return std::make_pair(chaos_invariant::one_outcome,
                              "the reply to " + recorder::describe(r) +
                                  " has no outcome");
    }
    return std::nullopt;
  }

  /// Whether `x` holds an address of `y`.
  bool knows(const std::string& x, const std::string& y) {
    auto p = net_.record(x, y);
    return p && !p->host.empty() && p->port != 0;
  }

  /// The links no rule can bring back: a late joiner's link whose joiner
  /// was killed within a store sync of being told the other's address
  /// (`forgettable_`), and of which, at the last heal, neither live end
  /// holds an address of the other. Nobody greets a peer whose address it
  /// does not have, and discovery is off: such a pair never meets again. A
  /// link whose ends both forgot each other in any other way is not left
  /// out (the stores hold every address an interval after it is learned),
  /// so a record lost by the peer table or the store still breaks the
  /// invariant.
  void find_forgotten() {
    for (auto& link : forgettable_) {
      auto& [a, b] = link;
      if (!net_[a].alive || !net_[b].alive || knows(a, b) || knows(b, a))
        continue;
      forgotten_.insert(link);
      report_.forgotten_links.push_back(a + " - " + b);
    }
  }

  void end() {
    end_loss_bursts();
    net_.heal();
    ++report_.heals;
    note("the last heal");
    find_forgotten();
    auto healed = net_.now();
    auto limit = report_.reconnect_limit;
    auto up = net_.run_until([this] { return broken_links().empty(); }, limit,
                             milliseconds{500});
    report_.reconnected_after = net_.now() - healed;
    if (!check())
      return;
    if (!up) {
      std::string text;
      for (auto& x : broken_links())
        text += "; " + x;
      return violate(chaos_invariant::reconnect,
                     "not every link between live peers was CONNECTED " +
                         secs(limit) + " s after the last heal" + text);
    }
    // A request across every link between live peers is answered.
    std::vector<std::uint64_t> across;
    for (auto& [a, b] : links_) {
      if (!net_[a].alive || !net_[b].alive || forgotten_.count({a, b}) > 0)
        continue;
      for (auto [x, y] : {std::make_pair(a, b), std::make_pair(b, a)}) {
        auto token = next_token_++;
        auto& r = rec_.msgs[token];
        r.token = token;
        r.from = x;
        r.to = y;
        r.incarnation = rec_.incarnation[x];
        r.asked = true;
        ++report_.asks;
        across.push_back(token);
        net_.sys().spawn(chaos_asker, &rec_, token, net_[x].actors.requester(),
                         y,
                         payload_builder{}
                             .add_integer("n", static_cast<std::int64_t>(token))
                             .build(),
                         caf::timespan{seconds{5}});
      }
    }
    net_.advance(seconds{6});
    if (!check())
      return;
    for (auto token : across) {
      auto& r = rec_.msgs.at(token);
      if (r.replies != 1)
        return violate(chaos_invariant::reconnect,
                       recorder::describe(r) +
                           " across a CONNECTED link was not answered");
    }
    // Every message settles: each waits at most a time-to-live per hop.
    auto settle = opts_.settings.message_ttl * static_cast<int>(all_.size()) +
                  seconds{10};
    net_.run_until([this] { return !unsettled(); }, settle, seconds{1});
    if (!check())
      return;
    if (auto x = unsettled())
      violate(x->first, x->second + " " + secs(settle) +
                            " s after the last heal and the requests after it");
  }

  chaos_report finish() {
    report_.length = net_.now() - t1_;
    if (report_.ok) {
      scan_transfers();
      if (rec_.violation)
        violate(rec_.violation->first, rec_.violation->second);
    }
    for (auto& [token, r] : rec_.msgs) {
      if (r.abandoned) {
        ++report_.abandoned;
        continue;
      }
      if (r.asked) {
        if (r.answers == 1 && r.replies == 1)
          ++report_.asks_replied;
        else if (r.answers == 1)
          ++report_.asks_failed;
      } else {
        if (r.outcomes == 1 && !r.dropped)
          ++report_.requests_sent;
        if (r.dropped)
          ++report_.requests_dropped;
        if (r.replies > 0)
          ++report_.requests_replied;
      }
    }
    report_.digest = net_.digest();
    report_.transfers = net_.transfer_count();
    return std::move(report_);
  }

  const chaos_options& opts_;
  std::mt19937_64 random_;
  // Declared before the network: the concerns and callers report to it
  // until the network is gone, and the stores are removed after.
  store_dir dir_;
  recorder rec_;
  sim_network net_;
  std::vector<std::string> all_;
  std::set<std::pair<std::string, std::string>> links_;
  /// The links of late joiners: the joiner and when it was told.
  std::map<std::pair<std::string, std::string>,
           std::pair<std::string, time_point>>
      told_;
  /// Late links whose joiner was killed within a store sync of being told:
  /// it may have come back without the other's address.
  std::set<std::pair<std::string, std::string>> forgettable_;
  /// Those of them neither end knew at the last heal (`find_forgotten`).
  std::set<std::pair<std::string, std::string>> forgotten_;
  std::vector<std::pair<std::string, std::string>> lossy_;
  std::map<hop_key, std::vector<std::string>> hops_;
  std::uint64_t next_token_ = 1;
  std::size_t step_ = 0;
  /// When the first step began.
  time_point t1_;
  chaos_report report_;
};

} // namespace

const char* to_string(chaos_invariant x) noexcept {
  switch (x) {
  case chaos_invariant::one_outcome:
    return "one outcome";
  case chaos_invariant::one_answer:
    return "one answer";
  case chaos_invariant::delivered_once:
    return "delivered once";
  case chaos_invariant::hop_limit:
    return "hop limit";
  case chaos_invariant::bounds:
    return "bounds";
  case chaos_invariant::reconnect:
    return "reconnect";
  case chaos_invariant::same_trace:
    return "same trace";
  }
  return "?";
}

config chaos_settings() {
  config x;
  x.heart_beat_interval = seconds{1};
  x.heart_beat_slow_down = milliseconds{500};
  x.heart_beat_max_slow_down = seconds{2};
  x.unresponsive_threshold = seconds{5};
  x.no_connection_threshold = seconds{20};
  x.reconnect_wait = seconds{10};
  x.ask_around_interval = seconds{5};
  x.message_ttl = seconds{8};
  x.store_sync_interval = seconds{1};
  x.send_queue_limit = 512;
  x.max_peers = 64;
  return x;
}

duration reconnect_limit(const config& settings) {
  return settings.unresponsive_threshold + settings.reconnect_wait +
         settings.heart_beat_max_slow_down + seconds{10};
}

chaos_report run_chaos(const chaos_options& options) {
  chaos_run run{options};
  return run.run();
}

chaos_report check_chaos_seed(const chaos_options& options) {
  auto first = run_chaos(options);
  if (!first.ok)
    return first;
  auto quiet = options;
  quiet.steps_out = nullptr;
  quiet.trace_out = nullptr;
  auto second = run_chaos(quiet);
  if (!second.ok) {
    second.detail = "the second run of the seed: " + second.detail;
    return second;
  }
  if (second.digest != first.digest) {
    first.ok = false;
    first.invariant = chaos_invariant::same_trace;
    first.step = options.steps + 1;
    char buf[80];
    std::snprintf(buf, sizeof(buf), "digests %016" PRIx64 " and %016" PRIx64,
                  first.digest, second.digest);
    first.detail = buf;
  }
  return first;
}

void write_report(std::ostream& out, const chaos_report& x) {
  char digest[20];
  std::snprintf(digest, sizeof(digest), "%016" PRIx64, x.digest);
  out << "seed " << x.seed << ": " << (x.ok ? "ok" : "FAILED") << ", digest "
      << digest << ", " << x.transfers << " transfers, " << secs(x.length)
      << " s\n"
      << "  faults: " << x.kills << " kills, " << x.restarts << " restarts, "
      << x.partitions << " partitions, " << x.heals << " heals, " << x.cuts
      << " one-way cuts, " << x.loss_bursts << " loss bursts, " << x.joins
      << " joins\n"
      << "  concern requests: " << x.requests << " (" << x.requests_sent
      << " sent, " << x.requests_dropped << " dropped, " << x.requests_replied
      << " replied to); requests through the requester: " << x.asks << " ("
      << x.asks_replied << " replied, " << x.asks_failed
      << " errors); left out with a killed peer: " << x.abandoned << "\n"
      << "  most transfers of one message " << x.max_hops << " (limit "
      << x.hop_limit << "); reconnected " << secs(x.reconnected_after)
      << " s after the last heal (limit " << secs(x.reconnect_limit)
      << " s); largest table " << x.max_table << ", most held by a sender "
      << x.max_held << "\n";
  if (!x.forgotten_links.empty()) {
    out << "  left out of the reconnect check, never met again (a joiner "
           "killed before its store kept the address it was told):";
    for (auto& link : x.forgotten_links)
      out << " " << link;
    out << "\n";
  }
  if (x.max_hops > 2)
    out << "  the path of the message with the most transfers: "
        << x.longest_path << "\n";
  if (x.ok)
    return;
  out << "  invariant '" << to_string(x.invariant) << "' broken at step "
      << x.step << " (" << secs(x.at) << " s): " << x.detail << "\n";
  for (auto& line : x.steps)
    out << "    " << line << "\n";
}

} // namespace p2p0mq::testing
