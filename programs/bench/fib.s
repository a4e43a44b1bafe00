# bench/fib.s: the call benchmark. Reads N and prints fib(N), computed by the naive recursion
#              fib(n) = n for n < 2, else fib(n-1) + fib(n-2), as bench/peers/fib.lua does.
#
#     spindle run programs/bench/fib.s <<< 35        # prints 9227465
#     ../shared/bench/compare fib                    # against Lua 5.4 and native Go
#
# fib(35) makes 30 million calls and does almost nothing else, so it measures what a call, a
# return and a push cost in the interpreter. Like the Lua peer, it makes one call per fib(n),
# leaves included; only the instructions around each call are trimmed:
#
#   - no frame. enter and leave cost two instructions a call and only serve the debugger's
#     backtrace (see programs/frames.s); the stack still holds every return address.
#     programs/fib.s is the same function with a frame and the full convention: 16
#     instructions for an inner call and 3 for a leaf, where this one takes 11 and 2.
#   - the constant 2 lives in s3, set once by main. fib never writes s3, so it honours the
#     convention (s3 is callee-saved), and the test `n < 2` is one blt instead of li + blt;
#     leaves are more than half of all calls, so that one instruction is worth a register.
#   - the stack slot that saves n is reused to save fib(n-1), instead of saving both in s0
#     and s1, which would cost two pushes, two pops and two movs.
#
# With no input, or a line that is not an integer, N is 32, the peer's default.

        .text
# fib(a0 = n) returns a0 = fib(n). Needs s3 = 2.
fib:    blt     a0, s3, .leaf       # n < 2: fib(n) = n, already in a0
        push    a0                  # n must survive the first call: a0 is caller-saved
        addi    a0, a0, -1
        call    fib                 # a0 = fib(n-1)
        ld      t0, 0(sp)           # n back from the slot ...
        sd      a0, 0(sp)           # ... which now keeps fib(n-1) across the second call
        addi    a0, t0, -2
        call    fib                 # a0 = fib(n-2)
        pop     t0                  # fib(n-1), and the slot is released
        add     a0, a0, t0
.leaf:  ret

main:   syscall read_int            # a0 = N, a1 = 0 if there was no integer
        bnez    a1, .run
        li      a0, 32
.run:   li      s3, 2               # main never returns (it exits), so it need not save s3
        call    fib
        syscall print_int
        li      a0, '\n'
        syscall putc
        li      a0, 0
        syscall exit
