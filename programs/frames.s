# frames.s: a lesson on calls, stack frames and the calling convention. Read it top to bottom.
#
#     spindle run programs/frames.s <<< 10000       # a recursion 10,000 calls deep
#     spindle run programs/frames.s <<< 3           # a backtrace short enough to print whole
#     spindle run programs/frames.s <<< 100000      # too deep for the default 1 MB stack:
#                                                   # it traps with "stack overflow"
#     spindle run --stack 4M programs/frames.s <<< 100000    # ... unless you give it room
#     spindle disasm programs/frames.s              # the addresses the backtrace prints
#
# It reads n, computes 1 + 2 + ... + n by recursion, sum(n) = n + sum(n-1), and at the deepest
# point, with n + 2 frames on the stack, it walks them as a debugger would, printing where each
# one will return to and in which function that is.
#
# The ideas, in the order the program meets them:
#
# 1. `call f` pushes the return address (the address of the instruction after the call) and
#    jumps to f. `ret` pops it back into pc. There is no link register: the stack is the only
#    place that remembers where to go back, which is why a recursion can be as deep as the
#    stack is big, and no deeper.
#
# 2. The stack grows down. sp points at the last word pushed: `push r` is sp -= 8, then
#    mem[sp] = r; `pop r` is r = mem[sp], then sp += 8.
#
# 3. `enter N` starts a frame: it pushes fp, sets fp = sp, and subtracts N from sp to make room
#    for N bytes of locals. `leave` undoes it: sp = fp, then pop fp. Between the two, fp does
#    not move, so everything in the frame has a fixed address relative to fp:
#
#         8(fp)   the return address          (pushed by call)
#         0(fp)   the caller's fp             (pushed by enter)      <- fp
#        -8(fp)   the first 8 bytes of locals (reserved by enter N)
#          ...
#
#    while sp moves with every push and pop, which makes sp-relative addresses a moving target.
#
# 4. The calling convention says who keeps what:
#    - arguments go in a0-a5, the result comes back in a0 (and a1);
#    - a0-a5 and t0-t3 are caller-saved: any call may change them, so a caller that needs one
#      afterwards keeps it somewhere safe itself, in a local or a saved register;
#    - s0-s3, fp and sp are callee-saved: a function that uses one gives its caller back the
#      old value before it returns. This is what lets main keep n in s0 across a call to a
#      function it knows nothing about.
#
# 5. The saved fps chain the frames together: 0(fp) is the caller's fp, whose 0(...) is its
#    caller's, and so on. The loader starts the program with fp = 0, so the chain ends where a
#    saved fp is 0. A debugger walks that chain and looks up each return address in the symbol
#    table to name the function; backtrace below does exactly that.

        .data
digits: .ascii  "0123456789abcdef"
hexbuf: .ascii  "0x00000000"        # print_hex fills in the eight digits
hexbuf_end:

# A symbol table, as a debugger gets from the object file: the start address of each function,
# in address order, with its name. `.quad sum` stores the code address of the label sum.
symtab: .quad   sum, n_sum
        .quad   backtrace, n_backtrace
        .quad   symbol_name, n_symbol_name
        .quad   print_hex, n_print_hex
        .quad   main, n_main
        .quad   text_end, n_stub
symtab_end:
n_sum:          .asciz  "sum"
n_backtrace:    .asciz  "backtrace"
n_symbol_name:  .asciz  "symbol_name"
n_print_hex:    .asciz  "print_hex"
n_main:         .asciz  "main"
n_stub:         .asciz  "the loader's exit stub, past the end of the text"
n_unknown:      .asciz  "?"

s_deepest:  .asciz  "at the deepest call: "
s_frames:   .asciz  " frames, "
s_bytes:    .asciz  " bytes of stack\n"
s_hash:     .asciz  "  #"
s_ret:      .asciz  " returns to "
s_in:       .asciz  " in "
s_more:     .asciz  "  ...\n"
s_sum:      .asciz  "sum of 1.."
s_is:       .asciz  " = "
usage:      .ascii  "frames: expected a non-negative integer on stdin\n"
usage_end:

        .bss
stack_top:
        .space  8                   # sp as main found it, to measure how much stack we used

        .text
# sum(a0 = n) returns a0 = n + (n-1) + ... + 1, one call per term.
#
# Its frame, 24 bytes, is the same at every depth:
#
#        8(fp)   return address: into sum, after `call sum` (or into main, for the first call)
#        0(fp)   the caller's fp
#       -8(fp)   n, this call's argument                            <- sp after enter 8
#
# so a recursion n deep takes 24 * n bytes of stack, and the default 1 MB stack holds about
# 43,000 of these frames. A loop would need none: the recursion is here to be looked at.
sum:    enter   8                   # push fp; fp = sp; sp -= 8 for one local
        beqz    a0, .bottom         # sum(0) = 0: the recursion stops here
        sd      a0, -8(fp)          # a0 is caller-saved: the call below may change it, and we
                                    # still need n afterwards, so keep it in our frame
        addi    a0, a0, -1          # the argument of the next call
        call    sum                 # pushes the address of the next instruction, jumps to sum;
                                    # at that moment 10,000 copies of this frame may be stacked
                                    # below us, each with its own n at -8 from its own fp
        ld      t0, -8(fp)          # fp is callee-saved, so it still points at *our* frame:
        add     a0, a0, t0          # our n is where we left it. a0 = n + sum(n-1)
        leave                       # sp = fp; pop fp: the caller's frame is current again
        ret                         # pop the return address into pc

.bottom:                            # the deepest point: n + 1 frames of sum, and main's
        mov     a0, sp              # how far down the stack goes, for backtrace to measure
        call    backtrace
        li      a0, 0               # sum(0) = 0
        leave
        ret

# backtrace(a0 = the lowest sp in use) prints how many frames are on the stack, how many bytes
# they take, and the return address of each frame with the function it lies in: the innermost
# three and the outermost two, with "..." for the ones in between.
#
# It makes calls, which may change every a and t register (a syscall changes only a0 and a1),
# so the values it needs across them live in s0-s3, and it saves the caller's values of those
# first.
backtrace:
        enter   0
        push    s0, s1, s2, s3      # callee-saved: we must hand back the caller's values
        la      t0, stack_top
        ld      t0, 0(t0)
        sub     s3, t0, a0          # bytes of stack between main's entry and the deepest sp

        # Pass 1: count the frames. Our own frame is not part of the picture, so the walk
        # starts at our caller's: 0(fp) is the fp that sum had when it called us.
        ld      s0, 0(fp)
        mov     t0, s0
        li      s1, 0
.count: inc     s1                  # t0 is a frame: count it,
        ld      t0, 0(t0)           # then follow its saved fp to the caller's frame
        bnez    t0, .count          # a saved fp of 0 is the end: main saved the loader's 0

        la      a0, s_deepest
        syscall puts
        mov     a0, s1
        syscall print_int
        la      a0, s_frames
        syscall puts
        mov     a0, s3
        syscall print_int
        la      a0, s_bytes
        syscall puts

        # Pass 2: the same walk, printing 8(frame), the return address, for the frames near
        # either end. s0 is the frame, s2 its number (0 is the innermost), s1 the number of
        # the first of the last two frames.
        li      s2, 0
        addi    s1, s1, -2
.walk:  li      t0, 3
        blt     s2, t0, .show       # one of the innermost three
        bge     s2, s1, .show       # one of the outermost two
        bne     s2, t0, .next       # in the middle: say "..." once, at the first one skipped
        la      a0, s_more
        syscall puts
        jmp     .next
.show:  la      a0, s_hash
        syscall puts
        mov     a0, s2
        syscall print_int
        la      a0, s_ret
        syscall puts
        ld      a0, 8(s0)           # this frame's return address
        call    print_hex
        la      a0, s_in
        syscall puts
        ld      a0, 8(s0)
        call    symbol_name         # which function that address lies in
        syscall puts
        li      a0, '\n'
        syscall putc
.next:  inc     s2
        ld      s0, 0(s0)           # on to the caller's frame
        bnez    s0, .walk

        pop     s3, s2, s1, s0      # the reverse order of the pushes
        leave
        ret

# symbol_name(a0 = code address) returns a0 = the name of the function it lies in: the last
# entry of symtab that starts at or before it. A leaf: it calls nothing, so it needs no frame,
# and it uses only caller-saved registers, so it saves nothing. A leaf without a frame does not
# show in a backtrace; its caller's frame is still the one fp points at.
symbol_name:
        la      t0, symtab
        la      t1, symtab_end
        la      a1, n_unknown       # for an address before the first function
.loop:  ld      t2, 0(t0)           # an entry's address
        bltu    a0, t2, .found      # past a0: the previous entry was the one
        ld      a1, 8(t0)           # its name, the best match so far
        addi    t0, t0, 16
        bltu    t0, t1, .loop
.found: mov     a0, a1
        ret

# print_hex(a0 = value) prints the low 32 bits of value as 0x and eight hex digits, the form
# in which `spindle disasm` shows code addresses. A leaf: it fills hexbuf from the right, one
# digit per 4 bits, and writes it with a single syscall.
print_hex:
        la      t0, hexbuf_end
        la      a2, digits
        li      t3, 8
.digit: andi    t1, a0, 15          # the lowest 4 bits select a character of digits
        add     t1, a2, t1
        lbu     t1, 0(t1)
        dec     t0
        sb      t1, 0(t0)
        shri    a0, a0, 4
        dec     t3
        bnez    t3, .digit
        li      a0, 1
        la      a1, hexbuf
        li      a2, hexbuf_end - hexbuf
        syscall write
        ret

# main is called like any function: the loader pushed a return address (the exit stub) and
# set fp = 0. It keeps n and the result in s0 and s1, and since they are callee-saved it saves
# its caller's values first, in its own 24-byte frame (fp, s0, s1).
main:   la      t0, stack_top
        sd      sp, 0(t0)           # sp points at main's return address: the stack we use
                                    # starts below it
        enter   0
        push    s0, s1
        syscall read_int            # a0 = n, a1 = 1 if the line was an integer
        beqz    a1, .bad
        li      t0, 0
        blt     a0, t0, .bad        # a negative n would never reach 0: refuse it
        mov     s0, a0              # n survives the call in s0, because sum must preserve s0
        call    sum
        mov     s1, a0
        la      a0, s_sum
        syscall puts
        mov     a0, s0
        syscall print_int
        la      a0, s_is
        syscall puts
        mov     a0, s1
        syscall print_int
        li      a0, '\n'
        syscall putc
        li      a0, 0               # status 0
.out:   pop     s1, s0
        leave
        ret                         # to the exit stub, which exits with a0 as the status

.bad:   li      a0, 2               # stderr
        la      a1, usage
        li      a2, usage_end - usage
        syscall write
        li      a0, 1
        jmp     .out

text_end:                           # the address just past the last instruction
