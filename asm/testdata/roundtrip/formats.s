# Every instruction of the table, in every operand format, with every register.
        .text
main:
        nop
        halt
        ebreak
        illegal
        mov     a0, a1
        mov     r2, r3
        li      a4, 524287
        li      a5, -524288
        lk      t0, 12345
        add     t1, t2, t3
        sub     s0, s1, s2
        mul     s3, fp, sp
        div     a0, a1, a2
        divu    a0, a1, a2
        rem     a0, a1, a2
        remu    a0, a1, a2
        and     a0, a1, a2
        or      a0, a1, a2
        xor     a0, a1, a2
        shl     a0, a1, a2
        shr     a0, a1, a2
        sar     a0, a1, a2
        slt     a0, a1, a2
        sltu    a0, a1, a2
        seq     a0, a1, a2
        sne     a0, a1, a2
        not     a0, a1
        neg     a0, a1
        addi    a0, a1, 32767
        muli    a0, a1, -32768
        andi    a0, a1, 255
        ori     a0, a1, 0x70
        xori    a0, a1, -1
        shli    a0, a1, 3
        shri    a0, a1, 63
        sari    a0, a1, 1
        slti    a0, a1, -5
        sltiu   a0, a1, 10
        lb      a0, 0(sp)
        lbu     a0, -1(fp)
        lh      a0, 2(a1)
        lhu     a0, (a2)
        lw      a0, 4(a3)
        lwu     a0, 8(a4)
        ld      a0, 16(a5)
        sb      t0, -32768(t1)
        sh      t0, 32767(t2)
        sw      t0, 12(t3)
        sd      s0, 24(s1)
        push    s2
        pop     s3
        enter   64
        enter   16777215
        leave
back:
        beq     a0, a1, back
        bne     a0, a1, fwd
        blt     a0, a1, back
        bge     a0, a1, fwd
        bltu    a0, a1, back
        bgeu    a0, a1, fwd
        beqz    a0, back
        bnez    a0, fwd
        jmp     back
        jr      t0
        call    fwd
        callr   t1
fwd:
        ret
        syscall exit
        syscall write
        syscall read
        syscall print_int
        syscall read_int
        syscall brk
        syscall sbrk
        syscall argc
        syscall argv
        syscall putc
        syscall puts
        syscall 999
        syscall 0
        .word   0x00000001              # a raw nop
        .align  16
        halt
