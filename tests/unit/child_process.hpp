// Running part of a test in a forked child (resource limits, signals).
#pragma once

#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace test_child {

/// Runs `child` (returning an int) in a forked process; returns its exit
/// status, 100 when it returned nothing usable, 101 when it threw, or
/// -signal when a signal ended it.
template <class F> int in_child(F&& child) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int code = 100;
    try {
      code = child();
    } catch (...) {
      code = 101;
    }
    ::_exit(code);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

} // namespace test_child
