#include "braid/serving/model_server_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "braid/serving/batching_parameters.h"

namespace braid::serving {
namespace {

using ::testing::HasSubstr;

TEST(ModelServerConfigTest, ParsesTfServingsTextFormat) {
  auto config = ParseModelServerConfig(R"(
    model_config_list {
      config {
        name: "fmnist"  base_path: "/models/fmnist"  model_platform: "tensorflow"
        model_version_policy { specific { versions: 3 versions: 4 } }
        version_labels { key: "stable" value: 3 }
        version_labels { key: "canary" value: 4 }
      }
      config { name: "mlp"  base_path: "mlp"  model_version_policy { latest { num_versions: 2 } } }
      config { name: "all"  base_path: "/a"  model_version_policy { all {} } }
    })");
  ASSERT_TRUE(config.ok()) << config.status();
  auto models = ModelsFromConfig(*config, "/etc/braid");
  ASSERT_TRUE(models.ok()) << models.status();
  ASSERT_EQ(models->size(), 3u);
  const ServedModel& f = (*models)[0];
  EXPECT_EQ(f.model.name, "fmnist");
  EXPECT_EQ(f.model.base_path, "/models/fmnist");
  EXPECT_EQ(f.model.policy.kind, VersionPolicy::Kind::kSpecific);
  EXPECT_EQ(f.model.policy.specific, (std::set<int64_t>{3, 4}));
  EXPECT_EQ(f.labels, (std::map<std::string, int64_t>{{"stable", 3}, {"canary", 4}}));
  EXPECT_EQ((*models)[1].model.base_path, "/etc/braid/mlp");
  EXPECT_EQ((*models)[1].model.policy.kind, VersionPolicy::Kind::kLatest);
  EXPECT_EQ((*models)[1].model.policy.num_latest, 2);
  EXPECT_EQ((*models)[2].model.policy.kind, VersionPolicy::Kind::kAll);
}

TEST(ModelServerConfigTest, RejectsWhatItCannotServeNamingIt) {
  auto error = [](const std::string& text) {
    auto config = ParseModelServerConfig(text);
    if (!config.ok()) return std::string(config.status().message());
    auto models = ModelsFromConfig(*config);
    return models.ok() ? std::string("ok") : std::string(models.status().message());
  };
  EXPECT_THAT(error("model_config_list { config { name: \"a\" base_path: \"/a\" } "),
              HasSubstr("the model config is not a valid ModelServerConfig: line 1"));
  EXPECT_THAT(error("model_config_list { config { nme: \"a\" } }"), HasSubstr("nme"));
  EXPECT_THAT(error("model_config_list { config { base_path: \"/a\" } }"), HasSubstr("no name"));
  EXPECT_THAT(error("model_config_list { config { name: \"a\" } }"),
              HasSubstr("model 'a' has no base_path"));
  EXPECT_THAT(
      error("model_config_list { config { name: \"a\" base_path: \"/a\" model_platform: \"onnx\" } }"),
      HasSubstr("model_platform 'onnx' is not supported"));
  EXPECT_THAT(error("model_config_list { config { name: \"a\" base_path: \"/a\" "
                    "model_version_policy { specific {} } } }"),
              HasSubstr("lists no versions"));
  EXPECT_THAT(error("model_config_list { config { name: \"a\" base_path: \"/a\" "
                    "model_version_policy { latest { num_versions: 0 } } } }"),
              HasSubstr("num_versions >= 1"));
  EXPECT_EQ(error("model_config_list { config { name: \"a\" base_path: \"/a\" "
                  "logging_config { sampling_config { sampling_rate: 0.5 } } } }"),
            "ok");
}

TEST(BatchingParametersTest, ParsesTfServingsTextFormatWithDefaults) {
  auto o = ParseBatchingParameters(
      "max_batch_size { value: 64 } batch_timeout_micros { value: 2000 } "
      "num_batch_threads { value: 3 } allowed_batch_sizes: [8, 32, 64]");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->max_batch_size, 64);
  EXPECT_EQ(o->batch_timeout_micros, 2000);
  EXPECT_EQ(o->num_batch_threads, 3);
  EXPECT_EQ(o->max_enqueued_batches, 100);
  EXPECT_EQ(o->allowed_batch_sizes, (std::vector<int64_t>{8, 32, 64}));
  auto defaults = ParseBatchingParameters("");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->max_batch_size, 1000);
  EXPECT_GE(defaults->num_batch_threads, 1);
  EXPECT_THAT(std::string(ParseBatchingParameters("max_batch_size: 3").status().message()),
              HasSubstr("not a valid BatchingParameters"));
  EXPECT_FALSE(ParseBatchingParameters("max_batch_size { value: 64 } allowed_batch_sizes: [8, 32]")
                   .ok());
}

}  // namespace
}  // namespace braid::serving
