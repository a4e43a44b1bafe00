# threads/race_fixed.s: race.s with the increment inside a mutex. No update is lost, whatever
# the schedule.
#
#     spindle run programs/threads/race_fixed.s
#     spindle run --sched random --seed 1 programs/threads/race_fixed.s
#     spindle run --sched random --seed 1 --quantum 100 --stats programs/threads/race_fixed.s
#
# What it shows (the lecture's "race condition", and its cure):
#   - the load, add and store of race.s are a critical section: a piece of code that must not
#     run in two threads at once. A mutex makes it so: a thread that calls mutex_lock while
#     another holds the mutex waits until the holder calls mutex_unlock;
#   - a context switch can still fall between the load and the store. But the other thread then
#     cannot get into the critical section: it blocks in mutex_lock (futex_wait) until this one
#     has stored and unlocked. The switch is harmless because nobody else touches the counter;
#   - the price: a lock and an unlock around every increment, about fifteen instructions for
#     three. When the mutex is free, as it nearly always is here, each costs one atomic
#     instruction and no syscall; see lib/sync.s. --stats shows how rarely a thread blocked.

        .include "../lib/sync.s"

        .equ    N, 100_000          # increments per thread
        .equ    THREADS, 2
        .equ    STACK, 256

        .data
counter:    .quad   0               # shared: guarded by lock
lock:       .quad   0               # a mutex, unlocked (see lib/sync.s)
s_counter:  .asciz  "counter = "
s_expected: .asciz  ", expected "
s_lost:     .asciz  ", lost "
s_nl:       .asciz  "\n"

        .text
# worker(): counter += 1, N times, each time holding the lock. It calls functions, which may
# change every a and t register, so it keeps its count in s0, saving the caller's s0 first as
# the calling convention asks.
worker:
        enter   0
        push    s0
        li      s0, N               # s0 = how many increments are left
.loop:  la      a0, lock
        call    mutex_lock          # from here to mutex_unlock, this thread alone
        la      t0, counter
        ld      t1, 0(t0)           # the same three instructions as in race.s ...
        addi    t1, t1, 1
        sd      t1, 0(t0)           # ... but no other thread can be between them
        la      a0, lock
        call    mutex_unlock
        dec     s0
        bnez    s0, .loop
        pop     s0
        leave
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
        ld      s1, 0(t0)
        mov     a0, s1
        syscall print_int
        la      a0, s_expected
        syscall puts
        li      a0, N * THREADS
        syscall print_int
        la      a0, s_lost
        syscall puts
        li      t0, N * THREADS
        sub     a0, t0, s1
        syscall print_int
        la      a0, s_nl
        syscall puts
        li      a0, 0
        pop     s1, s0
        leave
        ret
