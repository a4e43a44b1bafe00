# net/echo_single.s: an echo server with one thread, which serves one client at a time.
#
#     spindle run --net 127.0.0.1:7000 programs/net/echo_single.s 127.0.0.1:7000
#
# It is echo_server.s without its threads, to show what they are for (docs/servers.md): the
# only thread accepts a client, echoes it until it leaves, and only then accepts the next. A
# second client connects (the host accepts the connection into the listening socket's queue),
# sends, and gets nothing back until the first has gone. One client that stalls stalls them all.

        .equ    BUF, 4096

        .data
usage:  .asciz  "usage: echo_single.s HOST:PORT\n"
m_lstn: .asciz  "echo_single.s: cannot listen\n"

        .bss
buf:    .space  BUF

        .text
main:   li      t0, 2
        bne     a0, t0, .usage
        ld      a0, 8(a1)               # the address, argument 1
        la      a1, m_lstn
        call    listen_on               # exits if it cannot (lib/server.s)
        mov     s0, a0                  # s0 = the listening descriptor

.accept:
        mov     a0, s0
        syscall accept                  # the only thread waits here for the next client...
        li      t0, 0
        blt     a0, t0, .accept
        mov     s1, a0                  # s1 = the connection
.read:  mov     a0, s1
        la      a1, buf
        li      a2, BUF
        syscall read                    # ...and here, while every other client waits for it
        li      t0, 0
        ble     a0, t0, .done
        mov     a2, a0                  # write it back: a2 bytes from a1
        la      a1, buf
.write: mov     a0, s1
        syscall write
        li      t0, 0
        ble     a0, t0, .done
        add     a1, a1, a0
        sub     a2, a2, a0
        bnez    a2, .write
        jmp     .read
.done:  mov     a0, s1
        syscall close
        jmp     .accept

.usage: la      a0, usage
        li      a1, 2
        call    die

# listen_on, from the servers with threads: this one uses none of their threads, only the way
# they listen. strlen, eputs and die.
        .include "../lib/server.s"
