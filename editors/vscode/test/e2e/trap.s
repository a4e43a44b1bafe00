# trap.s: a load through a null pointer, at line 8, for session.js to stop at as an exception.
        .data
buf:    .quad   7
        .text
main:   la      t0, buf
        ld      a0, 0(t0)
        li      t1, 0
        ld      a1, 0(t1)       # a null pointer: the load traps
        ret
