#pragma once

// Private to the actors library: the eventfd that ends the wait of a thread
// blocked in `zmq::poll` (the receiver's and the authenticator's).

#include <cerrno>
#include <cstdint>
#include <system_error>

#include <sys/eventfd.h>
#include <unistd.h>

namespace p2p0mq::detail {

/// An eventfd to poll beside ZeroMQ sockets: `raise` makes it readable until
/// `clear`.
class wake_fd {
public:
  wake_fd() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd_ < 0)
      throw std::system_error(errno, std::generic_category(), "eventfd");
  }

  ~wake_fd() {
    ::close(fd_);
  }

  wake_fd(const wake_fd&) = delete;
  wake_fd& operator=(const wake_fd&) = delete;

  void raise() noexcept {
    std::uint64_t one = 1;
    // A full counter (never reached) would only mean it is raised already.
    [[maybe_unused]] auto written = ::write(fd_, &one, sizeof(one));
  }

  int fd() const noexcept {
    return fd_;
  }

  /// Makes it unreadable again (for a wake-up that can repeat).
  void clear() noexcept {
    std::uint64_t value = 0;
    [[maybe_unused]] auto read = ::read(fd_, &value, sizeof(value));
  }

private:
  int fd_;
};

} // namespace p2p0mq::detail
