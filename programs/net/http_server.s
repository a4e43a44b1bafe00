# net/http_server.s: an HTTP/1.1 server with keep-alive, one thread per connection.
#
#     spindle run --net 127.0.0.1:8080 --dir ./site:/www programs/net/http_server.s 127.0.0.1:8080 /www
#     curl http://127.0.0.1:8080/              # the greeting
#     curl http://127.0.0.1:8080/index.html    # ./site/index.html
#
# It listens at the address of its first argument, which a --net grant must name as it does, and
# serves the files of the directory of its second argument, as the program sees it through a
# --dir grant. For each client it accepts it starts a thread, which answers the client's
# requests one after the other on the same connection (keep-alive) until the client closes it,
# asks for it to close, or sends something the server cannot answer.
#
# What it answers:
#   GET /            200, a greeting in text/plain
#   GET /NAME        200, the file DIR/NAME with its Content-Length (text/html for .html,
#                    text/plain for .txt, application/octet-stream otherwise); a query (?...)
#                    is ignored, and %XX is not decoded
#                    404 when DIR/NAME is not a regular file the program can open: missing, a
#                    directory, or outside the grant (a "..": the kernel refuses it)
#   another method   501, and the connection closes
#   a bad request line, or a version other than HTTP/1.0 and HTTP/1.1
#                    400, and the connection closes
#   a target over 1024 bytes
#                    414, and the connection closes
#   a line over 8 KiB (the request line or a header)
#                    431, and the connection closes: a line is read into a buffer of 8 KiB and
#                    no further, so a client that sends a header of a megabyte costs the server
#                    8 KiB, not a megabyte
# Headers are read up to the empty line and ignored, but for "Connection: close", after which the
# connection closes once the response is out (as after any request in HTTP/1.0). A request's body
# is not read: GET has none.
#
# What it shows, beyond echo_server.s:
#   - a protocol over a stream: read returns whatever has arrived, a part of a line or several
#     lines, so a buffer per connection keeps what has come and not yet been used (readline);
#   - a bound on everything a client controls, and a thread that ends when it is passed;
#   - a timeout (sockopt), so that a client that connects and stalls holds its thread for a
#     minute, not for ever;
#   - the state of a connection lives in its thread's stack frame (struct C_ below), so each
#     thread serves its own client with the same code.
#
# A failure to listen exits with the error code made positive (13 for EACCES: the address is not
# granted; 98 for EADDRINUSE).

        .equ    LINEMAX, 8192           # the longest line a client may send, "\r\n" included
        .equ    TARGETMAX, 1024         # the longest target of a request line
        .equ    ROOTMAX, 255            # the longest directory, the second argument
        .equ    OUTMAX, 4096            # a response's head, or a block of a file
        .equ    IDLE, 60000             # ms a connection may stay silent, or slow to take bytes

        .equ    O_READ, 1               # open's flags, sockopt's options (docs/syscalls.md)
        .equ    RECV_TIMEOUT, 1
        .equ    SEND_TIMEOUT, 2
        .equ    KIND_FILE, 1            # fstat's kind of a regular file

# A connection's state, at the bottom of its thread's frame: the struct C_.
        .equ    C_FD, 0                 # the connection's descriptor
        .equ    C_POS, 8                # where in C_BUF the next line starts
        .equ    C_END, 16               # where in C_BUF what has arrived ends
        .equ    C_CLOSE, 24             # 1 when the connection closes after this response
        .equ    C_PATHLEN, 32           # the length of C_PATH; 0 for the greeting
        .equ    C_BUF, 40               # LINEMAX bytes: what the client sent, not yet used
        .equ    C_PATH, C_BUF + LINEMAX # the file's path: the directory, then the target
        .equ    C_OUT, C_PATH + ROOTMAX + TARGETMAX + 1
        .equ    CONN, C_OUT + OUTMAX    # the size of the struct
        .equ    STACK, CONN + 1024      # a connection thread's stack: its struct and the calls

        .data
usage:  .asciz  "usage: http_server.s HOST:PORT DIR\n"
m_lstn: .asciz  "http_server.s: cannot listen\n"
m_acpt: .asciz  "http_server.s: accept failed; going on\n"
greet:  .asciz  "Hello from Spindle's http_server.s!"
s200:   .asciz  "200 OK"
s400:   .asciz  "400 Bad Request"
s404:   .asciz  "404 Not Found"
s414:   .asciz  "414 URI Too Long"
s431:   .asciz  "431 Request Header Fields Too Large"
s501:   .asciz  "501 Not Implemented"
t_text: .asciz  "text/plain"
t_html: .asciz  "text/html"
t_bin:  .asciz  "application/octet-stream"
x_html: .asciz  ".html"
x_txt:  .asciz  ".txt"
v_11:   .asciz  "HTTP/1.1"
v_10:   .asciz  "HTTP/1.0"
m_get:  .asciz  "GET"
h_http: .asciz  "HTTP/1.1 "
h_type: .asciz  "\r\nContent-Type: "
h_len:  .asciz  "\r\nContent-Length: "
h_cls:  .asciz  "Connection: close\r\n"
h_conn: .asciz  "connection:"           # compared ignoring case, as header names are
w_cls:  .asciz  "close"
crlf:   .asciz  "\r\n"
nl:     .asciz  "\n"
        .align  8
root:   .quad   0                       # the directory served: argument 2

        .text
main:   li      t0, 3
        bne     a0, t0, .usage
        ld      s0, 8(a1)               # the address, argument 1
        ld      s1, 16(a1)              # the directory, argument 2
        mov     a0, s1
        call    strlen
        li      t0, ROOTMAX
        bgt     a0, t0, .usage
        la      t0, root
        sd      s1, 0(t0)
        mov     a0, s0                  # then serve as echo_server.s does (lib/server.s)
        la      a1, serve               # the thread that serves one connection
        li      a2, STACK
        la      a3, m_lstn
        la      a4, m_acpt
        call    run_server              # never returns

.usage: la      a0, usage
        li      a1, 2
        call    die

# serve(a0 = a connection's descriptor) answers the client's requests until the connection
# closes, then closes it and ends its thread. s0 points at the connection's struct, in the frame.
serve:  enter   CONN
        addi    s0, fp, -CONN           # s0 = the connection's state
        sd      a0, C_FD(s0)
        li      t0, 0
        sd      t0, C_POS(s0)
        sd      t0, C_END(s0)
        sd      t0, C_CLOSE(s0)
        li      a1, RECV_TIMEOUT        # a client silent for IDLE ms is let go
        li      a2, IDLE
        syscall sockopt
        ld      a0, C_FD(s0)
        li      a1, SEND_TIMEOUT        # and so is one that does not take its answer
        li      a2, IDLE
        syscall sockopt

# The request line: METHOD SP TARGET SP VERSION.
.request:
        mov     a0, s0
        call    readline                # a0 = the line, a1 = its length; 0 or -1: see readline
        beqz    a0, .done
        li      t0, -1
        beq     a0, t0, .toolong
        beqz    a1, .request            # an empty line before a request is allowed (RFC 9112)
        mov     s1, a0                  # s1 = the line
        add     s2, a0, a1              # s2 = its end
        mov     a1, s2
        li      a2, ' '
        call    find                    # a0 = the space after the method
        beq     a0, s2, .bad
        mov     s3, a0                  # s3 = the space after the method
        addi    a0, a0, 1
        mov     a1, s2
        li      a2, ' '
        call    find                    # a0 = the space after the target
        beq     a0, s2, .bad
        addi    t0, a0, 1               # the version: from after it to the end of the line
        sub     a1, s2, t0
        mov     s2, a0                  # s2 = the end of the target
        mov     a0, t0
        push    a0, a1
        la      a2, v_11
        call    equal
        mov     t0, a0
        pop     a1, a0
        bnez    t0, .v_ok
        la      a2, v_10
        call    equal
        beqz    a0, .bad
        li      t0, 1                   # HTTP/1.0: one request, then the connection closes
        sd      t0, C_CLOSE(s0)
.v_ok:  mov     a0, s1                  # the method: from the start of the line to s3
        sub     a1, s3, s1
        la      a2, m_get
        call    equal
        beqz    a0, .notimpl
        addi    s3, s3, 1               # s3 = the target, up to s2
        beq     s3, s2, .bad
        lbu     t0, 0(s3)
        li      t1, '/'
        bne     t0, t1, .bad
        mov     a0, s3                  # a query, from "?", is not part of the file's name
        mov     a1, s2
        li      a2, '?'
        call    find
        mov     s2, a0
        sub     s1, s2, s3              # s1 = the target's length
        li      t0, TARGETMAX
        bgt     s1, t0, .toobig
        li      t0, 0                   # "/" alone: the greeting, no file
        sd      t0, C_PATHLEN(s0)
        li      t0, 1
        beq     s1, t0, .header
        addi    a0, s0, C_PATH          # the path: the directory, then the target
        la      t0, root
        ld      a1, 0(t0)
        call    appendstr
        mov     a1, s3
        mov     a2, s1
        call    copy
        addi    t0, s0, C_PATH
        sub     t0, a0, t0
        sd      t0, C_PATHLEN(s0)

# The headers, up to an empty line. Only "Connection: close" changes anything.
.header:
        mov     a0, s0
        call    readline
        beqz    a0, .done
        li      t0, -1
        beq     a0, t0, .toolong
        beqz    a1, .answer             # the empty line: the request is whole
        mov     s1, a0
        mov     s2, a1
        la      a2, h_conn
        call    hasprefix
        beqz    a0, .header
        addi    a0, s1, 11              # the value, after "connection:" and its blanks
        addi    a1, s2, -11
.blank: beqz    a1, .header
        lbu     t0, 0(a0)
        li      t1, ' '
        beq     t0, t1, .skip
        li      t1, '\t'
        bne     t0, t1, .value
.skip:  inc     a0
        dec     a1
        jmp     .blank
.value: la      a2, w_cls
        call    hasprefix
        beqz    a0, .header
        li      t0, 1
        sd      t0, C_CLOSE(s0)
        jmp     .header

.answer:
        ld      t0, C_PATHLEN(s0)
        bnez    t0, .file
        la      s1, s200
        la      s2, greet
        jmp     .reply

# A file: open it, check it is a regular file and take its size, then send the head and the
# bytes. The body is exactly the size in the head, even if the file changes meanwhile: a file
# that shrinks closes the connection, since the client could not tell where the response ends.
.file:  addi    a0, s0, C_PATH
        ld      a1, C_PATHLEN(s0)
        li      a2, O_READ
        syscall open                    # a0 = the file's descriptor, or an error code
        li      t0, 0
        blt     a0, t0, .notfound
        mov     s1, a0                  # s1 = the file
        addi    a1, s0, C_OUT           # fstat's 32 bytes, in C_OUT until the head goes there
        syscall fstat
        li      t0, 0
        blt     a0, t0, .notfile
        ld      t0, C_OUT+8(s0)         # the kind
        li      t1, KIND_FILE
        bne     t0, t1, .notfile
        ld      s2, C_OUT(s0)           # s2 = the size: the bytes left to send
        addi    a0, s0, C_PATH
        ld      a1, C_PATHLEN(s0)
        call    ctype                   # a0 = the content type, from the name
        mov     a2, a0
        mov     a0, s0
        la      a1, s200
        mov     a3, s2
        call    head
        mov     a1, a0
        mov     a0, s0
        call    send
        li      t0, 0
        blt     a0, t0, .lost
.block: beqz    s2, .sent
        mov     a0, s1                  # a block of the file, read into C_OUT
        addi    a1, s0, C_OUT
        li      a2, OUTMAX
        bleu    a2, s2, .read
        mov     a2, s2
.read:  syscall read
        li      t0, 0
        ble     a0, t0, .lost           # an error, or the file is shorter than it was
        sub     s2, s2, a0
        addi    a1, s0, C_OUT
        add     a1, a1, a0
        mov     a0, s0
        call    send
        li      t0, 0
        blt     a0, t0, .lost
        jmp     .block
.sent:  mov     a0, s1
        syscall close
        jmp     .next
.lost:  mov     a0, s1                  # the response cannot be finished: close both
        syscall close
        jmp     .done
.notfile:
        mov     a0, s1
        syscall close
.notfound:
        la      s1, s404
        mov     s2, s1
        jmp     .reply

# Errors after which the connection closes: what the client sends next cannot be trusted to
# start a request.
.bad:   la      s1, s400
        jmp     .fail
.notimpl:
        la      s1, s501
        jmp     .fail
.toobig:
        la      s1, s414
        jmp     .fail
.toolong:
        la      s1, s431
.fail:  li      t0, 1
        sd      t0, C_CLOSE(s0)
        mov     s2, s1                  # the body: the status itself

# A short response in text/plain: the status s1, the body s2 and a newline.
.reply: mov     a0, s2
        call    strlen
        addi    a3, a0, 1
        mov     a0, s0
        mov     a1, s1
        la      a2, t_text
        call    head
        mov     a1, s2
        call    appendstr
        la      a1, nl
        call    appendstr
        mov     a1, a0
        mov     a0, s0
        call    send
        li      t0, 0
        blt     a0, t0, .done

.next:  ld      t0, C_CLOSE(s0)
        beqz    t0, .request
.done:  ld      a0, C_FD(s0)
        call    conn_done               # close it; the reaper joins this thread once it has ended
        leave
        ret

# readline(a0 = a connection's struct) returns the next line the client sent: a0 = its address
# in C_BUF and a1 = its length, without its "\n" or "\r\n". It reads from the connection only
# when C_BUF holds no whole line, and keeps what comes after the line for the next call (a
# client may send several requests at once). It returns a0 = 0 when the client has closed its
# side, or the connection failed or timed out, and a0 = -1 when LINEMAX bytes came without a
# "\n". The line stays in C_BUF until the next call.
readline:
        push    s0
        mov     s0, a0
        ld      t3, C_POS(s0)           # t3: the next byte to look at (a syscall keeps t3)
.scan:  ld      t1, C_END(s0)
.look:  bge     t3, t1, .more
        add     t2, s0, t3
        lbu     t2, C_BUF(t2)
        li      t0, '\n'
        beq     t2, t0, .found
        inc     t3
        jmp     .look
.more:  ld      t0, C_POS(s0)           # no "\n" yet: move the start of the line to the start
        beqz    t0, .room               # of C_BUF, to make room after it
        li      t2, 0
.move:  bge     t0, t1, .moved
        add     a1, s0, t0
        lbu     a1, C_BUF(a1)
        add     a2, s0, t2
        sb      a1, C_BUF(a2)
        inc     t0
        inc     t2
        jmp     .move
.moved: ld      t0, C_POS(s0)
        sub     t3, t3, t0
        sd      t2, C_END(s0)
        li      t0, 0
        sd      t0, C_POS(s0)
        mov     t1, t2
.room:  li      t0, LINEMAX
        bge     t1, t0, .toolong        # C_BUF is full of one line
        ld      a0, C_FD(s0)
        addi    a1, s0, C_BUF
        add     a1, a1, t1
        sub     a2, t0, t1
        syscall read                    # parks this thread until the client sends something
        li      t0, 0
        ble     a0, t0, .closed
        ld      t1, C_END(s0)
        add     t1, t1, a0
        sd      t1, C_END(s0)
        jmp     .scan
.found: ld      t0, C_POS(s0)           # the line: from C_POS to t3, the "\n"
        addi    t1, t3, 1
        sd      t1, C_POS(s0)           # the next one starts after it
        addi    a0, s0, C_BUF
        add     a0, a0, t0
        sub     a1, t3, t0
        beqz    a1, .ret
        add     t2, a0, a1              # drop a "\r" before the "\n"
        lbu     t2, -1(t2)
        li      t1, '\r'
        bne     t2, t1, .ret
        dec     a1
.ret:   pop     s0
        ret
.toolong:
        li      a0, -1
        jmp     .ret
.closed:
        li      a0, 0
        jmp     .ret

# head(a0 = a connection's struct, a1 = the status, a2 = the content type, a3 = the length of the
# body) writes the head of a response into C_OUT, and returns in a0 the address past it:
#     HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 36\r\n\r\n
# with "Connection: close\r\n" before the empty line when the connection closes after it.
head:   push    s0, s1, s2, s3
        mov     s0, a0
        mov     s1, a1
        mov     s2, a2
        mov     s3, a3
        addi    a0, s0, C_OUT
        la      a1, h_http
        call    appendstr
        mov     a1, s1
        call    appendstr
        la      a1, h_type
        call    appendstr
        mov     a1, s2
        call    appendstr
        la      a1, h_len
        call    appendstr
        mov     a1, s3
        call    utoa
        la      a1, crlf
        call    appendstr
        ld      t0, C_CLOSE(s0)
        beqz    t0, .end
        la      a1, h_cls
        call    appendstr
.end:   la      a1, crlf
        call    appendstr
        pop     s3, s2, s1, s0
        ret

# send(a0 = a connection's struct, a1 = the end of what is in C_OUT) writes C_OUT up to a1 to the
# client. Returns a0 = 0, or below 0 when the client is gone.
send:   ld      t3, C_FD(a0)            # t3 = the descriptor (a syscall keeps t3)
        addi    t1, a0, C_OUT
        sub     a2, a1, t1
        mov     a1, t1
.again: beqz    a2, .ok
        mov     a0, t3
        syscall write                   # parks this thread until the host takes the bytes
        li      t0, 0
        ble     a0, t0, .gone           # an error code, or nothing taken
        add     a1, a1, a0              # write may take fewer bytes than asked: go on
        sub     a2, a2, a0
        jmp     .again
.ok:    li      a0, 0
        ret
.gone:  li      a0, -1
        ret

# ctype(a0 = a file's path, a1 = its length) returns in a0 its content type, from its ending.
ctype:  push    s0, s1
        mov     s0, a0
        mov     s1, a1
        li      t0, 5
        blt     a1, t0, .txt
        add     a0, s0, s1
        addi    a0, a0, -5
        li      a1, 5
        la      a2, x_html
        call    hasprefix
        beqz    a0, .txt
        la      a0, t_html
        jmp     .ret
.txt:   li      t0, 4
        la      a0, t_bin
        blt     s1, t0, .ret
        add     a0, s0, s1
        addi    a0, a0, -4
        li      a1, 4
        la      a2, x_txt
        call    hasprefix
        mov     t0, a0
        la      a0, t_bin
        beqz    t0, .ret
        la      a0, t_text
.ret:   pop     s1, s0
        ret

# find(a0 = the start of some bytes, a1 = their end, a2 = a byte) returns in a0 the address of the
# first such byte, or a1 if there is none.
find:   bge     a0, a1, .end
        lbu     t0, 0(a0)
        beq     t0, a2, .end
        inc     a0
        jmp     find
.end:   ret

# equal(a0 = some bytes, a1 = their length, a2 = a NUL-terminated string) returns in a0 1 if the
# bytes are the string, exactly, and 0 otherwise.
equal:  lbu     t0, 0(a2)
        beqz    t0, .last
        beqz    a1, .no
        lbu     t1, 0(a0)
        bne     t0, t1, .no
        inc     a0
        inc     a2
        dec     a1
        jmp     equal
.last:  bnez    a1, .no                 # the string ended first
        li      a0, 1
        ret
.no:    li      a0, 0
        ret

# hasprefix(a0 = some bytes, a1 = their length, a2 = a NUL-terminated string in lower case)
# returns in a0 1 if the bytes start with the string, upper and lower case alike, and 0 otherwise.
hasprefix:
        lbu     t0, 0(a2)
        beqz    t0, .yes
        beqz    a1, .no
        lbu     t1, 0(a0)
        li      t2, 'A'                 # an upper-case letter compares as its lower case
        blt     t1, t2, .cmp
        li      t2, 'Z'
        bgt     t1, t2, .cmp
        addi    t1, t1, 'a' - 'A'
.cmp:   bne     t0, t1, .no
        inc     a0
        inc     a2
        dec     a1
        jmp     hasprefix
.yes:   li      a0, 1
        ret
.no:    li      a0, 0
        ret

# copy(a0 = where to write, a1 = some bytes, a2 = their length) copies them, and returns in a0
# the address past them.
copy:   beqz    a2, .end
        lbu     t0, 0(a1)
        sb      t0, 0(a0)
        inc     a0
        inc     a1
        dec     a2
        jmp     copy
.end:   ret

# utoa(a0 = where to write, a1 = a number, 0 or more) writes it in decimal, and returns in a0
# the address past it.
utoa:   mov     t0, a1                  # count its digits: t1
        li      t1, 1
        li      t2, 10
.count: bltu    t0, t2, .write
        divu    t0, t0, t2
        inc     t1
        jmp     .count
.write: add     a0, a0, t1              # then write them from the last
        mov     t0, a0
.digit: dec     t0
        remu    t3, a1, t2
        addi    t3, t3, '0'
        sb      t3, 0(t0)
        divu    a1, a1, t2
        bnez    a1, .digit
        ret

# run_server, listen_on and conn_done; strlen, eputs, die and appendstr.
        .include "../lib/server.s"
