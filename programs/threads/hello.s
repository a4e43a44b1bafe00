# threads/hello.s: four threads say hello, each returns a value, and main collects them.
#
#     spindle run programs/threads/hello.s
#     spindle run --stats programs/threads/hello.s            # a table of the five threads
#     spindle run --seed 1 --trace-sched trace.txt programs/threads/hello.s
#     spindle run --sched random --seed 2 --quantum 20 programs/threads/hello.s   # lines mixed
#
# What it shows (the lecture's "process" and "thread"):
#   - one process, five threads: main and four workers. They share the process's memory (here,
#     the strings in .data that every worker prints) but each has its own registers and its own
#     stack, so the four workers run the same code without getting in each other's way;
#   - thread_spawn starts a thread at a function, with one argument in a0, and returns the new
#     thread's id; the thread ends when that function returns, and what it returns in a0 is its
#     value;
#   - thread_join waits for a thread to end and hands over that value: the way for main to
#     know that a worker is done, and to get its result;
#   - a context switch: main blocks in thread_join, so the scheduler saves main's context and
#     runs a worker. --trace-sched writes every switch down, with the reason.
#
# With the default round-robin scheduler a worker is switched out only at check points (taken
# backward branches, calls, returns, syscalls) once its quantum of 10000 instructions is used
# up, so each worker says its whole line before the next one starts. Under --sched random a
# worker can be preempted between the syscalls that print its line, and the lines get mixed:
# printing one line in five syscalls is not one indivisible action.

        .equ    N, 4                # the number of workers
        .equ    STACK, 256          # bytes of stack for each worker: a few words are enough

        .data
s_hello:    .asciz  "hello from thread "
s_worker:   .asciz  ", worker "
s_sum:      .asciz  "sum of the values: "

        .bss
tids:   .space  8 * N               # the id of each worker, as thread_spawn returned it

        .text
# worker(a0 = k, its number from 1 to N) prints which thread it runs on and returns k * k.
# Every worker runs this same code; what differs is a0, set by thread_spawn, and the thread's
# own registers and stack, which gettid tells apart.
worker:
        mov     t0, a0              # k; syscalls change only a0 and a1, so t0 survives them
        la      a0, s_hello
        syscall puts
        syscall gettid              # a0 = this thread's id: main is 1, the workers 2 to N+1
        syscall print_int
        la      a0, s_worker
        syscall puts
        mov     a0, t0
        syscall print_int
        li      a0, '\n'
        syscall putc
        mul     a0, t0, t0          # the thread's value: k * k
        ret                         # returning from its entry function ends the thread

# main starts the N workers, then joins them in the order it started them and adds up their
# values: 1 + 4 + 9 + 16 = 30, whatever order they ran in.
main:   enter   0
        push    s0, s1
        li      s0, 0               # s0 = i, from 0 to N-1
.spawn: la      a0, worker          # the code address where the thread starts
        addi    a1, s0, 1           # its argument: k = i + 1
        li      a2, STACK
        syscall thread_spawn        # a0 = the new thread's id; it is runnable, not yet running
        la      t0, tids
        shli    t1, s0, 3
        add     t0, t0, t1
        sd      a0, 0(t0)           # tids[i] = the id
        inc     s0
        li      t0, N
        blt     s0, t0, .spawn

        li      s0, 0               # s0 = i again
        li      s1, 0               # s1 = the sum of the values
.join:  la      t0, tids
        shli    t1, s0, 3
        add     t0, t0, t1
        ld      a0, 0(t0)
        syscall thread_join         # main blocks until worker i has ended; a0 = its value
        add     s1, s1, a0
        inc     s0
        li      t0, N
        blt     s0, t0, .join

        la      a0, s_sum
        syscall puts
        mov     a0, s1
        syscall print_int
        li      a0, '\n'
        syscall putc
        li      a0, 0               # exit status 0
        pop     s1, s0
        leave
        ret
