# sakamoto2024 reproductions (label `slow`), one per paper version, 5 seeds a cell, final
# accuracies within +-0.05 of the paper (tests/sakamoto2024_regimes.py):
#   sakamoto2024_regimes  final settings, examples/sakamoto2024-regimes.ini (~40 s on one core)
#   sakamoto2024_v1       v1 settings, examples/sakamoto2024-v1.ini (~25 s on one core)
add_test(NAME sakamoto2024_regimes
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/sakamoto2024_regimes.py
          $<TARGET_FILE:attnsweep> ${CMAKE_SOURCE_DIR}/examples/sakamoto2024-regimes.ini final)
add_test(NAME sakamoto2024_v1
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/sakamoto2024_regimes.py
          $<TARGET_FILE:attnsweep> ${CMAKE_SOURCE_DIR}/examples/sakamoto2024-v1.ini v1)
set_tests_properties(sakamoto2024_regimes sakamoto2024_v1 PROPERTIES LABELS slow TIMEOUT 900
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
