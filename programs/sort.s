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
#   - two leaf functions, which call nothing and so need no frame. A syscall is not a call: it
#     changes only a0 and a1, and print_int and putc change neither, so print_array keeps its
#     pointer in t registers across them, as it could not across a call.

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
        mov     t0, a0              # the pointer
        shli    t1, a1, 3
        add     t1, t0, t1          # the end
        bgeu    t0, t1, .nl         # an empty array prints an empty line
        ld      a0, 0(t0)           # the first value has no space before it,
        syscall print_int
        addi    t0, t0, 8
        bgeu    t0, t1, .nl
.loop:  li      a0, ' '             # every other value does
        syscall putc
        ld      a0, 0(t0)
        syscall print_int
        addi    t0, t0, 8
        bltu    t0, t1, .loop
.nl:    li      a0, '\n'
        syscall putc
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
