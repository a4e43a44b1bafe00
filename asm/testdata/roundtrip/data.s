# Data of every kind: strings with escapes and UTF-8, numbers of every width, alignment,
# fills, labels inside data, and a bss with labels.
        .equ    N, 4
        .equ    SIZE, N * 8

        .data
greeting:
        .asciz  "Hello, \"world\"\t\\ # not a comment ; nor this\n"
raw:    .ascii  "no NUL"
utf:    .string "héllo, 世界 \x01\x7f\xff"
        .byte   1, 2, -1, 255, 'a', '\n'
        .align  8
halves: .half   0x1234, -2
words:  .word   0xdeadbeef, -1
quads:  .quad   1 << 62, -9223372036854775808, greeting, main
table:  .quad   table, table + 8, . - table
        .space  SIZE, 0x5a
        .zero   3
        .align  4
empty:
        .ascii  ""
last:   .byte   0

        .bss
        .align  8
buf:    .space  SIZE
.mid:   .space  1
        .align  16
buf_end:

        .text
main:
        la      a0, greeting
        la      a1, buf
        la      a2, buf.mid
        lk      a3, buf_end
        syscall puts
        halt
