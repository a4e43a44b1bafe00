# primes.s: reads n and prints every prime up to n, one per line, found with the sieve of
#           Eratosthenes.
#
#     spindle run programs/primes.s <<< 30           # 2 3 5 7 11 13 17 19 23 29
#
# What it shows:
#   - a table in .bss, indexed by a number: the address of entry i is the table's address
#     plus i, because each entry is one byte;
#   - choosing an encoding so that the initial state costs nothing: .bss starts as zero
#     bytes, so 0 means "not crossed off yet" and the table needs no setup loop;
#   - nested loops with their tests at the bottom, entered only when they will run at least
#     once, so that each pass costs a single branch;
#   - a main that saves the callee-saved registers it uses, then returns its status with ret.

        .equ    MAXN, 1_000_000     # the largest n the table can hold

        .data
usage:  .ascii  "primes: expected an integer up to 1000000 on stdin\n"
usage_end:

        .bss
composite:
        .space  MAXN + 1            # composite[i] != 0 once i is known to have a factor

        .text
# sieve(a0 = n) crosses off, in composite, every number from 4 to n that has a smaller
# factor. A leaf: it uses only a0-a5 and t0-t3, which it may change without saving.
sieve:  la      a1, composite       # the base address, loaded once for all the loops
        li      a2, 1               # the mark, held in a register because sb stores a register
        li      t0, 2               # i, the candidate factor
        mul     t1, t0, t0          # j = i*i: smaller multiples of i have a smaller factor
        bgt     t1, a0, .done       #          too, and were crossed off already
.outer: add     t2, a1, t0
        lbu     t2, 0(t2)           # composite[i]
        bnez    t2, .next           # i is not prime: its multiples are multiples of a prime
                                    # factor of i, crossed off already
.inner: add     t2, a1, t1          # here j <= n holds, so the inner loop runs at least once
        sb      a2, 0(t2)           # composite[j] = 1
        add     t1, t1, t0          # the next multiple of i
        ble     t1, a0, .inner
.next:  inc     t0
        mul     t1, t0, t0          # start the next i at its square, and stop once the square
        ble     t1, a0, .outer      # passes n: every composite up to n has a factor <= sqrt(n)
.done:  ret

main:   enter   0
        push    s0, s1, s2          # callee-saved: main's caller gets them back before ret
        syscall read_int            # a0 = n, a1 = 1 if the line was an integer
        beqz    a1, .bad
        li      t0, MAXN
        bgt     a0, t0, .bad        # past the end of the table: refuse, do not overrun it
        mov     s1, a0              # n, kept in a saved register: the calls below may change
                                    # every a and t register
        call    sieve
        la      s0, composite
        li      s2, 2               # i: 0 and 1 are not primes
        bgt     s2, s1, .end        # n < 2: there is nothing to print
.print: add     t0, s0, s2
        lbu     t0, 0(t0)
        bnez    t0, .skip
        mov     a0, s2
        syscall print_int
        li      a0, '\n'
        syscall putc
.skip:  inc     s2
        ble     s2, s1, .print
.end:   li      a0, 0               # status 0
.out:   pop     s2, s1, s0          # in the reverse order of the pushes
        leave
        ret

.bad:   li      a0, 2               # stderr
        la      a1, usage
        li      a2, usage_end - usage
        syscall write
        li      a0, 1
        jmp     .out                # one way out, so the registers are restored on every path
