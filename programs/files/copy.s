# copy.s: copies a file, completely or not at all.
#
#     spindle run --dir ./in:/in --dir ./out:/out:rw programs/files/copy.s /in/data /out/data
#
# It writes the copy to a temporary name beside the destination (DST.tmp), makes sure the
# bytes are on the disk (fsync), closes it, and only then renames it over DST. A rename within
# one directory replaces the file at once, so whoever reads DST sees the old file whole or the
# new one whole, never half a copy: a copy that fails, or a run stopped half-way, leaves DST as
# it was. When something fails it removes the temporary file, says what failed on stderr, and
# exits with the error code made positive (18 for EXDEV, 30 for EROFS, ...).
#
# What it shows:
#   - open's flags: read for the source; write, create and truncate for the copy;
#   - write may take fewer bytes than asked, so the loop writes until the whole buffer is out;
#   - fsync and rename, the two steps of the atomic write (docs/syscalls.md, Files).

        .equ    BUFSIZE, 4096
        .equ    O_READ, 1
        .equ    O_WRITE, 2
        .equ    O_CREATE, 4
        .equ    O_TRUNCATE, 8
        .equ    MAXPATH, 4096

        .data
usage:  .asciz  "usage: copy.s SRC DST\n"
suffix: .asciz  ".tmp"
m_open: .asciz  "copy.s: cannot open the source\n"
m_tmp:  .asciz  "copy.s: cannot create the temporary file\n"
m_read: .asciz  "copy.s: cannot read the source\n"
m_writ: .asciz  "copy.s: cannot write the copy\n"
m_sync: .asciz  "copy.s: cannot fsync the copy\n"
m_ren:  .asciz  "copy.s: cannot rename the copy to its name\n"
        .align  8
dstlen: .quad   0                       # the lengths of DST and DST.tmp
tmplen: .quad   0

        .bss
buf:    .space  BUFSIZE
tmp:    .space  MAXPATH + 8             # DST.tmp

        .text
main:   li      t0, 3
        bne     a0, t0, .usage
        mov     s3, a1                  # s3 = argv

        # The temporary name: DST, then ".tmp".
        ld      a0, 16(s3)
        call    strlen
        la      t0, dstlen
        sd      a0, 0(t0)
        li      t1, MAXPATH
        bgt     a0, t1, .usage
        la      a1, tmp
        ld      a2, 16(s3)
        call    append                  # a0 = the end of what it wrote
        la      a1, suffix
        mov     a2, a0
        call    strcpy
        la      t0, tmp
        sub     a0, a0, t0
        la      t0, tmplen
        sd      a0, 0(t0)

        # The source, for reading.
        ld      a0, 8(s3)
        call    strlen
        mov     a1, a0
        ld      a0, 8(s3)
        li      a2, O_READ
        syscall open
        la      s2, m_open
        li      t0, 0
        blt     a0, t0, .fail
        mov     s0, a0                  # s0 = the source's descriptor

        # The copy, under its temporary name: made, or emptied if a failed copy left it.
        la      a0, tmp
        la      t0, tmplen
        ld      a1, 0(t0)
        li      a2, O_WRITE | O_CREATE | O_TRUNCATE
        syscall open
        la      s2, m_tmp
        li      t0, 0
        blt     a0, t0, .fail
        mov     s1, a0                  # s1 = the copy's descriptor

.read:  mov     a0, s0
        la      a1, buf
        li      a2, BUFSIZE
        syscall read
        la      s2, m_read
        li      t0, 0
        blt     a0, t0, .undo
        beqz    a0, .sync
        la      t2, buf                 # t2: what is left to write, from t2
        mov     t3, a0                  # t3 bytes of it
.write: mov     a0, s1
        mov     a1, t2
        mov     a2, t3
        syscall write                   # a syscall keeps t2 and t3
        la      s2, m_writ
        li      t0, 0
        ble     a0, t0, .undo           # 0 would loop for ever: take it as a failure
        add     t2, t2, a0
        sub     t3, t3, a0
        bnez    t3, .write
        jmp     .read

.sync:  mov     a0, s1
        syscall fsync                   # the bytes are on the disk before the name moves
        la      s2, m_sync
        li      t0, 0
        blt     a0, t0, .undo
        mov     a0, s1
        syscall close
        mov     a0, s0
        syscall close
        la      a0, tmp
        la      t0, tmplen
        ld      a1, 0(t0)
        ld      a2, 16(s3)
        la      t0, dstlen
        ld      a3, 0(t0)
        syscall rename                  # DST is the old file until here, the copy after
        la      s2, m_ren
        li      t0, 0
        blt     a0, t0, .undo
        li      a0, 0
        syscall exit

        # A failure after the temporary file was made: remove it. DST is as it was.
.undo:  mov     s0, a0
        la      a0, tmp
        la      t0, tmplen
        ld      a1, 0(t0)
        syscall unlink
        mov     a0, s0
.fail:  neg     s0, a0                  # the error code, made positive: the exit status
        mov     a0, s2
        call    eputs
        mov     a0, s0
        syscall exit

.usage: la      a0, usage
        call    eputs
        li      a0, 2
        syscall exit

# append: copies the NUL-terminated string at a2 to a1, NUL included; returns in a0 the
# address of the NUL it wrote.
append: mov     a0, a1
        mov     a1, a2
        mov     a2, a0
        # fall through to strcpy, with the arguments in its order

# strcpy: copies the NUL-terminated string at a1 to a2, NUL included; returns in a0 the address
# of the NUL it wrote.
strcpy: lbu     t0, 0(a1)
        sb      t0, 0(a2)
        beqz    t0, .end
        inc     a1
        inc     a2
        jmp     strcpy
.end:   mov     a0, a2
        ret

# strlen and eputs.
        .include "../lib/str.s"
