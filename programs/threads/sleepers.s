# threads/sleepers.s: 1000 threads each sleep for 100 ms, and the whole run takes about 100 ms.
#
#     spindle run programs/threads/sleepers.s                 # the real clock: about 100 ms
#     spindle run --seed 1 programs/threads/sleepers.s        # the virtual clock: exactly 100
#     spindle run --stats programs/threads/sleepers.s         # 1001 threads, and how long each
#                                                             # spent blocked
#
# What it shows (the lecture's "blocking", and why threads: "avoid needless blocking"):
#   - a thread that waits, here for time to pass, is blocked: it is parked off the processor and
#     costs nothing while it waits. The sleep parks only the thread that called it; the other
#     threads of the process go on running;
#   - so 1000 waits that overlap take as long as one. Done one after the other by a single
#     thread, they would take 1000 * 100 ms = 100 s. Done by 1000 threads, the waits overlap and
#     the run takes 100 ms and a little: the time main needs to start the threads and to join
#     them, which is a few thousand instructions.
#
# The clock service gives nanoseconds since the machine started. With --seed the clock is
# virtual: it counts one nanosecond per instruction executed, and when every thread is asleep it
# jumps straight to the first wake-up instead of waiting. A run then takes no real time to
# speak of, and it prints the same result every time.

        .equ    N, 1000             # the number of sleepers
        .equ    NAP, 100            # how long each one sleeps, in milliseconds
        .equ    STACK, 64           # a sleeper calls nothing: the smallest stack is plenty

        .data
s_slept:    .asciz  " threads slept "
s_each:     .asciz  " ms each; elapsed: "
s_ms:       .asciz  " ms\n"

        .text
# sleeper(a0 = how long, in milliseconds): sleeps, and ends.
sleeper:
        syscall sleep               # parks this thread; the scheduler runs another one
        ret

main:   enter   0
        push    s0, s1, s2, s3
        syscall clock
        mov     s0, a0              # s0 = the start time, in nanoseconds

        li      s1, 0               # s1 = how many threads started
.spawn: la      a0, sleeper
        li      a1, NAP
        li      a2, STACK
        syscall thread_spawn
        bnez    s1, .next
        mov     s2, a0              # s2 = the first sleeper's id
.next:  inc     s1
        li      t0, N
        blt     s1, t0, .spawn

        # Thread ids count up from 1 in the order the threads were made, so the sleepers are
        # s2, s2+1, ..., s2+N-1. main joins them in that order: while it waits for the first,
        # the others sleep too, so by the time it has joined one, all of them are nearly done.
        li      s1, 0
.join:  add     a0, s2, s1
        syscall thread_join
        inc     s1
        li      t0, N
        blt     s1, t0, .join

        syscall clock
        sub     s3, a0, s0          # s3 = the elapsed time, in nanoseconds
        li      a0, N
        syscall print_int
        la      a0, s_slept
        syscall puts
        li      a0, NAP
        syscall print_int
        la      a0, s_each
        syscall puts
        li      t0, 1_000_000       # nanoseconds in a millisecond
        div     a0, s3, t0          # rounded down to whole milliseconds
        syscall print_int
        la      a0, s_ms
        syscall puts
        li      a0, 0
        pop     s3, s2, s1, s0
        leave
        ret
