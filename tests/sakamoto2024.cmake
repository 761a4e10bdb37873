# sakamoto2024 reproduction (label `slow`, ~40 s on one core): the paper's three regimes from
# examples/sakamoto2024-regimes.ini, 5 seeds each, final accuracies within +-0.05 of the paper.
add_test(NAME sakamoto2024_regimes
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/sakamoto2024_regimes.py
          $<TARGET_FILE:attnsweep> ${CMAKE_SOURCE_DIR}/examples/sakamoto2024-regimes.ini)
set_tests_properties(sakamoto2024_regimes PROPERTIES LABELS slow TIMEOUT 900
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
