#include "store/modelfile.h"

#include <gtest/gtest.h>

namespace folio {
namespace {

Modelfile parse_ok(std::string_view text) {
  auto mf = parse_modelfile(text);
  EXPECT_TRUE(mf.ok()) << mf.error().message;
  return mf.ok() ? std::move(mf).value() : Modelfile{};
}

std::string error_of(std::string_view text) {
  auto mf = parse_modelfile(text);
  EXPECT_FALSE(mf.ok()) << text;
  return mf.ok() ? "" : mf.error().message;
}

TEST(Modelfile, EveryInstruction) {
  const Modelfile mf = parse_ok(
      "# a comment\n"
      "FROM llama3.2\n"
      "adapter ./lora.gguf\n"
      "Template {{ .Prompt }}\n"
      "SYSTEM You are a pirate.\n"
      "LICENSE MIT\n"
      "PARAMETER temperature 0.7\n"
      "PARAMETER stop <|eot_id|>\n"
      "PARAMETER stop User:\n"
      "PARAMETER num_ctx 8192\n"
      "MESSAGE user Is the sky blue?\n"
      "MESSAGE assistant Yes.\n"
      "REQUIRES 0.5.0\n"
      "RENDERER qwen3-coder\n"
      "parser qwen3-coder\n"
      "DRAFT llama3.2:1b\n");
  ASSERT_EQ(mf.commands.size(), 15u);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"model", "llama3.2"},        {"adapter", "./lora.gguf"},    {"template", "{{ .Prompt }}"},
      {"system", "You are a pirate."}, {"license", "MIT"},          {"temperature", "0.7"},
      {"stop", "<|eot_id|>"},       {"stop", "User:"},            {"num_ctx", "8192"},
      {"message", "user: Is the sky blue?"}, {"message", "assistant: Yes."}, {"requires", "0.5.0"},
      {"renderer", "qwen3-coder"}, {"parser", "qwen3-coder"}, {"draft", "llama3.2:1b"}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(mf.commands[i].name, want[i].first) << i;
    EXPECT_EQ(mf.commands[i].args, want[i].second) << i;
  }
  EXPECT_EQ(mf.commands[1].line, 3);
  EXPECT_EQ(mf.from(), "llama3.2");
  Options o;
  ASSERT_TRUE(apply_parameters(mf, o).ok());
  EXPECT_FLOAT_EQ(o.temperature, 0.7f);
  EXPECT_EQ(o.num_ctx, 8192);
  EXPECT_EQ(o.stop, (std::vector<std::string>{"<|eot_id|>", "User:"}));
}

TEST(Modelfile, QuotingForms) {
  const Modelfile mf = parse_ok(
      "FROM \"./my model.gguf\"\n"
      "SYSTEM \"\"\"\nline one\n  line \"two\"\n\"\"\"\n"
      "TEMPLATE \"{{ .System }}\n{{ .Prompt }}\"\n"
      "PARAMETER stop \"  spaced  \"\n"
      "MESSAGE user \"\"\"multi\nline\"\"\"\n");
  ASSERT_EQ(mf.commands.size(), 5u);
  EXPECT_EQ(mf.commands[0].args, "./my model.gguf");
  EXPECT_EQ(mf.commands[1].args, "\nline one\n  line \"two\"\n");
  EXPECT_EQ(mf.commands[2].args, "{{ .System }}\n{{ .Prompt }}");
  EXPECT_EQ(mf.commands[3].args, "  spaced  ");
  EXPECT_EQ(mf.commands[4].args, "user: multi\nline");
  EXPECT_EQ(mf.commands[4].line, 9);
}

TEST(Modelfile, CommentsAndBlankLinesAndCase) {
  const Modelfile mf = parse_ok("\n\n   # indented comment\r\nfrom x\r\n\tparameter Top_K 5\n#PARAMETER seed 1\n");
  ASSERT_EQ(mf.commands.size(), 2u);
  EXPECT_EQ(mf.commands[0].args, "x");
  EXPECT_EQ(mf.commands[1].name, "top_k");
  EXPECT_EQ(mf.commands[1].args, "5");
}

TEST(Modelfile, ErrorsCarryTheLine) {
  EXPECT_EQ(error_of("FROM x\nFROB y\n"),
            "(line 2): command must be one of \"from\", \"license\", \"template\", \"system\", \"adapter\", "
            "\"renderer\", \"parser\", \"draft\", \"parameter\", \"message\", or \"requires\"");
  EXPECT_EQ(error_of("FROM x\n\nMESSAGE robot hi\n"),
            "(line 3): message role must be one of \"system\", \"user\", or \"assistant\"");
  EXPECT_EQ(error_of("FROM x\nPARAMETER temprature 1\n"), "(line 2): unknown option 'temprature' (did you mean temperature?)");
  EXPECT_EQ(error_of("FROM x\nPARAMETER num_ctx lots\n"), "(line 2): option num_ctx expects an integer, got 'lots'");
  EXPECT_EQ(error_of("FROM x\nSYSTEM \"\"\"never\nclosed\n"), "(line 2): the quoted value never ends; close it with \"\"\"");
  EXPECT_EQ(error_of("FROM x\nPARAMETER seed\n"), "(line 2): PARAMETER needs a name and a value");
  EXPECT_EQ(error_of("FROM\n"), "(line 1): missing value for FROM");
  EXPECT_EQ(error_of("FROM x\nADAPTER\n"), "(line 2): missing value for ADAPTER");
  EXPECT_EQ(error_of("FROM x\nADAPTER \"\"\n"), "(line 2): missing value for ADAPTER");
  EXPECT_NE(error_of("SYSTEM hi\n").find("no FROM line"), std::string::npos);
  EXPECT_NE(error_of("").find("no FROM line"), std::string::npos);
}

TEST(Modelfile, EmptyTextValuesAreAllowed) {
  const Modelfile mf = parse_ok("FROM x\nSYSTEM \"\"\nTEMPLATE \"\"\"\"\"\"\n");
  ASSERT_EQ(mf.commands.size(), 3u);
  EXPECT_EQ(mf.commands[1].name, "system");
  EXPECT_EQ(mf.commands[1].args, "");
  EXPECT_EQ(mf.commands[2].args, "");
}

TEST(Modelfile, DeprecatedParametersAreIgnored) {
  const Modelfile mf = parse_ok("FROM x\nPARAMETER mirostat 2\nPARAMETER seed 3\n");
  ASSERT_EQ(mf.commands.size(), 2u);
  EXPECT_EQ(mf.commands[1].name, "seed");
}

TEST(Modelfile, RoundTripsThroughItsText) {
  const Modelfile a = parse_ok(
      "FROM /blobs/sha256-abc\nTEMPLATE \"\"\"{{ if .System }}<|system|>\n{{ .System }}{{ end }}\"\"\"\n"
      "SYSTEM \" leading space\"\nPARAMETER stop \"<|end|>\"\nPARAMETER stop User:\nPARAMETER temperature 0.2\n"
      "MESSAGE user hello there\nMESSAGE assistant \"two\nlines\"\nLICENSE \"\"\"Some \"quoted\" license\ntext\"\"\"\n");
  const std::string text = a.to_string();
  const Modelfile b = parse_ok(text);
  ASSERT_EQ(a.commands.size(), b.commands.size()) << text;
  for (size_t i = 0; i < a.commands.size(); ++i) {
    EXPECT_EQ(a.commands[i].name, b.commands[i].name);
    EXPECT_EQ(a.commands[i].args, b.commands[i].args) << text;
  }
  EXPECT_NE(text.find("PARAMETER stop <|end|>\n"), std::string::npos) << text;
}

// Values the fuzzer found printed as text that read back differently: a
// value starting with a quote printed bare, a FROM spanning lines printed
// bare, a carriage return or edge tab printed bare.
TEST(Modelfile, EveryParsedValuePrintsAsTextThatReadsBack) {
  for (const std::string text :
       {"FROM x\nTEMPLATE \"\"em }}{{ .Prompt }}\"\"\"\n", "FROM \"model\nname\"\n", "FROM x\nSYSTEM \"a\rb\"\n",
        "FROM x\nSYSTEM \"\ttabbed\"\n", "FROM x\nSYSTEM \"ends with a quote\"\"\n",
        "FROM x\nLICENSE \"\"\"has \"\nand \"\"\" inside\"\"\"\n"}) {
    const Modelfile a = parse_ok(text);
    const std::string printed = a.to_string();
    const Modelfile b = parse_ok(printed);
    ASSERT_EQ(a.commands.size(), b.commands.size()) << printed;
    for (size_t i = 0; i < a.commands.size(); ++i) EXPECT_EQ(a.commands[i].args, b.commands[i].args) << printed;
  }
}

}  // namespace
}  // namespace folio
