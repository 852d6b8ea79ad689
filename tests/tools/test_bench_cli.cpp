// dsmoe bench as a user runs it: one row per test and thread count in every output format, the shipped model's
// size and parameter count, and every out-of-range flag named in its error.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/run_dsmoe.h"

namespace {

using dsmoe::testing::CommandRun;
using dsmoe::testing::run_dsmoe;

const std::string kModel = std::string(DSMOE_SOURCE_DIR) + "/models/dsmoe-kjv-9m";

TEST(BenchCli, JsonHasOneRowPerTestAndThreadCountWithItsSamples) {
  const CommandRun run = run_dsmoe("bench -m " + kModel + " -p 8,16 -n 2 -t 1,2 -r 2 -o json", false);
  ASSERT_EQ(run.status, 0) << run.output;
  const auto rows = nlohmann::json::parse(run.output);
  ASSERT_EQ(rows.size(), 6u);  // (pp8, pp16, tg2) x 2 thread counts, pp before tg as llama-bench orders them
  const char* tests[] = {"pp8", "pp16", "tg2", "pp8", "pp16", "tg2"};
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    EXPECT_EQ(row["test"], tests[i]);
    EXPECT_EQ(row["threads"], i < 3 ? 1 : 2);
    EXPECT_EQ(row["model"], "dsmoe-kjv-9m");
    EXPECT_EQ(row["type"], "BF16");
    EXPECT_EQ(row["params"], 8763648);        // `dsmoe inspect -m models/dsmoe-kjv-9m`: 8,763,648 total
    EXPECT_EQ(row["size"], 2 * 8763648);      // BF16
    ASSERT_EQ(row["samples_ns"].size(), 2u);  // the warm-up is not a sample
    for (const auto& ns : row["samples_ns"]) EXPECT_GT(ns.get<int64_t>(), 0);
    EXPECT_GT(row["avg_ts"].get<double>(), 0);
    EXPECT_GE(row["stddev_ts"].get<double>(), 0);
  }
}

TEST(BenchCli, MarkdownAndCsvHaveAHeaderAndOneLinePerRow) {
  const CommandRun md = run_dsmoe("bench -m " + kModel + " -p 4 -n 0 -t 1 -r 1", false);
  ASSERT_EQ(md.status, 0) << md.output;
  EXPECT_EQ(md.output.rfind("| model | size | params | type | threads | test | t/s |\n", 0), 0u) << md.output;
  EXPECT_NE(md.output.find("| dsmoe-kjv-9m | 16.72 MiB | 8.8M | BF16 | 1 | pp4 | "), std::string::npos) << md.output;
  EXPECT_NE(md.output.find(" ± "), std::string::npos);

  const CommandRun csv = run_dsmoe("bench -m " + kModel + " -p 0 -n 2,3 -t 1 -r 2 -o csv", false);
  ASSERT_EQ(csv.status, 0) << csv.output;
  std::istringstream lines(csv.output);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) ++count;
  EXPECT_EQ(count, 3) << csv.output;
  EXPECT_EQ(csv.output.rfind("model,size,params,type,threads,test,", 0), 0u) << csv.output;
  EXPECT_NE(csv.output.find("\"dsmoe-kjv-9m\",17527296,8763648,\"BF16\",1,tg3,0,3,"), std::string::npos) << csv.output;
}

TEST(BenchCli, DepthTestsStartFromAFilledCacheAndReportItsMemory) {
  const CommandRun run = run_dsmoe("bench -m " + kModel + " -p 4 -n 2 -d 0,16 -t 1 -r 1 -o json", false);
  ASSERT_EQ(run.status, 0) << run.output;
  const auto rows = nlohmann::json::parse(run.output);
  ASSERT_EQ(rows.size(), 4u);
  const char* tests[] = {"pp4", "tg2", "pp4 @ d16", "tg2 @ d16"};
  const int64_t positions[] = {4, 2, 20, 18};
  // The cache's bytes per position, from the first row: every row's cache holds depth + tokens of them.
  const int64_t per_position = rows[0]["kv_bytes"].get<int64_t>() / 4;
  EXPECT_GT(per_position, 0);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["test"], tests[i]);
    EXPECT_EQ(rows[i]["n_depth"], i < 2 ? 0 : 16);
    EXPECT_EQ(rows[i]["kv_bytes"].get<int64_t>(), per_position * positions[i]) << tests[i];
    EXPECT_GT(rows[i]["resident_bytes"].get<int64_t>(), rows[i]["size"].get<int64_t>());  // the weights at least
  }
  const CommandRun md = run_dsmoe("bench -m " + kModel + " -p 0 -n 2 -d 8 -t 1 -r 1", false);
  ASSERT_EQ(md.status, 0) << md.output;
  EXPECT_EQ(md.output.rfind("| model | size | params | type | threads | test | t/s | kv cache | resident |\n", 0), 0u)
      << md.output;
  EXPECT_NE(md.output.find("| tg2 @ d8 | "), std::string::npos) << md.output;
}

TEST(BenchCli, EveryOutOfRangeFlagIsNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {"-p -1", "--n-prompt: must be an integer in [0, 1048576], found -1"},
      {"-n 4,2000000", "--n-gen: must be an integer in [0, 1048576], found 2000000"},
      {"-t 0", "--threads: must be a thread count up to"},
      {"-r 0", "--repetitions: must be an integer in [1, 10000], found 0"},
      {"-d 8,-1", "--n-depth: must be an integer in [0, 1048576], found -1"},
      {"-p 0 -n 0", "bench: nothing to run"},
      {"-o xml", "bench: -o must be md, json or csv, found 'xml'"},
      {"--layers 2", "--layers and --dtype apply to --config"},
      {"--config x.json", "give -m MODEL or --config CONFIG, not both"},
  };
  for (const auto& [args, message] : cases) {
    const CommandRun run = run_dsmoe("bench -m " + kModel + " " + args);
    EXPECT_EQ(run.status, 1) << args << "\n" << run.output;
    EXPECT_NE(run.output.find(message), std::string::npos) << args << "\n" << run.output;
  }
  const CommandRun layers = run_dsmoe("bench --config " + kModel + "/config.json --layers 5 -p 2 -n 0");
  EXPECT_EQ(layers.status, 1) << layers.output;
  EXPECT_NE(layers.output.find("bench: --layers must be between 0 and 4 (0: all), found 5"), std::string::npos)
      << layers.output;
}

}  // namespace
