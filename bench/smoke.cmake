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
