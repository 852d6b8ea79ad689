// The unit that flows through normalization and pre-tokenization: HF's `Split` inside a `PreTokenizedString`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dsmoe {

struct Segment {
  std::string text;        // as normalized and pre-tokenized so far
  int32_t token_id = -1;   // >= 0 once the segment is an added token; later stages then leave it alone
  bool at_origin = false;  // starts at byte 0 of the input (Metaspace's prepend_scheme "first" asks this)
};

using Segments = std::vector<Segment>;

}  // namespace dsmoe
