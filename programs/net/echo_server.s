# net/echo_server.s: an echo server, one thread per connection.
#
#     spindle run --net 127.0.0.1:7000 programs/net/echo_server.s 127.0.0.1:7000
#     spindle run --net 127.0.0.1:0 programs/net/echo_server.s 127.0.0.1:0
#     nc 127.0.0.1 7000
#
# It listens at the address of its first argument, which a --net grant must name as it does
# (with port 0 the host chooses the port, and spindle says which on stderr: "spindle: listening
# on 127.0.0.1:43521"). For each client it accepts, it starts a thread that reads what the client
# sends and writes it back, until the client closes its side; the thread then closes the
# connection and ends. It runs until it is stopped (Ctrl-C).
#
# What it shows (the lecture's "threads in servers"):
#   - accept, read and write park only the thread that calls them: the main thread waits in
#     accept while each client's thread waits in read on its own connection, so a client that
#     sends nothing, or a thousand of them, holds up nobody else. --trace-sched shows the
#     threads block on accept and read, and wake as clients connect and send;
#   - one thread per connection: each has its own stack, where its buffer is, and its own
#     registers, where its descriptor is, so the same code serves every client at once;
#   - write may take fewer bytes than asked, so the loop writes until the whole buffer is out;
#   - threads that end are joined (by the reaper), or each would leave its record behind, and a
#     server that runs for ever would grow with every client it ever had.
#
# A failure to listen exits with the error code made positive (13 for EACCES: the address is
# not granted; 98 for EADDRINUSE). A failed accept (too many descriptors: EMFILE) is reported on
# stderr, and the server goes on.

        .equ    BUF, 4096               # bytes a thread reads at a time, on its own stack
        .equ    STACK, 8192             # each connection thread's stack: its buffer and a frame
        .equ    REAPQ, 64               # finished threads that may wait for the reaper

        .data
usage:  .asciz  "usage: echo_server.s HOST:PORT\n"
m_lstn: .asciz  "echo_server.s: cannot listen\n"
m_acpt: .asciz  "echo_server.s: accept failed; going on\n"
        .align  8
reapch: .quad   0                       # the channel on which finished threads give their ids

        .text
main:   li      t0, 2
        bne     a0, t0, .usage
        ld      s0, 8(a1)               # the address, argument 1
        mov     a0, s0
        call    strlen
        mov     a1, a0
        mov     a0, s0
        syscall listen                  # a0 = the listening descriptor, or an error code
        li      t0, 0
        blt     a0, t0, .nolisten
        mov     s0, a0                  # s0 = the listening descriptor

        li      a0, REAPQ
        syscall chan_make
        la      t0, reapch
        sd      a0, 0(t0)
        la      a0, reaper
        li      a1, 0
        li      a2, 256
        syscall thread_spawn

.accept:
        mov     a0, s0
        syscall accept                  # parks this thread until a client connects
        li      t0, 0
        blt     a0, t0, .failed
        mov     a1, a0                  # the new thread's argument: its connection
        la      a0, serve
        li      a2, STACK
        syscall thread_spawn
        jmp     .accept
.failed:
        la      a0, m_acpt
        call    eputs
        li      a0, 10                  # let the connections that end give back what they hold
        syscall sleep
        jmp     .accept

.nolisten:
        neg     s0, a0                  # the error code, made positive: the exit status
        la      a0, m_lstn
        call    eputs
        mov     a0, s0
        syscall exit

.usage: la      a0, usage
        call    eputs
        li      a0, 2
        syscall exit

# serve(a0 = a connection's descriptor) echoes what the client sends until it closes its side
# (read returns 0) or the connection fails (below 0), then closes it and ends its thread.
serve:  enter   BUF                     # the buffer: BUF bytes of this thread's own stack
        mov     s0, a0                  # s0 = the connection
.read:  mov     a0, s0
        addi    a1, fp, -BUF
        li      a2, BUF
        syscall read                    # parks this thread until the client sends something
        li      t0, 0
        ble     a0, t0, .done
        addi    s1, fp, -BUF            # s1: what is left to write, from s1
        mov     s2, a0                  # s2 bytes of it
.write: mov     a0, s0
        mov     a1, s1
        mov     a2, s2
        syscall write                   # parks this thread until the host takes the bytes
        li      t0, 0
        ble     a0, t0, .done           # the client is gone
        add     s1, s1, a0
        sub     s2, s2, a0
        bnez    s2, .write
        jmp     .read
.done:  mov     a0, s0
        syscall close
        la      t0, reapch
        ld      s1, 0(t0)
        syscall gettid
        mov     a1, a0
        mov     a0, s1
        syscall chan_send               # the reaper joins this thread once it has ended
        leave
        ret

# reaper joins the threads that served a connection, as they end.
reaper: la      t0, reapch
        ld      s0, 0(t0)
.next:  mov     a0, s0
        syscall chan_recv               # a0 = the id of a thread that is ending
        syscall thread_join
        jmp     .next

# strlen and eputs.
        .include "../lib/str.s"
