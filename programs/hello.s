# hello.s: the smallest complete program. It writes one line to standard output and exits.
#
#     spindle run programs/hello.s
#
# What it shows:
#   - a program has two address spaces: its text (the instructions) and its data;
#     .data and .text switch between them, and a label names an address in either;
#   - the kernel does the input and output: a program asks for a service with `syscall`,
#     its arguments in a0, a1, a2 as for an ordinary call;
#   - a length the assembler computes from two labels, so that editing the text cannot leave
#     a stale count behind.

        .data
msg:    .ascii  "Hello, world!\n"   # .ascii, not .asciz: write takes a length, not a NUL
msg_end:                            # the address just past the last byte of msg
        .equ    len, msg_end - msg  # label arithmetic: 14, worked out at assembly time

        .text
main:   li      a0, 1               # descriptor 1 is stdout, as on Unix
        la      a1, msg             # a data address is beyond li's 20 bits: la puts it in
                                    # the constant pool and loads it with lk
        li      a2, len             # len is a constant, so this is a plain li
        syscall write               # a0 = bytes written; we trust the kernel with 14 bytes
        li      a0, 0               # exit status 0: success
        syscall exit                # the process ends here; nothing after it runs
