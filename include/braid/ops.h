// Public API: every op's builder function (namespace braid::ops).
#pragma once
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/graph/ops/random_ops.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/graph/ops/summary_ops.h"
#include "braid/graph/ops/training_ops.h"
