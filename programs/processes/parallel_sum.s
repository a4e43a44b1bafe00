# parallel_sum.s: sums 0 + 1 + ... + (N-1) in two processes at once, then adds their results.
#
# The lesson: threads of one process share one virtual processor, so they take turns; processes
# run in parallel, one per processor. This program splits the work between two worker
# processes, so on two processors it takes about half the time it takes on one:
#
#   echo 400000000 | spindle run --cpus 1 --stats programs/processes/parallel_sum.s
#   echo 400000000 | spindle run --cpus 2 --stats programs/processes/parallel_sum.s
#
# Processes share no memory, so the workers pass their results through a pipe: each writes its
# partial sum as a line on its descriptor 1, the pipe's write end, and an adder process, whose
# descriptor 0 is the pipe's read end, reads them with read_int and prints the total.
#
#       worker 0 ──┐
#                  ├── pipe ──> adder ──> stdout
#       worker 1 ──┘

        .equ DEFAULT_N, 100000000

main:   syscall read_int
        bnez a1, .haveN
        lk a0, DEFAULT_N        # no number on the input: the default
.haveN: mov s0, a0              # s0 = N
        syscall pipe
        mov s1, a0              # s1 = the pipe's read end
        mov s2, a1              # s2 = its write end

        # Each worker gets N and its half in one argument: N*2 + half. start gives a new
        # process fresh memory, so that is the only way to tell it N.
        shli s3, s0, 1
        la a0, worker
        mov a1, s3              # half 0
        li a2, 0                # its stdin: ours (it does not read)
        mov a3, s2              # its stdout: the pipe
        syscall start
        push a0                 # its pid, to wait for
        la a0, worker
        addi a1, s3, 1          # half 1
        li a2, 0
        mov a3, s2
        syscall start
        push a0
        la a0, adder
        li a1, 0
        mov a2, s1              # its stdin: the pipe
        li a3, 1                # its stdout: ours
        syscall start
        push a0

        # Close our own ends of the pipe: the adder sees end of file only once every write end
        # is closed, ours included.
        mov a0, s1
        syscall close
        mov a0, s2
        syscall close

        pop a0                  # wait for the adder, then the workers
        syscall wait
        pop a0
        syscall wait
        pop a0
        syscall wait
        li a0, 0
        ret

# worker(a0 = N*2 + half): print the sum of i for i in [half*N/2, (half+1)*N/2).
worker: andi t0, a0, 1          # t0 = half
        shri t1, a0, 1          # t1 = N
        shri t2, t1, 1          # t2 = N/2
        mul t3, t0, t2          # t3 = i = the first number of this half
        add t2, t3, t2          # t2 = the end of this half
        beqz t0, .go
        mov t2, t1              # the second half runs to N, whether N is even or odd
.go:    li a0, 0                # a0 = the sum
        bge t3, t2, .done
.loop:  add a0, a0, t3          # the hot loop: three instructions a number
        addi t3, t3, 1
        blt t3, t2, .loop
        # Print the sum and a newline in one write. Both workers write to the one pipe, and two
        # writes each (print_int, then putc) could interleave: "374750", "124750\n", "\n", which
        # the adder would read as one number of twelve digits. One write to a pipe is never
        # split by another, so the line is made in memory first, from its last digit back.
.done:  addi sp, sp, -32
        addi t0, sp, 31         # t0 = the first byte of the line, as it is built
        li t1, '\n'
        sb t1, 0(t0)
        li t2, 10
.digit: addi t0, t0, -1
        remu t1, a0, t2
        addi t1, t1, '0'
        sb t1, 0(t0)
        divu a0, a0, t2
        bnez a0, .digit
        li a0, 1
        mov a1, t0
        addi a2, sp, 32
        sub a2, a2, t0          # its length: up to the end of the buffer
        syscall write
        addi sp, sp, 32
        li a0, 0
        ret                     # a return from the entry ends the process with status a0

# adder: sum the numbers on its input, one a line, and print the total.
adder:  li s0, 0
.next:  syscall read_int        # a1 = 0 at end of input
        beqz a1, .total
        add s0, s0, a0
        jmp .next
.total: mov a0, s0
        syscall print_int
        li a0, '\n'
        syscall putc
        li a0, 0
        ret
