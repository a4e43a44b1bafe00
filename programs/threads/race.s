# threads/race.s: two threads add 1 to a shared counter 100000 times each, without a lock, and
# some of the additions are lost.
#
#     spindle run programs/threads/race.s                          # 200000: the race hides
#     spindle run --sched random --seed 1 programs/threads/race.s  # 143462: updates were lost
#     spindle run --sched random --seed 2 programs/threads/race.s  # another schedule, another loss
#     spindle run programs/threads/race_fixed.s                    # the same with a mutex
#
# What it shows (the lecture's "race condition", and "context switch"):
#   - `counter = counter + 1` is three instructions: load the counter into a register, add 1 to
#     the register, store the register back. The registers are the thread's own; only memory is
#     shared. If the other thread runs between this thread's load and its store, both load the
#     same value, both store value + 1, and one of the two additions is lost;
#   - whether that happens depends on where the context switches fall, which the program does
#     not control: the result is different from one schedule to the next. That is a race.
#
# Why the default scheduler hides it: round robin switches threads only at check points, and
# the only check point in the loop is its backward branch, after the store. So a switch never
# falls between the load and the store, and the count comes out right. That is luck, not
# correctness, and the race is still in the program. --sched random preempts at any
# instruction, as a hardware timer interrupt would, and shows it. --seed makes the random
# schedule reproducible, so that a lost update, once found, can be run again and looked at.

        .equ    N, 100_000          # increments per thread
        .equ    THREADS, 2
        .equ    STACK, 256

        .data
counter:    .quad   0               # shared by all the threads: it is in the process's memory
s_counter:  .asciz  "counter = "
s_expected: .asciz  ", expected "
s_lost:     .asciz  ", lost "
s_nl:       .asciz  "\n"

        .text
# worker(): counter += 1, N times, with nothing to stop another thread from doing the same.
worker:
        la      t0, counter
        li      t1, N               # t1 = how many increments are left
.loop:  ld      t2, 0(t0)           # load: t2 is this thread's private copy of the counter
                                    # <- a switch here, or
        addi    t2, t2, 1           # add: only the copy changes
                                    # <- here, lets the other thread work on a stale value,
        sd      t2, 0(t0)           # store: and this overwrites whatever the other thread
                                    # stored in the meantime
        dec     t1
        bnez    t1, .loop
        ret

main:   enter   0
        push    s0, s1
        li      s0, 0               # s0 = how many workers started
.spawn: la      a0, worker
        li      a1, 0
        li      a2, STACK
        syscall thread_spawn
        inc     s0
        li      t0, THREADS
        blt     s0, t0, .spawn
        li      s0, 2               # the workers are threads 2 to THREADS + 1
.join:  mov     a0, s0
        syscall thread_join
        inc     s0
        li      t0, THREADS + 1
        ble     s0, t0, .join

        la      a0, s_counter
        syscall puts
        la      t0, counter
        ld      s1, 0(t0)           # s1 = what the threads managed to count
        mov     a0, s1
        syscall print_int
        la      a0, s_expected
        syscall puts
        li      a0, N * THREADS
        syscall print_int
        la      a0, s_lost
        syscall puts
        li      t0, N * THREADS
        sub     a0, t0, s1          # lost updates: additions that another thread overwrote
        syscall print_int
        la      a0, s_nl
        syscall puts
        li      a0, 0
        pop     s1, s0
        leave
        ret
