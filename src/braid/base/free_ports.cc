#include "braid/base/free_ports.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace braid {

absl::StatusOr<std::vector<int>> FreePorts(const std::string& host, int n) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* addr = nullptr;
  if (int rc = getaddrinfo(host.c_str(), "0", &hints, &addr); rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", host, "' is not an address of this machine: ", gai_strerror(rc)));
  }
  std::vector<int> sockets, ports;
  absl::Status status;
  for (int i = 0; i < n && status.ok(); ++i) {
    int fd = socket(addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    if (fd < 0 || bind(fd, addr->ai_addr, addr->ai_addrlen) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
      status = absl::UnavailableError(
          absl::StrCat("cannot find a free port on ", host, ": ", strerror(errno)));
      if (fd >= 0) close(fd);
      break;
    }
    sockets.push_back(fd);
    const in_port_t port = bound.ss_family == AF_INET6
                               ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                               : reinterpret_cast<sockaddr_in*>(&bound)->sin_port;
    ports.push_back(ntohs(port));
  }
  freeaddrinfo(addr);
  for (int fd : sockets) close(fd);
  if (!status.ok()) return status;
  return ports;
}

}  // namespace braid
