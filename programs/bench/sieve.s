# bench/sieve.s: the memory benchmark. Reads N and, three times over, fills a byte array
#                a[0..N] with 1 and runs the sieve of Eratosthenes on it, counting the primes
#                up to N; then prints the count. The same algorithm as bench/peers/sieve.lua:
#
#                    for each i from 2 to N: if a[i] == 1 then
#                        count += 1; for j = i*i, i*i + i, ... while j <= N: a[j] = 0
#
#     spindle run programs/bench/sieve.s <<< 10000000      # prints 664579
#     ../shared/bench/compare sieve                        # against Lua 5.4 and native Go
#
# The array takes N + 1 bytes, 10 MB by default. In .bss it would fix the largest N when the
# program is assembled, and every run would pay for the largest; from the heap, sbrk gives
# exactly what this N needs. The three repetitions reuse it, filling it again each time, as
# Lua fills a new table.
#
# The hot loops, and why each is as short as it is:
#
#   - every loop walks a pointer, not an index: a[i] is 0(p), so no add per access. The
#     index i is needed only when a prime is found (for i*i and the stride), and is then
#     recovered as p - base, off the common path.
#   - the constants 1 (for the fill) and 0 (for crossing off) are held in registers, because
#     sb stores a register, and there is no zero register.
#   - each loop tests at the bottom, with one conditional branch that is taken backward; the
#     loops are entered only when they will run at least once.
#   - the scan is laid out for composites, the common case (over 93% of numbers up to 10^7):
#     a composite costs four instructions (lbu, an untaken bnez, the pointer step, the loop
#     branch); the prime case branches out of line and jumps back.
#   - crossing off is three instructions a multiple: sb, add the stride, branch.
#
# With no input, or a line that is not an integer, N is 10000000, the peer's default.

        .data
nomem:  .ascii  "sieve: the heap cannot grow to hold the array\n"
nomem_end:

        .text
main:   syscall read_int            # a0 = N, a1 = 0 if there was no integer
        bnez    a1, .run
        li      a0, 10_000_000
.run:   mov     s1, a0              # N
        li      s2, 0               # count: 0 for N < 2, where the scan finds nothing
        li      t0, 2
        blt     s1, t0, .print      # N < 2: no primes, and no array to ask sbrk for
        addi    a0, s1, 1           # a[0..N] is N + 1 bytes
        syscall sbrk                # a0 = the old break: the start of the new bytes
        li      t0, -1
        beq     a0, t0, .nomem
        mov     s0, a0              # base = &a[0]
        add     s3, s0, s1          # last = &a[N]: the loops run while p <= last
        li      a4, 1               # the byte for "maybe prime"
        li      a5, 0               # the byte for "crossed off"
        li      t3, 3               # repetitions

.rep:   mov     t0, s0              # fill a[0..N] with 1
.fill:  sb      a4, 0(t0)
        addi    t0, t0, 1
        bleu    t0, s3, .fill       # addresses compare unsigned

        li      s2, 0               # count
        addi    t0, s0, 2           # p = &a[2]; N >= 2, so the scan runs at least once
.scan:  lbu     t1, 0(t0)
        bnez    t1, .prime          # rare: out of line, so composites fall straight through
.next:  addi    t0, t0, 1
        bleu    t0, s3, .scan
        addi    t3, t3, -1
        bnez    t3, .rep
        jmp     .print

.prime: addi    s2, s2, 1           # count += 1
        sub     t1, t0, s0          # i = p - base
        mul     t2, t1, t1          # j = i*i
        add     t2, s0, t2          # q = &a[j]
        bgtu    t2, s3, .next       # i*i > N: nothing to cross off (true for every i past
                                    # sqrt(N), as in the peer, which also tests it each time)
.cross: sb      a5, 0(t2)           # a[j] = 0
        add     t2, t2, t1          # j += i
        bleu    t2, s3, .cross
        jmp     .next

.print: mov     a0, s2
        syscall print_int
        li      a0, '\n'
        syscall putc
        li      a0, 0
        syscall exit

.nomem: li      a0, 2               # stderr
        la      a1, nomem
        li      a2, nomem_end - nomem
        syscall write
        li      a0, 1
        syscall exit
