# lu2021 reproduction (label `slow`, ~2-10 s each on one quiet core): `attnsweep train` on the
# authors' synthetic configuration with each classifier, in each precision, checked against what
# the authors' code gives on it (docs/models.md) by tests/lu2021_repro.py (convergence step, final
# attention, monotone attention, SEN).
foreach(variant IN ITEMS "fixed;lu2021" "linear;lu2021-tc" "mlp;lu2021-mlp")
  list(GET variant 0 cls)
  list(GET variant 1 ini)
  foreach(prec IN ITEMS float32 float64)
    add_test(NAME lu2021_repro_${cls}_${prec}
      COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/lu2021_repro.py
              $<TARGET_FILE:attnsweep> ${CMAKE_SOURCE_DIR}/examples/${ini}.ini ${cls} ${prec})
    set_tests_properties(lu2021_repro_${cls}_${prec} PROPERTIES LABELS slow TIMEOUT 900
      ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
  endforeach()
endforeach()
# lu2021 on labelled sentences under MPI (label `mpi`): data files hashed into the results file,
# --resume refused and --reuse selective after a data file changes, a bad line named before
# anything trains (tests/sweep/text.sh).
add_test(NAME lu2021_text_sweep_records_its_data_and_refuses_changed_data
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/sweep/text.sh $<TARGET_FILE:attnsweep>
          ${CMAKE_BINARY_DIR}/sweep-tests/lu2021_text ${MPIEXEC_SAFE})
set_tests_properties(lu2021_text_sweep_records_its_data_and_refuses_changed_data
  PROPERTIES LABELS mpi TIMEOUT 600 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
