// Public API: input pipelines and data formats (IDX / Fashion-MNIST, CSV,
// TFRecord, tf.Example).
#pragma once
#include "braid/data/dataset.h"
#include "braid/data/example_builder.h"
#include "braid/data/example_parser.h"
#include "braid/data/idx.h"
#include "braid/data/tfrecord.h"
#include "braid/data/tfrecord_dataset.h"
