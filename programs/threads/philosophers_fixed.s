# threads/philosophers_fixed.s: the dining philosophers of philosophers.s, with a waiter who
# lets at most four of the five reach for their forks at once. They all eat, every time.
#
#     spindle run programs/threads/philosophers_fixed.s
#     spindle run --sched random --seed 1 --quantum 20 programs/threads/philosophers_fixed.s
#     diff programs/threads/philosophers.s programs/threads/philosophers_fixed.s
#
# What it shows (the lecture's "deadlock", and how to prevent one):
#   - a deadlock needs all four of its conditions: mutual exclusion, hold and wait, no
#     preemption and circular wait. Break any one and it cannot happen. Here the circle is
#     broken: the waiter is a counting semaphore (lib/sync.s) with four seats, and a philosopher
#     takes a seat before reaching for the forks and gives it back after putting them down;
#   - with at most four philosophers holding or wanting forks, the five forks cannot all be
#     someone's left fork: by the pigeonhole principle one of the four finds its right fork free
#     too, eats, and puts both down, which lets its neighbours go on. The five can no longer
#     each hold one fork and wait for the next;
#   - the yield between the forks is still there, and under --sched random the switches fall
#     anywhere at all. Whatever the schedule, every philosopher eats all its meals: a
#     deadlock-free design does not depend on luck.
#
# The other classic fix orders the forks: everybody takes the lower-numbered fork first, so the
# last philosopher takes its right fork (fork 0) before its left (fork 4). A circle of waiting
# would need someone to hold a higher fork while waiting for a lower one, and nobody does.

        .include "../lib/sync.s"

        .equ    N, 5                # philosophers, and forks
        .equ    MEALS, 10           # how many times each one eats
        .equ    STACK, 256

        .data
forks:      .quad   0, 0, 0, 0, 0   # N mutexes, all free; fork i lies between philosophers
                                    # i - 1 and i
seats:      .quad   N - 1, 0        # the waiter: a semaphore with N - 1 free seats, and no
                                    # thread waiting
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
.meal:  la      a0, seats
        call    sem_wait            # ask the waiter for a seat; wait if four are taken
        mov     a0, s0
        call    mutex_lock          # take the left fork ...
        syscall yield               # ... and let the next philosopher take theirs
        mov     a0, s1
        call    mutex_lock          # take the right fork: it may be in the neighbour's hand
        inc     s2                  # eat
        mov     a0, s1
        call    mutex_unlock        # put the forks down
        mov     a0, s0
        call    mutex_unlock
        la      a0, seats
        call    sem_post            # leave the table: a waiting philosopher gets the seat
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
