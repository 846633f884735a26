// SampledSeries (Note [Stride sampling]) and RunData: what each kind of
// summary value becomes.
#include "braid/board/run_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "braid/board/test_events.h"

namespace braid::board {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace braid::board::testing;

std::vector<int> Kept(const SampledSeries<int>& s) { return s.Points(); }

TEST(SampledSeriesTest, KeepsEverythingUpToCapacity) {
  SampledSeries<int> s(5);
  for (int i = 0; i < 5; ++i) s.Add(i);
  EXPECT_THAT(Kept(s), ElementsAre(0, 1, 2, 3, 4));
}

TEST(SampledSeriesTest, StaysBoundedEvenlySpacedWithFirstAndExactLast) {
  for (size_t capacity : {2, 3, 10, 1000}) {
    for (int n : {1, 7, 100, 12345}) {
      SCOPED_TRACE(::testing::Message() << capacity << " " << n);
      SampledSeries<int> s(capacity);
      for (int i = 0; i < n; ++i) s.Add(i);
      std::vector<int> kept = Kept(s);
      ASSERT_LE(kept.size(), capacity);
      ASSERT_FALSE(kept.empty());
      EXPECT_EQ(kept.front(), 0);
      EXPECT_EQ(kept.back(), n - 1);
      EXPECT_EQ(*s.Last(), n - 1);
      EXPECT_EQ(s.offered(), n);
      if (static_cast<size_t>(n) > capacity && capacity >= 10) {
        // At least half the capacity is used, at one stride apart.
        EXPECT_GE(kept.size(), capacity / 2);
        const int stride = kept[1] - kept[0];
        for (size_t i = 1; i + 1 < kept.size(); ++i) EXPECT_EQ(kept[i] - kept[i - 1], stride);
      }
    }
  }
}

TEST(SampledSeriesTest, IsDeterministic) {
  SampledSeries<int> a(16), b(16);
  for (int i = 0; i < 1000; ++i) {
    a.Add(i);
    b.Add(i);
  }
  EXPECT_EQ(Kept(a), Kept(b));
}

TEST(RunDataTest, SimpleValuesAndTensorScalarsWithMetadataOnlyOnTheFirst) {
  RunData d(SamplingLimits{});
  d.AddEvent(ScalarEvent(1, "loss", 0.5f));
  d.AddEvent(TensorScalarEvent(1, "accuracy", 0.25f, /*with_metadata=*/true));
  d.AddEvent(TensorScalarEvent(2, "accuracy", 0.75f, /*with_metadata=*/false));
  ASSERT_EQ(d.scalars().size(), 2u);
  std::vector<ScalarPoint> acc = d.scalars().at("accuracy").Points();
  ASSERT_EQ(acc.size(), 2u);
  EXPECT_EQ(acc[1].step, 2);
  EXPECT_DOUBLE_EQ(acc[1].value, 0.75);
  EXPECT_DOUBLE_EQ(acc[1].wall_time, 1700000002.0);
  EXPECT_EQ(d.bad_values(), 0);
}

TEST(RunDataTest, HistogramProtoBucketsAreClampedAndEmptyOnesDropped) {
  RunData d(SamplingLimits{});
  d.AddEvent(HistoEvent(3, "weights"));
  std::vector<HistogramPoint> h = d.histograms().at("weights").Points();
  ASSERT_EQ(h.size(), 1u);
  const std::vector<Bucket>& b = h[0].buckets;
  ASSERT_EQ(b.size(), 3u);
  EXPECT_DOUBLE_EQ(b[0].left, -1);  // clamped to min, not -1e300
  EXPECT_DOUBLE_EQ(b[0].right, -1);
  EXPECT_DOUBLE_EQ(b[1].left, -1);
  EXPECT_DOUBLE_EQ(b[1].right, 0);
  EXPECT_DOUBLE_EQ(b[1].count, 2);
  EXPECT_DOUBLE_EQ(b[2].left, 1);
  EXPECT_DOUBLE_EQ(b[2].right, 2);  // clamped to max
  EXPECT_DOUBLE_EQ(b[2].count, 3);
}

TEST(RunDataTest, HistogramTensorForm) {
  tensorflow::Event e;
  e.set_step(4);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag("w");
  v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("histograms");
  tensorflow::TensorProto* t = v->mutable_tensor();
  t->set_dtype(tensorflow::DT_DOUBLE);
  t->mutable_tensor_shape()->add_dim()->set_size(2);
  t->mutable_tensor_shape()->add_dim()->set_size(3);
  for (double x : {0.0, 1.0, 5.0, 1.0, 2.0, 7.0}) t->add_double_val(x);
  RunData d(SamplingLimits{});
  d.AddEvent(e);
  std::vector<HistogramPoint> h = d.histograms().at("w").Points();
  ASSERT_EQ(h[0].buckets.size(), 2u);
  EXPECT_DOUBLE_EQ(h[0].buckets[1].left, 1);
  EXPECT_DOUBLE_EQ(h[0].buckets[1].count, 7);
}

TEST(RunDataTest, ImagesBothFormsTextAndGraph) {
  RunData d(SamplingLimits{});
  d.AddEvent(ImageEvent(1, "input", "\x89PNG-one"));
  tensorflow::Event e;
  e.set_step(2);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag("input");
  v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("images");
  v->mutable_tensor()->set_dtype(tensorflow::DT_STRING);
  for (const char* s : {"28", "14", "\x89PNG-two", "\x89PNG-three"})
    v->mutable_tensor()->add_string_val(s);
  d.AddEvent(e);
  d.AddEvent(TextEvent(3, "notes", "hello"));
  d.AddEvent(GraphEvent());
  std::vector<ImagePoint> images = d.images().at("input").Points();
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].encoded, "\x89PNG-one");
  EXPECT_EQ(images[1].width, 28);
  EXPECT_EQ(images[1].height, 14);
  EXPECT_EQ(images[1].samples, 2);
  EXPECT_EQ(images[1].encoded, "\x89PNG-two");
  EXPECT_EQ(d.text().at("notes").Points()[0].text, "hello");
  EXPECT_FALSE(d.graph_def().empty());
  EXPECT_EQ(d.events(), 4);
}

TEST(RunDataTest, UndecodableValuesAreCountedNotFatal) {
  tensorflow::Event e;
  e.set_step(9);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag("broken");
  v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("scalars");
  v->mutable_tensor()->set_dtype(tensorflow::DT_FLOAT);
  v->mutable_tensor()->mutable_tensor_shape()->add_dim()->set_size(3);
  RunData d(SamplingLimits{});
  d.AddEvent(e);
  EXPECT_EQ(d.bad_values(), 1);
  EXPECT_THAT(d.last_bad_value(), HasSubstr("tag 'broken' at step 9"));
  EXPECT_TRUE(d.scalars().empty());
}

TEST(RunDataTest, SeriesAreBoundedByTheLimits) {
  SamplingLimits limits;
  limits.scalars = 50;
  RunData d(limits);
  for (int i = 0; i < 10000; ++i) d.AddEvent(ScalarEvent(i, "loss", static_cast<float>(i)));
  const SampledSeries<ScalarPoint>& s = d.scalars().at("loss");
  EXPECT_LE(s.size(), 50u);
  EXPECT_EQ(s.Last()->step, 9999);
  EXPECT_EQ(s.offered(), 10000);
}

}  // namespace
}  // namespace braid::board
