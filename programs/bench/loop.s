# bench/loop.s: the arithmetic-loop benchmark. Reads N and prints s after
#               s = (s*31 + i) % 1000000007 for i = 0 .. N-1, starting from s = 0, as
#               bench/peers/loop.lua does.
#
#     spindle run programs/bench/loop.s <<< 100000000
#     ../shared/bench/compare loop                   # against Lua 5.4 and native Go
#
# It measures the interpreter's dispatch on plain register arithmetic: no memory, no calls.
# The loop body is four instructions, the fewest this instruction set allows:
#
#   - everything lives in registers: s, i, N and the modulus. Nothing is loaded or stored.
#   - the modulus 1000000007 does not fit li's 20 bits, so it comes from the constant pool
#     (an lk); that happens once, before the loop, and the loop divides by a register.
#   - s*31 uses muli, the immediate form, so 31 needs no register and no instruction.
#   - the test is at the bottom: one conditional branch a pass, where a test at the top
#     would need it plus a jmp back. N <= 0 is checked once, before entering.
#   - the increment and the test are one instruction, loop, as in Lua's FORLOOP: one
#     dispatch where addi and blt would take two.
#   - s stays below 1000000007 and s*31 + i below 2^63, so the signed rem gives the same
#     result as Lua's floor modulo, and nothing overflows.
#
# With no input, or a line that is not an integer, N is 100000000, the peer's default.

        .text
main:   syscall read_int            # a0 = N, a1 = 0 if there was no integer
        bnez    a1, .run
        li      a0, 100_000_000
.run:   li      t0, 0               # s
        li      t1, 0               # i
        li      t2, 1_000_000_007   # assembled as lk: the value is beyond 20 bits
        bge     t1, a0, .done       # N <= 0: the loop runs zero times, s stays 0
.loop:  muli    t0, t0, 31
        add     t0, t0, t1
        rem     t0, t0, t2
        loop    t1, a0, .loop       # i += 1; again while i < N. The only branch in the loop;
                                    # taken backward, it is also where the interpreter checks
                                    # for preemption
.done:  mov     a0, t0
        syscall print_int
        li      a0, '\n'
        syscall putc
        li      a0, 0
        syscall exit
