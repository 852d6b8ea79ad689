// Runs the dsmoe program as a user would, capturing its output and exit status.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace dsmoe::testing {

struct CommandRun {
  int status = -1;
  std::string output;
};

// args are passed through the shell; with_stderr merges stderr into output, else discards it.
inline CommandRun run_dsmoe(const std::string& args, bool with_stderr = true) {
  CommandRun run;
  const std::string command = std::string(DSMOE_BINARY) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

}  // namespace dsmoe::testing
