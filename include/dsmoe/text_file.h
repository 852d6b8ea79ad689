// Whole files named by users, read safely: only regular files (a FIFO or a character device would block or never
// end), no larger than a stated limit (checked before anything is allocated), with errors that name the file.
#pragma once

#include <cstddef>
#include <string>

namespace dsmoe {

inline constexpr size_t kMaxTextFileBytes = size_t(1) << 30;  // 1 GiB: far above any config, tokenizer or prompt

// An Error "<prefix><path>: ..." unless `path` names a regular file (following symbolic links).
void require_regular_file(const std::string& path, const std::string& prefix = "");

// The bytes of the regular file `path`, at most max_bytes of them; errors start with prefix + path.
std::string read_text_file(const std::string& path, const std::string& prefix = "",
                           size_t max_bytes = kMaxTextFileBytes);

}  // namespace dsmoe
