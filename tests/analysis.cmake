# analysis (label `analysis`): the Python package analysis/ under pytest. The conftest first runs
# a REAL tiny sweep (tests/analysis/tiny.ini, 24 lu2021 runs, `attnsweep run` under mpiexec on 3
# ranks) and checks runs.csv/summary.csv value by value against that file, every plot, partial
# and damaged files and `compare`; synthetic files in the same layout (tests/analysis/synth.py)
# cover the other families. ~1-3 min on 2 loaded cores, almost all of it matplotlib.
add_test(NAME analysis_pytest
  COMMAND /usr/bin/python3 -m pytest ${CMAKE_SOURCE_DIR}/tests/analysis -q -p no:cacheprovider
          --basetemp=${CMAKE_BINARY_DIR}/analysis-tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(analysis_pytest PROPERTIES LABELS analysis TIMEOUT 900
  ENVIRONMENT "ATTNSWEEP_BIN=$<TARGET_FILE:attnsweep>;PHASE_PLUGIN=$<TARGET_FILE:test_plugin_phase>;MPIEXEC=${MPIEXEC_EXECUTABLE};MPLBACKEND=Agg;PYTHONDONTWRITEBYTECODE=1;OPENBLAS_NUM_THREADS=1")
