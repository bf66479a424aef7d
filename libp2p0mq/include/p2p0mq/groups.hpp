#pragma once

// The group protocol's rules that need no actor: what a group name may be,
// the bounds a peer keeps to, and the payloads of the `g` command (see
// docs/PROTOCOL.md, "Groups"). Decoding treats its input as hostile: every
// field is checked, every list bounded, and a failure is an error value.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "p2p0mq/payload.hpp"

namespace p2p0mq {

/// The command id of the group protocol.
inline constexpr const char* group_command = "g";

/// The longest group name, in bytes.
inline constexpr std::size_t max_group_name_size = 64;

/// The largest payload a publication may carry (its encoded msgpack map).
inline constexpr std::size_t max_group_payload_size = 64 * 1024;

/// The most groups one peer may be in (its own, and any peer's record).
inline constexpr std::size_t max_groups_per_peer = 64;

/// The most members a peer keeps for one group.
inline constexpr std::size_t max_group_members = 4096;

/// The most membership records (peers) a peer keeps.
inline constexpr std::size_t max_group_records = 16384;

/// The most records one membership message may carry.
inline constexpr std::size_t max_records_per_message = 256;

/// The most message ids one acknowledgement may carry.
inline constexpr std::size_t max_acknowledged_ids = 1024;

/// The most hops a publication may travel before it is dropped.
inline constexpr std::uint32_t max_group_hops = 64;

/// Checks a group name: 1 to `max_group_name_size` bytes, each a printable
/// ASCII character other than space (0x21 to 0x7e). Returns an empty error
/// for a valid name, else `errc::invalid_request` saying what is wrong.
caf::error check_group_name(std::string_view name);

/// One peer's membership, as it travels from neighbour to neighbour.
struct membership_record {
  /// The peer whose membership it is.
  std::string origin;
  /// Grows with each change the origin makes (and with its refreshes): a
  /// record replaces one of the same origin with a smaller version.
  std::uint64_t version = 0;
  /// Hops it travelled before the peer that sends it (0 from the origin).
  std::uint32_t hops = 0;
  /// The groups the origin is in, sorted (empty: in none any more).
  std::vector<std::string> groups;

  friend bool operator==(const membership_record& x,
                         const membership_record& y) noexcept {
    return x.origin == y.origin && x.version == y.version && x.hops == y.hops &&
           x.groups == y.groups;
  }
};

/// One publication on its way to some members of its group.
struct group_publication {
  /// The group it was published to.
  std::string group;
  /// The peer that published it.
  std::string publisher;
  /// The publisher's incarnation: its numbering starts anew when this grows.
  std::uint64_t incarnation = 0;
  /// The publisher's number for it in this group, from 1.
  std::uint64_t seq = 0;
  /// Hops it may still travel.
  std::uint32_t hops_left = 0;
  /// The members it is still for.
  std::vector<std::string> targets;
  /// For each target, the number of the publication the publisher sent that
  /// target before this one in this group (0: none): what the target must
  /// have delivered first, for per-publisher order.
  std::vector<std::uint64_t> previous;
  /// The published payload: the bytes of a msgpack map.
  std::string body;

  friend bool operator==(const group_publication& x,
                         const group_publication& y) noexcept {
    return x.group == y.group && x.publisher == y.publisher &&
           x.incarnation == y.incarnation && x.seq == y.seq &&
           x.hops_left == y.hops_left && x.targets == y.targets &&
           x.previous == y.previous && x.body == y.body;
  }
};

/// What a `g` request carries.
enum class group_op : std::uint8_t {
  /// Membership records (`encode_membership`).
  membership,
  /// A publication (`encode_publication`).
  publication,
};

/// The payload of a `g` request carrying `records` (at most
/// `max_records_per_message`).
payload encode_membership(const std::vector<membership_record>& records);

/// The payload of a `g` request carrying `x`.
payload encode_publication(const group_publication& x);

/// What a `g` request carries; `errc::malformed_payload` for anything else.
caf::expected<group_op> group_op_of(const payload& body);

/// The records of a membership payload. Fails (`errc::malformed_payload` or
/// a field error) for missing or mistyped fields, lists of different
/// lengths, more than `max_records_per_message` records, an empty origin,
/// a record with more than `max_groups_per_peer` groups or an invalid group
/// name.
caf::expected<std::vector<membership_record>>
decode_membership(const payload& body);

/// The publication of a payload. Fails for missing or mistyped fields, an
/// invalid group name, an empty publisher, a zero number, more than
/// `max_group_members` targets, targets and previous numbers of different
/// counts, more than `max_group_hops` hops, or a body that is not a msgpack
/// map of at most `max_group_payload_size` bytes.
caf::expected<group_publication> decode_publication(const payload& body);

/// The payload of a `g` reply acknowledging the requests `ids` (of the
/// peer it goes to; at most `max_acknowledged_ids`).
payload encode_acknowledgement(const std::vector<std::uint64_t>& ids);

/// The ids a `g` reply with id `reply_id` acknowledges: those of its `a`
/// field, or `reply_id` alone for a reply without one. Fails for an `a`
/// that is not a bin of 8-byte numbers or holds more than
/// `max_acknowledged_ids`.
caf::expected<std::vector<std::uint64_t>>
decode_acknowledgement(const payload& body, std::uint64_t reply_id);

} // namespace p2p0mq
