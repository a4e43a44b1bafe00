# fib.s: reads n and prints the n-th Fibonacci number, computed by the naive recursion
#        fib(n) = n for n < 2, else fib(n-1) + fib(n-2).
#
#     spindle run programs/fib.s <<< 20          # prints 6765
#
# What it shows:
#   - a recursive function that follows the calling convention: its argument in a0, its
#     result in a0, and what must survive its own calls kept in callee-saved registers;
#   - the price of the naive recursion: fib(n) makes about 1.6^n calls, so n = 30 already
#     runs millions of instructions (try `spindle run --stats programs/fib.s <<< 30`);
#   - reading input with read_int, and saying so on stderr when the input is not a number.

        .data
usage:  .ascii  "fib: expected an integer on stdin\n"
usage_end:

        .text
# fib(a0 = n) returns a0 = fib(n).
fib:    li      t0, 2
        blt     a0, t0, .base       # the leaves are more than half of all calls: answer them
                                    # before building a frame, which they do not need
        enter   0                   # a frame (no locals), so that a debugger can walk the stack
        push    s0, s1              # we use two callee-saved registers: keep the caller's values
        mov     s0, a0              # n must survive the first call; a0 will not (caller-saved)
        addi    a0, s0, -1
        call    fib                 # a0 = fib(n-1)
        mov     s1, a0              # ... and it must survive the second call
        addi    a0, s0, -2
        call    fib                 # a0 = fib(n-2)
        add     a0, a0, s1          # the result goes back in a0
        pop     s1, s0              # the reverse order of the pushes
        leave
.base:  ret                         # for n < 2, fib(n) = n is already in a0

main:   syscall read_int            # a0 = n; a1 = 1 if the line was an integer, else 0
        beqz    a1, .bad
        call    fib
        syscall print_int           # fib's result is already where print_int wants it
        li      a0, '\n'
        syscall putc
        li      a0, 0               # exit status 0; main uses no saved register, so it can
        ret                         # simply return: the loader's stub calls exit with a0

.bad:   li      a0, 2               # complaints go to stderr, so stdout stays clean for data
        la      a1, usage
        li      a2, usage_end - usage
        syscall write
        li      a0, 1               # a non-zero status tells the shell that something failed
        ret
