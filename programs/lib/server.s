# lib/server.s: the skeleton of a server with one thread per connection, which the servers in
# programs/net share. The program gives the part that differs, the thread that serves one
# connection (its handler); this file does the rest:
#
#     .include "../lib/server.s"    # in the text of a program in programs/net
#
#   - listen_on listens at an address, or exits as every server here does when it cannot;
#   - run_server listens, starts the reaper, and then accepts for ever, starting a thread at
#     the handler for each connection it accepts;
#   - conn_done is how a handler ends: it closes the connection and hands the thread's id to
#     the reaper, which joins the thread once it has ended.
#
# It uses strlen, eputs and die from str.s, which it includes, so the program has them too: a
# program that includes server.s does not include str.s again. Its one word of
# data, the reaper's channel, it keeps in .data, and it leaves the assembler in .text.

        .equ    REAPQ, 64               # finished threads that may wait for the reaper

        .data
        .align  8
reapch: .quad   0                       # the channel on which finished threads give their ids

        .text

# listen_on(a0 = the address, "HOST:PORT", NUL-terminated; a1 = a message) listens there, and
# returns in a0 the listening descriptor. When it cannot (13, EACCES: the address is not
# granted; 98, EADDRINUSE), it writes the message to stderr and exits with the error code made
# positive as the exit status.
listen_on:
        push    s0, s1
        mov     s0, a0                  # s0 = the address
        mov     s1, a1                  # s1 = the message
        call    strlen
        mov     a1, a0
        mov     a0, s0
        syscall listen                  # a0 = the listening descriptor, or an error code
        li      t0, 0
        blt     a0, t0, .fail
        pop     s1, s0
        ret
.fail:  neg     a1, a0                  # the error code, made positive: the exit status
        mov     a0, s1
        call    die

# run_server(a0 = the address, a1 = the handler, a2 = the size of a handler thread's stack,
# a3 = the message for a failure to listen, a4 = the message for a failed accept) listens at
# the address (see listen_on), then serves for ever: for each client it accepts, it starts a
# thread at the handler with a0 = the connection's descriptor and a stack of a2 bytes. The
# handler serves the connection, then calls conn_done and returns.
#
# A failed accept (too many descriptors: EMFILE) is reported on stderr, and the server goes on
# after a pause. run_server never returns, so it keeps none of its caller's registers.
run_server:
        mov     s0, a1                  # s0 = the handler
        mov     s1, a2                  # s1 = its stack size
        mov     s2, a4                  # s2 = the message for a failed accept
        mov     a1, a3
        call    listen_on
        mov     s3, a0                  # s3 = the listening descriptor

        li      a0, REAPQ
        syscall chan_make
        la      t0, reapch
        sd      a0, 0(t0)
        la      a0, reaper
        li      a1, 0
        li      a2, 256
        syscall thread_spawn

.accept:
        mov     a0, s3
        syscall accept                  # parks this thread until a client connects
        li      t0, 0
        blt     a0, t0, .failed
        mov     a1, a0                  # the new thread's argument: its connection
        mov     a0, s0
        mov     a2, s1
        syscall thread_spawn
        jmp     .accept
.failed:
        mov     a0, s2
        call    eputs
        li      a0, 10                  # let the connections that end give back what they hold
        syscall sleep
        jmp     .accept

# conn_done(a0 = a connection's descriptor) closes the connection, and gives the id of the
# thread that calls it to the reaper, which joins the thread once it has ended. A handler calls
# it last, then returns.
conn_done:
        syscall close
        la      t0, reapch
        ld      t1, 0(t0)               # t1 = the channel (a syscall keeps t1)
        syscall gettid
        mov     a1, a0
        mov     a0, t1
        syscall chan_send               # the reaper joins this thread once it has ended
        ret

# reaper joins the threads that served a connection, as they end.
reaper: la      t0, reapch
        ld      s0, 0(t0)
.next:  mov     a0, s0
        syscall chan_recv               # a0 = the id of a thread that is ending
        syscall thread_join
        jmp     .next

        .include "str.s"                # strlen, eputs and die, for this file and the program
