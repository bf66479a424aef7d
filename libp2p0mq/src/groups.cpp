#include "p2p0mq/groups.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "p2p0mq/errc.hpp"

namespace p2p0mq {

namespace {

// Field names of the `g` payloads (docs/PROTOCOL.md, "Groups").
constexpr const char* op_field = "op";
constexpr const char* op_membership = "m";
constexpr const char* op_publication = "p";

/// Packs `xs` as big-endian integers of `Width` bytes each.
template <std::size_t Width, class T>
std::string pack(const std::vector<T>& xs) {
  std::string result;
  result.reserve(xs.size() * Width);
  for (auto x : xs)
    for (std::size_t i = Width; i > 0; --i)
      result.push_back(static_cast<char>(
          (static_cast<std::uint64_t>(x) >> (8 * (i - 1))) & 0xff));
  return result;
}

/// Unpacks what `pack<Width>` packed; fails for a size not a multiple of
/// `Width`.
template <std::size_t Width, class T>
caf::expected<std::vector<T>> unpack(const std::string& bytes,
                                     const char* name) {
  if (bytes.size() % Width != 0)
    return make_error(errc::malformed_payload,
                      std::string{"field \""} + name + "\" holds " +
                          std::to_string(bytes.size()) +
                          " bytes, not a multiple of " + std::to_string(Width));
  std::vector<T> result;
  result.reserve(bytes.size() / Width);
  for (std::size_t i = 0; i < bytes.size(); i += Width) {
    std::uint64_t x = 0;
    for (std::size_t j = 0; j < Width; ++j)
      x = (x << 8) | static_cast<unsigned char>(bytes[i + j]);
    result.push_back(static_cast<T>(x));
  }
  return result;
}

caf::error malformed(std::string what) {
  return make_error(errc::malformed_payload, std::move(what));
}

/// Splits `names` at spaces, checking each name.
caf::expected<std::vector<std::string>> split_groups(const std::string& names) {
  std::vector<std::string> result;
  if (names.empty())
    return result;
  std::size_t start = 0;
  while (true) {
    auto end = names.find(' ', start);
    auto name =
        names.substr(start, end == std::string::npos ? end : end - start);
    if (auto err = check_group_name(name))
      return err;
    if (result.size() == max_groups_per_peer)
      return malformed("a membership record with more than " +
                       std::to_string(max_groups_per_peer) + " groups");
    result.push_back(std::move(name));
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

std::string join_groups(const std::vector<std::string>& xs) {
  std::string result;
  for (auto& x : xs) {
    if (!result.empty())
      result += ' ';
    result += x;
  }
  return result;
}

} // namespace

caf::error check_group_name(std::string_view name) {
  if (name.empty())
    return make_error(errc::invalid_request, "empty group name");
  if (name.size() > max_group_name_size)
    return make_error(errc::invalid_request,
                      "group name of " + std::to_string(name.size()) +
                          " bytes, more than " +
                          std::to_string(max_group_name_size));
  for (auto c : name) {
    auto x = static_cast<unsigned char>(c);
    if (x < 0x21 || x > 0x7e)
      return make_error(errc::invalid_request,
                        "group name with byte " + std::to_string(x) +
                            ": only printable ASCII without space");
  }
  return {};
}

payload encode_membership(const std::vector<membership_record>& records) {
  std::vector<std::string> origins;
  std::vector<std::uint64_t> versions;
  std::vector<std::uint32_t> hops;
  std::vector<std::string> groups;
  for (auto& x : records) {
    origins.push_back(x.origin);
    versions.push_back(x.version);
    hops.push_back(x.hops);
    groups.push_back(join_groups(x.groups));
  }
  return payload_builder{}
      .add_string(op_field, op_membership)
      .add_bytes_array("o", origins)
      .add_bytes("v", pack<8>(versions))
      .add_bytes("n", pack<4>(hops))
      .add_string_array("gs", groups)
      .build();
}

payload encode_publication(const group_publication& x) {
  return payload_builder{}
      .add_string(op_field, op_publication)
      .add_string("g", x.group)
      .add_bytes("o", x.publisher)
      .add_integer("i", static_cast<std::int64_t>(x.incarnation))
      .add_integer("s", static_cast<std::int64_t>(x.seq))
      .add_integer("h", x.hops_left)
      .add_bytes_array("t", x.targets)
      .add_bytes("p", pack<8>(x.previous))
      .add_bytes("d", x.body)
      .build();
}

caf::expected<group_op> group_op_of(const payload& body) {
  auto op = body.get_string(op_field);
  if (!op)
    return malformed("a group message without a valid \"op\"");
  if (*op == op_membership)
    return group_op::membership;
  if (*op == op_publication)
    return group_op::publication;
  return malformed("a group message with the unknown op \"" +
                   op->substr(0, 16) + "\"");
}

caf::expected<std::vector<membership_record>>
decode_membership(const payload& body) {
  auto origins = body.get_bytes_array("o");
  if (!origins)
    return std::move(origins.error());
  if (origins->size() > max_records_per_message)
    return malformed("a membership message with " +
                     std::to_string(origins->size()) + " records, more than " +
                     std::to_string(max_records_per_message));
  auto vbytes = body.get_bytes("v");
  if (!vbytes)
    return std::move(vbytes.error());
  auto versions = unpack<8, std::uint64_t>(*vbytes, "v");
  if (!versions)
    return std::move(versions.error());
  auto nbytes = body.get_bytes("n");
  if (!nbytes)
    return std::move(nbytes.error());
  auto hops = unpack<4, std::uint32_t>(*nbytes, "n");
  if (!hops)
    return std::move(hops.error());
  auto groups = body.get_bytes_array("gs");
  if (!groups)
    return std::move(groups.error());
  auto n = origins->size();
  if (versions->size() != n || hops->size() != n || groups->size() != n)
    return malformed("a membership message whose lists differ in length");
  std::vector<membership_record> result;
  result.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if ((*origins)[i].empty())
      return malformed("a membership record without origin");
    auto names = split_groups((*groups)[i]);
    if (!names)
      return std::move(names.error());
    result.push_back(membership_record{std::move((*origins)[i]), (*versions)[i],
                                       (*hops)[i], std::move(*names)});
  }
  return result;
}

caf::expected<group_publication> decode_publication(const payload& body) {
  group_publication result;
  auto group = body.get_string("g");
  if (!group)
    return std::move(group.error());
  if (auto err = check_group_name(*group))
    return err;
  result.group = std::move(*group);
  auto publisher = body.get_bytes("o");
  if (!publisher)
    return std::move(publisher.error());
  if (publisher->empty())
    return malformed("a publication without publisher");
  result.publisher = std::move(*publisher);
  auto i = body.get_integer("i");
  auto s = body.get_integer("s");
  auto h = body.get_integer("h");
  if (!i)
    return std::move(i.error());
  if (!s)
    return std::move(s.error());
  if (!h)
    return std::move(h.error());
  if (*i < 0 || *s < 1)
    return malformed("a publication numbered " + std::to_string(*s) +
                     " of incarnation " + std::to_string(*i));
  if (*h < 0 || *h > static_cast<std::int64_t>(max_group_hops))
    return malformed("a publication with " + std::to_string(*h) + " hops left");
  result.incarnation = static_cast<std::uint64_t>(*i);
  result.seq = static_cast<std::uint64_t>(*s);
  result.hops_left = static_cast<std::uint32_t>(*h);
  auto targets = body.get_bytes_array("t");
  if (!targets)
    return std::move(targets.error());
  if (targets->size() > max_group_members)
    return malformed("a publication for " + std::to_string(targets->size()) +
                     " members, more than " +
                     std::to_string(max_group_members));
  auto pbytes = body.get_bytes("p");
  if (!pbytes)
    return std::move(pbytes.error());
  auto previous = unpack<8, std::uint64_t>(*pbytes, "p");
  if (!previous)
    return std::move(previous.error());
  if (previous->size() != targets->size())
    return malformed("a publication with " + std::to_string(targets->size()) +
                     " targets and " + std::to_string(previous->size()) +
                     " previous numbers");
  for (std::size_t k = 0; k < targets->size(); ++k)
    if ((*targets)[k].empty() || (*previous)[k] >= result.seq)
      return malformed("a publication with an empty target or a previous "
                       "number not below its own");
  result.targets = std::move(*targets);
  result.previous = std::move(*previous);
  auto data = body.get_bytes("d");
  if (!data)
    return std::move(data.error());
  if (data->size() > max_group_payload_size)
    return malformed("a publication of " + std::to_string(data->size()) +
                     " bytes, more than " +
                     std::to_string(max_group_payload_size));
  if (auto parsed = payload::parse(*data); !parsed)
    return std::move(parsed.error());
  result.body = std::move(*data);
  return result;
}

payload encode_acknowledgement(const std::vector<std::uint64_t>& ids) {
  return payload_builder{}.add_bytes("a", pack<8>(ids)).build();
}

caf::expected<std::vector<std::uint64_t>>
decode_acknowledgement(const payload& body, std::uint64_t reply_id) {
  if (!body.contains("a"))
    return std::vector<std::uint64_t>{reply_id};
  auto bytes = body.get_bytes("a");
  if (!bytes)
    return std::move(bytes.error());
  if (bytes->size() > 8 * max_acknowledged_ids)
    return malformed("an acknowledgement of more than " +
                     std::to_string(max_acknowledged_ids) + " ids");
  return unpack<8, std::uint64_t>(*bytes, "a");
}

} // namespace p2p0mq
