# bench_smoke: runs srmudp-bench briefly; passes when each run exits 0 and prints its JSON line.

# Runs the benchmark with ARGN; fails unless it exits 0 and its JSON line matches `pattern`
# (the part between the opening `{"bench":"srmudp-bench",` and the closing `"complete":true}`).
function(run_bench pattern timeout)
    execute_process(COMMAND ${BENCH} ${ARGN}
                    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT ${timeout})
    message("${out}")
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "srmudp-bench ${ARGN} exited with ${rc}\n${err}")
    endif()
    if(NOT out MATCHES "\n{\"bench\":\"srmudp-bench\",${pattern}\"complete\":true}")
        message(FATAL_ERROR "srmudp-bench ${ARGN} printed no complete JSON line like ${pattern}")
    endif()
endfunction()

# Every default case.
run_bench("[^\n]*" 110 --seconds 0.2 --connections 100)
# The pinned placement (every machine has a CPU 0) with the latency and wake-up cases; the JSON
# names the placement and carries the wake-up variants.
run_bench("[^\n]*\"pin\":\"same\"[^\n]*\"wakeup\":{[^\n]*" 60
          --seconds 0.2 --cases latency,wakeup --pin same)
