# pipeline.s: three processes connected by pipes, like the shell's  seq N | square | sum.
#
#   echo 10 | spindle run programs/processes/pipeline.s
#
# main starts the three stages, each a process of this same program (start), and gives each one
# its descriptors 0 and 1: the generator writes into the first pipe, the squarer reads from it
# and writes into the second, and the summer reads from that and writes to our stdout.
#
#   generator ──pipe A──> squarer ──pipe B──> summer ──> stdout
#
# Each stage knows nothing of the others: it reads descriptor 0 and writes descriptor 1. A
# reader of an empty pipe blocks (only its own process's thread: the others run on), and sees
# end of input once every write end is closed. That is why main closes its own copies of the
# pipes' ends after it has handed them out.

main:   syscall read_int
        bnez a1, .haveN
        li a0, 10
.haveN: mov s0, a0              # s0 = N

        syscall pipe            # pipe A
        mov s1, a0              #   s1 = its read end
        mov s2, a1              #   s2 = its write end
        syscall pipe            # pipe B
        mov s3, a0              #   s3 = its read end
        push a1                 #   its write end, on the stack: the s registers are all in use

        la a0, generator
        mov a1, s0              # the generator's argument: N
        li a2, 0
        mov a3, s2              # generator: stdout = A
        syscall start
        mov t0, a0              # (t registers survive syscalls)
        ld t1, 0(sp)            # B's write end
        la a0, squarer
        li a1, 0
        mov a2, s1              # squarer: stdin = A, stdout = B
        mov a3, t1
        syscall start
        la a0, summer
        li a1, 0
        mov a2, s3              # summer: stdin = B, stdout = ours
        li a3, 1
        syscall start
        mov s0, a0              # the summer's pid: the last stage

        mov a0, s1              # close every pipe end we still hold
        syscall close
        mov a0, s2
        syscall close
        mov a0, s3
        syscall close
        pop a0
        syscall close

        mov a0, s0
        syscall wait            # the summer ends after the others
        li a0, 0
        ret

# generator(a0 = N): print 1 to N, one a line.
generator:
        mov s0, a0
        li s1, 1
        bgt s1, s0, .done
.next:  mov a0, s1
        syscall print_int
        li a0, '\n'
        syscall putc
        addi s1, s1, 1
        ble s1, s0, .next
.done:  li a0, 0
        ret

# squarer: for each number on its input, print its square.
squarer:
.next:  syscall read_int
        beqz a1, .done
        mul a0, a0, a0
        syscall print_int
        li a0, '\n'
        syscall putc
        jmp .next
.done:  li a0, 0
        ret

# summer: print the sum of the numbers on its input.
summer: li s0, 0
.next:  syscall read_int
        beqz a1, .done
        add s0, s0, a0
        jmp .next
.done:  mov a0, s0
        syscall print_int
        li a0, '\n'
        syscall putc
        li a0, 0
        ret
