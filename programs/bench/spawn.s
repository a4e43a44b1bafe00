# spawn.s: N threads alive at once, each waiting for a value. main sends 1 to each over one
# channel and sums what they return: thread i returns i + 1. Same workload as
# shared/bench/peers/spawn.lua; it measures what a thread costs to make, to park and to wake.
#
#   echo 1000000 | spindle run programs/bench/spawn.s
        .equ STACK, 64          # a worker needs room for its return address and little else
        .data
ch:     .quad 0

        .text
main:   syscall read_int
        mov s0, a0              # s0 = N
        li a0, 0
        syscall chan_make
        la t0, ch
        sd a0, 0(t0)
        mov s1, a0              # s1 = the channel
        li s2, 1                # s2 = i, from 1 to N
        bgt s2, s0, .sent
.spawn: la a0, worker
        mov a1, s2              # the worker's argument: i
        li a2, STACK
        syscall thread_spawn
        addi s2, s2, 1
        ble s2, s0, .spawn
        li s2, 0
        bge s2, s0, .sent
.send:  mov a0, s1              # every worker waits on the channel; each send wakes the next
        li a1, 1
        syscall chan_send
        addi s2, s2, 1
        blt s2, s0, .send
.sent:  li s3, 0                # s3 = the sum
        li s2, 2                # worker ids are 2 to N+1
        addi t3, s0, 1
        bgt s2, t3, .done
.join:  mov a0, s2
        syscall thread_join
        add s3, s3, a0
        addi s2, s2, 1
        ble s2, t3, .join
.done:  mov a0, s3
        syscall print_int
        li a0, '\n'
        syscall putc
        li a0, 0
        ret

# worker(x): y := receive; return x + y.
worker: mov t0, a0
        la t1, ch
        ld a0, 0(t1)
        syscall chan_recv
        add a0, a0, t0
        ret
