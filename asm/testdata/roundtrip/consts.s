# The constant pool: big and negative constants, addresses of code and data, duplicates
# (the pool keeps one of each), and the limits of li.
main:
        li      a0, 524287
        li      a0, 524288
        li      a0, -524288
        li      a0, -524289
        lk      a0, 0
        lk      a1, 1
        li      a2, 0x7fffffffffffffff
        li      a2, -0x8000000000000000
        li      a2, 0xffffffffffffffff
        li      a3, 0xdeadbeefcafebabe
        li      a3, 0x100000000
        li      a3, 4294967296 + 1
        li      a3, -(1 << 33)
        lk      a4, main
        lk      a4, here
        la      a5, data_label
        lk      a5, 0x10000000 + 8
        li      a2, 0x7fffffffffffffff
here:   ret

        .data
        .space  8
data_label:
        .quad   0
