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

        .data
usage:  .asciz  "usage: echo_server.s HOST:PORT\n"
m_lstn: .asciz  "echo_server.s: cannot listen\n"
m_acpt: .asciz  "echo_server.s: accept failed; going on\n"

# main listens, starts the reaper and accepts for ever, starting a thread at serve for each
# client: all of that is run_server, in lib/server.s, which http_server.s shares.
        .text
main:   li      t0, 2
        bne     a0, t0, .usage
        ld      a0, 8(a1)               # the address, argument 1
        la      a1, serve               # the thread that serves one connection
        li      a2, STACK
        la      a3, m_lstn
        la      a4, m_acpt
        call    run_server              # never returns

.usage: la      a0, usage
        li      a1, 2
        call    die

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
        call    conn_done               # close it; the reaper joins this thread once it has ended
        leave
        ret

# run_server, listen_on and conn_done; strlen, eputs and die.
        .include "../lib/server.s"
