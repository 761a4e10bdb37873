# snell2021 reproduction (label `slow`, ~40 s on 2 idle cores, two runs side by side): the
# contrast of Snell et al. (2021) at E = H = 64 — 40 distinct tokens of 60 are copied, V = 40
# permutations are not (tests/snell2021_repro.py on examples/snell2021-copy.ini, one seed each).
# The 20-seed measurement and the heads sweep are README recipes, not tests.
add_test(NAME snell2021_repro
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/snell2021_repro.py
          $<TARGET_FILE:attnsweep> ${CMAKE_SOURCE_DIR}/examples/snell2021-copy.ini)
set_tests_properties(snell2021_repro PROPERTIES LABELS slow TIMEOUT 900
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
