// Public API: tensors and their wire form.
#pragma once
#include "braid/tensor/dtype.h"
#include "braid/tensor/tensor.h"
#include "braid/tensor/tensor_proto.h"
#include "braid/tensor/tensor_shape.h"
