# lib/sync.s: a mutex, a counting semaphore and a condition variable for the threads of one
# process, built from what the machine offers: the atomic instructions cas and xadd, and the two
# futex services of the kernel.
#
#     .include "../lib/sync.s"      # at the top of a program in programs/threads
#
# It defines no main and no data of its own: a program includes it and keeps its mutexes,
# semaphores and condition variables wherever it likes, usually in .data or .bss. Every label
# starts with mutex_, sem_ or cond_, so that it cannot clash with the program's own.
#
# Why the kernel is needed at all. A lock could be a word that threads spin on with cas until
# they get it. But a spinning thread burns its whole time slice doing nothing useful, and with one
# processor the holder cannot even run to release the lock while the spinner has it. The kernel
# can do what a loop cannot: park a thread so that it takes no processor time, and wake it later.
# That is blocking, as opposed to busy waiting.
#
# Why the kernel is asked only when needed. A syscall is far dearer than an instruction, and most
# of the time a lock is free. So each object here is a word of ordinary memory that the threads
# update with cas and xadd, and the kernel is called only when a thread really has to wait, or
# when one may be waiting and must be woken. A futex ("fast user-space mutex") is exactly that:
#
#   futex_wait(a0 = address, a1 = expected)  parks the thread on address, but only if the word
#       there still holds expected. Checking and parking are one indivisible step: no other
#       thread runs in between, so a wake-up cannot fall into the gap between "I saw the lock
#       taken" and "I went to sleep" and be lost. If the word has changed, it returns at once.
#   futex_wake(a0 = address, a1 = n)  wakes up to n threads parked on address, oldest first.
#
# The kernel keeps no lock state: it only knows queues of threads by address. All the meaning of
# the word (locked or not, how many units left) is in the code below.
#
# The objects. All start zeroed, so `.quad 0` or .bss space is a ready object:
#
#   mutex       SYNC_MUTEX_SIZE = 8    0 = unlocked, 1 = locked, 2 = locked and maybe waited for
#   semaphore   SYNC_SEM_SIZE = 16     0(sem) = the count, 8(sem) = how many threads wait; a
#                                      semaphore starts with count 0 unless sem_init or
#                                      `.quad N, 0` gives it N
#   condition   SYNC_COND_SIZE = 8     a sequence number, bumped by every signal and broadcast
#
# The calling convention is that of docs/isa.md: a0 (and a1) are the arguments; the functions
# may change a0-a5 and t0-t3, as any function may, and keep s0-s3, fp and sp.

        .equ    SYNC_MUTEX_SIZE, 8
        .equ    SYNC_SEM_SIZE, 16
        .equ    SYNC_COND_SIZE, 8
        .equ    SYNC_WAKE_ALL, -1       # as futex_wake's count: 2^64-1 threads, that is, all

        .text

# ---------------------------------------------------------------------------------------------
# The mutex: the three-state futex mutex of Ulrich Drepper's paper "Futexes Are Tricky", in the
# form that needs only compare-and-swap and an atomic decrement. Its word is
#
#   0   unlocked
#   1   locked, and no thread waits for it
#   2   locked, and threads may be waiting for it
#
# The point of 1 versus 2 is that unlock must know whether to call the kernel. A simpler mutex
# with two states would have to call futex_wake at every unlock, just in case; with three, an
# unlock that nobody waited for is one xadd and no syscall, and so is a lock that was free.
#
# Why not keep an exact count of waiters instead? Because it is not needed, and keeping it exact
# would take more atomic steps on every path. State 2 is a cheap over-approximation: it may say
# "maybe waiters" when there are none, which costs one futex_wake that wakes nobody, but it
# never says "no waiters" when there are some, which would lose a wake-up forever.
# ---------------------------------------------------------------------------------------------

# mutex_lock(a0 = address of a mutex): returns when the calling thread holds the mutex. It
# blocks while another thread holds it. A thread must not lock a mutex it already holds: it would
# wait for itself forever, and the machine would report the deadlock.
mutex_lock:
        mov     t0, a0              # t0 = the mutex; a syscall changes only a0 and a1
        li      t1, 0
        li      t2, 1
        cas     t1, t0, t2          # c := the word; if it was 0 (free), it is now 1 (ours)
        beqz    t1, .done           # the fast path: a free lock costs one cas, no syscall
        li      t2, 2
.loop:  beq     t1, t2, .wait       # c = 2: waiters are announced already; join them
        li      t3, 1
        cas     t3, t0, t2          # c = 1: announce a waiter by turning 1 into 2, so that the
                                    # holder's unlock knows it must wake someone
        beqz    t3, .take           # it was 0: the holder let go meanwhile; try to take it
        # Sleep, but only while the word is still 2. If an unlock has made it 0 since we
        # looked, futex_wait returns at once and we try again.
.wait:  mov     a0, t0
        li      a1, 2
        syscall futex_wait          # mutex_lock: wait until the mutex is unlocked
.take:  li      t1, 0
        cas     t1, t0, t2          # try 0 -> 2, not 0 -> 1: other threads may still sleep on
                                    # the mutex, and only state 2 makes our unlock wake them
        bnez    t1, .loop           # somebody else got it first: c is its state; wait again
.done:  ret

# mutex_unlock(a0 = address of a mutex): releases the mutex, which the calling thread holds, and
# wakes one thread waiting for it, if any. Unlocking a mutex that is not locked breaks it.
mutex_unlock:
        mov     t0, a0
        li      t1, -1
        xadd    t1, t0, t1          # the word goes down by one: 1 -> 0, or 2 -> 1
        li      t2, 1
        beq     t1, t2, .done       # it was 1: nobody waits, and the mutex is free: no syscall
        li      t1, 0
        sd      t1, 0(t0)           # it was 2: make it free (0), not 1, or a waiter that wakes
                                    # up would find it still taken
        mov     a0, t0
        li      a1, 1
        syscall futex_wake          # wake one waiter: it retries with 0 -> 2. Waking them all
                                    # would only make all but one go back to sleep
.done:  ret

# ---------------------------------------------------------------------------------------------
# The counting semaphore: a count of units, such as free slots or free seats. sem_wait takes one
# unit, waiting until there is one; sem_post gives one back. A semaphore that starts at 1 is a
# lock; one that starts at N lets N threads in at once.
#
# The count itself is the futex word that waiters sleep on, with the expected value 0: a thread
# sleeps only while there is nothing to take. The second word counts the sleepers, so that
# sem_post calls the kernel only when somebody may be asleep. That is safe because each side
# writes its own word before it reads the other's: a waiter counts itself in before futex_wait
# checks the count, and a poster raises the count before it reads the waiters. So either the
# poster sees the waiter and wakes it, or the waiter's futex_wait sees the new count and does not
# sleep; they cannot both miss each other.
# ---------------------------------------------------------------------------------------------

# sem_init(a0 = address of a semaphore, a1 = count): makes the semaphore hold count units and no
# waiters. Only for a semaphore that no thread is using yet.
sem_init:
        sd      a1, 0(a0)
        li      t0, 0
        sd      t0, 8(a0)
        ret

# sem_wait(a0 = address of a semaphore): takes one unit; blocks while the count is 0.
sem_wait:
        mov     t0, a0              # t0 = the semaphore, kept across the syscall
.again: ld      t1, 0(t0)           # c := the count
        beqz    t1, .sleep
        addi    t2, t1, -1
        mov     t3, t1
        cas     t1, t0, t2          # the count := c - 1, unless it changed since we read it
        bne     t1, t3, .again      # it did (another thread took or gave a unit): start over
        ret
.sleep: addi    t1, t0, 8           # t1 = the waiters word
        li      t2, 1
        xadd    t2, t1, t2          # count ourselves in first, so that a post will wake us
        mov     a0, t0              # sleep on the count, but only while it is still 0
        li      a1, 0
        syscall futex_wait          # sem_wait: wait until the count is above 0
        li      t2, -1
        xadd    t2, t1, t2          # awake (or never asleep): count ourselves out
        jmp     .again              # being woken is no promise of a unit: another thread may
                                    # have taken it first, so try again from the start

# sem_post(a0 = address of a semaphore): gives back one unit and wakes one waiter, if any. It
# never blocks, so any thread may call it, even one that never called sem_wait.
sem_post:
        mov     t0, a0
        li      t1, 1
        xadd    t1, t0, t1          # the count goes up by one, atomically
        ld      t1, 8(t0)
        beqz    t1, .done           # nobody waits: no syscall
        mov     a0, t0
        li      a1, 1
        syscall futex_wake          # one unit, so one waiter
.done:  ret

# ---------------------------------------------------------------------------------------------
# The condition variable: a place for threads to wait until a condition on shared data becomes
# true ("the buffer is not empty"), where the data is guarded by a mutex. The condition itself
# is the program's business; the variable only carries the news that it may have changed.
#
# Its word is a sequence number. A waiter reads it while it still holds the mutex, releases the
# mutex, and sleeps on the number it read. Whoever changes the data does so under the mutex and
# then bumps the number (signal or broadcast). If that happens after the waiter released the
# mutex but before it reached futex_wait, the word no longer holds the number the waiter read, so
# futex_wait returns at once: the signal is not lost in the gap. This is why a condition variable
# always comes with a mutex.
#
# The number is 64 bits wide: it would take 2^64 signals during one waiter's gap for it to come
# back to the same value and fool futex_wait, which the 32-bit futexes of other systems have to
# worry about.
# ---------------------------------------------------------------------------------------------

# cond_wait(a0 = address of a condition variable, a1 = address of a mutex): the calling thread
# must hold the mutex. Releases it, waits for a signal or broadcast on the condition variable,
# and takes the mutex again before it returns.
#
# It may also return without any signal (a spurious wake-up), and by the time it has the mutex
# back another thread may have made the condition false again. So always call it in a loop that
# tests the condition under the mutex:
#
#         mutex_lock(m)
#         while the condition is false: cond_wait(c, m)
#         ... the condition holds, and we hold the mutex ...
#         mutex_unlock(m)
cond_wait:
        enter   0
        push    s0, s1, s2          # callee-saved, and needed across the calls below
        mov     s0, a0              # s0 = the condition variable
        mov     s1, a1              # s1 = the mutex
        ld      s2, 0(s0)           # the sequence number, read while we still hold the mutex:
                                    # whoever changes the data after this must take the mutex
                                    # first, so its signal comes with a number past s2
        mov     a0, s1
        call    mutex_unlock        # let the other threads change the data ...
        # ... and sleep, unless a signal has come since we read s2.
        mov     a0, s0
        mov     a1, s2
        syscall futex_wait          # cond_wait: wait for a signal or a broadcast
        mov     a0, s1
        call    mutex_lock          # the condition is tested again under the mutex by the caller
        pop     s2, s1, s0
        leave
        ret

# cond_signal(a0 = address of a condition variable): wakes one thread waiting on it, if any.
# Call it after changing the data the condition is about, with or without the mutex held.
cond_signal:
        mov     t0, a0
        li      t1, 1
        xadd    t1, t0, t1          # a new sequence number: waiters that have not slept yet
                                    # will see the change and not sleep
        mov     a0, t0
        li      a1, 1
        syscall futex_wake
        ret

# cond_broadcast(a0 = address of a condition variable): wakes every thread waiting on it. For a
# change that more than one waiter must see, such as "no more items will come".
cond_broadcast:
        mov     t0, a0
        li      t1, 1
        xadd    t1, t0, t1
        mov     a0, t0
        li      a1, SYNC_WAKE_ALL
        syscall futex_wake          # they all wake, and then take turns at the mutex
        ret
