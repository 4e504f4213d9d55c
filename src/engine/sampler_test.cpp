#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "engine/options.h"
#include "engine/text_stream.h"

namespace folio {
namespace {

std::vector<float> logits_of(const std::vector<float>& probs) {
  std::vector<float> l;
  for (float p : probs) l.push_back(std::log(p));
  return l;
}

Options no_penalty() {
  Options o;
  o.repeat_penalty = 1.f;
  o.top_k = 0;
  o.top_p = 1.f;
  return o;
}

TEST(Options, DefaultsAreOllamas) {
  const Options o;
  EXPECT_FLOAT_EQ(o.temperature, 0.8f);
  EXPECT_EQ(o.top_k, 40);
  EXPECT_FLOAT_EQ(o.top_p, 0.9f);
  EXPECT_FLOAT_EQ(o.min_p, 0.0f);
  EXPECT_FLOAT_EQ(o.typical_p, 1.0f);
  EXPECT_FLOAT_EQ(o.repeat_penalty, 1.1f);
  EXPECT_EQ(o.repeat_last_n, 64);
  EXPECT_EQ(o.seed, -1);
  EXPECT_EQ(o.num_predict, -1);
  EXPECT_FALSE(o.use_mmap.has_value());
}

TEST(Options, SetFromText) {
  Options o;
  ASSERT_TRUE(set_option_assignment(o, "temperature=0.25").ok());
  ASSERT_TRUE(set_option_assignment(o, "top_k=5").ok());
  ASSERT_TRUE(set_option_assignment(o, "use_mmap=false").ok());
  ASSERT_TRUE(set_option_assignment(o, "stop=</s>").ok());
  ASSERT_TRUE(set_option_assignment(o, "stop=User:").ok());
  EXPECT_FLOAT_EQ(o.temperature, 0.25f);
  EXPECT_EQ(o.top_k, 5);
  EXPECT_EQ(o.use_mmap, false);
  EXPECT_EQ(o.stop, (std::vector<std::string>{"</s>", "User:"}));
  auto bad = set_option_assignment(o, "temprature=1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "unknown option 'temprature' (did you mean temperature?)");
  bad = set_option_assignment(o, "top_k=many");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "option top_k expects an integer, got 'many'");
  EXPECT_FALSE(set_option_assignment(o, "num_ctx=0").ok());
  EXPECT_FALSE(set_option_assignment(o, "temperature=-1").ok());
  EXPECT_FALSE(set_option_assignment(o, "use_mlock=maybe").ok());
  EXPECT_FALSE(set_option_assignment(o, "novalue").ok());
  bad = set_option_assignment(o, "num_thread=2000");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "option num_thread must be between 0 and 1024, got 2000");
  EXPECT_FALSE(set_option_assignment(o, "num_ctx=4611686018427387904").ok());
}

TEST(Sampler, GreedyAtTemperatureZero) {
  Options o = no_penalty();
  o.temperature = 0;
  Sampler s(o);
  EXPECT_EQ(s.sample(logits_of({0.1f, 0.6f, 0.3f}).data(), 3, {}), 1);
  const float tie[] = {1.f, 2.f, 2.f};
  EXPECT_EQ(s.sample(tie, 3, {}), 1);  // lowest id wins a tie
}

TEST(Sampler, RepeatPenaltyAsLlamaCpp) {
  Options o;
  o.temperature = 0;
  o.repeat_penalty = 2.f;
  Sampler s(o);
  const float l[] = {3.f, 2.f, -1.f};
  EXPECT_EQ(s.sample(l, 3, {0}), 1);  // 3/2 = 1.5 < 2
  const float neg[] = {-1.f, -1.5f};
  EXPECT_EQ(s.sample(neg, 2, {0}), 1);  // -1*2 = -2 < -1.5
  o.repeat_penalty = 1.f;
  o.presence_penalty = 0.5f;
  o.frequency_penalty = 0.4f;
  Sampler p(o);
  const float l2[] = {1.f, 0.f};
  EXPECT_EQ(p.sample(l2, 2, {0, 0}), 1);  // 1 - 2*0.4 - 0.5 = -0.3 < 0
  EXPECT_EQ(p.sample(l2, 2, {1, 0}), 0);  // both seen once: 0.1 vs -0.9
}

// Empirical frequencies follow the distribution left after the filters.
std::map<int32_t, int> histogram(const Options& o, const std::vector<float>& logits, int n) {
  Sampler s(o);
  std::map<int32_t, int> h;
  for (int i = 0; i < n; ++i) ++h[s.sample(logits.data(), static_cast<int64_t>(logits.size()), {})];
  return h;
}

TEST(Sampler, TopKTopPMinPFilter) {
  const std::vector<float> l = logits_of({0.5f, 0.3f, 0.15f, 0.05f});
  Options o = no_penalty();
  o.temperature = 1;
  o.seed = 1;
  o.top_k = 2;
  auto h = histogram(o, l, 4000);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_NEAR(h[0] / 4000.0, 0.5 / 0.8, 0.03);
  o.top_k = 0;
  o.top_p = 0.85f;  // 0.5 + 0.3 = 0.8 < 0.85: three tokens
  EXPECT_EQ(histogram(o, l, 2000).size(), 3u);
  o.top_p = 1;
  o.min_p = 0.2f;  // keeps p >= 0.1
  EXPECT_EQ(histogram(o, l, 2000).size(), 3u);
  o.min_p = 0;
  o.typical_p = 0.5f;
  EXPECT_LT(histogram(o, l, 2000).size(), 4u);
}

TEST(Sampler, TemperatureSharpens) {
  const std::vector<float> l = logits_of({0.6f, 0.4f});
  Options o = no_penalty();
  o.seed = 3;
  o.temperature = 0.25f;  // 0.6^4 : 0.4^4 = 0.835 : 0.165
  auto h = histogram(o, l, 4000);
  EXPECT_NEAR(h[0] / 4000.0, 0.835, 0.03);
}

TEST(Sampler, SameSeedSameDraws) {
  const std::vector<float> l = logits_of({0.25f, 0.25f, 0.25f, 0.25f});
  Options o = no_penalty();
  o.temperature = 1;
  o.seed = 1234;
  Sampler a(o), b(o);
  std::vector<int32_t> da, db;
  for (int i = 0; i < 50; ++i) {
    da.push_back(a.sample(l.data(), 4, {}));
    db.push_back(b.sample(l.data(), 4, {}));
  }
  EXPECT_EQ(da, db);
  o.seed = 4321;
  Sampler c(o);
  std::vector<int32_t> dc;
  for (int i = 0; i < 50; ++i) dc.push_back(c.sample(l.data(), 4, {}));
  EXPECT_NE(da, dc);
  EXPECT_EQ(a.seed(), 1234u);
}

TEST(Utf8Stream, NeverEmitsHalfACharacter) {
  Utf8Stream s;
  const std::string euro = "\xE2\x82\xAC";
  EXPECT_EQ(s.push("a" + euro.substr(0, 1)), "a");
  EXPECT_EQ(s.push(euro.substr(1, 1)), "");
  EXPECT_EQ(s.push(euro.substr(2) + "b"), euro + "b");
  EXPECT_EQ(s.push("\xF0\x9F"), "");
  EXPECT_EQ(s.push("\x98\x80"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(s.push("\xFF"), "\xEF\xBF\xBD");        // never valid
  EXPECT_EQ(s.push("\xE2\x28"), "\xEF\xBF\xBD(");   // broken sequence
  EXPECT_EQ(s.push("\xC3"), "");
  EXPECT_EQ(s.flush(), "\xEF\xBF\xBD");
}

TEST(StopFilter, NeverEmitsAnyPartOfAStop) {
  StopFilter f({"</s>", "User:"});
  EXPECT_EQ(f.push("Hello <"), "Hello ");
  EXPECT_EQ(f.push("/"), "");
  EXPECT_EQ(f.push("b> Us"), "</b> ");
  EXPECT_EQ(f.push("er"), "");
  EXPECT_FALSE(f.stopped());
  EXPECT_EQ(f.push(": hi"), "");
  EXPECT_TRUE(f.stopped());
  EXPECT_EQ(f.matched(), "User:");
  EXPECT_EQ(f.push("more"), "");
  StopFilter g({"END"});
  EXPECT_EQ(g.push("the E"), "the ");
  EXPECT_EQ(g.flush(), "E");  // generation ended without the stop: release it
  StopFilter none({});
  EXPECT_EQ(none.push("abc"), "abc");
}

}  // namespace
}  // namespace folio
