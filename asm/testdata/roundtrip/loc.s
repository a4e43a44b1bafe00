# Explicit source positions, as a listing writes them: odd file names and line 0.
        .loc    "gen/prog one.s" 1
main:   li      a0, 1
        li      a0, 2
        .loc    "gen/prog one.s" 0
        li      a0, 3
        .loc    "quote\"d \\ ünï.s" 4294967295
        li      a0, 4
        .loc    "gen/prog one.s" 7
        halt
        .loc    "tab\tname.s" 2
        nop
