# Pseudo-instructions, which list as the instructions they stand for.
main:
        li      a0, 5
        li      a0, 1 << 40
        la      a1, msg
        mov     a2, 7
        mov     a2, a3
        subi    a3, a3, 4
        inc     t0
        dec     t0
        add     t1, t1, 100
        sub     t1, t1, 100
        and     t2, t2, 0xff
        shl     t2, t2, 2
        b       .next
.next:
        j       .next
        bgt     a0, a1, main
        ble     a0, a1, main
        bgtu    a0, a1, main
        bleu    a0, a1, main
        call    t3
        jmp     t3
        push    a0, a1, a2
        pop     a2, a1, a0
        syscall exit

        .data
msg:    .asciz  "pseudo"
