# lib/str.s: the string functions that the programs in programs/files and programs/net share,
# and die, which ends a program with a message.
#
#     .include "../lib/str.s"       # in the text of a program in programs/files or programs/net
#
# It defines no main and no data of its own. Each function takes its arguments in a0 (and a1),
# returns in a0, and uses t0 and t1 besides, as the calling convention allows.

# strlen: a0 = the address of a NUL-terminated string; returns its length in a0.
strlen: mov     t0, a0
.loop:  lbu     t1, 0(t0)
        beqz    t1, .end
        inc     t0
        jmp     .loop
.end:   sub     a0, t0, a0
        ret

# eputs: writes the NUL-terminated string at a0 to stderr.
eputs:  push    a0
        call    strlen
        mov     a2, a0
        pop     a1
        li      a0, 2
        syscall write
        ret

# die: writes the NUL-terminated string at a0 to stderr, and exits with status a1. It does not
# return.
die:    push    a1
        call    eputs
        pop     a0
        syscall exit

# appendstr: a0 = where to write, a1 = the address of a NUL-terminated string; copies the string
# there, without its NUL, and returns in a0 the address past it, where the next may follow.
appendstr:
        lbu     t0, 0(a1)
        beqz    t0, .end
        sb      t0, 0(a0)
        inc     a0
        inc     a1
        jmp     appendstr
.end:   ret
