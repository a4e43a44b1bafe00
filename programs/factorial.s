# factorial.s: reads n and prints n! = 1 * 2 * ... * n, computed with a loop.
#
#     spindle run programs/factorial.s <<< 10        # prints 3628800
#
# What it shows:
#   - a counted loop in registers only, with its test at the bottom: one branch per pass;
#   - a leaf function (it calls nothing), which needs no frame and touches only
#     caller-saved registers, so it saves nothing either;
#   - wrapping arithmetic: registers hold 64 bits and `mul` never traps, so 21! would come
#     out silently wrong. The program checks its input instead of printing garbage.

        .equ    MAXN, 20            # 20! = 2432902008176640000 < 2^63 <= 21!

        .data
usage:  .ascii  "factorial: expected an integer from 0 to 20 on stdin\n"
usage_end:

        .text
# factorial(a0 = n) returns a0 = n!, for 0 <= n <= MAXN.
factorial:
        li      t0, 1               # the product so far; 0! = 1! = 1
        li      t1, 1               # the constant 1, held in a register for the comparison
        bge     t1, a0, .done       # n <= 1: the loop would not run at all
.loop:  mul     t0, t0, a0          # multiply from n down to 2: the counter a0 is also the
        dec     a0                  # factor, so no second register is needed
        blt     t1, a0, .loop       # again while 1 < a0
.done:  mov     a0, t0
        ret

main:   syscall read_int            # a0 = n, a1 = 1 if the line held an integer
        beqz    a1, .bad
        li      t0, 0
        blt     a0, t0, .bad        # (-1)! is not defined
        li      t0, MAXN
        bgt     a0, t0, .bad        # would wrap around: refuse rather than lie
        call    factorial
        syscall print_int
        li      a0, '\n'
        syscall putc
        li      a0, 0
        ret                         # status 0, through the loader's exit stub

.bad:   li      a0, 2               # stderr
        la      a1, usage
        li      a2, usage_end - usage
        syscall write
        li      a0, 1
        ret
