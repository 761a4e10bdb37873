# cluster — the batch-job and multi-host tests (README "Running on a cluster"). Label `slurm`: a
# real single-node SLURM cluster (Debian's slurmctld + slurmd + munge, slurmdbd on a private
# MariaDB for accounts and QOS, the PBS/Torque qsub wrappers; installed with apt-get if missing)
# is started by a fixture, the job scripts are submitted to it, and the cluster is torn down by
# the cleanup fixture even when a test fails. Four walltime chains run side by side (submitted by
# one test, checked by one test each) to keep the label's wall time near that of the longest.
# Label `multihost`: sweeps across emulated hosts (network namespaces, TCP): one loses a host and
# resumes, one meets the lock a dead host left. Root only: without root the tests report SKIP
# (exit 77). The SLURM entries share one cluster: RESOURCE_LOCK.
set(CLUSTER_SRC ${CMAKE_CURRENT_SOURCE_DIR}/cluster)
set(CLUSTER_WORK ${CMAKE_BINARY_DIR}/cluster-tests)

function(slurm_test name case timeout)
  add_test(NAME ${name} COMMAND ${CLUSTER_SRC}/test_slurm.sh ${case} $<TARGET_FILE:attnsweep>
           ${CMAKE_SOURCE_DIR} ${CLUSTER_WORK}/slurm)
  set_tests_properties(${name} PROPERTIES LABELS slurm RESOURCE_LOCK slurm_test_cluster
                       SKIP_RETURN_CODE 77 TIMEOUT ${timeout})
endfunction()
add_test(NAME slurm_cluster_up COMMAND ${CLUSTER_SRC}/slurm-cluster.sh up ${CLUSTER_WORK}/slurm)
add_test(NAME slurm_cluster_down COMMAND ${CLUSTER_SRC}/slurm-cluster.sh down ${CLUSTER_WORK}/slurm)
set_tests_properties(slurm_cluster_up PROPERTIES FIXTURES_SETUP slurm_cluster TIMEOUT 300)
set_tests_properties(slurm_cluster_down PROPERTIES FIXTURES_CLEANUP "slurm_cluster;slurm_chains"
                     TIMEOUT 120)
set_tests_properties(slurm_cluster_up slurm_cluster_down PROPERTIES LABELS slurm
                     RESOURCE_LOCK slurm_test_cluster SKIP_RETURN_CODE 77)
set(SLURM_CHAINS slurm_four_walltime_chains_are_submitted_beside_a_plain_reference_run)
slurm_test(${SLURM_CHAINS} chains 420)
set_tests_properties(${SLURM_CHAINS} PROPERTIES FIXTURES_SETUP slurm_chains
                     FIXTURES_REQUIRED slurm_cluster)
slurm_test(slurm_job_runs_a_small_sweep_to_completion_and_stops_when_it_cannot_advance basic 300)
set_tests_properties(slurm_job_runs_a_small_sweep_to_completion_and_stops_when_it_cannot_advance
                     PROPERTIES FIXTURES_REQUIRED slurm_cluster DEPENDS ${SLURM_CHAINS})
slurm_test(slurm_job_past_its_walltime_is_requeued_with_its_account_qos_and_memory_then_reported
           requeue 600)
slurm_test(slurm_job_launched_by_srun_stops_at_its_walltime_and_is_requeued_to_the_same_result
           srun 600)
slurm_test(slurm_job_that_cannot_be_requeued_submits_copies_with_its_options_and_moves_its_report
           fallback 600)
slurm_test(slurm_pbs_script_through_qsub_resubmits_the_users_copy_past_its_walltime pbs 600)
set_tests_properties(
  slurm_job_past_its_walltime_is_requeued_with_its_account_qos_and_memory_then_reported
  slurm_job_launched_by_srun_stops_at_its_walltime_and_is_requeued_to_the_same_result
  slurm_job_that_cannot_be_requeued_submits_copies_with_its_options_and_moves_its_report
  slurm_pbs_script_through_qsub_resubmits_the_users_copy_past_its_walltime
  PROPERTIES FIXTURES_REQUIRED "slurm_cluster;slurm_chains")

add_test(NAME multihost_sweep_loses_a_host_and_resumes_without_loss_or_rework
  COMMAND ${CLUSTER_SRC}/test_multihost.sh loss $<TARGET_FILE:attnsweep> ${CMAKE_SOURCE_DIR}
          ${CLUSTER_WORK}/multihost/loss)
add_test(NAME multihost_lock_of_a_writer_killed_on_one_host_holds_off_another_until_stale
  COMMAND ${CLUSTER_SRC}/test_multihost.sh lock $<TARGET_FILE:attnsweep> ${CMAKE_SOURCE_DIR}
          ${CLUSTER_WORK}/multihost/lock)
set_tests_properties(multihost_sweep_loses_a_host_and_resumes_without_loss_or_rework
  multihost_lock_of_a_writer_killed_on_one_host_holds_off_another_until_stale PROPERTIES
  LABELS multihost TIMEOUT 300 SKIP_RETURN_CODE 77 RESOURCE_LOCK multihost_namespaces)

# The job scripts CI has no real target for, run for real: jobs/local.sh (Ctrl-C, then a killed
# rank and its resume loop) and jobs/pbs.pbs outside PBS (its own alarm, qsub recorded). Labels
# `mpi` (they need mpirun, nothing else) and `jobs`.
add_test(NAME jobs_local_sh_stops_on_ctrl_c_and_resumes_after_a_killed_rank
  COMMAND ${CLUSTER_SRC}/test_jobs.sh local $<TARGET_FILE:attnsweep> ${CMAKE_SOURCE_DIR}
          ${CLUSTER_WORK}/local)
add_test(NAME jobs_pbs_script_stops_at_its_alarm_and_resubmits_itself
  COMMAND ${CLUSTER_SRC}/test_jobs.sh pbs $<TARGET_FILE:attnsweep> ${CMAKE_SOURCE_DIR}
          ${CLUSTER_WORK}/pbs)
set_tests_properties(jobs_local_sh_stops_on_ctrl_c_and_resumes_after_a_killed_rank
  jobs_pbs_script_stops_at_its_alarm_and_resubmits_itself PROPERTIES LABELS "mpi;jobs" TIMEOUT 180)

# If ctest kills the multihost test (timeout), its EXIT trap cannot run: this cleanup removes our
# namespaces and what runs in them.
add_test(NAME multihost_cluster_down
  COMMAND ${CLUSTER_SRC}/netns-cluster.sh down ${CLUSTER_WORK}/multihost/cluster)
set_tests_properties(multihost_cluster_down PROPERTIES LABELS multihost TIMEOUT 60
  FIXTURES_CLEANUP multihost_cluster RESOURCE_LOCK multihost_namespaces)
set_tests_properties(multihost_sweep_loses_a_host_and_resumes_without_loss_or_rework
  multihost_lock_of_a_writer_killed_on_one_host_holds_off_another_until_stale PROPERTIES
  FIXTURES_REQUIRED multihost_cluster)
