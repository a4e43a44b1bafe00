# echo.s: copies standard input to standard output, like `cat` with no arguments.
#
#     spindle run programs/echo.s < some-file
#     printf 'one\ntwo\n' | spindle run programs/echo.s
#
# What it shows:
#   - a buffer in .bss: memory that starts as zeros and takes no room in the object file,
#     because only its size is recorded;
#   - the read/write loop of every Unix filter: read returns how many bytes it got, which
#     may be fewer than asked for (a pipe hands over what it has), and 0 at the end of input;
#   - a loop with its test at the bottom, so that each pass runs one branch, not two.

        .equ    BUFSIZE, 4096       # one page: big enough that a syscall moves many bytes

        .bss
buf:    .space  BUFSIZE

        .text
main:   la      s0, buf             # the buffer's address stays in s0: a syscall changes a0
                                    # and a1, but leaves the saved registers alone
                                    # (main ends with exit, never returns, so it need not
                                    # give s0 back to its caller)
        jmp     .read               # enter the loop at its test: there may be nothing to copy

.copy:  mov     a2, a0              # write exactly the count that read returned,
        li      a0, 1               # to stdout,
        mov     a1, s0              # from the buffer
        syscall write
.read:  li      a0, 0               # stdin
        mov     a1, s0
        li      a2, BUFSIZE
        syscall read                # a0 = bytes read: > 0 data, 0 end of input, -1 error
        li      t0, 0               # there is no zero register: make a zero to compare with
        bgt     a0, t0, .copy       # data: copy it and read again (bgt is blt, swapped)

        # 0 (end of input) or -1 (stdin is not open): either way there is no more to copy.
        # A failure to read is not this program's to report, so it exits with success.
        li      a0, 0
        syscall exit
