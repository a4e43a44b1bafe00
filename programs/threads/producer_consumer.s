# threads/producer_consumer.s: two producers and two consumers share a bounded buffer of four
# slots, guarded by a mutex and two condition variables.
#
#     spindle run programs/threads/producer_consumer.s
#     spindle run --sched random --seed 7 --quantum 50 programs/threads/producer_consumer.s
#     spindle run --seed 1 --stats programs/threads/producer_consumer.s
#
# Each producer puts 1, 2, ..., K into the buffer; each consumer takes items out until the
# producers are done and the buffer is empty, and returns the sum of what it took. Which
# consumer gets which item depends on the schedule, but every item is taken exactly once, so
# the total is always 2 * (1 + 2 + ... + K) = K * (K + 1).
#
# What it shows (the lecture's "blocking", and threads that cooperate):
#   - the buffer is shared state: count, head, tail and the slots change together, so every
#     access is a critical section, under the mutex;
#   - a producer that finds the buffer full, or a consumer that finds it empty, cannot go on.
#     It must not spin, testing again and again: that would burn its time slice, and with one
#     processor the thread that could make room would not even run. It blocks instead, in
#     cond_wait, which releases the mutex while it sleeps, so that the other side can get in and
#     change the buffer, and takes it back before it returns;
#   - each side wakes the other: after putting an item a producer signals not_empty, after
#     taking one a consumer signals not_full. A waiter tests its condition again in a loop when
#     it wakes, because another thread may have got there first;
#   - the end: main joins the producers, then sets `done` and broadcasts not_empty. A broadcast,
#     not a signal, because every waiting consumer must learn that no more items will come.
#
# Why two condition variables rather than one: a signal wakes one waiter. With a single one, a
# producer's "not empty" could wake the other producer, who cannot use it, while the consumers
# sleep on. With two, each signal reaches a thread of the right kind.

        .include "../lib/sync.s"

        .equ    K, 1000             # each producer produces 1..K
        .equ    SLOTS, 4            # the buffer's capacity, in items
        .equ    STACK, 512

        .data
mutex:      .quad   0               # guards everything below, up to slots
not_full:   .quad   0               # a condition variable: producers wait on it
not_empty:  .quad   0               # a condition variable: consumers wait on it
count:      .quad   0               # how many items are in the buffer, 0 to SLOTS
head:       .quad   0               # the slot the next item is taken from
tail:       .quad   0               # the slot the next item is put into
done:       .quad   0               # 1 once the producers have finished
slots:      .space  8 * SLOTS       # a ring: head and tail go round, modulo SLOTS

s_total:    .asciz  "consumed a total of "
s_expected: .asciz  ", expected "
s_nl:       .asciz  "\n"

        .bss
tids:       .space  8 * 4           # producer, producer, consumer, consumer

        .text
# producer(): puts 1, 2, ..., K into the buffer, waiting whenever it is full.
producer:
        enter   0
        push    s0
        li      s0, 1               # s0 = the next item
.item:  la      a0, mutex
        call    mutex_lock
.full:  la      t0, count
        ld      t0, 0(t0)
        li      t1, SLOTS
        blt     t0, t1, .put        # room: go on. Full: wait for a consumer to take one
        la      a0, not_full
        la      a1, mutex
        call    cond_wait           # gives up the mutex while it sleeps; holds it again here
        jmp     .full               # and the buffer may be full again: test it again
.put:   la      t0, tail
        ld      t1, 0(t0)
        la      t2, slots
        shli    t3, t1, 3
        add     t2, t2, t3
        sd      s0, 0(t2)           # slots[tail] = the item
        inc     t1
        li      t3, SLOTS
        rem     t1, t1, t3
        sd      t1, 0(t0)           # tail = (tail + 1) % SLOTS
        la      t0, count
        ld      t1, 0(t0)
        inc     t1
        sd      t1, 0(t0)
        la      a0, not_empty
        call    cond_signal         # a consumer may be waiting for exactly this
        la      a0, mutex
        call    mutex_unlock
        inc     s0
        li      t0, K
        ble     s0, t0, .item
        li      a0, 0
        pop     s0
        leave
        ret

# consumer() returns the sum of the items it took. It stops when the buffer is empty and the
# producers are done.
consumer:
        enter   0
        push    s0
        li      s0, 0               # s0 = the sum so far
.item:  la      a0, mutex
        call    mutex_lock
.empty: la      t0, count
        ld      t0, 0(t0)
        bnez    t0, .take           # an item: take it
        la      t0, done
        ld      t0, 0(t0)
        bnez    t0, .over           # empty, and nothing more will come
        la      a0, not_empty
        la      a1, mutex
        call    cond_wait
        jmp     .empty
.take:  la      t0, head
        ld      t1, 0(t0)
        la      t2, slots
        shli    t3, t1, 3
        add     t2, t2, t3
        ld      t2, 0(t2)           # the item: slots[head]
        add     s0, s0, t2
        inc     t1
        li      t3, SLOTS
        rem     t1, t1, t3
        sd      t1, 0(t0)           # head = (head + 1) % SLOTS
        la      t0, count
        ld      t1, 0(t0)
        dec     t1
        sd      t1, 0(t0)
        la      a0, not_full
        call    cond_signal         # a producer may be waiting for this free slot
        la      a0, mutex
        call    mutex_unlock
        jmp     .item
.over:  la      a0, mutex
        call    mutex_unlock        # leave nothing locked behind
        mov     a0, s0
        pop     s0
        leave
        ret

main:   enter   0
        push    s0, s1
        # Start the threads: tids[0], tids[1] are the producers, tids[2], tids[3] the consumers.
        la      s0, tids
        la      a0, producer
        call    start
        sd      a0, 0(s0)
        la      a0, producer
        call    start
        sd      a0, 8(s0)
        la      a0, consumer
        call    start
        sd      a0, 16(s0)
        la      a0, consumer
        call    start
        sd      a0, 24(s0)

        ld      a0, 0(s0)
        syscall thread_join         # wait until both producers have put all their items in
        ld      a0, 8(s0)
        syscall thread_join

        la      a0, mutex           # done is shared too: change it under the mutex, so that a
        call    mutex_lock          # consumer cannot test it just before, and sleep just after
        la      t0, done
        li      t1, 1
        sd      t1, 0(t0)
        la      a0, not_empty
        call    cond_broadcast      # wake every consumer that waits for an item
        la      a0, mutex
        call    mutex_unlock

        ld      a0, 16(s0)
        syscall thread_join
        mov     s1, a0              # s1 = the first consumer's sum ...
        ld      a0, 24(s0)
        syscall thread_join
        add     s1, s1, a0          # ... plus the second's

        la      a0, s_total
        syscall puts
        mov     a0, s1
        syscall print_int
        la      a0, s_expected
        syscall puts
        li      a0, K * (K + 1)
        syscall print_int
        la      a0, s_nl
        syscall puts
        li      a0, 0
        pop     s1, s0
        leave
        ret

# start(a0 = entry) starts a thread at entry, with no argument, and returns its id.
start:  li      a1, 0
        li      a2, STACK
        syscall thread_spawn
        ret
