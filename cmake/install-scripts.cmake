# install-scripts.cmake — run by `cmake --install` (with the install prefix known only then):
# copies jobs/ into share/attnsweep/jobs with the installed binary as each script's default
# ATTNSWEEP, and writes bin/attnsweep-analysis, which runs the installed analysis package.
set(prefix "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
set(bin "${CMAKE_INSTALL_PREFIX}/${ATTNSWEEP_BINDIR}")
set(share "${CMAKE_INSTALL_PREFIX}/${ATTNSWEEP_DATADIR}/attnsweep")
file(GLOB jobs "${ATTNSWEEP_SOURCE_DIR}/jobs/*")
file(MAKE_DIRECTORY "${prefix}/${ATTNSWEEP_DATADIR}/attnsweep/jobs")
foreach(job ${jobs})
  get_filename_component(name "${job}" NAME)
  file(READ "${job}" text)
  string(REPLACE "ATTNSWEEP=\${ATTNSWEEP:-attnsweep}" "ATTNSWEEP=\${ATTNSWEEP:-${bin}/attnsweep}"
         text "${text}")
  set(dest "${prefix}/${ATTNSWEEP_DATADIR}/attnsweep/jobs/${name}")
  message(STATUS "Installing: ${dest}")
  file(WRITE "${dest}" "${text}")
  file(CHMOD "${dest}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
       WORLD_READ WORLD_EXECUTE)
endforeach()
set(wrapper "${prefix}/${ATTNSWEEP_BINDIR}/attnsweep-analysis")
message(STATUS "Installing: ${wrapper}")
file(WRITE "${wrapper}" "#!/bin/sh
# attnsweep-analysis — tables and plots from results files (python3 -m analysis, installed).
PYTHONPATH=\"${share}\${PYTHONPATH:+:\$PYTHONPATH}\" exec /usr/bin/python3 -m analysis \"\$@\"
")
file(CHMOD "${wrapper}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
     WORLD_READ WORLD_EXECUTE)
