# snell2021 reproduction (label `slow`, two runs side by side: ~40 s of CPU each, 135 s wall on 2
# cores under a load of 8-12): the contrast of Snell et al. (2021) at E = H = 64 — 40 distinct
# tokens of 60 are copied, V = 40 permutations are not (tests/snell2021_repro.py on
# examples/snell2021-copy.ini, one seed each). The 20-seed measurement, the heads sweep and the
# head screening are README recipes, not tests.
add_test(NAME snell2021_repro
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/snell2021_repro.py
          $<TARGET_FILE:attnsweep> ${CMAKE_SOURCE_DIR}/examples/snell2021-copy.ini)
set_tests_properties(snell2021_repro PROPERTIES LABELS slow TIMEOUT 900
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
