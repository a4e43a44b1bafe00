# Includes and macros: the listing records each instruction's file and line with .loc.
        .include "inc/macros.inc"
        .include "inc/util.inc"

main:
        save    a0, a1
        la      a0, message
        call    print
        restore a1, a0
        twice   inc, t0
        twice   dec, t1
        halt

        .data
message:
        .asciz  "included\n"
