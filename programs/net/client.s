# net/client.s: fetches a page over HTTP/1.1 and prints its body.
#
#     spindle run --net connect=127.0.0.1:8080 programs/net/client.s 127.0.0.1:8080 /index.html
#
# It connects to the address of its first argument, which a --net connect= grant must name as
# it does, sends
#     GET PATH HTTP/1.1\r\nHost: HOST:PORT\r\nConnection: close\r\n\r\n
# with the path of its second argument, and reads the response to its end: the server closes
# the connection after it, as the request asks. It prints the body, the bytes after the head's
# empty line, to stdout as they come, and exits with status 0 when the status is 2xx (200 OK)
# and 1 otherwise, the body printed all the same. It reads the body to the end of the
# connection and decodes no transfer coding: a body sent in chunks (Transfer-Encoding: chunked)
# is printed with its chunks' sizes.
#
# A failure to connect exits with the error code made positive (13 for EACCES: the address is
# not granted; 111 for ECONNREFUSED: nothing listens there); a response without a whole head
# exits with status 1.
#
# What it shows:
#   - connect, and a write loop for the request;
#   - a response read in pieces: the head's end, "\r\n\r\n", may be cut across two reads, so
#     the search for it is a small state machine, fed a byte at a time.

        .equ    BUF, 4096
        .equ    REQMAX, 2048            # the request: the path and the address must fit
        .equ    WAIT, 10000             # ms that connect, and then each read, may wait
        .equ    RECV_TIMEOUT, 1         # sockopt's option (docs/syscalls.md)

        .data
usage:  .asciz  "usage: client.s HOST:PORT PATH\n"
m_conn: .asciz  "client.s: cannot connect\n"
m_long: .asciz  "client.s: the path or the address is too long\n"
m_head: .asciz  "client.s: no response, or one cut short\n"
r_get:  .asciz  "GET "
r_host: .asciz  " HTTP/1.1\r\nHost: "
r_end:  .asciz  "\r\nConnection: close\r\n\r\n"
ends:   .ascii  "\r\n\r\n"              # the end of the head, matched a byte at a time

        .bss
req:    .space  REQMAX
buf:    .space  BUF

        .text
main:   li      t0, 3
        bne     a0, t0, .usage
        ld      s0, 8(a1)               # s0 = the address
        ld      s1, 16(a1)              # s1 = the path
        mov     a0, s0
        call    strlen
        mov     s2, a0
        mov     a0, s1
        call    strlen
        add     t0, a0, s2
        li      t1, REQMAX - 64
        bgt     t0, t1, .toolong
        la      a0, req                 # the request, in req
        la      a1, r_get
        call    appendstr
        mov     a1, s1
        call    appendstr
        la      a1, r_host
        call    appendstr
        mov     a1, s0
        call    appendstr
        la      a1, r_end
        call    appendstr
        la      t0, req
        sub     s3, a0, t0              # s3 = its length

        mov     a0, s0
        mov     a1, s2
        li      a2, WAIT
        syscall connect                 # parks this thread until connected, or WAIT ms
        li      t0, 0
        blt     a0, t0, .noconn
        mov     s0, a0                  # s0 = the connection
        li      a1, RECV_TIMEOUT
        li      a2, WAIT
        syscall sockopt

        la      s1, req                 # write the request: s3 bytes from s1
.write: mov     a0, s0
        mov     a1, s1
        mov     a2, s3
        syscall write
        li      t0, 0
        ble     a0, t0, .cut
        add     s1, s1, a0
        sub     s3, s3, a0
        bnez    s3, .write

        li      s1, 0                   # s1: how many bytes of "\r\n\r\n" the head's end matched
        li      s2, 0                   # s2: how many bytes of the response came before
        li      s3, 0                   # s3: the status's first digit, at byte 9: "HTTP/1.1 200"
.read:  mov     a0, s0
        la      a1, buf
        li      a2, BUF
        syscall read                    # a0 = bytes read, 0 at the end, below 0 an error
        li      t0, 0
        ble     a0, t0, .end
        la      t0, buf                 # t0 walks what came, up to t1
        add     t1, t0, a0
        li      t2, 4
.head:  beq     s1, t2, .body           # the head is over: the rest is the body
        bge     t0, t1, .read
        lbu     t3, 0(t0)
        li      a0, 9
        bne     s2, a0, .match
        mov     s3, t3
.match: inc     s2
        inc     t0
        la      a0, ends
        add     a0, a0, s1
        lbu     a0, 0(a0)
        beq     t3, a0, .step
        li      s1, 0                   # no match: start again, from this byte if it is "\r"
        li      a0, '\r'
        bne     t3, a0, .head
.step:  inc     s1
        jmp     .head
.body:  sub     a2, t1, t0              # print from t0 to t1
        beqz    a2, .read
        li      a0, 1
        mov     a1, t0
        syscall write
        li      t2, 0
        ble     a0, t2, .end
        add     t0, t0, a0
        jmp     .body

.end:   li      t0, 4
        bne     s1, t0, .cut
        mov     a0, s0
        syscall close
        li      a0, 0
        li      t0, '2'
        beq     s3, t0, .exit
        li      a0, 1
.exit:  syscall exit

.cut:   la      a0, m_head
        li      a1, 1
        call    die
.noconn:
        neg     a1, a0                  # the error code, made positive: the exit status
        la      a0, m_conn
        call    die
.toolong:
        la      a0, m_long
        li      a1, 2
        call    die
.usage: la      a0, usage
        li      a1, 2
        call    die

# strlen, eputs, die and appendstr.
        .include "../lib/str.s"
