# bench_smoke: runs srmudp-bench briefly; passes when it exits 0 and prints its JSON line.
execute_process(COMMAND ${BENCH} --seconds 0.2 --connections 100
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 110)
message("${out}")
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "srmudp-bench exited with ${rc}\n${err}")
endif()
if(NOT out MATCHES "\n{\"bench\":\"srmudp-bench\",[^\n]*\"complete\":true}")
    message(FATAL_ERROR "srmudp-bench printed no complete JSON line")
endif()

# The pinned placement (every machine has a CPU 0) with the latency and wake-up cases; the JSON
# names the placement and carries the wake-up variants.
execute_process(COMMAND ${BENCH} --seconds 0.2 --cases latency,wakeup --pin same
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 60)
message("${out}")
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "srmudp-bench --pin same exited with ${rc}\n${err}")
endif()
if(NOT out MATCHES "\n{\"bench\":\"srmudp-bench\",[^\n]*\"pin\":\"same\"[^\n]*\"wakeup\":{[^\n]*\"complete\":true}")
    message(FATAL_ERROR "srmudp-bench --pin same printed no complete JSON line naming the placement")
endif()
