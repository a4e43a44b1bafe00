# threads/philosophers.s: five philosophers sit at a round table with a fork between each two
# of them. To eat, a philosopher takes the fork on the left, then the one on the right. They
# all take their left fork, and then they all wait for their right one, forever: a deadlock.
#
#     spindle run programs/threads/philosophers.s             # stops with exit status 125
#     spindle run --trace-sched trace.txt programs/threads/philosophers.s
#     spindle run programs/threads/philosophers_fixed.s       # the cure
#
# What it shows (the lecture's "deadlock"):
#   - each fork is a mutex (lib/sync.s), so a fork has one holder at a time, and a philosopher
#     who reaches for a fork in use blocks until it is put down;
#   - philosopher i holds fork i, its left, while it waits for fork i+1, its right, which its
#     neighbour holds while waiting for fork i+2, and so on round the table back to fork i. A
#     cycle of threads, each holding what the next one needs and waiting for what it does not
#     have: none of them can ever go on. These are the four conditions of a deadlock: the forks
#     cannot be shared (mutual exclusion), a philosopher keeps its left fork while waiting (hold
#     and wait), nobody can take a fork away from its holder (no preemption), and the waiting
#     goes round in a circle (circular wait);
#   - main waits to join philosopher 0 and is stuck with them. No thread can run and no timer or
#     input can wake any of them, so the machine stops the run with exit status 125 and reports,
#     for each thread, what it waits for and where: main in thread_join, the five philosophers
#     in futex_wait, on the addresses of the forks they want. The forks are the first words of
#     .data, so fork i is at 0x10000000 + 8*i: philosopher i (thread i+2) waits on fork
#     (i+1) % 5.
#
# The yield between the two forks is what makes the deadlock happen every time: a philosopher
# who has taken its left fork lets the next one take its own, and so on round the table. Without
# it, the first philosopher would usually take both forks before the second even started, and
# the deadlock would only strike now and then, under some unlucky schedule. That is what makes
# deadlocks dangerous in real programs: they hide until the day they happen.

        .include "../lib/sync.s"

        .equ    N, 5                # philosophers, and forks
        .equ    MEALS, 10           # how many times each one eats
        .equ    STACK, 256

        .data
forks:      .quad   0, 0, 0, 0, 0   # N mutexes, all free; fork i lies between philosophers
                                    # i - 1 and i
s_phil:     .asciz  "philosopher "
s_ate:      .asciz  " ate "
s_meals:    .asciz  " meals\n"

        .text
# philosopher(a0 = i, from 0 to N-1) eats MEALS times and returns how many meals it had.
philosopher:
        enter   0
        push    s0, s1, s2
        la      t0, forks
        shli    t1, a0, 3
        add     s0, t0, t1          # s0 = the left fork: forks[i]
        addi    t1, a0, 1
        li      t2, N
        rem     t1, t1, t2
        shli    t1, t1, 3
        add     s1, t0, t1          # s1 = the right fork: forks[(i + 1) % N]
        li      s2, 0               # s2 = meals eaten
.meal:  mov     a0, s0
        call    mutex_lock          # take the left fork ...
        syscall yield               # ... and let the next philosopher take theirs
        mov     a0, s1
        call    mutex_lock          # take the right fork: it may be in the neighbour's hand
        inc     s2                  # eat
        mov     a0, s1
        call    mutex_unlock        # put the forks down
        mov     a0, s0
        call    mutex_unlock
        syscall yield               # think for a while
        li      t0, MEALS
        blt     s2, t0, .meal
        mov     a0, s2
        pop     s2, s1, s0
        leave
        ret

main:   enter   0
        push    s0, s1
        li      s0, 0               # s0 = i
.spawn: la      a0, philosopher
        mov     a1, s0
        li      a2, STACK
        syscall thread_spawn        # philosopher i is thread i + 2
        inc     s0
        li      t0, N
        blt     s0, t0, .spawn

        li      s0, 0
.join:  addi    a0, s0, 2
        syscall thread_join
        mov     s1, a0              # s1 = its meals
        la      a0, s_phil
        syscall puts
        mov     a0, s0
        syscall print_int
        la      a0, s_ate
        syscall puts
        mov     a0, s1
        syscall print_int
        la      a0, s_meals
        syscall puts
        inc     s0
        li      t0, N
        blt     s0, t0, .join
        li      a0, 0
        pop     s1, s0
        leave
        ret
