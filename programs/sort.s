# sort.s: sorts an array of 64-bit integers in place with insertion sort, and prints it before
#         and after.
#
#     spindle run programs/sort.s
#
# What it shows:
#   - an array in .data: .quad lays out 8-byte values one after the other, so element i is
#     at the array's address + 8*i, and the assembler counts the elements for us;
#   - walking an array with a pointer rather than an index: one add per step instead of a
#     shift and an add to turn the index into an address;
#   - signed and unsigned comparisons: the values are signed (blt/bge), the addresses are
#     unsigned (bltu/bgeu), and mixing them up breaks as soon as a value is negative or an
#     address has its top bit set;
#   - two functions: a leaf that needs no frame, and one that makes syscalls and so keeps its
#     state in callee-saved registers.

        .data
before: .asciz  "before: "          # .asciz: puts writes up to the NUL
after:  .asciz  "after:  "
array:  .quad   42, -7, 19, 0, 1_000_000_000_000, 3, -7, 88, 5, -9_223_372_036_854_775_808
array_end:
        .equ    N, (array_end - array) / 8    # the number of elements, counted by the assembler

        .text
# sort(a0 = address, a1 = count) sorts the count 64-bit signed integers at address into
# ascending order. Insertion sort: each element in turn is moved left past the larger ones,
# so the part of the array on its left is always sorted. Equal elements keep their order
# (the sort is stable) because an element stops at the first one that is not larger.
sort:   li      t0, 1
        bge     t0, a1, .done       # 0 or 1 elements are sorted already
        shli    a1, a1, 3           # the count becomes a byte length ...
        add     a1, a0, a1          # ... and then the end address, just past the last element
        addi    t0, a0, 8           # p: the element to insert; the first one alone is sorted
.outer: ld      t1, 0(t0)           # key = *p
        addi    t2, t0, -8          # q: the element to compare the key with
.inner: ld      t3, 0(t2)
        ble     t3, t1, .place      # *q <= key: the key goes just after q
        sd      t3, 8(t2)           # move *q one place right, into the gap
        addi    t2, t2, -8
        bgeu    t2, a0, .inner      # again while q has not run off the start of the array
.place: sd      t1, 8(t2)           # the gap is where the key belongs
        addi    t0, t0, 8
        bltu    t0, a1, .outer
.done:  ret

# print_array(a0 = address, a1 = count) prints the values separated by spaces, then a newline.
print_array:
        enter   0
        push    s0, s1              # the syscalls below may change every a and t register
        mov     s0, a0              # the pointer
        shli    s1, a1, 3
        add     s1, s0, s1          # the end
        bgeu    s0, s1, .nl         # an empty array prints an empty line
        ld      a0, 0(s0)           # the first value has no space before it,
        syscall print_int
        addi    s0, s0, 8
        bgeu    s0, s1, .nl
.loop:  li      a0, ' '             # every other value does
        syscall putc
        ld      a0, 0(s0)
        syscall print_int
        addi    s0, s0, 8
        bltu    s0, s1, .loop
.nl:    li      a0, '\n'
        syscall putc
        pop     s1, s0
        leave
        ret

main:   la      a0, before
        syscall puts
        la      a0, array
        li      a1, N
        call    print_array
        la      a0, array
        li      a1, N
        call    sort
        la      a0, after
        syscall puts
        la      a0, array
        li      a1, N
        call    print_array
        li      a0, 0
        ret
