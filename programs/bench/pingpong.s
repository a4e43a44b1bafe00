# pingpong.s: two threads hand a counter back and forth N times over two unbuffered channels.
# It measures what a context switch costs: every round trip is two switches between the
# threads. Same workload as shared/bench/peers/pingpong.lua, where a coroutine resume passes a
# value and waits for the one yielded back; here chan_sendrecv does the same, a send and a
# receive in one call (as an RPC's request and reply, or L4's IPC call), so a round trip is two
# syscalls, not four. The rest of a round trip is six instructions: syscalls keep the registers
# they do not return in, so each thread sets a2, the channel it receives from, once.
#
#   echo 1000000 | spindle run programs/bench/pingpong.s
        .data
ping:   .quad 0                 # channel handles, shared by the two threads
pong:   .quad 0

        .text
main:   syscall read_int
        mov s0, a0              # s0 = N
        li a0, 0
        syscall chan_make
        la t0, ping
        sd a0, 0(t0)
        mov s1, a0              # s1 = ping
        li a0, 0
        syscall chan_make
        la t0, pong
        sd a0, 0(t0)
        mov s2, a0              # s2 = pong
        la a0, ponger
        li a1, 0
        li a2, 256
        syscall thread_spawn
        mov a2, s2              # a2 = pong, for every chan_sendrecv
        li a0, 0                # a0 = the counter
        li t3, 0                # t3 = round trips done
        bge t3, s0, .done
.loop:  mov a1, a0              # hand the counter over on ping, and wait for it on pong ...
        mov a0, s1
        syscall chan_sendrecv   # ... back in a0, one higher
        loop t3, s0, .loop
.done:  syscall print_int
        li a0, '\n'
        syscall putc
        li a0, 0
        ret                     # ends the process, and with it the ponger

# ponger: receive x on ping; then, forever, send x+1 on pong and receive the next x on ping.
ponger: la t0, ping
        ld s1, 0(t0)
        la t0, pong
        ld s2, 0(t0)
        mov a0, s1
        syscall chan_recv
        mov a2, s1              # a2 = ping, for every chan_sendrecv
.loop:  addi a1, a0, 1
        mov a0, s2
        syscall chan_sendrecv
        jmp .loop
