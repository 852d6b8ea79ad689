// The dsmoe program as a user runs it: inspect pins the real model's figures; bad input is an error
// message and exit status 1, never a crash.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <string>

#include "support/run_dsmoe.h"

namespace {

using dsmoe::testing::CommandRun;
using dsmoe::testing::run_dsmoe;

const std::string kRealConfig = std::string(DSMOE_SOURCE_DIR) + "/configs/deepseek-moe-16b-base.json";

TEST(Cli, InspectPinsTheRealModelFigures) {
  const CommandRun run = run_dsmoe("inspect --config " + kRealConfig);
  ASSERT_EQ(run.status, 0) << run.output;
  // Derived by hand in ../shared/DEEPSEEK.md: 16,375,728,128 total, 2,828,650,496 active.
  EXPECT_NE(run.output.find("16,375,728,128  (16.4B)"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("2,828,650,496  (2.8B) counting the embedding"), std::string::npos);
  EXPECT_NE(run.output.find("2,618,935,296 (2.6B) without"), std::string::npos);
  EXPECT_NE(run.output.find("[1, 16, 4096, 4096]"), std::string::npos);  // the naive score matrix
  EXPECT_NE(run.output.find("routing [4096, 6]"), std::string::npos);
  EXPECT_NE(run.output.find("logits [1, 4096, 102400]"), std::string::npos);
  EXPECT_EQ(run.output.find("warning"), std::string::npos);
}

TEST(Cli, InspectWarnsPastTrainingLength) {
  const CommandRun run = run_dsmoe("inspect --config " + kRealConfig + " --batch 2 --seq 8192");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("warning: seq 8192 exceeds max_position_embeddings 4096"), std::string::npos);
  EXPECT_NE(run.output.find("[2, 16, 8192, 8192]"), std::string::npos);
  EXPECT_NE(run.output.find("7.0 GiB F32"), std::string::npos) << run.output;  // 448 KiB x 2 x 8192
}

TEST(Cli, BadInputIsAnErrorNotACrash) {
  for (const std::string args :
       {"inspect --config /nonexistent/config.json", "logits -m /nonexistent --ids 1,2 --out /tmp/x",
        "inspect -m /nonexistent --config /nonexistent/config.json",
        "logits -m . --ids 1,x --out /tmp/x", "logits -m . --ids '1,2;3' --out /tmp/x"}) {
    const CommandRun run = run_dsmoe(args);
    EXPECT_EQ(run.status, 1) << args << "\n" << run.output;
    EXPECT_NE(run.output.find("error"), std::string::npos) << args << "\n" << run.output;
  }
}

}  // namespace
