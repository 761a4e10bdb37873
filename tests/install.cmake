# install (labels `install`, `mpi`): `cmake --install` into a temporary prefix, the demo by the
# installed binary, the example plugin built out of tree with pkg-config and swept under MPI,
# status and analysis through the installed wrapper (tests/install/test_install.sh).
add_test(NAME installed_attnsweep_runs_the_demo_and_sweeps_an_out_of_tree_plugin
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install/test_install.sh ${CMAKE_SOURCE_DIR}
          ${CMAKE_BINARY_DIR} ${CMAKE_BINARY_DIR}/install-test ${MPIEXEC_SAFE})
set_tests_properties(installed_attnsweep_runs_the_demo_and_sweeps_an_out_of_tree_plugin
  PROPERTIES LABELS "install;mpi" TIMEOUT 600)
