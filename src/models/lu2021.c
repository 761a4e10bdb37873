/* SCAFFOLD — replaced by the lu2021 helper. */
#include "attnsweep/model.h"
const model_family_t lu2021_family = {.name = "lu2021", .summary = "(scaffold)"};
