#pragma once

// Typed access to the fields of a payload: one template for every type a
// concern reads, and one call for several fields at once. Never throws: a
// field that is missing or of another type is an error value.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/payload.hpp"

namespace p2p0mq {

namespace detail {

template <class T>
inline constexpr bool is_field_integer =
    std::is_integral_v<T> && !std::is_same_v<T, bool>;

template <class T>
inline constexpr bool is_field_type =
    std::is_same_v<T, std::string> ||
    std::is_same_v<T, std::vector<std::string>> || is_field_integer<T>;

/// Names an integer type in error messages, e.g. "16-bit unsigned integer".
template <class T>
std::string integer_name() {
  return std::to_string(std::numeric_limits<T>::digits +
                        (std::is_signed_v<T> ? 1 : 0)) +
         (std::is_signed_v<T> ? "-bit integer" : "-bit unsigned integer");
}

} // namespace detail

/// Reads the field `key` of `body` as a `T`, which is one of:
///
/// | `T` | msgpack value accepted |
/// |---|---|
/// | `std::string` | str (Python `str`); read bin, or either, with `payload::get_bytes` |
/// | `std::vector<std::string>` | array whose elements are bin or str |
/// | an integer type but `bool` | integer within the range of `T` |
///
/// Errors: `errc::missing_field` when `body` has no entry `key`;
/// `errc::wrong_field_type` when the entry has another type or an integer
/// beyond the range of `T`. The error's context names the field, what it
/// holds and what was expected, e.g. `field "port" is 70000, beyond the
/// range of a 16-bit unsigned integer`.
///
/// ~~~
/// auto text = field<std::string>(request.payload, "text");
/// if (!text)
///   return text.error(); // e.g. reject the request with it
/// ~~~
template <class T>
caf::expected<T> field(const payload& body, std::string_view key) {
  static_assert(detail::is_field_type<T>,
                "field<T>: T must be std::string, std::vector<std::string> "
                "or an integer type other than bool");
  if constexpr (std::is_same_v<T, std::string>) {
    return body.get_string(key);
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    return body.get_bytes_array(key);
  } else {
    auto x = body.get_integer(key);
    if (!x)
      return std::move(x.error());
    using limits = std::numeric_limits<T>;
    auto fits = false;
    if constexpr (std::is_signed_v<T>)
      fits = *x >= static_cast<std::int64_t>(limits::min()) &&
             *x <= static_cast<std::int64_t>(limits::max());
    else
      fits = *x >= 0 && static_cast<std::uint64_t>(*x) <=
                            static_cast<std::uint64_t>(limits::max());
    if (!fits)
      return make_error(errc::wrong_field_type,
                        "field \"" + std::string{key} + "\" is " +
                            std::to_string(*x) + ", beyond the range of a " +
                            detail::integer_name<T>());
    return static_cast<T>(*x);
  }
}

/// Reads several fields of `body` at once, the `i`-th as the `i`-th of `Ts`
/// (see `field`), e.g. `fields<std::string, std::int64_t>(body, "key",
/// "count")`. Returns the error of the first field that cannot be read.
template <class... Ts, class... Keys>
caf::expected<std::tuple<Ts...>> fields(const payload& body,
                                        const Keys&... keys) {
  static_assert(sizeof...(Ts) == sizeof...(Keys),
                "fields<Ts...>: one key per type");
  std::tuple<caf::expected<Ts>...> parts{field<Ts>(body, keys)...};
  caf::error first;
  std::apply(
      [&first](const auto&... xs) {
        ((!first && !xs ? (void)(first = xs.error()) : (void)0), ...);
      },
      parts);
  if (first)
    return first;
  return std::apply(
      [](auto&... xs) { return std::tuple<Ts...>{std::move(*xs)...}; }, parts);
}

} // namespace p2p0mq
