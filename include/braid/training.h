// Public API: optimizers, learning-rate schedules, gradient clipping.
#pragma once
#include "braid/train/learning_rate.h"
#include "braid/train/optimizer.h"
