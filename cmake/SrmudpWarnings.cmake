# Warning flags for every target this project compiles; SRMUDP_WERROR turns them into errors.
add_library(srmudp_warnings INTERFACE)
target_compile_options(srmudp_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                                 -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
                                                 -Wunused -Woverloaded-virtual -Wnull-dereference
                                                 -Wimplicit-fallthrough)
if(SRMUDP_WERROR)
    target_compile_options(srmudp_warnings INTERFACE -Werror)
endif()
