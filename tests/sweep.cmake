# sweep — the sweep engine end to end through mpiexec (label `mpi`): bit-identical results for
# 1-4 ranks × dynamic/static, kill -9 / SIGTERM / SIGUSR1 then --resume back to the uninterrupted
# result, refused resumes that leave the file untouched, `status`/`plan` and the run statuses.
# Scripts: tests/sweep/*.sh ATTNSWEEP WORKDIR MPIEXEC...; specs: tests/sweep/{tiny,slow}.ini.
set(SWEEP_SRC ${CMAKE_CURRENT_SOURCE_DIR}/sweep)
set(SWEEP_WORK ${CMAKE_BINARY_DIR}/sweep-tests)

macro(sweep_test name script)
  add_test(NAME ${name}
    COMMAND ${SWEEP_SRC}/${script} ${ARGN} $<TARGET_FILE:attnsweep> ${SWEEP_WORK}/${name}
            ${MPIEXEC_SAFE})
  set_tests_properties(${name} PROPERTIES LABELS mpi TIMEOUT 600)
endmacro()

sweep_test(sweep_results_are_bit_identical_on_1_to_4_ranks_dynamic_and_static determinism.sh)
sweep_test(sweep_killed_by_kill9_of_a_worker_resumes_to_the_uninterrupted_result kill.sh worker9)
sweep_test(sweep_killed_by_kill9_of_mpirun_resumes_to_the_uninterrupted_result kill.sh mpirun9)
sweep_test(sweep_stopped_by_sigterm_exits_3_and_resumes_to_the_uninterrupted_result
  kill.sh sigterm)
sweep_test(sweep_interrupted_by_two_sigusr1_marks_runs_interrupted_and_resumes_on_other_ranks
  kill.sh usr1x2)
sweep_test(resume_with_a_changed_spec_is_refused_and_leaves_the_file_untouched refuse.sh)
sweep_test(status_plan_and_run_statuses_are_reported_and_a_damaged_trace_is_rerun status.sh)
sweep_test(traces_and_results_are_bit_identical_to_the_files_version_1_wrote version1.sh)
sweep_test(early_stopped_runs_are_done_with_the_unstopped_prefix_bit_for_bit early.sh)
sweep_test(a_second_writer_is_refused_and_a_dead_writers_lock_is_taken_over lock.sh)
sweep_test(reuse_copies_finished_runs_and_the_file_equals_a_from_scratch_sweep reuse.sh)
sweep_test(a_sweep_killed_while_creating_its_file_resumes create_kill.sh)
add_test(NAME refine_proposes_points_on_a_known_boundary_and_reuse_trains_only_them
  COMMAND ${SWEEP_SRC}/refine.sh $<TARGET_FILE:test_plugin_phase> $<TARGET_FILE:attnsweep>
          ${SWEEP_WORK}/refine ${MPIEXEC_SAFE})
set_tests_properties(refine_proposes_points_on_a_known_boundary_and_reuse_trains_only_them
  PROPERTIES LABELS mpi TIMEOUT 600)
