// Stop strings over streamed pieces: nothing of a stop string is ever shown, nothing else is lost.
#include <gtest/gtest.h>

#include "runtime/stop_strings.h"

namespace dsmoe {
namespace {

std::string stream(StopStringFilter& filter, const std::vector<std::string>& pieces) {
  std::string shown;
  for (const auto& piece : pieces) {
    shown += filter.push(piece);
    if (filter.stopped()) return shown;
  }
  return shown + filter.flush();
}

TEST(StopStrings, StopsBeforeAStopStringSplitAcrossPieces) {
  StopStringFilter filter({"world", "\n\nUser:"});
  EXPECT_EQ(stream(filter, {"Hel", "lo, wo", "r", "ld and more"}), "Hello, ");
  EXPECT_TRUE(filter.stopped());
}

TEST(StopStrings, HeldTextIsReleasedWhenItTurnsOutNotToBeAStop) {
  StopStringFilter filter({"User:"});
  std::string shown = filter.push("a Us");
  EXPECT_EQ(shown, "a ");  // "Us" might begin "User:"
  shown += filter.push("ed car");
  EXPECT_EQ(shown, "a Used car");
  EXPECT_FALSE(filter.stopped());
}

TEST(StopStrings, FlushReturnsWhatWasHeldAtTheEnd) {
  StopStringFilter filter({"</s>"});
  EXPECT_EQ(stream(filter, {"abc", "</"}), "abc</");
}

TEST(StopStrings, EarliestStopWinsAndNoStopsPassEverything) {
  StopStringFilter filter({"cd", "bc"});
  EXPECT_EQ(stream(filter, {"abcd"}), "a");
  StopStringFilter none({});
  EXPECT_EQ(stream(none, {"x", "", "yz"}), "xyz");
}

}  // namespace
}  // namespace dsmoe
