# wc.s: counts the lines, words and bytes of a file, as `wc FILE` does in the C locale.
#
#     spindle run --dir ./notes:/notes programs/files/wc.s /notes/todo.txt
#
# It prints "LINES WORDS BYTES FILE", one space apart. A line is a newline byte, so a last
# line without one is not counted; a word is a run of printable bytes and the non-printable
# ones between them, ended by white space (space, \t, \n, \v, \f, \r): a byte that is neither
# printable (33 to 126) nor white space, such as a NUL or a byte above 127, neither starts a
# word nor ends one, as in GNU wc. When the file cannot be read, it says so on stderr and
# exits with the error code, made positive (2 for ENOENT, 1 for EPERM: a path outside every
# grant).
#
# What it shows:
#   - open: a path is a byte string with its length, not a NUL-terminated one, so the
#     argument's length is measured first (strlen);
#   - a file's descriptor is read with read, like standard input, 0 at the end;
#   - the file services' error codes: negative numbers in a0, Linux's negated.

        .equ    BUFSIZE, 4096
        .equ    O_READ, 1               # open's flags (docs/syscalls.md, Files)

        .data
usage:  .asciz  "usage: wc.s FILE\n"
noopen: .asciz  "wc.s: cannot open "
noread: .asciz  "wc.s: cannot read "
nl:     .asciz  "\n"

        .bss
buf:    .space  BUFSIZE

        .text
main:   li      t0, 2
        blt     a0, t0, .usage
        ld      a0, 8(a1)               # argv[1], the file's path
        mov     s0, a0
        call    strlen
        mov     a1, a0                  # its length
        mov     a0, s0
        li      a2, O_READ
        syscall open                    # a0 = a descriptor, or an error code below 0
        li      t0, 0
        blt     a0, t0, .openerr
        mov     s0, a0                  # s0 = the descriptor
        li      s1, 0                   # s1 = lines
        li      s2, 0                   # s2 = words
        li      s3, 0                   # s3 = bytes
        li      t3, 0                   # t3 = 1 inside a word (a syscall keeps t registers)

.read:  mov     a0, s0
        la      a1, buf
        li      a2, BUFSIZE
        syscall read                    # a0 = bytes read, 0 at the end, below 0 an error
        li      t0, 0
        blt     a0, t0, .readerr
        beqz    a0, .done
        add     s3, s3, a0
        la      t0, buf                 # t0 walks the buffer
        add     t1, t0, a0              # up to t1, its end

.each:  lbu     t2, 0(t0)
        inc     t0
        li      a1, '\n'
        bne     t2, a1, .notnl
        inc     s1
.notnl: li      a1, ' '
        beq     t2, a1, .white
        bgt     t2, a1, .above
        li      a1, '\t'                # below a space: white space from \t (9) to \r (13)
        blt     t2, a1, .next
        li      a1, '\r'
        bgt     t2, a1, .next
.white: add     s2, s2, t3              # white space ends the word, if one had begun
        li      t3, 0
        jmp     .next
.above: li      a1, 127
        bge     t2, a1, .next           # DEL and bytes above it: not printable in C
        li      t3, 1                   # a printable byte: inside a word
.next:  blt     t0, t1, .each
        jmp     .read

.done:  add     s2, s2, t3              # a word that runs to the end of the file
        mov     a0, s0
        syscall close
        mov     a0, s1
        syscall print_int
        li      a0, ' '
        syscall putc
        mov     a0, s2
        syscall print_int
        li      a0, ' '
        syscall putc
        mov     a0, s3
        syscall print_int
        li      a0, ' '
        syscall putc
        li      a0, 1
        syscall argv
        syscall puts
        li      a0, '\n'
        syscall putc
        li      a0, 0
        syscall exit

.usage: la      a0, usage
        call    eputs
        li      a0, 2
        syscall exit
.openerr:
        la      s1, noopen
        jmp     .fail
.readerr:
        la      s1, noread
.fail:  neg     s0, a0                  # the error code, made positive: the exit status
        mov     a0, s1
        call    eputs
        li      a0, 1
        syscall argv
        call    eputs
        la      a0, nl
        call    eputs
        mov     a0, s0
        syscall exit

# strlen and eputs.
        .include "../lib/str.s"
