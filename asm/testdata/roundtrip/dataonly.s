# No instructions at all.
        .data
x:      .quad   1, 2, 3
        .bss
y:      .space  64
