# Local labels in several scopes, qualified references, several labels on one address, a label
# past the last instruction, and an entry point that is not main.
        .entry  start

main:
        li      a0, 0
.loop:
        addi    a0, a0, 1
        slti    t0, a0, 10
        bnez    t0, .loop
        call    count
        beqz    a0, main.done
.done:
        ret

count:
.loop:  addi    a1, a1, -1          ; another scope's .loop
        bnez    a1, .loop
        bnez    a1, main.loop
        jmp     count.end
.end:
alias:
        ret

start:
start.again:
        call    main
        jmp     start.again
the_end:
