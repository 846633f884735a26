// Public API: Keras-style layers, Sequential models and JSON model specs.
#pragma once
#include "braid/layers/layer.h"
#include "braid/layers/model_spec.h"
#include "braid/layers/sequential.h"
