// The folio binary end to end: output, exit codes, error messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <nlohmann/json.hpp>

#include "gguf/writer.h"
#include "test_util.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace folio {
namespace {

using testing::run_folio;

std::string bundled() { return std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf"; }

TEST(Cli, ShowBundledModel) {
  const auto r = run_folio({"show", bundled()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("architecture        llama"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters          293K"), std::string::npos);
  EXPECT_NE(r.out.find("context length      2048"), std::string::npos);
  EXPECT_NE(r.out.find("embedding length    64"), std::string::npos);
  EXPECT_NE(r.out.find("quantization        F32"), std::string::npos);
  EXPECT_NE(r.out.find("F32                 48 tensors"), std::string::npos);
  EXPECT_NE(r.out.find("1185376 bytes"), std::string::npos);
  EXPECT_EQ(r.out.find("Metadata"), std::string::npos);  // only with --verbose
}

TEST(Cli, ShowVerboseListsMetadataAndTensors) {
  const auto r = run_folio({"show", bundled(), "--verbose"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tokenizer.ggml.bos_token_id"), std::string::npos);
  EXPECT_NE(r.out.find("blk.4.ffn_down.weight"), std::string::npos);
  EXPECT_NE(r.out.find("[172, 64]"), std::string::npos);
}

TEST(Cli, ShowJson) {
  const auto r = run_folio({"show", std::string(FOLIO_TEST_DATA) + "/synth-llama-q4_k_m.gguf", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["details"]["family"], "llama");
  EXPECT_EQ(j["details"]["quantization_level"], "Q4_K_M");
  EXPECT_EQ(j["details"]["parameter_size"], "1.31M");
  EXPECT_EQ(j["model_info"]["llama.block_count"], 2);
  EXPECT_EQ(j["model_info"]["general.parameter_count"], 1312000);
  EXPECT_TRUE(j["model_info"]["tokenizer.ggml.tokens"].is_null());  // big arrays only with --verbose
  EXPECT_EQ(j["tensor_types"]["Q6_K"]["tensors"], 3);
  EXPECT_FALSE(j.contains("tensors"));
  const auto v = nlohmann::json::parse(run_folio({"show", bundled(), "--json", "--verbose"}).out);
  EXPECT_EQ(v["tensors"].size(), 48u);
  EXPECT_EQ(v["model_info"]["tokenizer.ggml.tokens"].size(), 512u);
}

TEST(Cli, ShowJsonSurvivesInvalidUtf8AndEscapesControlCharacters) {
  testing::TempDir dir;
  gguf::Writer w;
  w.set_string("general.architecture", "\x1b[31mred");
  w.set_string("general.name", "\xff bad");
  ASSERT_TRUE(w.write(dir.file("m.gguf")).ok());
  const auto j = run_folio({"show", dir.file("m.gguf"), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(nlohmann::json::parse(j.out)["model_info"]["general.name"], "\xEF\xBF\xBD bad");
  const auto t = run_folio({"show", dir.file("m.gguf")});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out.find('\x1b'), std::string::npos);
  EXPECT_NE(t.out.find("\\x1b[31mred"), std::string::npos) << t.out;
}

TEST(Cli, ShowMissingFile) {
  const auto r = run_folio({"show", "/nonexistent/model.gguf"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: /nonexistent/model.gguf: no such file\n");
}

TEST(Cli, SynthThenShow) {
  testing::TempDir dir;
  const std::string out = dir.file("m.gguf");
  const auto s = run_folio({"synth", out, "--preset", "tiny", "--type", "Q8_0", "--vocab", bundled()});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("wrote " + out), std::string::npos);
  const auto r = run_folio({"show", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("quantization        Q8_0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Q8_0                15 tensors"), std::string::npos) << r.out;
}

TEST(Cli, SynthErrors) {
  testing::TempDir dir;
  auto r = run_folio({"synth", dir.file("m.gguf"), "--preset", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown preset 'nope'; choose one of tiny"), std::string::npos) << r.err;
  r = run_folio({"synth", dir.file("m.gguf"), "--type", "Q9"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown quantization 'Q9'"), std::string::npos) << r.err;
  r = run_folio({"synth"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("needs an output path"), std::string::npos) << r.err;
  r = run_folio({"synth", dir.file("m.gguf"), "--split-max-size", "lots"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(dir.list().empty());
  r = run_folio({"synth", "--list"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("llama-3.1-8b"), std::string::npos);
}

// A write killed at any point (even by SIGKILL) leaves no partial file.
TEST(Cli, KilledSynthLeavesNothing) {
  testing::TempDir dir;
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string out = dir.file("big.gguf"), vocab = bundled();
    ::execl(FOLIO_BINARY, FOLIO_BINARY, "synth", out.c_str(), "--preset", "llama-3.2-1b", "--type", "F16", "--vocab",
            vocab.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::usleep(1500 * 1000);  // well into writing 2.5 GB
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(dir.list().empty()) << "left behind: " << dir.list()[0];
}

TEST(Cli, VersionAndUsage) {
  auto r = run_folio({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("folio version"), std::string::npos);
  r = run_folio({});
  EXPECT_NE(r.exit_code, 0);
  r = run_folio({"frobnicate"});
  EXPECT_NE(r.exit_code, 0);
}

// A bad value of a memory environment variable stops the load with one
// line that names the variable and the values it takes.
TEST(Cli, BadMemoryEnvironmentValuesNameTheVariable) {
  const std::pair<const char*, const char*> cases[] = {{"FOLIO_MMAP", "use auto, on or off"},
                                                       {"FOLIO_HUGEPAGES", "use off, auto or on"},
                                                       {"FOLIO_REPACK", "use auto or off"}};
  for (const auto& [var, choices] : cases) {
    const auto r = testing::run_process({"/usr/bin/env", std::string(var) + "=sometimes", testing::folio_binary(), "plan", bundled()});
    EXPECT_NE(r.exit_code, 0) << var;
    EXPECT_NE(r.err.find(std::string(var) + "=sometimes: " + choices), std::string::npos) << r.err;
  }
}

// folio bench: the rows, fields and units llama-bench users expect (no
// speed is asserted: only that each test ran and reports what it measured).
TEST(Cli, BenchReportsEveryTestAsJson) {
  const auto r = run_folio({"bench", bundled(), "-p", "16", "-n", "4", "-r", "2", "-t", "1", "--parallel", "1,2", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 3u) << r.out;  // pp16, tg4, tg4 x2
  EXPECT_EQ(j[0]["test"], "pp16");
  EXPECT_EQ(j[1]["test"], "tg4");
  EXPECT_EQ(j[2]["test"], "tg4 x2");
  EXPECT_EQ(j[2]["parallel"], 2);
  for (const auto& row : j) {
    EXPECT_EQ(row["type"], "F32");
    EXPECT_EQ(row["params"], 292800);
    EXPECT_EQ(row["threads"], 1);
    EXPECT_EQ(row["samples_ts"].size(), 2u);
    EXPECT_GT(row["avg_ts"].get<double>(), 0);
  }
  // tg rows of one sequence carry the bandwidth bound.
  EXPECT_GT(j[1]["bandwidth_bytes_per_s"].get<double>(), 0);
  EXPECT_GT(j[1]["weight_bytes_per_token"].get<double>(), 0);
  EXPECT_FALSE(j[0].contains("bound_ts"));
  EXPECT_FALSE(j[2].contains("bound_ts"));
  const auto md = run_folio({"bench", bundled(), "-p", "8", "-n", "2", "-r", "1", "-t", "1"});
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("| model | size | params | type | threads | test | t/s |"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("memory read bandwidth:"), std::string::npos);
}

TEST(Cli, BenchRefusesBadArguments) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"bench", bundled(), "-o", "xml"}, {"bench", bundled(), "-r", "0"},
        {"bench", bundled(), "--parallel", "0"}, {"bench", "/nonexistent/model.gguf"}}) {
    const auto r = run_folio(args);
    EXPECT_EQ(r.exit_code, 1) << args.back();
    EXPECT_EQ(r.err.rfind("Error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace folio
