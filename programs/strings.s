# strings.s: three string functions of the C library, written out: strlen, an in-place
#            reverse, and itoa, which turns a number into its decimal text.
#
#     spindle run programs/strings.s
#
# What it shows:
#   - NUL-terminated strings (.asciz): a string is an address, and its end is found by
#     looking for the zero byte, so strlen has to walk the whole string;
#   - bytes: lbu loads one byte and zero-extends it, sb stores the low byte of a register;
#   - the two ways to keep a value across a call: in a callee-saved register (s0-s3, which
#     the function saves once for all its calls), or by pushing a caller-saved one just around
#     the call (reverse does that with a0);
#   - a second result in a1 (itoa returns the buffer and the length);
#   - tables of addresses in .data: `.quad label` stores the label's address, so main loops
#     over its examples instead of repeating itself;
#   - the asymmetry of two's complement: -9223372036854775808 has no positive counterpart,
#     which is why itoa works with negative numbers.

        .data
# The examples. reverse changes them in place, so they live in .data, which is writable.
hello:  .asciz  "Hello, world!"
palin:  .asciz  "racecar"
two:    .asciz  "ab"
empty:  .asciz  ""
strs:   .quad   hello, palin, two, empty    # addresses of the strings above
strs_end:
nums:   .quad   0, 7, -42, 1_234_567_890, 9_223_372_036_854_775_807, -9_223_372_036_854_775_808
nums_end:

# The pieces of text that the show functions print around their results.
quote:  .asciz  "\""
haslen: .asciz  "\" has length "
revd:   .asciz  ", reversed \""
q_nl:   .asciz  "\"\n"
pi:     .asciz  "print_int "
itoa_q: .asciz  ", itoa \""
count:  .asciz  "\", length "
nl:     .asciz  "\n"

        .bss
numbuf: .space  24                  # 19 digits, a sign and the NUL fit with room to spare

        .text
# strlen(a0 = s) returns a0 = the number of bytes before the NUL. A leaf: no frame, no saves.
strlen: mov     t0, a0
.loop:  lbu     t1, 0(t0)           # the test is at the bottom: three instructions a byte
        inc     t0
        bnez    t1, .loop
        sub     a0, t0, a0          # t0 is one past the NUL,
        dec     a0                  # so the length is t0 - s - 1
        ret

# reverse(a0 = s) reverses the string s in place and returns a0 = s.
reverse:
        enter   0                   # not a leaf (it calls strlen), so it builds a frame
        push    a0                  # a0 is caller-saved: strlen may change it, and we need s
        call    strlen              # after the call. Saving it is our job, not strlen's.
        pop     t0                  # left = s: a pop may restore into any register
        mov     a2, t0              # keep s for the result
        add     t1, t0, a0
        dec     t1                  # right = s + length - 1, the last byte
        bgeu    t0, t1, .done       # 0 or 1 bytes: nothing to swap
.loop:  lbu     a3, 0(t0)           # swap the bytes at left and right,
        lbu     a4, 0(t1)
        sb      a4, 0(t0)
        sb      a3, 0(t1)
        inc     t0                  # then move both ends toward the middle
        dec     t1
        bltu    t0, t1, .loop       # addresses compare unsigned
.done:  mov     a0, a2
        leave
        ret

# itoa(a0 = value, a1 = buffer) writes the signed decimal text of value into buffer, with a
# NUL after it, and returns a0 = buffer and a1 = the length of the text.
#
# The digits come out least significant first (value % 10, then value / 10, ...), so itoa
# writes them backwards and reverses the text at the end. It works on the negative of a
# positive value rather than the other way round, because every 64-bit number has a negative
# counterpart but the most negative one, -2^63, has no positive one: negating it gives itself.
itoa:   enter   0
        push    s0, s1
        mov     s0, a1              # the buffer, for reverse and for the result
        slti    s1, a0, 0           # s1 = 1 if the value is negative: we need the sign later
        bnez    s1, .start
        neg     a0, a0              # make it negative (or zero)
.start: mov     t0, a1              # the next byte to write
        li      t3, 10              # div and rem have no immediate form
.digit: rem     t1, a0, t3          # from -9 to 0: rem takes the sign of the dividend
        div     a0, a0, t3          # rounds toward zero, so a0 climbs toward 0
        neg     t1, t1
        addi    t1, t1, '0'         # the digit's character: '0' + its value
        sb      t1, 0(t0)
        inc     t0
        bnez    a0, .digit          # at least one digit, so 0 prints as "0"
        beqz    s1, .nul
        li      t1, '-'             # the sign is the last byte written, so the first after
        sb      t1, 0(t0)           # the reversal
        inc     t0
.nul:   li      t1, 0
        sb      t1, 0(t0)           # the NUL: there is no zero register to store directly
        sub     s1, t0, s0          # the length, which must survive the call to reverse
        mov     a0, s0
        call    reverse
        mov     a1, s1              # the second result
        pop     s1, s0
        leave
        ret

# show_string(a0 = s) prints a line: "s" has length N, reversed "s reversed".
show_string:
        enter   0
        push    s0
        mov     s0, a0
        la      a0, quote
        syscall puts
        mov     a0, s0
        syscall puts
        la      a0, haslen
        syscall puts
        mov     a0, s0
        call    strlen
        syscall print_int
        la      a0, revd
        syscall puts
        mov     a0, s0
        call    reverse             # reverse returns s, ready for puts
        syscall puts
        la      a0, q_nl
        syscall puts
        pop     s0
        leave
        ret

# show_number(a0 = value) prints a line that sets print_int's text beside itoa's, so that a
# mistake in itoa shows as a difference on the line.
show_number:
        enter   0
        push    s0
        mov     s0, a0
        la      a0, pi
        syscall puts
        mov     a0, s0
        syscall print_int
        la      a0, itoa_q
        syscall puts
        mov     a0, s0
        la      a1, numbuf
        call    itoa                # a0 = the buffer, a1 = the length
        mov     t0, a1              # the length: a syscall keeps the t registers, a call would not
        syscall puts
        la      a0, count
        syscall puts
        mov     a0, t0
        syscall print_int
        la      a0, nl
        syscall puts
        pop     s0
        leave
        ret

main:   enter   0
        push    s0, s1
        la      s0, strs            # a pointer into the table of strings
        la      s1, strs_end
.str:   ld      a0, 0(s0)           # load the address stored in the table
        call    show_string
        addi    s0, s0, 8
        bltu    s0, s1, .str        # the table is not empty, so test at the bottom
        la      s0, nums
        la      s1, nums_end
.num:   ld      a0, 0(s0)
        call    show_number
        addi    s0, s0, 8
        bltu    s0, s1, .num
        li      a0, 0
        pop     s1, s0
        leave
        ret
